"""Full and incremental syncs against the ActiveCampaign sandbox, checked against its dump."""

from __future__ import annotations

import math
import threading
import time
import typing as t

import pytest
from sandbox.testing import SandboxProcess
from tap_testkit import TapOutput, run_tap, tap_config

CONTACTS = 300
#: tap stream -> key of the sandbox dump
DUMP_KEYS = {
    "users": "users",
    "contacts": "contacts",
    "lists": "lists",
    "contact_lists": "contact_lists",
    "contact_custom_fields": "contact_custom_fields",
    "contact_custom_field_options": "contact_custom_field_options",
    "contact_custom_field_values": "contact_custom_field_values",
    "tags": "tags",
    "contact_tags": "contact_tags",
    "campaigns": "campaigns",
    "messages": "messages",
    "automations": "automations",
    "contact_automations": "contact_automations",
    "deal_groups": "pipelines",
    "deal_stages": "deal_stages",
    "deals": "deals",
    "accounts": "accounts",
    "account_contacts": "account_contacts",
}
REPLICATION_KEYS = {
    "contacts": "udate",
    "lists": "udate",
    "tags": "updated_timestamp",
    "campaigns": "mdate",
    "messages": "mdate",
    "automations": "mdate",
    "contact_automations": "lastdate",
    "deal_groups": "udate",
    "deal_stages": "udate",
    "deals": "mdate",
    "accounts": "updated_timestamp",
    "account_contacts": "updated_timestamp",
}


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=CONTACTS, seed=7, rate_limit=0) as sb:
        yield sb


@pytest.fixture(scope="module")
def full_run(sandbox: SandboxProcess) -> tuple[TapOutput, dict[str, t.Any], dict[str, t.Any]]:
    sandbox.control.reset()
    sandbox.control.reset_requests()
    out = run_tap(tap_config(sandbox))
    return out, sandbox.control.dump(), sandbox.control.requests(log=False)


def _walk(value: t.Any) -> t.Iterator[t.Any]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


def _as_record_value(value: t.Any) -> t.Any:
    """A dump value (typed, UTC ``...Z``) in the tap's output form (``...+00:00``)."""
    if isinstance(value, str) and len(value) == 20 and value[10:11] == "T" and value[-1] == "Z":
        return value[:-1] + "+00:00"
    return value


def test_every_stream_matches_the_dump_and_keys_are_unique(full_run: t.Any) -> None:
    out, dump, _ = full_run
    for stream, key in DUMP_KEYS.items():
        ids = out.ids(stream)
        assert len(ids) == len(set(ids)), f"duplicate primary keys in {stream}"
        assert set(ids) == {int(r["id"]) for r in dump[key]}, stream
        # every field both sides have carries the same value (typed, UTC): no rewritten value
        emitted = out.by_id(stream)
        compared = set()
        for row in dump[key]:
            record = emitted[int(row["id"])]
            for name, value in row.items():
                if name in record:
                    compared.add(name)
                    assert record[name] == _as_record_value(value), (stream, row["id"], name)
        assert len(compared) >= 4, (stream, compared)


def test_a_null_udate_is_emitted_as_null(full_run: t.Any) -> None:
    """The cdate fallback serves the filter and the bookmark only, never the record."""
    out, dump, _ = full_run
    never_updated = {int(r["id"]) for r in dump["lists"] if r["udate"] is None}
    assert never_updated, "the sandbox has no never-updated list"
    emitted = out.by_id("lists")
    assert all(emitted[i]["udate"] is None for i in never_updated)


def test_contacts_are_typed_utc_and_carry_current_tag_names(full_run: t.Any) -> None:
    out, dump, _ = full_run
    emitted = out.by_id("contacts")
    for row in dump["contacts"]:
        record = emitted[row["id"]]
        for name in ("email", "phone", "first_name", "last_name", "orgname", "bounced_hard"):
            assert record[name] == row[name], (row["id"], name)
        assert record["cdate"] == row["cdate"].replace("Z", "+00:00")
        assert record["udate"] == (row["udate"] and row["udate"].replace("Z", "+00:00"))
        assert sorted(record["tags"]) == sorted(row["tags"])
        # naive account-local timestamps read in the account zone agree with the exact dates
        # (a never-updated contact: udate null, its naive update stamp is its creation's)
        assert record["updated_timestamp"] == (record["udate"] or record["cdate"])
        assert record["created_utc_timestamp"] == record["cdate"]
    memberships = out.by_id("contact_lists")
    for row in dump["contact_lists"]:
        record = memberships[row["id"]]
        assert (record["contact"], record["list"], record["status"]) == (
            row["contact"],
            row["list"],
            row["status"],
        )


def test_every_time_is_utc_and_no_secret_leaks(full_run: t.Any, sandbox: SandboxProcess) -> None:
    out, _, _ = full_run
    for stream, records in out.records.items():
        for record in records:
            assert "links" not in record
            for name, value in record.items():
                if name == "value":  # custom field values stay as AC stores them
                    continue
                if isinstance(value, str) and len(value) == 25 and value[10:11] == "T":
                    assert value.endswith("+00:00"), (stream, value)
    assert sandbox.token not in out.stderr
    assert all(sandbox.token not in str(v) for rs in out.records.values() for v in _walk(rs))


def test_definitions_come_before_contacts(full_run: t.Any) -> None:
    out, _, _ = full_run
    first = {stream: out.order.index(stream) for stream in out.order}
    for stream in ("contact_custom_fields", "contact_custom_field_options", "lists", "tags"):
        assert first[stream] < first["contacts"]
    assert out.schemas.count("contact_lists") == 1


def test_a_contact_comes_before_its_memberships_tags_and_values(full_run: t.Any) -> None:
    out, _, _ = full_run
    seen: set[int] = set()
    children = {"contact_lists", "contact_tags", "contact_custom_field_values"}
    for stream, record in out.sequence:
        if stream == "contacts":
            seen.add(int(record["id"]))
        elif stream in children:
            assert int(record["contact"]) in seen, (stream, record["id"])


def test_one_request_per_hundred_contacts_with_sideloads(full_run: t.Any) -> None:
    _, _, log = full_run
    assert log["by_path"]["GET /api/3/contacts"] == math.ceil(CONTACTS / 100)
    assert "GET /api/3/contactLists" not in log["by_path"]
    assert "GET /api/3/fieldValues" not in log["by_path"]


def test_final_state_is_clean_and_bookmarks_are_the_newest_values(full_run: t.Any) -> None:
    out, _, _ = full_run
    bookmarks = out.final_state["bookmarks"]
    for stream, state in bookmarks.items():
        assert "progress_markers" not in state, stream
        assert "contacts_sync" not in state, stream
        assert "replication_key_signpost" not in state, stream
    for stream, key in REPLICATION_KEYS.items():
        values = [r[key] for r in out.records[stream] if r.get(key)]
        assert bookmarks[stream]["replication_key"] == key
        assert bookmarks[stream]["replication_key_value"] == max(values), stream


MUTATIONS: list[dict[str, t.Any]] = [
    {"op": "update_contact", "id": 5, "fields": {"firstName": "Renamed"}},
    {"op": "change_email", "id": 6, "email": "changed.six@example.com"},
    {"op": "create_contact", "fields": {"email": "brand.new@example.com", "firstName": "New"}},
    {"op": "delete_contact", "id": 7},
    {"op": "subscribe", "contact": 8, "list": 2},
    {"op": "unsubscribe", "contact": 11, "list": 1},
    {"op": "bounce", "contact": 12, "list": 1},
    {"op": "add_tag", "contact": 9, "tag": "vip-new"},
    {"op": "set_field_value", "contact": 10, "field": 1, "value": "changed"},
    {"op": "rename_list", "id": 2, "name": "Renamed list"},
    {"op": "update_campaign", "id": 1, "fields": {"name": "Renamed campaign"}},
    {"op": "update_message", "id": 1, "fields": {"subject": "New subject"}},
]


def _boundary(first: TapOutput, stream: str, bookmark: str | None) -> set[int]:
    key = REPLICATION_KEYS[stream]
    return {int(r["id"]) for r in first.records.get(stream, []) if r.get(key) == bookmark}


def test_second_run_emits_exactly_the_changed_records(sandbox: SandboxProcess) -> None:
    sandbox.control.reset()
    config = tap_config(sandbox)
    first = run_tap(config)
    dump = sandbox.control.dump()
    tagged = next(ct for ct in dump["contact_tags"] if ct["contact"] > 20)
    tag_name = next(tg["tag"] for tg in dump["tags"] if tg["id"] == tagged["tag"])
    sandbox.control.advance_clock(60)
    results = sandbox.control.mutate(
        *MUTATIONS, {"op": "remove_tag", "contact": tagged["contact"], "tag": tag_name}
    )
    new_contact = int(results[2]["id"])
    new_tag = int(results[7]["tag"])

    second = run_tap(config, state=first.final_state)

    bookmarks = first.final_state["bookmarks"]
    changed = {
        "contacts": {5, 6, new_contact, 8, 9, 10, 11, 12, tagged["contact"]},
        "lists": {2},
        "campaigns": {1},
        "messages": {1},
        "tags": {new_tag},
    }
    for stream in REPLICATION_KEYS:
        bookmark = bookmarks[stream]["replication_key_value"]
        expected = changed.get(stream, set()) | _boundary(first, stream, bookmark)
        assert set(second.ids(stream)) == expected, stream
        assert len(second.ids(stream)) == len(set(second.ids(stream))), stream

    contacts = second.by_id("contacts")
    assert contacts[5]["first_name"] == "Renamed"
    assert contacts[6]["email"] == "changed.six@example.com"
    assert "vip-new" in contacts[9]["tags"]
    assert tag_name not in contacts[tagged["contact"]]["tags"]
    assert contacts[12]["bounced_hard"] == 1
    assert 7 not in contacts  # deletes are not visible to polling (documented)
    # memberships, tags and values of the changed contacts ride along, and only theirs
    emitted = set(contacts)
    for stream in ("contact_lists", "contact_tags", "contact_custom_field_values"):
        assert {r["contact"] for r in second.records.get(stream, [])} <= emitted
    statuses = {(r["contact"], r["list"]): r["status"] for r in second.records["contact_lists"]}
    assert statuses[(8, 2)] == 1
    assert statuses[(11, 1)] == 2
    assert statuses[(12, 1)] == 3
    values = {
        (r["contact"], r["field"]): r["value"]
        for r in second.records["contact_custom_field_values"]
    }
    assert values[(10, 1)] == "changed"
    renamed = second.by_id("lists")[2]
    assert renamed["name"] == "Renamed list"


def test_membership_full_scan_reads_every_membership(sandbox: SandboxProcess) -> None:
    sandbox.control.reset()
    sandbox.control.reset_requests()
    out = run_tap(
        tap_config(sandbox, membership_full_scan=True),
        streams=["contacts", "contact_lists", "contact_tags", "contact_custom_field_values"],
    )
    dump = sandbox.control.dump()
    for stream in ("contact_lists", "contact_tags", "contact_custom_field_values"):
        assert set(out.ids(stream)) == {int(r["id"]) for r in dump[stream]}, stream
        assert len(out.ids(stream)) == len(set(out.ids(stream)))
    by_path = sandbox.control.requests(log=False)["by_path"]
    assert by_path["GET /api/3/contactLists"] >= 1
    assert by_path["GET /api/3/fieldValues"] >= 1


def test_child_streams_are_selectable_without_contacts(sandbox: SandboxProcess) -> None:
    sandbox.control.reset()
    out = run_tap(tap_config(sandbox), streams=["contact_tags"])
    dump = sandbox.control.dump()
    assert set(out.records) == {"contact_tags"}
    assert set(out.ids("contact_tags")) == {int(r["id"]) for r in dump["contact_tags"]}
    # the contacts bookmark still advances, so the next run only reads changed contacts
    contacts_state = out.final_state["bookmarks"]["contacts"]
    assert contacts_state["replication_key_value"] == max(
        c["udate"] or c["cdate"] for c in dump["contacts"]
    ).replace("Z", "+00:00")
    assert "progress_markers" not in contacts_state


def test_updates_and_deletes_during_a_partitioned_sync_skip_nothing(
    sandbox_factory: t.Any,
) -> None:
    sb = sandbox_factory("activecampaign", contacts=2500, seed=11, rate_limit=0, latency_ms=15)
    before = {int(r["id"]) for r in sb.control.dump()["contacts"]}
    deleted: set[int] = set()
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            victim = 17 * n % 2400 + 1
            ops: list[dict[str, t.Any]] = [
                {
                    "op": "update_contact",
                    "id": 2400 - victim % 2000,
                    "fields": {"lastName": f"L{n}"},
                },
            ]
            if victim not in deleted and n % 3 == 0:
                ops.append({"op": "delete_contact", "id": victim})
                deleted.add(victim)
            ops.append({"op": "create_contact", "fields": {"email": f"churn{n}@example.com"}})
            try:
                sb.control.mutate(*ops)
            except Exception:
                deleted.add(victim)
            time.sleep(0.01)

    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    try:
        out = run_tap(tap_config(sb, concurrency=4), streams=["contacts"])
    finally:
        stop.set()
        worker.join(5)
    ids = out.ids("contacts")
    assert len(ids) == len(set(ids))
    assert before - deleted <= set(ids)


def test_contacts_still_complete_when_descending_order_is_ignored(
    sandbox: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If AC ignored ``orders[id]=DESC``, the first page holds the lowest ids: still all once."""
    from tap_activecampaign.streams.contacts import ContactsStream

    real_fetch = ContactsStream.fetch

    def ascending_only(
        self: ContactsStream, params: t.Mapping[str, t.Any], path: str | None = None
    ) -> dict[str, t.Any]:
        params = {**params, "orders[id]": "ASC"} if params.get("orders[id]") else params
        return real_fetch(self, params, path)

    monkeypatch.setattr(ContactsStream, "fetch", ascending_only)
    sandbox.control.reset()
    out = run_tap(tap_config(sandbox), streams=["contacts"])
    ids = out.ids("contacts")
    assert sorted(ids) == sorted(int(c["id"]) for c in sandbox.control.dump()["contacts"])


def test_about_documents_every_setting() -> None:
    import subprocess

    from tap_testkit import TAP_EXE

    about = subprocess.run(
        [TAP_EXE, "--about", "--format", "markdown"], capture_output=True, text=True, check=True
    ).stdout
    for setting in (
        "api_url",
        "api_token",
        "start_date",
        "user_agent",
        "request_timeout",
        "max_requests_per_second",
        "lookback_window",
        "account_timezone",
        "membership_full_scan",
        "concurrency",
    ):
        assert f"| {setting} |" in about, setting


def _quirks(sb: SandboxProcess, **body: t.Any) -> None:
    import requests

    r = requests.post(f"{sb.base_url}/__sandbox/quirks", json=body, timeout=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("contacts", "concurrency"), [(150, 2), (1300, 3)])
def test_contacts_complete_when_meta_total_lags(
    sandbox_factory: t.Any, contacts: int, concurrency: int
) -> None:
    """meta.total only sizes the id ranges: a stale (too small) count loses nothing."""
    sb = sandbox_factory("activecampaign", contacts=contacts, seed=3, rate_limit=0)
    _quirks(sb, stale_total=True)
    out = run_tap(tap_config(sb, concurrency=concurrency), streams=["contacts"])
    ids = out.ids("contacts")
    assert len(ids) == len(set(ids))
    assert set(ids) == {int(c["id"]) for c in sb.control.dump()["contacts"]}


def test_child_changes_that_keep_udate_need_the_membership_full_scan(
    sandbox: SandboxProcess,
) -> None:
    """If AC does not move a contact's udate for a membership, tag or value change, only the
    reconciliation path (membership_full_scan: true) sees it (documented)."""
    sandbox.control.reset()
    children = ["contacts", "contact_lists", "contact_tags", "contact_custom_field_values"]
    scan = tap_config(sandbox, membership_full_scan=True)
    first = run_tap(scan, streams=children)
    _quirks(sandbox, udate_on_child_change=False)
    sandbox.control.advance_clock(60)
    sandbox.control.mutate(
        {"op": "subscribe", "contact": 8, "list": 2},
        {"op": "add_tag", "contact": 9, "tag": "quirk-new"},
        {"op": "set_field_value", "contact": 10, "field": 1, "value": "quirk-changed"},
    )
    new_tag = next(tg["id"] for tg in sandbox.control.dump()["tags"] if tg["tag"] == "quirk-new")

    sideloads = run_tap(tap_config(sandbox), state=first.final_state, streams=children)
    assert not {8, 9, 10} & set(sideloads.ids("contacts"))
    assert (8, 2) not in {(r["contact"], r["list"]) for r in sideloads.records.get(
        "contact_lists", []
    )}
    assert new_tag not in {r["tag"] for r in sideloads.records.get("contact_tags", [])}

    full = run_tap(scan, state=first.final_state, streams=children)
    memberships = {(r["contact"], r["list"]): r["status"] for r in full.records["contact_lists"]}
    assert memberships[(8, 2)] == 1
    assert (9, new_tag) in {(r["contact"], r["tag"]) for r in full.records["contact_tags"]}
    values = {(r["contact"], r["field"]): r["value"] for r in full.records[
        "contact_custom_field_values"
    ]}
    assert values[(10, 1)] == "quirk-changed"
    # incremental: the scans send the changed rows, not every membership again
    assert len(full.records["contact_lists"]) < len(first.records["contact_lists"])
