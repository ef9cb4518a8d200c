"""Deletes end to end: `meltano run ac-to-brevo-reconcile` against both sandboxes.

What ActiveCampaign deleted is handled in Brevo per `delete_policy`; what the pipeline did not
create is never touched; a suspiciously small scan stops the run; a scan killed midway deletes
nothing and the rerun finishes the job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

import requests

from tests.e2e_support import MELTANO, ROOT, Pipeline, RunResult, dump, mutate, request_log

JOB = "ac-to-brevo-reconcile"
MARK = "[deleted in ActiveCampaign] "


def reconcile(p: Pipeline, **env: str) -> RunResult:
    saved = dict(p.extra_env)
    p.extra_env.update(env)
    try:
        return p.meltano("run", "--force", JOB)
    finally:
        p.extra_env = saved


def reconcile_and_kill(p: Pipeline, scan_requests: int, **env: str) -> RunResult:
    """Start the job and SIGKILL its process group once the contacts id scan made
    `scan_requests` requests (the scan sends no `include`, the contacts stream always does)."""
    saved = dict(p.extra_env)
    p.extra_env.update(env)
    out = p.workdir / f"kill-{time.monotonic_ns()}.log"
    try:
        with out.open("w") as log:
            proc = subprocess.Popen(
                [MELTANO, "run", "--force", JOB], cwd=ROOT, env=p.env(), stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
            killed = False
            deadline = time.monotonic() + 300
            while proc.poll() is None and time.monotonic() < deadline:
                scans = [e for e in request_log(p.ac_url)
                         if e["path"] == "/api/3/contacts" and "include" not in e["query"]]
                if len(scans) >= scan_requests:
                    os.killpg(proc.pid, signal.SIGKILL)
                    killed = True
                    break
                time.sleep(0.05)
            rc = proc.wait(timeout=60)
    finally:
        p.extra_env = saved
    text = out.read_text()
    p.outputs.append(text)
    return RunResult(rc, text, "", killed=killed)


def by_ext(p: Pipeline) -> dict[str, dict[str, Any]]:
    return {c["ext_id"]: c for c in dump(p.brevo_url)["contacts"] if c.get("ext_id")}


def lists_by_key(p: Pipeline) -> dict[str, dict[str, Any]]:
    return {x["name"].rsplit(" ", 1)[-1]: x for x in dump(p.brevo_url)["lists"]}


def create_by_hand(p: Pipeline, list_id: int) -> None:
    """A Brevo user's own contact (no EXT_ID prefix of ours), in one of our lists too."""
    resp = requests.post(
        f"{p.brevo_url}/contacts", headers={"api-key": p.brevo_key}, timeout=30,
        json={"email": "own@example.org", "attributes": {"EXT_ID": "shop-99"},
              "listIds": [list_id]},
    )
    assert resp.status_code == 201, resp.text


def test_each_policy_handles_deleted_contacts_and_lists(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=250)
    first = reconcile(p)
    assert first.returncode == 0, first.output[-4000:]
    ac = dump(p.ac_url)
    ours = by_ext(p)
    assert set(ours) == {f"ac-{c['id']}" for c in ac["contacts"]}
    members: dict[int, int] = {}
    for m in ac["contact_lists"]:
        if m["status"] == 1:
            members[m["list"]] = members.get(m["list"], 0) + 1
    gone_list = max(members, key=lambda k: members[k])
    brevo_list = lists_by_key(p)[f"[ac-list-{gone_list}]"]
    create_by_hand(p, brevo_list["id"])
    in_list = [c["id"] for c in ac["contacts"]
               if any(m["contact"] == c["id"] and m["list"] == gone_list and m["status"] == 1
                      for m in ac["contact_lists"])]
    gone = [in_list[0], ac["contacts"][10]["id"], ac["contacts"][120]["id"]]
    mutate(p.ac_url, [*({"op": "delete_contact", "id": i} for i in gone),
                      {"op": "delete_list", "id": gone_list}])

    # mark, the default: attribute set, out of every synced list, nothing else touched
    marked = reconcile(p)
    assert marked.returncode == 0, marked.output[-4000:]
    after = by_ext(p)
    assert set(after) == set(ours) | {"shop-99"}
    for i in gone:
        c = after[f"ac-{i}"]
        assert c["attributes"]["AC_DELETED_AT"], c
        assert c["listIds"] == []
        assert c["email"] == ours[f"ac-{i}"]["email"]
    untouched = [k for k in ours if k not in {f"ac-{i}" for i in gone}]
    assert all("AC_DELETED_AT" not in after[k]["attributes"] for k in untouched)
    keys = lists_by_key(p)
    dead = keys[f"[ac-list-{gone_list}]"]
    assert dead["name"].startswith(MARK)
    assert not any(dead["id"] in c["listIds"] for c in dump(p.brevo_url)["contacts"]
                   if c.get("ext_id") != "shop-99")
    assert "[ac-all]" in keys
    assert not keys["[ac-all]"]["name"].startswith(MARK)
    assert all(not x["name"].startswith(MARK) for k, x in keys.items()
               if k != f"[ac-list-{gone_list}]")
    own = after["shop-99"]
    assert "AC_DELETED_AT" not in own["attributes"]
    assert own["email"] == "own@example.org"

    # ignore: nothing handled
    ignored = ac["contacts"][50]["id"]
    mutate(p.ac_url, [{"op": "delete_contact", "id": ignored}])
    run = reconcile(p, TARGET_BREVO_DELETE_POLICY="ignore")
    assert run.returncode == 0, run.output[-4000:]
    assert "AC_DELETED_AT" not in by_ext(p)[f"ac-{ignored}"]["attributes"]

    # delete: the contacts (the marked ones too) and the list are deleted in Brevo
    run = reconcile(p, TARGET_BREVO_DELETE_POLICY="delete")
    assert run.returncode == 0, run.output[-4000:]
    final = by_ext(p)
    assert set(final) == {f"ac-{c['id']}" for c in dump(p.ac_url)["contacts"]} | {"shop-99"}
    assert f"[ac-list-{gone_list}]" not in lists_by_key(p)
    own = final["shop-99"]
    assert own["email"] == "own@example.org"
    assert own["listIds"] == []  # its list was deleted, the contact stays


def test_guard_and_kill_mid_scan(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=600, ac={"rate_limit": 8, "latency_ms": 20})
    first = reconcile(p)
    assert first.returncode == 0, first.output[-4000:]
    before = dump(p.brevo_url)["contacts"]
    # the source suddenly returns 20% fewer contacts (ids spread over the whole range)
    ids = [c["id"] for c in dump(p.ac_url)["contacts"]]
    lost = ids[::5]
    mutate(p.ac_url, [{"op": "delete_contact", "id": i} for i in lost])
    guarded = reconcile(p, TARGET_BREVO_DELETE_POLICY="delete")
    assert guarded.returncode != 0
    assert "delete guard" in guarded.output
    assert "Nothing was deleted" in guarded.output
    assert dump(p.brevo_url)["contacts"] == before

    # the operator lowers the guard; the run is killed in the middle of the id scan
    killed = reconcile_and_kill(p, 2, TARGET_BREVO_DELETE_POLICY="delete",
                                TARGET_BREVO_DELETE_GUARD_PERCENT="50")
    assert killed.killed, killed.output[-3000:]
    assert dump(p.brevo_url)["contacts"] == before  # an interrupted scan deletes nothing

    rerun = reconcile(p, TARGET_BREVO_DELETE_POLICY="delete",
                      TARGET_BREVO_DELETE_GUARD_PERCENT="50")
    assert rerun.returncode == 0, rerun.output[-4000:]
    assert set(by_ext(p)) == {f"ac-{i}" for i in ids if i not in set(lost)}
