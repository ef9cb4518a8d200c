"""Brevo sandbox: contacts (create/upsert, identifiers, attributes typing, lists, paging)."""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox.brevo.testkit import BrevoClient

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def make_list(api: BrevoClient, name: str = "L") -> int:
    folders = api.get("/contacts/folders", params={"limit": 1}).json()
    if folders["count"]:
        folder = folders["folders"][0]["id"]
    else:
        folder = api.post("/contacts/folders", {"name": "F"}).json()["id"]
    r = api.post("/contacts/lists", {"name": name, "folderId": folder})
    assert r.status_code == 201
    return int(r.json()["id"])


def make_attrs(api: BrevoClient) -> None:
    for name, body in (
        ("AGE", {"type": "float"}),
        ("BIRTHDAY", {"type": "date"}),
        ("VIP", {"type": "boolean"}),
        ("INTERESTS", {"type": "multiple-choice", "multiCategoryOptions": ["golf", "chess"]}),
    ):
        assert api.post(f"/contacts/attributes/normal/{name}", body).status_code == 201
    r = api.post("/contacts/attributes/category/GENDER",
                 {"enumeration": [{"value": 1, "label": "Men"}, {"value": 2, "label": "Women"}]})
    assert r.status_code == 201


def get_contact(api: BrevoClient, ident: str, id_type: str | None = None) -> dict[str, Any]:
    params = {"identifierType": id_type} if id_type else None
    r = api.get(f"/contacts/{ident}", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_create_returns_201_with_id_and_get_has_brevo_shape(api: BrevoClient) -> None:
    lid = make_list(api)
    r = api.post("/contacts", {
        "email": "Jane.Doe@Example.COM", "ext_id": "ac-1",
        "attributes": {"FIRSTNAME": "Jane", "SMS": "+33612345678"}, "listIds": [lid],
    })
    assert r.status_code == 201
    cid = r.json()["id"]
    assert isinstance(cid, int)
    c = get_contact(api, "JANE.DOE%40example.com")
    assert c["id"] == cid
    assert c["email"] == "jane.doe@example.com"
    assert c["emailBlacklisted"] is False
    assert c["smsBlacklisted"] is False
    assert TIME_RE.match(c["createdAt"])
    assert TIME_RE.match(c["modifiedAt"])
    assert c["listIds"] == [lid]
    assert c["listUnsubscribed"] == []
    assert c["attributes"] == {"FIRSTNAME": "Jane", "SMS": "+33612345678", "EXT_ID": "ac-1"}
    listed = api.get("/contacts").json()
    assert listed["count"] == 1
    assert set(listed["contacts"][0]) == {
        "id", "email", "emailBlacklisted", "smsBlacklisted", "whatsappBlacklisted", "createdAt",
        "modifiedAt", "listIds", "listUnsubscribed", "attributes",
    }


def test_duplicate_email_is_rejected_case_insensitively(api: BrevoClient) -> None:
    assert api.post("/contacts", {"email": "a@example.com"}).status_code == 201
    r = api.post("/contacts", {"email": "A@EXAMPLE.com"})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "duplicate_parameter"
    assert body["metadata"] == {"duplicate_identifiers": ["email"]}
    assert api.get("/contacts").json()["count"] == 1


def test_update_enabled_updates_with_204_and_matches_email_then_ext_id_then_sms(
    api: BrevoClient,
) -> None:
    cid = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1",
                                 "attributes": {"SMS": "+33612345678"}}).json()["id"]
    r = api.post("/contacts", {"email": "A@example.com", "updateEnabled": True,
                               "attributes": {"FIRSTNAME": "Ann"}})
    assert r.status_code == 204
    assert r.content == b""
    # no email: the ext_id names the contact
    r = api.post("/contacts", {"ext_id": "ac-1", "updateEnabled": True,
                               "attributes": {"LASTNAME": "Lee"}})
    assert r.status_code == 204
    # a new email with a taken ext_id is a clash, not a rename
    r = api.post("/contacts", {"email": "new@example.com", "ext_id": "ac-1",
                               "updateEnabled": True})
    assert r.status_code == 400
    assert r.json()["metadata"]["duplicate_identifiers"] == ["ext_id"]
    r = api.put(f"/contacts/{cid}", {"attributes": {"EMAIL": "new@example.com"}})
    assert r.status_code == 204
    # only an SMS (other spelling): matched by SMS
    r = api.post("/contacts", {"updateEnabled": True,
                               "attributes": {"SMS": "0033612345678", "FIRSTNAME": "Annie"}})
    assert r.status_code == 204
    c = get_contact(api, str(cid))
    assert c["email"] == "new@example.com"
    assert c["attributes"]["FIRSTNAME"] == "Annie"
    assert c["attributes"]["LASTNAME"] == "Lee"
    assert api.get("/contacts").json()["count"] == 1
    # creating with updateEnabled still answers 201 {id}
    r = api.post("/contacts", {"email": "b@example.com", "updateEnabled": True})
    assert r.status_code == 201
    assert r.json()["id"] != cid


def test_update_enabled_clash_on_sms_or_ext_id_is_rejected(api: BrevoClient) -> None:
    api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1",
                           "attributes": {"SMS": "+33612345678"}})
    api.post("/contacts", {"email": "b@example.com", "ext_id": "ac-2"})
    r = api.post("/contacts", {"email": "b@example.com", "updateEnabled": True,
                               "attributes": {"SMS": "33612345678", "FIRSTNAME": "X"}})
    assert r.status_code == 400
    assert r.json()["code"] == "duplicate_parameter"
    assert r.json()["metadata"]["duplicate_identifiers"] == ["SMS"]
    r = api.post("/contacts", {"email": "b@example.com", "ext_id": "ac-1", "updateEnabled": True})
    assert r.json()["metadata"]["duplicate_identifiers"] == ["ext_id"]
    b = get_contact(api, "b%40example.com")
    assert "SMS" not in b["attributes"]
    assert b["attributes"]["EXT_ID"] == "ac-2"
    assert "FIRSTNAME" not in b["attributes"]
    # without updateEnabled every clashing identifier is named
    r = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-2"})
    assert r.status_code == 400
    assert sorted(r.json()["metadata"]["duplicate_identifiers"]) == ["email", "ext_id"]


def test_put_clash_on_sms_ext_id_or_email_is_rejected(api: BrevoClient) -> None:
    api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1",
                           "attributes": {"SMS": "+33612345678"}})
    api.post("/contacts", {"email": "b@example.com"})
    for body, ident in (
        ({"attributes": {"SMS": "+33612345678"}}, "SMS"),
        ({"ext_id": "ac-1"}, "ext_id"),
        ({"attributes": {"EMAIL": "A@example.com"}}, "email"),
    ):
        r = api.put("/contacts/b%40example.com", body)
        assert r.status_code == 400, body
        assert r.json()["code"] == "duplicate_parameter"
        assert r.json()["metadata"]["duplicate_identifiers"] == [ident]
    b = get_contact(api, "b%40example.com")
    assert b["attributes"] == {}


def test_unknown_attributes_are_rejected_on_post_and_put(api: BrevoClient) -> None:
    r = api.post("/contacts", {"email": "a@example.com", "attributes": {"NOPE": "x"}})
    assert r.status_code == 400
    assert r.json() == {"code": "invalid_parameter", "message": "Attribute NOPE does not exist"}
    assert api.get("/contacts").json()["count"] == 0
    api.post("/contacts", {"email": "a@example.com"})
    r = api.put("/contacts/a%40example.com", {"attributes": {"firstname": "lower-case name"}})
    assert r.status_code == 400
    assert "firstname" in r.json()["message"]


def test_wrong_typed_values_are_silently_ignored(api: BrevoClient) -> None:
    make_attrs(api)
    good = {"FIRSTNAME": "Ann", "AGE": 41, "BIRTHDAY": "1985-04-12", "VIP": True, "GENDER": 2,
            "INTERESTS": ["golf"]}
    assert api.post("/contacts", {"email": "a@example.com", "attributes": good}).status_code == 201
    assert get_contact(api, "a%40example.com")["attributes"] == good
    wrong = {"FIRSTNAME": 5, "AGE": "old", "BIRTHDAY": "12/04/1985", "VIP": "yes",
             "GENDER": "Women", "INTERESTS": ["tennis"], "LASTNAME": "Lee"}
    r = api.put("/contacts/a%40example.com", {"attributes": wrong})
    assert r.status_code == 204
    # only the well-typed LASTNAME landed
    assert get_contact(api, "a%40example.com")["attributes"] == {**good, "LASTNAME": "Lee"}
    r = api.put("/contacts/a%40example.com",
                {"attributes": {"BIRTHDAY": "2026-02-30", "AGE": True, "GENDER": 9}})
    assert r.status_code == 204
    assert get_contact(api, "a%40example.com")["attributes"]["BIRTHDAY"] == "1985-04-12"
    assert get_contact(api, "a%40example.com")["attributes"]["AGE"] == 41
    # a new contact with only wrong-typed values still gets created, without them
    r = api.post("/contacts", {"email": "b@example.com", "attributes": {"AGE": "x"}})
    assert r.status_code == 201
    assert get_contact(api, "b%40example.com")["attributes"] == {}


def test_sms_needs_a_country_code_and_every_spelling_finds_the_contact(api: BrevoClient) -> None:
    r = api.post("/contacts", {"email": "a@example.com", "attributes": {"SMS": "0612345678"}})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "country" in r.json()["message"] or "format" in r.json()["message"]
    assert api.get("/contacts").json()["count"] == 0
    r = api.post("/contacts", {"attributes": {"SMS": "0033612345678"}})
    assert r.status_code == 201
    cid = r.json()["id"]
    for spelling in ("33612345678", "%2B33612345678", "0033612345678"):
        assert get_contact(api, spelling, "phone_id")["id"] == cid
    c = get_contact(api, str(cid), "contact_id")
    assert c["attributes"]["SMS"] == "+33612345678"
    assert "email" not in c


def test_identifier_types_on_get_put_delete(api: BrevoClient) -> None:
    cid = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-7",
                                 "attributes": {"SMS": "+14155550123"}}).json()["id"]
    assert get_contact(api, "ac-7", "ext_id")["id"] == cid
    assert get_contact(api, "a%40example.com", "email_id")["id"] == cid
    assert get_contact(api, str(cid))["id"] == cid
    assert get_contact(api, "14155550123")["id"] == cid  # GET accepts an SMS without the type
    r = api.get("/contacts/ac-7")  # an EXT_ID needs identifierType
    assert r.status_code == 404
    assert r.json() == {"code": "document_not_found", "message": "Contact does not exist"}
    r = api.put("/contacts/ac-7", {"attributes": {"FIRSTNAME": "Ext"}},
                params={"identifierType": "ext_id"})
    assert r.status_code == 204
    r = api.put("/contacts/%2B14155550123", {"attributes": {"LASTNAME": "Sms"}},
                params={"identifierType": "phone_id"})
    assert r.status_code == 204
    attrs = get_contact(api, str(cid))["attributes"]
    assert attrs["FIRSTNAME"] == "Ext"
    assert attrs["LASTNAME"] == "Sms"
    r = api.put("/contacts/999", {"attributes": {"FIRSTNAME": "x"}})
    assert r.status_code == 404
    assert api.delete("/contacts/ac-7", params={"identifierType": "ext_id"}).status_code == 204
    assert api.get(f"/contacts/{cid}").status_code == 404
    r = api.get("/contacts/ac-7", params={"identifierType": "bogus_id"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "identifierType" in r.json()["message"]


def test_blocklist_flags_and_email_change_clears_email_blocklist(api: BrevoClient) -> None:
    api.post("/contacts", {"email": "a@example.com", "emailBlacklisted": True,
                           "smsBlacklisted": True})
    c = get_contact(api, "a%40example.com")
    assert c["emailBlacklisted"] is True
    assert c["smsBlacklisted"] is True
    r = api.put("/contacts/a%40example.com", {"attributes": {"EMAIL": "b@example.com"}})
    assert r.status_code == 204
    c = get_contact(api, "b%40example.com")
    assert c["emailBlacklisted"] is False
    assert c["smsBlacklisted"] is True
    assert api.get("/contacts/a%40example.com").status_code == 404
    r = api.put("/contacts/b%40example.com", {"emailBlacklisted": True})
    assert r.status_code == 204
    assert get_contact(api, "b%40example.com")["emailBlacklisted"] is True
    # a PUT that does not change the email keeps the flag
    api.put("/contacts/b%40example.com", {"attributes": {"EMAIL": "B@example.com"}})
    assert get_contact(api, "b%40example.com")["emailBlacklisted"] is True


def test_list_ids_are_additive_and_unlink_removes(api: BrevoClient) -> None:
    a, b, c = make_list(api, "A"), make_list(api, "B"), make_list(api, "C")
    api.post("/contacts", {"email": "x@example.com", "listIds": [a]})
    api.put("/contacts/x%40example.com", {"listIds": [b]})
    assert get_contact(api, "x%40example.com")["listIds"] == [a, b]
    api.put("/contacts/x%40example.com", {"unlinkListIds": [a]})
    assert get_contact(api, "x%40example.com")["listIds"] == [b]
    r = api.post("/contacts", {"email": "x@example.com", "updateEnabled": True, "listIds": [c]})
    assert r.status_code == 204
    assert get_contact(api, "x%40example.com")["listIds"] == [b, c]
    r = api.put("/contacts/x%40example.com", {"listIds": [999]})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "999" in r.json()["message"]


def test_missing_identifier_and_invalid_email(api: BrevoClient) -> None:
    r = api.post("/contacts", {"attributes": {"FIRSTNAME": "Nobody"}})
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    r = api.post("/contacts", {"email": "not-an-email"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "email" in r.json()["message"]
    assert api.get("/contacts").json()["count"] == 0


def test_get_contacts_paging_sort_modified_since_and_list_filter(api: BrevoClient) -> None:
    lid = make_list(api)
    ids = [
        api.post("/contacts", {"email": f"c{i}@example.com",
                               "listIds": [lid] if i % 2 else []}).json()["id"]
        for i in range(5)
    ]
    page = api.get("/contacts", params={"limit": 2, "offset": 0, "sort": "asc"}).json()
    assert [c["id"] for c in page["contacts"]] == ids[:2]
    assert page["count"] == 5
    page = api.get("/contacts", params={"limit": 2, "offset": 4, "sort": "asc"}).json()
    assert [c["id"] for c in page["contacts"]] == ids[4:]
    assert [c["id"] for c in api.get("/contacts").json()["contacts"]] == ids[::-1]
    filtered = api.get("/contacts", params={"listIds": [lid]}).json()
    assert filtered["count"] == 2
    assert {c["id"] for c in filtered["contacts"]} == {ids[1], ids[3]}
    time.sleep(0.01)
    since = api.get(f"/contacts/{ids[4]}").json()["modifiedAt"]
    time.sleep(0.01)
    api.put(f"/contacts/{ids[2]}", {"attributes": {"FIRSTNAME": "Changed"}})
    changed = api.get("/contacts", params={"modifiedSince": since}).json()
    assert [c["id"] for c in changed["contacts"]] == [ids[2]]
    created = api.get("/contacts", params={"createdSince": since, "sort": "asc"}).json()
    assert created["count"] == 0  # the last one was created at `since`, not after
    first_created = api.get(f"/contacts/{ids[0]}").json()["createdAt"]
    created = api.get("/contacts", params={"createdSince": first_created, "sort": "asc"}).json()
    assert [c["id"] for c in created["contacts"]] == ids[1:]
    offset_since = since.replace("Z", "+00:00")
    assert api.get("/contacts", params={"modifiedSince": offset_since}).json()["count"] == 1
    r = api.get("/contacts", params={"modifiedSince": "yesterday"})
    assert r.status_code == 400
    assert "modifiedSince" in r.json()["message"]
    assert api.get("/contacts", params={"limit": 1000}).status_code == 200
    r = api.get("/contacts", params={"limit": 1001}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "limit" in r.json()["message"]
    members = api.get(f"/contacts/lists/{lid}/contacts", params={"sort": "asc"}).json()
    assert [c["id"] for c in members["contacts"]] == [ids[1], ids[3]]
    assert members["count"] == 2
    r = api.get(f"/contacts/lists/{lid}/contacts", params={"limit": 501}, invalid=True)
    assert r.status_code == 400
    assert api.get("/contacts/lists/999/contacts").status_code == 404


def test_delete_contact_drops_it_everywhere(api: BrevoClient) -> None:
    lid = make_list(api)
    api.post("/contacts", {"email": "a@example.com", "listIds": [lid]})
    assert api.get(f"/contacts/lists/{lid}").json()["uniqueSubscribers"] == 1
    assert api.delete("/contacts/a%40example.com").status_code == 204
    assert api.get("/contacts/a%40example.com").status_code == 404
    assert api.get(f"/contacts/lists/{lid}").json()["uniqueSubscribers"] == 0
    assert api.delete("/contacts/a%40example.com").status_code == 404


def test_force_merge_keeps_the_latest_modified_contact(api: BrevoClient) -> None:
    lid = make_list(api)
    a = api.post("/contacts", {"email": "a@example.com", "listIds": [lid]}).json()["id"]
    time.sleep(0.01)
    b = api.post("/contacts", {"ext_id": "ac-2"}).json()["id"]
    r = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-2"})
    assert r.status_code == 400  # without forceMerge the clash is an error
    r = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-2", "forceMerge": True,
                               "getId": True, "attributes": {"FIRSTNAME": "Merged"}})
    assert r.status_code == 200
    assert r.json() == {"id": b}
    assert api.get(f"/contacts/{a}").status_code == 404
    survivor = get_contact(api, str(b))
    assert survivor["email"] == "a@example.com"
    assert survivor["listIds"] == [lid]
    assert survivor["attributes"]["FIRSTNAME"] == "Merged"
