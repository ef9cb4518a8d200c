"""Id scans: complete full-table versions ended by ACTIVATE_VERSION, never when interrupted."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox.testing import SandboxProcess
from tap_activecampaign.tap import TapActiveCampaign
from tap_testkit import TAP_EXE, catalog_selecting, run_tap, tap_config, write_json

SCANS = ["contact_ids", "list_ids", "tag_ids", "contact_custom_field_ids", "campaign_ids"]
SOURCES = {
    "contact_ids": "contacts",
    "list_ids": "lists",
    "tag_ids": "tags",
    "contact_custom_field_ids": "contact_custom_fields",
    "campaign_ids": "campaigns",
}


@pytest.fixture(scope="module")
def ac() -> Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=1250, seed=3, rate_limit=0) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _fresh(ac: SandboxProcess) -> None:
    ac.control.reset()
    ac.control.reset_requests()


def messages(stdout: str) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def run_raw(config: dict[str, t.Any], streams: list[str]) -> list[dict[str, t.Any]]:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    tap = TapActiveCampaign(
        config=config, catalog=catalog_selecting(config, streams), parse_env_config=False
    )
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(io.StringIO()):
        tap.sync_all()
    return messages(out.getvalue())


def test_streams_exist_only_with_id_scan(ac: SandboxProcess) -> None:
    plain = TapActiveCampaign(config=tap_config(ac), parse_env_config=False)
    assert not set(SCANS) & set(plain.streams)
    scanning = TapActiveCampaign(config=tap_config(ac, id_scan=True), parse_env_config=False)
    assert set(SCANS) <= set(scanning.streams)
    # the scans come after the streams whose objects they cover
    order = list(scanning.streams)
    assert order.index("contact_ids") > order.index("contacts")
    assert order.index("list_ids") > order.index("lists")


def test_each_scan_is_one_complete_version(ac: SandboxProcess) -> None:
    ac.control.mutate({"op": "delete_contact", "id": 7}, {"op": "delete_contact", "id": 901},
                      {"op": "delete_list", "id": 2})
    dump = ac.control.dump()
    msgs = run_raw(tap_config(ac, id_scan=True, concurrency=4), SCANS)
    for stream in SCANS:
        mine = [m for m in msgs if m.get("stream") == stream]
        records = [m for m in mine if m["type"] == "RECORD"]
        ids = [r["record"]["id"] for r in records]
        assert sorted(ids) == sorted(x["id"] for x in dump[SOURCES[stream]]), stream
        assert len(ids) == len(set(ids)), stream
        assert all(set(r["record"]) == {"id"} for r in records)
        versions = {r["version"] for r in records}
        activations = [m for m in mine if m["type"] == "ACTIVATE_VERSION"]
        # exactly one activation, after the last record, of the records' version
        assert len(activations) == 1, stream
        assert versions == {activations[0]["version"]}, stream
        assert mine.index(activations[0]) > mine.index(records[-1])
    contact_ids = {m["record"]["id"] for m in msgs
                   if m.get("stream") == "contact_ids" and m["type"] == "RECORD"}
    assert 7 not in contact_ids
    assert 901 not in contact_ids
    log = ac.control.requests()
    # ceil(1248 / 100) pages plus the few partial pages of the range split, no sideloads
    contact_pages = log["by_path"]["GET /api/3/contacts"]
    assert 13 <= contact_pages <= 13 + 10
    assert all("include" not in (e.get("query") or "") for e in log["log"])


def test_offset_scan_rereads_a_collection_that_shifted(ac: SandboxProcess) -> None:
    from tap_activecampaign.streams import id_scan

    tap = TapActiveCampaign(config=tap_config(ac, id_scan=True), parse_env_config=False)
    stream = tap.streams["tag_ids"]
    assert isinstance(stream, id_scan.IdScanStream)
    for n in range(150):  # enough tags for two pages
        ac.control.mutate({"op": "add_tag", "contact": 1 + n % 50, "tag": f"bulk-{n}"})
    expected = sorted(x["id"] for x in ac.control.dump()["tags"])
    real_fetch = stream.fetch
    calls: list[int] = []

    def fetch(params: t.Mapping[str, t.Any], path: str | None = None) -> dict[str, t.Any]:
        calls.append(int(params.get("offset", 0)))
        if len(calls) == 2:  # between the first and second page a tag is deleted
            ac.control.mutate({"op": "delete_tag", "tag": expected[3]})
        return real_fetch(params, path)

    stream.fetch = fetch
    ids = list(stream.scan_ids())
    assert sorted(ids) == [i for i in expected if i != expected[3]]
    assert calls.count(0) == 2  # the shifted pass was thrown away and read again


def test_killed_scan_emits_no_activation(ac: SandboxProcess, tmp_path: Path) -> None:
    import subprocess

    config = tap_config(ac, id_scan=True, concurrency=2)
    ac.control.set_latency(fixed_ms=40)
    try:
        catalog = write_json(tmp_path / "catalog.json", catalog_selecting(config, ["contact_ids"]))
        proc = subprocess.Popen(
            [TAP_EXE, "--config", str(write_json(tmp_path / "config.json", config)),
             "--catalog", str(catalog)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert proc.stdout is not None
        seen: list[dict[str, t.Any]] = []
        for line in proc.stdout:
            seen.append(json.loads(line))
            if sum(m["type"] == "RECORD" for m in seen) >= 300:
                proc.kill()
                break
        proc.stdout.close()
        assert proc.wait(timeout=30) == -9
    finally:
        ac.control.set_latency(fixed_ms=0)
    assert sum(m["type"] == "RECORD" for m in seen) >= 300
    assert not any(m["type"] == "ACTIVATE_VERSION" for m in seen)


def test_hourly_run_pays_nothing_for_scans(ac: SandboxProcess) -> None:
    out = run_tap(tap_config(ac), streams=["lists"])
    assert not set(SCANS) & set(out.records)


def test_soft_deleted_contacts_are_left_out(ac: SandboxProcess) -> None:
    tap = TapActiveCampaign(config=tap_config(ac, id_scan=True), parse_env_config=False)
    stream = tap.streams["contact_ids"]
    real_fetch = stream.fetch

    def fetch(params: t.Mapping[str, t.Any], path: str | None = None) -> dict[str, t.Any]:
        body = real_fetch(params, path)
        for c in body["contacts"]:
            if int(c["id"]) % 100 == 0:  # listed, but flagged deleted
                c["deleted"] = "1"
        return body

    stream.fetch = fetch
    ids = list(stream.scan_ids())
    every = [c["id"] for c in ac.control.dump()["contacts"]]
    assert sorted(ids) == [i for i in every if i % 100]
