"""Brevo sandbox: the calls target-brevo's deletes make, checked against the spec and buckets."""

from __future__ import annotations

from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess


def setup(api: BrevoClient) -> tuple[int, int, list[int]]:
    folder = api.post("/contacts/folders", {"name": "ActiveCampaign"}).json()["id"]
    a = api.post("/contacts/lists", {"name": "A [ac-list-1]", "folderId": folder}).json()["id"]
    b = api.post("/contacts/lists", {"name": "B [ac-list-2]", "folderId": folder}).json()["id"]
    ids = []
    for i in range(1, 4):
        r = api.post("/contacts", {"email": f"p{i}@example.com", "listIds": [a, b],
                                   "attributes": {"EXT_ID": f"ac-{i}"}})
        assert r.status_code == 201
        ids.append(int(r.json()["id"]))
    return a, b, ids


def test_delete_by_contact_id_leaves_every_list(api: BrevoClient, sandbox: SandboxProcess
                                                ) -> None:
    a, b, ids = setup(api)
    r = api.delete(f"/contacts/{ids[0]}", params={"identifierType": "contact_id"})
    assert r.status_code == 204
    assert api.delete(f"/contacts/{ids[0]}", params={"identifierType": "contact_id"}
                      ).status_code == 404
    for list_id in (a, b):
        members = api.get(f"/contacts/lists/{list_id}/contacts").json()["contacts"]
        assert sorted(c["id"] for c in members) == ids[1:]
    page = api.get("/contacts", params={"limit": 1000, "offset": 0, "sort": "asc"}).json()
    assert [c["attributes"]["EXT_ID"] for c in page["contacts"]] == ["ac-2", "ac-3"]
    assert page["count"] == 2
    buckets = sandbox.control.requests(log=False)["by_bucket"]
    assert set(buckets) == {"contacts"}  # folders, lists and contacts: all under /contacts


def test_mark_put_sets_a_date_and_unlinks(api: BrevoClient) -> None:
    a, b, ids = setup(api)
    assert api.post("/contacts/attributes/normal/AC_DELETED_AT", {"type": "date"}
                    ).status_code == 201
    r = api.put(f"/contacts/{ids[1]}", {"attributes": {"AC_DELETED_AT": "2026-12-04"},
                                        "unlinkListIds": [a, b]},
                params={"identifierType": "contact_id"})
    assert r.status_code == 204
    c = api.get(f"/contacts/{ids[1]}", params={"identifierType": "contact_id"}).json()
    assert c["attributes"]["AC_DELETED_AT"] == "2026-12-04"
    assert c["listIds"] == []
    assert c["email"] == "p2@example.com"


def test_list_emptied_renamed_or_deleted(api: BrevoClient) -> None:
    a, b, ids = setup(api)
    r = api.post(f"/contacts/lists/{a}/contacts/remove", {"all": True})
    assert r.status_code == 201
    assert api.get(f"/contacts/lists/{a}/contacts").json()["contacts"] == []
    assert api.put(f"/contacts/lists/{a}", {"name": "[deleted in ActiveCampaign] A [ac-list-1]"}
                   ).status_code == 204
    assert api.get(f"/contacts/lists/{a}").json()["name"].startswith("[deleted")
    assert api.delete(f"/contacts/lists/{b}").status_code == 204
    for cid in ids:
        assert api.get(f"/contacts/{cid}", params={"identifierType": "contact_id"}
                       ).json()["listIds"] == []
    assert api.delete(f"/contacts/lists/{b}").status_code == 404
