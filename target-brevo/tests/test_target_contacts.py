"""Contacts, attributes, lists and memberships against the Brevo sandbox."""

from __future__ import annotations

import typing as t

import pytest
import requests

WRITE_CREATES = (
    "POST /v3/contacts/lists",
    "POST /v3/contacts/folders",
    "POST /v3/contacts/attributes/{attributeCategory}/{attributeName}",
    "POST /v3/emailCampaigns",
)


def test_ac_input_lands_and_a_rerun_changes_nothing(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    first = h.run_target(cfg, h.ac_input())
    assert first.states == [{"bookmarks": {"contacts": {"replication_key_value": "2026-03-08"}}}]
    dump = brevo.control.dump()
    by_ext = h.contacts_by_ext(dump)
    assert set(by_ext) == {"ac-1", "ac-2", "ac-3"}
    c1 = by_ext["ac-1"]
    assert c1["email"] == "person1@example.com"
    assert c1["sms"] == "+14155552671"
    attrs = c1["attributes"]
    assert attrs["FIRSTNAME"] == "First1"
    assert attrs["AC_TAGS"] == "|customer|vip|"
    assert attrs["SIZE"] == 12  # the category's integer: AC option id 12 = "Large"
    assert attrs["BIRTHDAY"] == "1990-05-02"
    assert attrs["LAST_VISIT"] == "2026-03-09"  # UTC date of 23:30 -05:00
    assert sorted(attrs["HOBBIES"]) == ["Chess", "Golf"]
    assert by_ext["ac-2"]["attributes"]["COMPANY"] == "Acme"
    assert by_ext["ac-2"]["attributes"]["NOTES"] == "likes tea"
    lists = {x["name"]: x for x in dump["lists"]}
    assert set(lists) == {
        "Newsletter [ac-list-1]",
        "Promo [ac-list-2]",
        "All synced contacts [ac-all]",
    }
    folder = dump["folders"][0]
    assert folder["name"] == "ActiveCampaign"
    assert all(x["folderId"] == folder["id"] for x in dump["lists"])
    newsletter = lists["Newsletter [ac-list-1]"]["id"]
    promo = lists["Promo [ac-list-2]"]["id"]
    master = lists["All synced contacts [ac-all]"]["id"]
    assert newsletter in c1["listIds"]
    assert master in c1["listIds"]
    assert newsletter in by_ext["ac-2"]["listIds"]
    assert promo in by_ext["ac-3"]["listIds"]
    assert newsletter not in by_ext["ac-3"]["listIds"]
    types = {a["name"]: a for a in dump["attributes"]}
    assert types["SIZE"]["type"] == "category"
    assert types["BIRTHDAY"]["type"] == "date"
    assert types["HOBBIES"]["type"] == "multiple-choice"
    assert types["NOTES"]["type"] == "text"
    assert h.client_errors(brevo) == []
    assert "/contacts/batch" not in str(h.api_requests(brevo))

    brevo.control.reset_requests()
    second = h.run_target(cfg, h.ac_input())
    assert second.states == first.states
    assert h.stable(brevo.control.dump()) == h.stable(dump)
    log = h.api_requests(brevo)
    assert [e for e in log if f"{e['method']} {e['route']}" in WRITE_CREATES] == []
    assert [e for e in log if e["method"] in ("POST", "PUT", "DELETE")] == []
    assert h.client_errors(brevo) == []


def test_fresh_machine_reruns_never_duplicate_lists(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    for _ in range(3):
        h.run_target(config_for(brevo), h.ac_input(campaigns=False))
    dump = brevo.control.dump()
    names = [x["name"] for x in dump["lists"]]
    assert len(names) == len(set(names)) == 3
    assert len(dump["folders"]) == 1
    assert len(dump["contacts"]) == 3


def test_list_rename_renames_the_brevo_list(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    before = {x["id"]: x["name"] for x in brevo.control.dump()["lists"]}
    renamed = [{"id": 1, "name": "Weekly news"}, {"id": 2, "name": "Promo"}]
    h.run_target(cfg, h.ac_input(campaigns=False, lists=renamed))
    after = {x["id"]: x["name"] for x in brevo.control.dump()["lists"]}
    assert set(after) == set(before)
    assert "Weekly news [ac-list-1]" in after.values()
    assert "Newsletter [ac-list-1]" not in after.values()


def test_email_change_updates_the_same_contact_and_existing_email_is_linked(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    # a contact already in Brevo (created by hand, no EXT_ID) with the source's email
    resp = requests.post(
        f"{brevo.api_url}/contacts",
        json={"email": "person2@example.com", "attributes": {"FIRSTNAME": "Manual"}},
        headers={"api-key": brevo.token},
        timeout=10,
    )
    assert resp.status_code == 201
    existing_id = resp.json()["id"]
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert by_ext["ac-2"]["id"] == existing_id  # linked, not duplicated
    assert len(brevo.control.dump()["contacts"]) == 3
    first_id = by_ext["ac-1"]["id"]

    changed = [
        h.contact(
            1, email="new.address@example.com", phone="(415) 555-2671", tags=["vip", "customer"]
        ),
        h.contact(2, orgname="Acme"),
        h.contact(3),
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=changed))
    dump = brevo.control.dump()
    by_ext = h.contacts_by_ext(dump)
    assert by_ext["ac-1"]["id"] == first_id
    assert by_ext["ac-1"]["email"] == "new.address@example.com"
    assert len(dump["contacts"]) == 3
    assert h.client_errors(brevo) == []


def test_invalid_email_and_phone_are_reported(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    # someone already in Brevo (outside the synced lists) holds a number a source contact has
    resp = requests.post(
        f"{brevo.api_url}/contacts",
        json={"email": "holder@example.com", "attributes": {"SMS": "+14155550199"}},
        headers={"api-key": brevo.token},
        timeout=10,
    )
    assert resp.status_code == 201
    cfg = config_for(brevo)
    people = [
        h.contact(1, phone="+1 415 555 2671"),
        h.contact(2, email="not-an-email"),
        h.contact(3, phone="12"),  # invalid: written without it
        h.contact(4, phone="(415) 555-2671"),  # the same number as contact 1
        h.contact(5, phone="(415) 555-0199"),  # Brevo's import refuses the row: written again
    ]
    members = [{"id": 1, "contact": 2, "list": 1, "status": 1}]
    run = h.run_target(cfg, h.ac_input(campaigns=False, contacts=people, memberships=members))
    assert run.states
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert set(by_ext) == {"ac-1", "ac-3", "ac-4", "ac-5"}
    assert by_ext["ac-3"]["sms"] is None
    assert by_ext["ac-1"]["sms"] == "+14155552671"
    assert by_ext["ac-4"]["sms"] is None
    assert by_ext["ac-4"]["attributes"]["FIRSTNAME"] == "First4"
    rejects = {(r["key"], r["code"]): r for r in h.rejects_of(cfg)}
    assert rejects[(2, "invalid_email")]["reason"].startswith("invalid email")
    assert rejects[(2, "invalid_email")]["stream"] == "contacts"
    assert rejects[(3, "invalid_phone")]["record_written"] is True
    assert rejects[(3, "invalid_phone")]["field"] == "phone"
    assert rejects[(4, "duplicate_phone")]["record_written"] is True
    assert rejects[(5, "duplicate_phone")]["record_written"] is True
    assert by_ext["ac-5"]["sms"] is None
    assert by_ext["ac-5"]["email"] == "person5@example.com"
    assert h.client_errors(brevo) == []


def test_values_are_typed_and_unconvertible_ones_rejected(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    values = [
        {"id": 1, "contact": 1, "field": 2, "value": "someday"},  # not a date
        {"id": 2, "contact": 1, "field": 1, "value": "gigantic"},  # a new option: added
        {"id": 3, "contact": 2, "field": 2, "value": "2001-02-03"},
        {"id": 4, "contact": 99, "field": 5, "value": "no such contact"},
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, values=values))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert "BIRTHDAY" not in by_ext["ac-1"]["attributes"]
    assert by_ext["ac-2"]["attributes"]["BIRTHDAY"] == "2001-02-03"
    rejects = {r["key"]: r for r in h.rejects_of(cfg)}
    assert rejects[1]["code"] == "invalid_value"
    assert "BIRTHDAY (date)" in rejects[1]["reason"]
    assert 2 not in rejects
    sizes = {a["name"]: a for a in brevo.control.dump()["attributes"]}["SIZE"]["enumeration"]
    gigantic = next(e["value"] for e in sizes if e["label"] == "gigantic")
    assert by_ext["ac-1"]["attributes"]["SIZE"] == gigantic
    assert rejects[99]["code"] == "unknown_contact"  # no email-less contact is created
    assert all(c.get("email") for c in brevo.control.dump()["contacts"])


def test_values_brevo_drops_are_detected(
    brevo: t.Any, config_for: t.Any, h: t.Any, monkeypatch: t.Any
) -> None:
    """Brevo silently drops mistyped values: the read-back catches it."""
    import target_brevo.writers.contacts.rows as contacts_mod

    real = contacts_mod.convert

    def sloppy(value: t.Any, brevo_type: str, **kw: t.Any) -> t.Any:
        out = real(value, brevo_type, **kw)
        return str(out) if brevo_type == "date" and out else out  # "1990-05-02" stays valid

    def broken(value: t.Any, brevo_type: str, **kw: t.Any) -> t.Any:
        out = real(value, brevo_type, **kw)
        return "12" if brevo_type == "category" and out != "" else out  # a string: dropped

    monkeypatch.setattr(contacts_mod, "convert", broken)
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    rejects = [r for r in h.rejects_of(cfg) if r["code"] == "value_not_stored"]
    assert len(rejects) == 1
    assert rejects[0]["field"] == "SIZE"
    assert "Brevo did not store SIZE (type category)" in rejects[0]["reason"]
    assert rejects[0]["record_written"] is True
    assert sloppy("1990-05-02", "date") == "1990-05-02"


def test_any_tap_maps_to_contacts_by_config(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    cfg = config_for(
        brevo,
        stream_mapping={
            "customers": {
                "kind": "contacts",
                "email": "mail",
                "phone": "mobile",
                "ext_id_prefix": "db-",
            },
        },
        default_phone_region="FR",
    )
    props = {
        "customer_id": {"type": "integer"},
        "mail": {"type": "string"},
        "mobile": {"type": ["string", "null"]},
        "lifetime_value": {"type": ["number", "null"]},
        "vip": {"type": ["boolean", "null"]},
        "signup": {"type": ["string", "null"], "format": "date-time"},
        "city": {"type": ["string", "null"]},
    }
    m = h.Messages()
    m.items.append(h.schema_msg("customers", props, ["customer_id"]))
    m.items.append(
        h.record_msg(
            "customers",
            {
                "customer_id": 7,
                "mail": "Ann@Example.com",
                "mobile": "01 23 45 67 89",
                "lifetime_value": 12.5,
                "vip": True,
                "signup": "2024-02-29T10:00:00Z",
                "city": "Lyon",
            },
        )
    )
    h.run_target(cfg, m)
    by_ext = h.contacts_by_ext(brevo.control.dump())
    c = by_ext["db-7"]
    assert c["email"] == "ann@example.com"
    assert c["sms"] == "+33123456789"
    assert c["attributes"]["LIFETIME_VALUE"] == 12.5
    assert c["attributes"]["VIP"] is True
    assert c["attributes"]["SIGNUP"] == "2024-02-29"
    assert c["attributes"]["CITY"] == "Lyon"
    assert h.client_errors(brevo) == []


def test_emails_swapped_between_contacts_in_one_batch(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """Contact 1 takes contact 2's old address while contact 2 moves to a new one."""
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    ids = {ext: c["id"] for ext, c in h.contacts_by_ext(brevo.control.dump()).items()}
    moved = [
        h.contact(1, email="person2@example.com", phone="(415) 555-2671", tags=["vip"]),
        h.contact(2, email="person2.new@example.com", orgname="Acme"),
        h.contact(3),
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=moved))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert {ext: c["id"] for ext, c in by_ext.items()} == ids
    assert by_ext["ac-1"]["email"] == "person2@example.com"
    assert by_ext["ac-2"]["email"] == "person2.new@example.com"
    assert by_ext["ac-1"]["attributes"]["AC_TAGS"] == "|vip|"
    assert [r for r in h.rejects_of(cfg) if r["code"] != "invalid_value"] == []
    assert h.client_errors(brevo) == []


def test_new_source_options_extend_the_brevo_attribute(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    m = h.ac_input(
        campaigns=False,
        values=[
            {"id": 1, "contact": 1, "field": 1, "value": "medium"},
            {"id": 3, "contact": 1, "field": 3, "value": "||chess||sailing||"},
        ],
    )
    extra = [
        h.record_msg(
            "contact_custom_field_options",
            {"id": 13, "field": 1, "label": "Medium", "value": "medium", "orderid": 3},
        ),
        h.record_msg(
            "contact_custom_field_options",
            {"id": 23, "field": 3, "label": "Sailing", "value": "sailing", "orderid": 3},
        ),
    ]
    at = next(i for i, x in enumerate(m.items) if x.get("stream") == "lists")
    m.items[at:at] = extra
    h.run_target(cfg, m)
    dump = brevo.control.dump()
    attrs = {a["name"]: a for a in dump["attributes"]}
    assert {"value": 13, "label": "Medium"} in attrs["SIZE"]["enumeration"]
    assert "Sailing" in attrs["HOBBIES"]["multiCategoryOptions"]
    c1 = h.contacts_by_ext(dump)["ac-1"]["attributes"]
    assert c1["SIZE"] == 13
    assert sorted(c1["HOBBIES"]) == ["Chess", "Sailing"]
    assert [r for r in h.rejects_of(cfg) if r["code"] == "value_not_stored"] == []
    assert h.client_errors(brevo) == []


def test_two_streams_with_the_same_keys_keep_their_own_contacts(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """`customers` 1 and `leads` 1 are two people: each stream has its own EXT_ID prefix."""
    cfg = config_for(brevo, default_kind="contacts")
    props = {"id": {"type": "integer"}, "email": {"type": "string"}}
    m = h.Messages()
    for stream, mail in (("customers", "c1@example.com"), ("leads", "l1@example.com")):
        m.items.append(h.schema_msg(stream, props, ["id"]))
        m.items.append(h.record_msg(stream, {"id": 1, "email": mail}))
    h.run_target(cfg, m)
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert by_ext["customers-1"]["email"] == "c1@example.com"
    assert by_ext["leads-1"]["email"] == "l1@example.com"
    assert "ac-1" not in by_ext


def test_failed_list_additions_are_rejects(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    """A membership Brevo does not apply (its contact is not in Brevo) is a reject with
    stream and key, whether the whole add call fails (400) or only part of it."""
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    only_unknown = [{"id": 50, "contact": 99, "list": 1, "status": 1}]
    m = h.Messages()
    m.add("lists", {"id": 1, "name": "Newsletter"}, {"id": 2, "name": "Promo"})
    m.add("contact_lists", *only_unknown)
    h.run_target(cfg, m)
    rejects = h.rejects_of(cfg)
    assert [(r["stream"], r["key"], r["code"]) for r in rejects] == [
        ("contact_lists", 50, "unknown_contact")
    ]
    mixed = [
        {"id": 51, "contact": 1, "list": 2, "status": 1},
        {"id": 52, "contact": 98, "list": 2, "status": 1},
    ]
    m = h.Messages()
    m.add("lists", {"id": 1, "name": "Newsletter"}, {"id": 2, "name": "Promo"})
    m.add("contact_lists", *mixed)
    h.run_target(cfg, m)
    rejects = h.rejects_of(cfg)
    assert [(r["stream"], r["key"], r["code"]) for r in rejects[1:]] == [
        ("contact_lists", 52, "unknown_contact")
    ]
    lists = {x["name"]: x["id"] for x in brevo.control.dump()["lists"]}
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert lists["Promo [ac-list-2]"] in by_ext["ac-1"]["listIds"]


@pytest.mark.parametrize("reports", ["counts", "no_header"])
def test_unreadable_import_reports_fall_back_to_the_read_back(
    brevo: t.Any, config_for: t.Any, h: t.Any, reports: str
) -> None:
    """Report values that are not URLs (Brevo's mocks show counts) or a CSV without its
    header: a row the import refused (here the second of two new contacts sharing an email)
    is a `not_landed` reject found by the read-back, not silently "unchanged"."""
    cfg = config_for(brevo)
    brevo.control._call("POST", "imports", {"reports": reports})
    people = [h.contact(1), h.contact(4, email="same@example.com")]
    people.append(h.contact(5, email="same@example.com"))
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=people, memberships=[]))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert set(by_ext) == {"ac-1", "ac-4"}
    rejects = [(r["stream"], r["key"], r["code"]) for r in h.rejects_of(cfg)]
    assert [r for r in rejects if r[0] == "contacts"] == [("contacts", 5, "not_landed")]


def test_one_bad_field_is_left_out_and_the_rest_of_the_contact_is_written(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo, stream_mapping={"customers": {"kind": "contacts", "phone": None}})
    props = {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "score": {"type": ["number", "null"]},
        "city": {"type": ["string", "null"]},
    }
    m = h.Messages()
    m.items.append(h.schema_msg("customers", props, ["id"]))
    m.items.append(
        h.record_msg(
            "customers", {"id": 1, "email": "a@example.com", "score": "abc", "city": "Lyon"}
        )
    )
    m.items.append(h.record_msg("customers", {"id": "x", "email": "b@example.com"}))
    h.run_target(cfg, m)
    by_ext = h.contacts_by_ext(brevo.control.dump())
    c = by_ext["customers-1"]
    assert c["email"] == "a@example.com"
    assert c["attributes"]["CITY"] == "Lyon"
    assert "SCORE" not in c["attributes"]
    rejects = {(r["key"], r["code"], r["field"], r["record_written"]) for r in h.rejects_of(cfg)}
    assert (1, "invalid_value", "score", True) in rejects
    assert ("x", "invalid_record", None, False) in rejects  # a bad key: the whole record
    assert "customers-x" not in by_ext
