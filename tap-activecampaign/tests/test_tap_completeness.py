"""Completeness never rests on a server-side date filter (issue 10, part 1).

The sandbox is unkind by default: a row with a null ``udate``/``mdate`` matches no date filter,
and about 2.5 % of contacts (with memberships, tags and field values) and of deals have one.
"""

from __future__ import annotations

import copy
import typing as t
from urllib.parse import parse_qs

import pytest
from sandbox.testing import SandboxProcess
from tap_testkit import TapOutput, run_tap, tap_config

CONTACTS = 400
SEED = 3  # 5 never-updated contacts and 3 never-modified deals
CHILDREN = ("contact_lists", "contact_tags", "contact_custom_field_values")
STREAMS = ["contacts", *CHILDREN, "deals"]


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=CONTACTS, seed=SEED, rate_limit=0) as sb:
        yield sb


def _queries(sb: SandboxProcess, path: str) -> list[dict[str, list[str]]]:
    log = sb.control.requests()["log"]
    return [parse_qs(e["query"]) for e in log if e["path"] == f"/api/3/{path}"]


def _filtered(queries: list[dict[str, list[str]]]) -> list[dict[str, list[str]]]:
    return [q for q in queries if any(k.startswith("filters[") for k in q)]


def _children_of(out_or_dump: dict[str, t.Any], ids: set[int]) -> dict[str, set[int]]:
    return {s: {int(r["id"]) for r in out_or_dump.get(s, []) if r["contact"] in ids}
            for s in CHILDREN}


@pytest.fixture(scope="module")
def first(sandbox: SandboxProcess) -> tuple[TapOutput, dict[str, t.Any]]:
    sandbox.control.reset()
    sandbox.control.reset_requests()
    out = run_tap(tap_config(sandbox), streams=STREAMS)
    return out, sandbox.control.dump()


def test_the_sandbox_filter_misses_null_dates(first: t.Any) -> None:
    """The premise: the rows below are the ones a date filter never returns."""
    _, dump = first
    assert len([c for c in dump["contacts"] if c["udate"] is None]) >= 3
    assert len([d for d in dump["deals"] if d["mdate"] is None]) >= 2


def test_first_sync_reads_by_id_and_emits_null_dated_rows_with_their_children(
    first: t.Any, sandbox: SandboxProcess
) -> None:
    out, dump = first
    assert set(out.ids("contacts")) == {c["id"] for c in dump["contacts"]}
    assert set(out.ids("deals")) == {d["id"] for d in dump["deals"]}
    never = {c["id"] for c in dump["contacts"] if c["udate"] is None}
    emitted = out.by_id("contacts")
    assert all(emitted[i]["udate"] is None for i in never)
    wanted = _children_of(dump, never)
    got = _children_of(out.records, never)
    for stream in CHILDREN:
        assert wanted[stream], stream  # the seeded ones all have children
        assert got[stream] == wanted[stream], stream
    for deal in (d for d in dump["deals"] if d["mdate"] is None):
        assert out.by_id("deals")[deal["id"]]["mdate"] is None
    bookmarks = out.final_state["bookmarks"]
    assert bookmarks["contacts"]["max_id"] == max(c["id"] for c in dump["contacts"])
    assert bookmarks["deals"]["max_id"] == max(d["id"] for d in dump["deals"])


def test_first_sync_sends_no_date_filter(sandbox: SandboxProcess) -> None:
    sandbox.control.reset()
    sandbox.control.reset_requests()
    run_tap(tap_config(sandbox, start_date="2025-01-01T00:00:00Z"), streams=STREAMS)
    assert _filtered(_queries(sandbox, "contacts")) == []
    assert _filtered(_queries(sandbox, "deals")) == []


IMPORTS: list[dict[str, t.Any]] = [
    {"op": "import_contact", "fields": {"email": f"imported{n}@example.com"},
     "lists": [1 + n], "tags": ["imported", f"batch-{n}"], "field_values": {"1": "1-10"}}
    for n in range(3)
]


def test_new_null_udate_contacts_are_emitted_once_with_their_children(
    sandbox: SandboxProcess,
) -> None:
    sandbox.control.reset()
    config = tap_config(sandbox)
    first_run = run_tap(config, streams=STREAMS)
    dump = sandbox.control.dump()
    seeded_never = {c["id"] for c in dump["contacts"] if c["udate"] is None}
    sandbox.control.advance_clock(60)
    imported = {int(r["id"]) for r in sandbox.control.mutate(*IMPORTS)}
    after = sandbox.control.dump()
    assert all(c["udate"] is None for c in after["contacts"] if c["id"] in imported)

    second = run_tap(config, state=first_run.final_state, streams=STREAMS)
    ids = second.ids("contacts")
    assert len(ids) == len(set(ids))
    assert imported <= set(ids)
    assert not seeded_never & set(ids)  # emitted by the first sync, never again
    got = _children_of(second.records, imported)
    wanted = _children_of(after, imported)
    for stream in CHILDREN:
        assert wanted[stream], stream
        assert got[stream] == wanted[stream], stream
    tags = second.by_id("contacts")
    assert {"imported", "batch-0"} <= set(tags[min(imported)]["tags"])
    assert second.final_state["bookmarks"]["contacts"]["max_id"] == max(imported)

    sandbox.control.reset_requests()
    third = run_tap(config, state=second.final_state, streams=STREAMS)
    assert not (imported | seeded_never) & set(third.ids("contacts"))
    # a quiet run costs two contacts requests: the changed ones (filtered) and the new ids
    queries = _queries(sandbox, "contacts")
    assert len(queries) == 2
    assert len(_filtered(queries)) == 1
    assert [q["id_greater"] for q in queries if q not in _filtered(queries)] == [
        [str(max(imported))]
    ]


def test_deals_created_since_the_last_run_are_read_by_id_whatever_their_dates(
    sandbox: SandboxProcess,
) -> None:
    """Deals have no id_greater: the new ones are read in descending id order down to max_id,
    null mdate or old mdate alike, each once, and the changed ones through the filter."""
    sandbox.control.reset()
    config = tap_config(sandbox)
    first_run = run_tap(config, streams=["deals"])
    deals = sandbox.control.dump()["deals"]
    lowest_null = min(d["id"] for d in deals if d["mdate"] is None)
    # as if the previous sync had ended just below the first never-modified deal
    state = copy.deepcopy(first_run.final_state)
    state["bookmarks"]["deals"]["max_id"] = lowest_null - 1
    bookmark = state["bookmarks"]["deals"]["replication_key_value"]
    sandbox.control.reset_requests()

    second = run_tap(config, state=state, streams=["deals"])
    ids = second.ids("deals")
    assert len(ids) == len(set(ids))
    newer = {d["id"] for d in deals if d["id"] >= lowest_null}
    at_bookmark = {r["id"] for r in first_run.records["deals"] if r["mdate"] == bookmark}
    assert set(ids) == newer | at_bookmark
    queries = _queries(sandbox, "deals")
    by_id = [q for q in queries if q not in _filtered(queries)]
    assert by_id
    assert all(q["orders[id]"] == ["DESC"] for q in by_id)
    assert len(_filtered(queries)) == 1
    assert second.final_state["bookmarks"]["deals"]["max_id"] == max(d["id"] for d in deals)

    third = run_tap(config, state=second.final_state, streams=["deals"])
    nulls = {d["id"] for d in deals if d["mdate"] is None}
    assert not nulls & set(third.ids("deals"))


def test_a_state_without_max_id_reads_everything_once(sandbox: SandboxProcess) -> None:
    """A bookmark written by a version before max_id: one full read by id, then incremental."""
    sandbox.control.reset()
    config = tap_config(sandbox)
    first_run = run_tap(config, streams=["contacts"])
    old = copy.deepcopy(first_run.final_state)
    del old["bookmarks"]["contacts"]["max_id"]
    sandbox.control.reset_requests()
    again = run_tap(config, state=old, streams=["contacts"])
    assert set(again.ids("contacts")) == set(first_run.ids("contacts"))
    assert _filtered(_queries(sandbox, "contacts")) == []
    assert again.final_state["bookmarks"]["contacts"]["max_id"] == max(first_run.ids("contacts"))
