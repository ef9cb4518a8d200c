"""Retries, uncertain creates, crashes between a write and STATE, auth failures, secrets."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
from sandbox.testing import SandboxProcess

SECRET = "xkeysib-0123456789abcdef-test-secret"


def _reference(h: t.Any, config_for: t.Any) -> dict[str, t.Any]:
    with SandboxProcess("brevo", import_delay=0.1, rate_scale=0) as clean:
        h.run_target(config_for(clean), h.ac_input())
        return h.normalized(clean.control.dump())


def test_transient_faults_are_survived(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    brevo.control.set_faults(
        rate=0.3,
        kinds=[
            "500",
            "502",
            "503",
            "524",
            "425",
            "429",
            "reset",
            "reset_after",
            "empty",
            "truncated",
            "timeout",
            "timeout_after",
        ],
        seed=7,
        timeout_s=1.5,
    )
    cfg = config_for(brevo, max_tries=10, request_timeout=1.0)
    run = h.run_target(cfg, h.ac_input())
    assert run.states
    faults = [e for e in h.api_requests(brevo) if e.get("fault")]
    assert len(faults) >= 5
    brevo.control.clear_faults()
    assert h.normalized(brevo.control.dump()) == _reference(h, config_for)


def test_creates_that_may_have_succeeded_are_looked_up_not_repeated(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    # every other request to the create endpoints is processed, then its connection reset
    brevo.control.set_faults(
        script=["reset_after", "ok"] * 40,
        paths=[
            "/v3/contacts/folders",
            "/v3/contacts/lists",
            "/v3/contacts/attributes",
            "/v3/emailCampaigns",
        ],
    )
    cfg = config_for(brevo, max_tries=6)
    run = h.run_target(cfg, h.ac_input())
    assert run.states
    dump = brevo.control.dump()
    assert len(dump["folders"]) == 1
    names = [x["name"] for x in dump["lists"]]
    assert len(names) == len(set(names)) == 3
    assert len(dump["campaigns"]) == 1
    attrs = [a["name"] for a in dump["attributes"]]
    assert len(attrs) == len(set(attrs))
    log = h.api_requests(brevo)
    creates = [e for e in log if e["method"] == "POST" and e.get("fault") == "reset_after"]
    assert creates, "the script should have hit at least one create"


@pytest.mark.parametrize("kind", ["500_after", "503_after", "524_after", "520_after", "empty"])
def test_creates_answered_5xx_after_processing_are_looked_up_not_repeated(
    brevo: t.Any, config_for: t.Any, h: t.Any, kind: str
) -> None:
    """Brevo processed the create, then answered a 5xx (or a 2xx with an empty body, no id):
    no duplicate folder, list, attribute or campaign draft."""
    brevo.control.set_faults(
        script=[kind, "ok"] * 40,
        paths=[
            "/v3/contacts/folders",
            "/v3/contacts/lists",
            "/v3/contacts/attributes",
            "/v3/emailCampaigns",
        ],
    )
    run = h.run_target(config_for(brevo, max_tries=6), h.ac_input())
    assert run.states
    dump = brevo.control.dump()
    assert len(dump["folders"]) == 1
    names = [x["name"] for x in dump["lists"]]
    assert len(names) == len(set(names)) == 3
    assert len(dump["campaigns"]) == 1
    attrs = [a["name"] for a in dump["attributes"]]
    assert len(attrs) == len(set(attrs))
    creates = [
        e for e in h.api_requests(brevo) if e["method"] == "POST" and e.get("fault") == kind
    ]
    assert creates, "the script should have hit at least one create"


def test_crash_after_writes_then_rerun_gives_the_same_state(
    brevo: t.Any, config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    cfg = config_for(brevo, max_tries=2)
    # contacts are written, then the campaign endpoint keeps failing: the run stops
    brevo.control.set_faults(script=["500"] * 50, paths=["/v3/emailCampaigns"])
    failed = h.run_cli(cfg, h.ac_input(), tmp_path)
    assert failed.returncode != 0
    assert failed.states == []  # no STATE moved past data Brevo did not confirm
    assert h.contacts_by_ext(brevo.control.dump())  # the crash came after contact writes
    brevo.control.clear_faults()
    rerun = h.run_cli(cfg, h.ac_input(), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.states == [{"bookmarks": {"contacts": {"replication_key_value": "2026-03-08"}}}]
    assert h.normalized(brevo.control.dump()) == _reference(h, config_for)


def test_killed_mid_run_then_rerun_gives_the_same_state(
    brevo: t.Any, config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    cfg = config_for(brevo)
    brevo.control.set_latency(fixed_ms=150)
    cfg_path = tmp_path / "kill-config.json"
    cfg_path.write_text(__import__("json").dumps(cfg))
    exe = Path(sys.executable).parent / "target-brevo"
    proc = subprocess.Popen(
        [str(exe), "--config", str(cfg_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(h.ac_input().text())
    proc.stdin.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(e["route"] == "/v3/contacts/import" for e in h.api_requests(brevo)):
            break
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=10)
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.stdout.close()
    assert "bookmarks" not in out
    brevo.control.set_latency(fixed_ms=0)
    rerun = h.run_cli(cfg, h.ac_input(), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert h.normalized(brevo.control.dump()) == _reference(h, config_for)


def test_401_stops_the_run_before_state_and_keys_stay_secret(
    config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    with SandboxProcess("brevo", import_delay=0.1, rate_scale=0, api_key=SECRET) as sb:
        bad = config_for(sb, api_key="xkeysib-wrong-key-value-000")
        run = h.run_cli(bad, h.ac_input(), tmp_path)
        assert run.returncode != 0
        assert run.states == []
        assert "401" in run.stderr
        assert "xkeysib-wrong-key-value-000" not in run.stdout + run.stderr

        good = config_for(sb, api_key=SECRET)
        people = [h.contact(1), h.contact(2, email="broken@"), h.contact(3, phone="12")]
        ok = h.run_cli(good, h.ac_input(contacts=people), tmp_path)
        assert ok.returncode == 0, ok.stderr[-3000:]
        assert ok.states
        rejects_text = Path(good["rejects_file"]).read_text()
        assert rejects_text
        for text in (ok.stdout, ok.stderr, rejects_text):
            assert SECRET not in text
        assert h.client_errors(sb, allowed=[401]) == []


def test_too_many_rejects_fail_the_run(
    brevo: t.Any, config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    cfg = config_for(brevo, max_rejects=1)
    people = [h.contact(1, email="a@"), h.contact(2, email="b@"), h.contact(3)]
    run = h.run_cli(cfg, h.ac_input(contacts=people, campaigns=False), tmp_path)
    assert run.returncode != 0
    assert run.states == []
    assert "max_rejects" in run.stderr


def test_dry_run_makes_no_request(
    brevo: t.Any, config_for: t.Any, h: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A dry run sends nothing, emits no STATE (the next real run must not skip records)
    and logs counts and keys, never the records' emails or phone numbers."""
    people = [h.contact(1, phone="+33612345678"), h.contact(2), h.contact(3)]
    with caplog.at_level(logging.INFO):
        run = h.run_target(
            config_for(brevo, dry_run=True),
            h.ac_input(contacts=people, state={"bookmarks": {"contacts": {"x": 1}}}),
        )
    assert run.states == []
    assert h.api_requests(brevo) == []
    assert run.target.syncer.counts["planned_contacts"] == 3
    text = caplog.text
    assert "STATE is withheld" in text
    assert "person1@example.com" not in text
    assert "612345678" not in text
    assert "would write 3 contacts" in text


def test_rate_limits_are_paced_from_the_headers(config_for: t.Any, h: t.Any) -> None:
    with SandboxProcess("brevo", import_delay=0.1, rate_scale=1) as sb:
        sb.control.set_rate_limit(buckets={"contacts": {"per_second": 3, "per_hour": 36000}})
        people = [h.contact(i) for i in range(1, 8)]
        members = [{"id": i, "contact": i, "list": 1 + i % 2, "status": 1} for i in range(1, 8)]
        run = h.run_target(
            config_for(sb), h.ac_input(contacts=people, memberships=members, campaigns=False)
        )
        assert run.states
        statuses = sb.control.requests(log=False)["by_status"]
        assert "429" not in statuses
        assert len(h.contacts_by_ext(sb.control.dump())) == 7


def test_state_moves_after_each_confirmed_flush(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    """A full batch flushes every sink in order; the STATE received before it then moves."""
    cfg = config_for(brevo, batch_size_rows=2)
    m = h.Messages()
    m.add("lists", {"id": 1, "name": "Newsletter"})
    for n in range(1, 7):
        m.add("contacts", h.contact(n))
        m.add("contact_lists", {"id": n, "contact": n, "list": 1, "status": 1})
        m.state({"bookmarks": {"contacts": {"replication_key_value": n}}})
    run = h.run_target(cfg, m)
    values = [s["bookmarks"]["contacts"]["replication_key_value"] for s in run.states]
    assert len(values) >= 3
    assert values == sorted(values)
    assert values[-1] == 6
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert len(by_ext) == 6
    news = next(x["id"] for x in brevo.control.dump()["lists"] if "[ac-list-1]" in x["name"])
    assert all(news in c["listIds"] for c in by_ext.values())


def test_a_failed_import_stops_the_run_before_state(
    brevo: t.Any, config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    import requests

    root = brevo.base_url.rsplit("/v3", 1)[0]
    requests.post(f"{root}/__sandbox/imports", json={"fail_next": 1}, timeout=10)
    cfg = config_for(brevo)
    failed = h.run_cli(cfg, h.ac_input(campaigns=False), tmp_path)
    assert failed.returncode != 0
    assert failed.states == []
    assert "failed" in failed.stderr
    rerun = h.run_cli(cfg, h.ac_input(campaigns=False), tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.states
    assert len(h.contacts_by_ext(brevo.control.dump())) == 3
