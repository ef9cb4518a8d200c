"""Tags the Singer way (issue 10 part 4): `tags` + `contact_tags` streams → `AC_TAGS`.

The singer-io input is recorded output of singer-io tap-activecampaign 1.3.1 (see
fixtures/singerio-tap-activecampaign-1.3.1/README.md for how and what changed between runs).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "singerio-tap-activecampaign-1.3.1"
CONTACT_ROUTE = "/v3/contacts/{identifier}"


def _text(name: str) -> str:
    return (FIXTURES / name).read_text()


def _expected(name: str) -> dict[str, str]:
    """AC_TAGS each contact must hold after a full scan: the recording's own rows, joined
    the way the README documents (sorted names between pipes; "" for none)."""
    names: dict[int, str] = {}
    of: dict[int, set[int]] = {}
    contacts: set[int] = set()
    for line in _text(name).splitlines():
        msg = json.loads(line)
        if msg["type"] != "RECORD":
            continue
        rec = msg["record"]
        if msg["stream"] == "tags":
            names[rec["id"]] = rec["tag"]
        elif msg["stream"] == "contacts":
            contacts.add(rec["id"])
        elif msg["stream"] == "contact_tags":
            of.setdefault(rec["contact"], set()).add(rec["tag"])
    out = {}
    for cid in contacts:
        tags = sorted(names[x] for x in of.get(cid, set()))
        out[f"ac-{cid}"] = "|" + "|".join(tags) + "|" if tags else ""
    return out


def _ac_tags(sb: t.Any, h: t.Any) -> dict[str, str]:
    by_ext = h.contacts_by_ext(sb.control.dump())
    return {ext: c["attributes"].get("AC_TAGS", "") for ext, c in by_ext.items()}


def _writes(sb: t.Any, h: t.Any) -> list[str]:
    return [
        f"{e['method']} {e['route']}"
        for e in h.api_requests(sb)
        if e["method"] in ("POST", "PUT", "DELETE")
    ]


def _per_contact_requests(sb: t.Any, h: t.Any) -> list[dict[str, t.Any]]:
    return [e for e in h.api_requests(sb) if e["route"] == CONTACT_ROUTE]


def test_singer_io_tags_land_adds_and_removes_and_reruns_write_nothing(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    first = _expected("run1_first_sync.jsonl")
    assert first["ac-5"] == "|Lead: hot|google-ads|lead|"  # the recording as we know it
    assert first["ac-4"] == "|customer|event:paris|"

    # first sync (no bookmark: a full scan), in one flush with the contacts
    h.run_target(cfg, _text("run1_first_sync.jsonl"))
    landed = _ac_tags(brevo, h)
    assert {ext: landed.get(ext) for ext in first} == first
    writes = _writes(brevo, h)
    # the tags rode in the contacts' import: no request per contact
    assert writes.count("POST /v3/contacts/import") == 1
    assert _per_contact_requests(brevo, h) == []
    assert [r for r in h.rejects_of(cfg) if r["code"] in ("unknown_tag", "unknown_contact")] == []

    brevo.control.reset_requests()
    h.run_target(cfg, _text("run1_first_sync.jsonl"))
    assert _writes(brevo, h) == []

    # incremental: contact 3 gained "customer", contact 9 "enterprise"; contact 4 lost
    # "customer", which an incremental contact_tags cannot show (no row, no tombstone)
    brevo.control.reset_requests()
    h.run_target(cfg, _text("run2_incremental.jsonl"))
    after_incremental = _ac_tags(brevo, h)
    assert after_incremental["ac-3"] == "|customer|tag with  double  spaces|"
    assert after_incremental["ac-9"] == "|enterprise|"  # the sandbox's tag 12
    assert after_incremental["ac-4"] == "|customer|event:paris|"
    unchanged = {ext for ext in first if ext not in ("ac-3", "ac-9")}
    assert {e: after_incremental[e] for e in unchanged} == {e: first[e] for e in unchanged}
    assert _per_contact_requests(brevo, h) == []
    brevo.control.reset_requests()
    h.run_target(cfg, _text("run2_incremental.jsonl"))
    assert _writes(brevo, h) == []

    # a full refresh: the removal shows as an absent row and is applied
    third = _expected("run3_full_resync.jsonl")
    assert third["ac-4"] == "|event:paris|"
    brevo.control.reset_requests()
    h.run_target(cfg, _text("run3_full_resync.jsonl"))
    assert {ext: v for ext, v in _ac_tags(brevo, h).items() if ext in third} == third
    assert _per_contact_requests(brevo, h) == []
    brevo.control.reset_requests()
    h.run_target(cfg, _text("run3_full_resync.jsonl"))
    assert _writes(brevo, h) == []
    assert h.client_errors(brevo) == []


def _tags_input(h: t.Any, *parts: tuple[str, list[dict[str, t.Any]]]) -> t.Any:
    m = h.Messages()
    m.add("tags", {"id": 1, "tag": "vip"}, {"id": 2, "tag": "customer"}, {"id": 3, "tag": "x|y"})
    for stream, records in parts:
        m.add(stream, *records)
    return m


def _no_tags(contact: dict[str, t.Any]) -> dict[str, t.Any]:
    """A contact record without a tags field (singer-io's shape)."""
    return {k: v for k, v in contact.items() if k != "tags"}


def test_contact_tags_before_the_contact_in_an_earlier_flush(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """Rows for contact 2 come before its record, with a flush (batch of one contact) in
    between: they wait for the record and land with it; a contact that never comes is a
    reject at the end. A bookmark in the STATE before the stream makes it incremental."""
    cfg = config_for(brevo, batch_size_rows=1)
    m = h.Messages()
    m.add("tags", {"id": 1, "tag": "vip"}, {"id": 2, "tag": "customer"}, {"id": 3, "tag": "x|y"})
    m.state({"bookmarks": {"contact_tags": "2026-01-01T00:00:00Z"}})
    m.add(
        "contact_tags",
        {"id": 10, "contact": 2, "tag": 1},
        {"id": 11, "contact": 2, "tag": 3},
        {"id": 12, "contact": 77, "tag": 1},
    )
    m.add("contacts", _no_tags(h.contact(1)), _no_tags(h.contact(2)))
    run = h.run_target(cfg, m)
    got = _ac_tags(brevo, h)
    assert got["ac-2"] == "|vip|x/y|"
    assert got["ac-1"] == ""
    rejects = h.rejects_of(cfg)
    assert [(r["code"], r["key"]) for r in rejects] == [("unknown_contact", 12)]
    assert run.states  # the run completed

    # incremental: a new row adds, nothing is removed
    brevo.control.reset_requests()
    m = h.Messages()
    m.add("tags", {"id": 1, "tag": "vip"}, {"id": 2, "tag": "customer"})
    m.state({"bookmarks": {"contact_tags": "2026-02-01T00:00:00Z"}})
    m.add("contact_tags", {"id": 13, "contact": 2, "tag": 2})
    h.run_target(cfg, m)
    assert _ac_tags(brevo, h)["ac-2"] == "|customer|vip|x/y|"
    assert _per_contact_requests(brevo, h) == []

    # a full scan (no bookmark): contact 1 now has a row, contact 2 none: all its tags go,
    # at the end of the run, though its record came in an earlier flush
    m = h.Messages()
    m.add("tags", {"id": 1, "tag": "vip"}, {"id": 2, "tag": "customer"})
    m.state({"bookmarks": {"contacts": "2026-03-01T00:00:00Z"}})
    m.add("contacts", _no_tags(h.contact(1)), _no_tags(h.contact(2)))
    m.add("contact_tags", {"id": 14, "contact": 1, "tag": 2})
    h.run_target(cfg, m)
    got = _ac_tags(brevo, h)
    assert got["ac-1"] == "|customer|"
    assert got["ac-2"] == ""


def test_our_taps_shape_the_contact_record_wins(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    """This repository's tap sends the names in `contacts.tags` and the rows in
    `contact_tags`: the record is the whole set, the rows change nothing and cost nothing."""
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    assert _ac_tags(brevo, h)["ac-1"] == "|customer|vip|"
    # the contact lost "customer" in AC: the record says so, the leftover row does not undo it
    changed = [h.contact(1, phone="(415) 555-2671", tags=["vip"]), h.contact(2), h.contact(3)]
    brevo.control.reset_requests()
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=changed))
    assert _ac_tags(brevo, h)["ac-1"] == "|vip|"
    assert _per_contact_requests(brevo, h) == []
