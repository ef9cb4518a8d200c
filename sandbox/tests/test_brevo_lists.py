"""Brevo sandbox: attributes, folders, lists, list membership and computed totals."""

from __future__ import annotations

import pytest
from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess


def folder(api: BrevoClient, name: str = "F") -> int:
    r = api.post("/contacts/folders", {"name": name})
    assert r.status_code == 201
    return int(r.json()["id"])


def new_list(api: BrevoClient, name: str, folder_id: int) -> int:
    r = api.post("/contacts/lists", {"name": name, "folderId": folder_id})
    assert r.status_code == 201
    return int(r.json()["id"])


# -- attributes -------------------------------------------------------------------------------


def test_fresh_account_has_the_default_attributes(api: BrevoClient) -> None:
    attrs = api.get("/contacts/attributes").json()["attributes"]
    assert [(a["name"], a["category"], a["type"]) for a in attrs] == [
        ("FIRSTNAME", "normal", "text"), ("LASTNAME", "normal", "text"),
        ("SMS", "normal", "text"), ("EXT_ID", "normal", "text"),
    ]


def test_create_attributes_by_category_and_type_rules(api: BrevoClient) -> None:
    ok = [
        ("normal", "score", {"type": "float"}),
        ("normal", "SIGNUP", {"type": "date"}),
        ("normal", "OPTIN", {"type": "boolean"}),
        ("normal", "OWNER", {"type": "user"}),
        ("normal", "TAGS", {"type": "multiple-choice", "multiCategoryOptions": ["a", "b"]}),
        ("transactional", "ORDER_ID", {"type": "id"}),
        ("category", "GENDER", {"enumeration": [{"value": 1, "label": "M"},
                                                {"value": 2, "label": "F"}]}),
        ("global", "SITE", {"value": "https://example.com"}),
        ("calculated", "TOTAL", {"value": "SUM[ORDER_PRICE]"}),
    ]
    for category, name, body in ok:
        r = api.post(f"/contacts/attributes/{category}/{name}", body)
        assert r.status_code == 201, (name, r.text)
        assert r.content == b""
    attrs = {a["name"]: a for a in api.get("/contacts/attributes").json()["attributes"]}
    assert attrs["SCORE"] == {"name": "SCORE", "category": "normal", "type": "float"}
    assert attrs["GENDER"]["type"] == "category"
    assert attrs["GENDER"]["enumeration"] == [{"value": 1, "label": "M", "valueStr": "1"},
                                              {"value": 2, "label": "F", "valueStr": "2"}]
    assert attrs["TAGS"]["multiCategoryOptions"] == ["a", "b"]
    assert attrs["TOTAL"]["calculatedValue"] == "SUM[ORDER_PRICE]"
    assert "type" not in attrs["TOTAL"]
    bad = [
        ("normal", "X1", {"type": "id"}, "invalid_parameter"),
        ("transactional", "X2", {"type": "multiple-choice", "multiCategoryOptions": ["a"]},
         "invalid_parameter"),
        ("normal", "X3", {"type": "category"}, "invalid_parameter"),
        ("category", "X4", {}, "missing_parameter"),
        ("normal", "X5", {"type": "multiple-choice"}, "missing_parameter"),
        ("normal", "X6", {"type": "multiple-choice", "multiCategoryOptions": ["x" * 201]},
         "invalid_parameter"),
        ("calculated", "X7", {}, "missing_parameter"),
        ("global", "X8", {"value": "1", "type": "text"}, "invalid_parameter"),
        ("normal", "X9", {"type": "text", "enumeration": [{"value": 1, "label": "a"}]},
         "invalid_parameter"),
        ("normal", "9LIVES", {"type": "text"}, "invalid_parameter"),
        ("normal", "SCORE", {"type": "text"}, "duplicate_parameter"),
    ]
    for category, name, body, code in bad:
        r = api.post(f"/contacts/attributes/{category}/{name}", body)
        assert r.status_code == 400, (name, r.text)
        assert r.json()["code"] == code, (name, r.json())
    names = {a["name"] for a in api.get("/contacts/attributes").json()["attributes"]}
    assert not any(n.startswith("X") for n in names)


def test_attribute_spec_violations(api: BrevoClient) -> None:
    r = api.post("/contacts/attributes/bogus/NAME", {"type": "text"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "attributeCategory" in r.json()["message"]
    r = api.post("/contacts/attributes/normal/NAME", {"type": "string"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert r.json()["message"].startswith("type")
    r = api.post("/contacts/attributes/category/CAT", {"enumeration": [{"value": 1}]},
                 invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    assert "label" in r.json()["message"]


def test_update_and_delete_attributes(api: BrevoClient) -> None:
    api.post("/contacts/attributes/category/GENDER", {"enumeration": [{"value": 1, "label": "M"}]})
    api.post("/contacts/attributes/normal/TAGS",
             {"type": "multiple-choice", "multiCategoryOptions": ["a"]})
    api.post("/contacts/attributes/normal/SCORE", {"type": "float"})
    r = api.put("/contacts/attributes/category/GENDER",
                {"enumeration": [{"value": 1, "label": "Men"}, {"value": 2, "label": "Women"}]})
    assert r.status_code == 204
    assert api.put("/contacts/attributes/normal/TAGS",
                   {"multiCategoryOptions": ["b"]}).status_code == 204
    attrs = {a["name"]: a for a in api.get("/contacts/attributes").json()["attributes"]}
    assert [e["label"] for e in attrs["GENDER"]["enumeration"]] == ["Men", "Women"]
    # the unkind reading of "add options": the body is the new set, "a" is gone
    assert attrs["TAGS"]["multiCategoryOptions"] == ["b"]
    assert api.put("/contacts/attributes/normal/NOPE", {"value": "x"}).status_code == 404
    assert api.put("/contacts/attributes/normal/GENDER", {"value": "x"}).status_code == 404
    api.post("/contacts", {"email": "a@example.com",
                           "attributes": {"SCORE": 3, "FIRSTNAME": "A", "GENDER": 2}})
    assert api.delete("/contacts/attributes/normal/SCORE").status_code == 204
    c = api.get("/contacts/a%40example.com").json()
    assert c["attributes"] == {"FIRSTNAME": "A", "GENDER": 2}
    assert api.delete("/contacts/attributes/normal/SCORE").status_code == 404
    r = api.delete("/contacts/attributes/normal/SMS")
    assert r.status_code == 400
    assert "SMS" in {a["name"] for a in api.get("/contacts/attributes").json()["attributes"]}


def test_dates_are_stored_only_as_yyyy_mm_dd(api: BrevoClient) -> None:
    api.post("/contacts/attributes/normal/SIGNUP", {"type": "date"})
    api.post("/contacts", {"email": "a@example.com", "attributes": {"SIGNUP": "2026-03-08"}})
    for wrong in ("2026-03-08T10:00:00Z", "08/03/2026", "2026-3-8", "20260308"):
        api.put("/contacts/a%40example.com", {"attributes": {"SIGNUP": wrong}})
    c = api.get("/contacts/a%40example.com").json()
    assert c["attributes"]["SIGNUP"] == "2026-03-08"


# -- folders and lists ------------------------------------------------------------------------


def test_folder_and_list_names_are_not_unique(api: BrevoClient) -> None:
    f1, f2 = folder(api, "Same"), folder(api, "Same")
    assert f1 != f2
    l1, l2 = new_list(api, "Twin", f1), new_list(api, "Twin", f1)
    assert l1 != l2
    names = [x["name"] for x in api.get("/contacts/lists").json()["lists"]]
    assert names == ["Twin", "Twin"]


def test_list_and_folder_paging_limits(api: BrevoClient) -> None:
    f = folder(api)
    ids = [new_list(api, f"L{i}", f) for i in range(55)]
    page = api.get("/contacts/lists").json()
    assert page["count"] == 55
    assert len(page["lists"]) == 10
    assert [x["id"] for x in page["lists"]] == ids[::-1][:10]  # default sort desc
    page = api.get("/contacts/lists", params={"limit": 50, "offset": 50, "sort": "asc"}).json()
    assert [x["id"] for x in page["lists"]] == ids[50:]
    assert set(page["lists"][0]) == {"id", "name", "totalBlacklisted", "totalSubscribers",
                                     "uniqueSubscribers", "folderId"}
    for path in ("/contacts/lists", "/contacts/folders", f"/contacts/folders/{f}/lists"):
        r = api.get(path, params={"limit": 51}, invalid=True)
        assert r.status_code == 400, path
        assert r.json()["code"] == "invalid_parameter", path
        assert "limit" in r.json()["message"]
    in_folder = api.get(f"/contacts/folders/{f}/lists", params={"limit": 50}).json()
    assert in_folder["count"] == 55
    assert len(in_folder["lists"]) == 50
    assert api.get("/contacts/folders/999/lists").status_code == 404
    folders = api.get("/contacts/folders", params={"limit": 50}).json()
    assert folders["count"] == 1
    assert folders["folders"][0]["id"] == f


def test_update_list_name_or_folder_and_delete(api: BrevoClient) -> None:
    f1, f2 = folder(api, "One"), folder(api, "Two")
    lid = new_list(api, "Old", f1)
    assert api.put(f"/contacts/lists/{lid}", {"name": "New"}).status_code == 204
    assert api.put(f"/contacts/lists/{lid}", {"folderId": f2}).status_code == 204
    info = api.get(f"/contacts/lists/{lid}").json()
    assert info["name"] == "New"
    assert info["folderId"] == f2
    assert "createdAt" in info
    r = api.put(f"/contacts/lists/{lid}", {"name": "X", "folderId": f1})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.put(f"/contacts/lists/{lid}", {})
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    assert api.put(f"/contacts/lists/{lid}", {"folderId": 999}).status_code == 400
    assert api.put("/contacts/lists/999", {"name": "x"}).status_code == 404
    r = api.post("/contacts/lists", {"name": "x"}, invalid=True)
    assert r.status_code == 400
    assert r.json() == {"code": "missing_parameter",
                                                 "message": "folderId is missing"}
    r = api.post("/contacts/lists", {"name": "x", "folderId": "1"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "folderId" in r.json()["message"]
    other = new_list(api, "Other", f1)
    api.post("/contacts", {"email": "a@example.com", "listIds": [other]})
    assert api.delete(f"/contacts/lists/{other}").status_code == 204
    assert api.get(f"/contacts/lists/{other}").status_code == 404
    assert api.get("/contacts/a%40example.com").json()["listIds"] == []
    assert api.put(f"/contacts/folders/{f2}", {}).status_code == 400
    assert api.put(f"/contacts/folders/{f2}", {"name": "Renamed"}).status_code == 204
    assert api.get(f"/contacts/folders/{f2}").json()["name"] == "Renamed"
    assert api.delete(f"/contacts/folders/{f2}").status_code == 204  # deletes its lists
    assert api.get(f"/contacts/lists/{lid}").status_code == 404
    assert api.get(f"/contacts/folders/{f2}").status_code == 404


def test_list_totals_are_computed(api: BrevoClient) -> None:
    f = folder(api)
    a, b = new_list(api, "A", f), new_list(api, "B", f)
    api.post("/contacts", {"email": "1@example.com", "listIds": [a, b]})
    api.post("/contacts", {"email": "2@example.com", "listIds": [a], "emailBlacklisted": True})
    api.post("/contacts", {"email": "3@example.com", "listIds": [b]})
    la = api.get(f"/contacts/lists/{a}").json()
    assert (la["uniqueSubscribers"], la["totalSubscribers"], la["totalBlacklisted"]) == (2, 1, 1)
    fo = api.get(f"/contacts/folders/{f}").json()
    assert (fo["uniqueSubscribers"], fo["totalSubscribers"], fo["totalBlacklisted"]) == (3, 2, 1)
    api.put("/contacts/2%40example.com", {"emailBlacklisted": False})
    la = api.get(f"/contacts/lists/{a}").json()
    assert (la["totalSubscribers"], la["totalBlacklisted"]) == (2, 0)


def test_membership_add_and_remove(api: BrevoClient) -> None:
    f = folder(api)
    lid = new_list(api, "L", f)
    ids = [api.post("/contacts", {"email": f"c{i}@example.com", "ext_id": f"ac-{i}"}).json()["id"]
           for i in range(4)]
    r = api.post(f"/contacts/lists/{lid}/contacts/add",
                 {"emails": ["C0@example.com", "nobody@example.com"]})
    assert r.status_code == 201
    assert r.json() == {"contacts": {"success": ["C0@example.com"],
                                     "failure": ["nobody@example.com"]}}
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"ids": [ids[0], ids[1]]})
    assert r.json()["contacts"] == {"success": [ids[1]], "failure": [ids[0]]}
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"extIds": ["ac-2", "ac-3"]})
    assert r.json()["contacts"]["success"] == ["ac-2", "ac-3"]
    assert api.get(f"/contacts/lists/{lid}").json()["uniqueSubscribers"] == 4
    # nothing to do at all: Brevo's 400
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"ids": [ids[0]]})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.post(f"/contacts/lists/{lid}/contacts/remove", {"extIds": ["ac-0", "ac-9"]})
    assert r.status_code == 201
    assert r.json()["contacts"] == {"success": ["ac-0"], "failure": ["ac-9"]}
    assert api.get(f"/contacts/{ids[0]}").json()["listIds"] == []
    r = api.post(f"/contacts/lists/{lid}/contacts/remove", {"all": True})
    assert r.status_code == 201
    assert r.json()["contacts"]["total"] == 3
    assert api.get(f"/contacts/lists/{lid}").json()["uniqueSubscribers"] == 0
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"emails": ["a@x.co"], "ids": [1]})
    assert r.status_code == 400
    r = api.post("/contacts/lists/999/contacts/add", {"ids": [ids[0]]})
    assert r.status_code == 404


def test_membership_is_capped_at_150(api: BrevoClient) -> None:
    lid = new_list(api, "L", folder(api))
    emails = [f"c{i}@example.com" for i in range(151)]
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"emails": emails}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "emails" in r.json()["message"]
    assert "150" in r.json()["message"]
    r = api.post(f"/contacts/lists/{lid}/contacts/remove", {"ids": []}, invalid=True)
    assert r.status_code == 400
    r = api.post(f"/contacts/lists/{lid}/contacts/add", {"emails": emails[:150]})
    assert r.status_code == 400  # spec-valid, but none of them exists
    assert "does not exist" in r.json()["message"]


# -- a recipient unsubscribes (control surface) -----------------------------------------------


def test_control_unsubscribe_moves_the_contact_to_list_unsubscribed(
    api: BrevoClient, sandbox: SandboxProcess
) -> None:
    f = folder(api)
    a, b = new_list(api, "A", f), new_list(api, "B", f)
    r = api.post(
        "/contacts",
        {"email": "u@example.com", "attributes": {"EXT_ID": "x-1"}, "listIds": [a, b]},
    )
    assert r.status_code == 201
    before = api.get("/contacts/u@example.com").json()
    by_email = sandbox.control._call(
        "POST", "unsubscribe", {"email": "U@example.com", "listId": a}
    )
    assert by_email["listIds"] == [b]
    assert by_email["listUnsubscribed"] == [a]
    sandbox.control._call("POST", "unsubscribe", {"ext_id": "x-1", "listId": b})
    c = api.get("/contacts/u@example.com").json()
    assert c["listIds"] == []
    assert sorted(c["listUnsubscribed"]) == [a, b]
    assert c["modifiedAt"] > before["modifiedAt"]
    members = api.get(f"/contacts/lists/{a}/contacts").json()
    assert members["count"] == 0
    # an API add re-subscribes, as Brevo does: the caller must not add it back
    r = api.post(f"/contacts/lists/{a}/contacts/add", {"extIds": ["x-1"]})
    assert r.status_code == 201
    c = api.get("/contacts/u@example.com").json()
    assert c["listIds"] == [a]
    assert c["listUnsubscribed"] == [b]
    with pytest.raises(RuntimeError, match="404"):
        sandbox.control._call("POST", "unsubscribe", {"email": "nobody@x.io", "listId": a})
    with pytest.raises(RuntimeError, match="400"):
        sandbox.control._call("POST", "unsubscribe", {"email": "u@example.com"})


def test_values_that_are_not_options_are_silently_dropped(api: BrevoClient) -> None:
    """Brevo keeps the rest of the write and drops a value that is not an option, also one
    an update removed (an enumeration or options update replaces the whole set)."""
    api.post("/contacts/attributes/category/PLAN",
             {"enumeration": [{"value": 1, "label": "Free"}, {"value": 2, "label": "Pro"}]})
    api.post("/contacts/attributes/normal/HOBBIES",
             {"type": "multiple-choice", "multiCategoryOptions": ["Chess", "Golf"]})
    assert api.put("/contacts/attributes/category/PLAN",
                   {"enumeration": [{"value": 2, "label": "Pro"},
                                    {"value": 7, "label": "Enterprise"}]}).status_code == 204
    assert api.put("/contacts/attributes/normal/HOBBIES",
                   {"multiCategoryOptions": ["Golf", "Sailing"]}).status_code == 204
    attrs = {a["name"]: a for a in api.get("/contacts/attributes").json()["attributes"]}
    assert [(e["value"], e["label"]) for e in attrs["PLAN"]["enumeration"]] == [
        (2, "Pro"), (7, "Enterprise")]
    assert attrs["HOBBIES"]["multiCategoryOptions"] == ["Golf", "Sailing"]
    for email, values in (
        ("old@example.com", {"PLAN": 1, "HOBBIES": ["Chess"]}),  # removed by the updates
        ("label@example.com", {"PLAN": "Enterprise", "HOBBIES": ["Golf", "Tennis"]}),
        ("new@example.com", {"PLAN": 7, "HOBBIES": ["Sailing", "Golf"]}),
    ):
        r = api.post("/contacts", {"email": email, "attributes": {**values, "FIRSTNAME": "X"}})
        assert r.status_code == 201
    got = {email: api.get(f"/contacts/{email.replace('@', '%40')}").json()["attributes"]
           for email in ("old@example.com", "label@example.com", "new@example.com")}
    assert got["old@example.com"] == {"FIRSTNAME": "X"}
    assert got["label@example.com"] == {"FIRSTNAME": "X"}
    assert got["new@example.com"] == {"FIRSTNAME": "X", "PLAN": 7, "HOBBIES": ["Sailing", "Golf"]}
