"""The pipeline killed with SIGKILL at several points, then rerun: Brevo ends exactly right."""

from __future__ import annotations

from typing import Any

from tests.e2e_support import Pipeline, dump, mutate, request_counts
from tests.expected import check_brevo, expected_from_ac


def _count(base_url: str, method: str, route: str) -> int:
    """Requests so far to one route template, e.g. `PUT /v3/contacts/{identifier}`."""
    return int(request_counts(base_url)["by_path"].get(f"{method} {route}", 0))


def _assert_exact(p: Pipeline) -> None:
    problems = check_brevo(expected_from_ac(dump(p.ac_url)), dump(p.brevo_url))
    assert problems == [], "\n".join(
        problems[:20] + [str(r) for r in p.rejects() if r.get("code") != "invalid_phone"][:20]
    )


def _unsubscribe_some(p: Pipeline, n: int, skip: int = 0) -> list[tuple[int, int]]:
    active = [m for m in dump(p.ac_url)["contact_lists"] if m["status"] == 1][skip : skip + n]
    mutate(p.ac_url, [{"op": "unsubscribe", "contact": m["contact"], "list": m["list"]}
                      for m in active])
    return [(m["contact"], m["list"]) for m in active]


def _still_subscribed(p: Pipeline, pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    brevo = dump(p.brevo_url)
    list_of_key = {x["name"].rsplit(" ", 1)[-1]: x["id"] for x in brevo["lists"]}
    by_ext = {c["ext_id"]: c for c in brevo["contacts"]}
    return [
        (contact, lid) for contact, lid in pairs
        if list_of_key.get(f"[ac-list-{lid}]") in (by_ext[f"ac-{contact}"].get("listIds") or [])
    ]


def test_killed_runs_resume_to_the_exact_state(make_pipeline: Any) -> None:
    # Slow enough on both sides that each kill point is reached mid-run.
    p = make_pipeline(
        contacts=600, ac={"rate_limit": 8, "latency_ms": 20}, brevo={"import_delay": 1.0},
        env={"TARGET_BREVO_BATCH_SIZE_ROWS": "150"},
    )

    # 1. Killed during extraction of the very first sync: nothing confirmed, nothing saved.
    first = p.run_and_kill(lambda: _count(p.ac_url, "GET", "/api/3/contacts") >= 2)
    assert first.killed, first.output[-3000:]
    rerun = p.run("--force")  # Meltano marks the killed run stale only after a while
    assert rerun.returncode == 0, rerun.output[-4000:]
    _assert_exact(p)

    # 2. Unsubscribes and edits, then a run killed while Brevo imports the edits: the rerun must
    # still apply the unsubscribes.
    unsubscribed = _unsubscribe_some(p, 6)
    mutate(p.ac_url, [{"op": "update_contact", "id": c["id"], "fields": {"firstName": "Edited"}}
                      for c in dump(p.ac_url)["contacts"][100:160]])
    imports_before = _count(p.brevo_url, "POST", "/v3/contacts/import")
    state_before = p.state()
    killed = p.run_and_kill(
        lambda: _count(p.brevo_url, "POST", "/v3/contacts/import") > imports_before
    )
    assert killed.killed, killed.output[-3000:]
    assert p.state() == state_before, "STATE moved past data Brevo had not confirmed"
    rerun = p.run("--force")  # Meltano marks the killed run stale only after a while
    assert rerun.returncode == 0, rerun.output[-4000:]
    _assert_exact(p)
    assert _still_subscribed(p, unsubscribed) == []

    # 3. Killed right after a STATE was saved mid-run: the rerun resumes from it.
    more = _unsubscribe_some(p, 6, skip=10)
    mutate(p.ac_url, [{"op": "update_contact", "id": c["id"], "fields": {"lastName": "Moved"}}
                      for c in dump(p.ac_url)["contacts"][:400]])
    saved_before = p.state_rows()
    killed = p.run_and_kill(lambda: p.state_rows() != saved_before, poll=0.1)
    assert killed.killed, killed.output[-3000:]
    rerun = p.run("--force")  # Meltano marks the killed run stale only after a while
    assert rerun.returncode == 0, rerun.output[-4000:]
    _assert_exact(p)
    assert _still_subscribed(p, unsubscribed + more) == []

    # 4. Email changes and unsubscribes, killed at the first email-change PUT, then at the first
    # list removal of the rerun: the final rerun lands every change exactly once.
    contacts = dump(p.ac_url)["contacts"]
    mutate(p.ac_url, [{"op": "change_email", "id": c["id"], "email": f"moved{c['id']}@example.net"}
                      for c in contacts[200:210]])
    last = _unsubscribe_some(p, 6, skip=30)
    puts = _count(p.brevo_url, "PUT", "/v3/contacts/{identifier}")
    killed = p.run_and_kill(lambda: _count(p.brevo_url, "PUT", "/v3/contacts/{identifier}") > puts)
    assert killed.killed, killed.output[-3000:]
    removes = _count(p.brevo_url, "POST", "/v3/contacts/lists/{listId}/contacts/remove")
    killed = p.run_and_kill(
        lambda: _count(p.brevo_url, "POST", "/v3/contacts/lists/{listId}/contacts/remove")
        > removes
    )
    rerun = p.run("--force")
    assert rerun.returncode == 0, rerun.output[-4000:]
    _assert_exact(p)
    assert _still_subscribed(p, unsubscribed + more + last) == []
    by_ext = {c["ext_id"]: c for c in dump(p.brevo_url)["contacts"]}
    for c in contacts[200:210]:
        assert by_ext[f"ac-{c['id']}"]["email"] == f"moved{c['id']}@example.net"

    brevo = dump(p.brevo_url)
    assert len({c["ext_id"] for c in brevo["contacts"]}) == len(brevo["contacts"])
    assert len({x["name"] for x in brevo["lists"]}) == len(brevo["lists"])
