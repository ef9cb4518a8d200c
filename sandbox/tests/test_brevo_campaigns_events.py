"""Brevo sandbox: email campaign drafts (never sent), events and events batches."""

from __future__ import annotations

from typing import Any

from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess


def draft(**extra: Any) -> dict[str, Any]:
    return {"name": "Spring [ac-campaign-1]", "subject": "Hello",
            "sender": {"name": "Shop", "email": "sandbox@example.com"},
            "htmlContent": "<p>Hi</p>", **extra}


def a_list(api: BrevoClient) -> int:
    f = api.post("/contacts/folders", {"name": "F"}).json()["id"]
    return int(api.post("/contacts/lists", {"name": "L", "folderId": f}).json()["id"])


def test_campaign_is_created_as_a_draft_and_never_sent(api: BrevoClient,
                                                       sandbox: SandboxProcess) -> None:
    lid = a_list(api)
    r = api.post("/emailCampaigns", draft(recipients={"listIds": [lid]}))
    assert r.status_code == 201
    cid = r.json()["id"]
    c = api.get(f"/emailCampaigns/{cid}").json()
    assert c["status"] == "draft"
    assert "scheduledAt" not in c
    assert c["name"] == "Spring [ac-campaign-1]"
    assert c["subject"] == "Hello"
    assert c["sender"] == {"name": "Shop", "email": "sandbox@example.com"}
    assert c["htmlContent"] == "<p>Hi</p>"
    assert c["type"] == "classic"
    assert c["recipients"] == {"lists": [lid], "exclusionLists": []}
    assert "statistics" in c
    assert "createdAt" in c
    assert "modifiedAt" in c
    assert sandbox.control.dump()["campaigns"][0]["status"] == "draft"


def test_scheduled_campaign_is_recorded_as_queued(api: BrevoClient, sandbox: SandboxProcess
                                                  ) -> None:
    lid = a_list(api)
    r = api.post("/emailCampaigns", draft(scheduledAt="2026-12-01T10:00:00.000Z"))
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    r = api.post("/emailCampaigns", draft(scheduledAt="2026-12-01T10:00:00+01:00",
                                          recipients={"listIds": [lid]}))
    assert r.status_code == 201
    c = api.get(f"/emailCampaigns/{r.json()['id']}").json()
    assert c["status"] == "queued"
    assert c["scheduledAt"] == "2026-12-01T09:00:00.000Z"
    dumped = sandbox.control.dump()["campaigns"]
    assert dumped[0]["scheduledAt"] == "2026-12-01T09:00:00.000Z"


def test_tag_is_plan_gated(api: BrevoClient) -> None:
    r = api.post("/emailCampaigns", draft(tag="spring"))
    assert r.status_code == 405
    assert r.json()["code"] == "method_not_allowed"
    cid = api.post("/emailCampaigns", draft()).json()["id"]
    assert api.put(f"/emailCampaigns/{cid}", {"tag": "x"}).status_code == 405
    assert api.get("/emailCampaigns").json()["count"] == 1


def test_campaign_create_rules(api: BrevoClient) -> None:
    body = draft()
    del body["htmlContent"]
    r = api.post("/emailCampaigns", body)
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    r = api.post("/emailCampaigns", draft(templateId=3))
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    body = draft()
    del body["subject"]
    assert api.post("/emailCampaigns", body).status_code == 400
    r = api.post("/emailCampaigns", draft(recipients={"listIds": [99]}))
    assert r.status_code == 400
    assert "99" in r.json()["message"]
    r = api.post("/emailCampaigns", {"name": "x", "subject": "s", "htmlContent": "h"},
                 invalid=True)
    assert r.status_code == 400
    assert r.json() == {"code": "missing_parameter",
                                                 "message": "sender is missing"}
    r = api.post("/emailCampaigns", draft(recipients={"listIds": 5}), invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "recipients.listIds" in r.json()["message"]
    r = api.post("/emailCampaigns", draft(sender={"email": "not-an-email"}), invalid=True)
    assert r.status_code == 400
    assert "sender.email" in r.json()["message"]
    assert api.get("/emailCampaigns").json()["count"] == 0


def test_campaign_sender_must_be_a_verified_sender(api: BrevoClient) -> None:
    senders = api.get("/senders").json()["senders"]
    assert [(x["id"], x["name"], x["email"], x["active"]) for x in senders] == [
        (1, "Sandbox", "sandbox@example.com", True)
    ]
    for sender in ({"name": "Demo", "email": "demo@example.com"}, {"id": 2}):
        r = api.post("/emailCampaigns", draft(sender=sender))
        assert r.status_code == 400
        assert r.json() == {"code": "invalid_parameter", "message": "Sender is invalid / inactive"}
    assert api.post("/emailCampaigns", draft(sender={"id": 1})).status_code == 201
    r = api.post("/emailCampaigns", draft(sender={"name": "X", "email": "Sandbox@Example.com"}))
    assert r.status_code == 201
    cid = r.json()["id"]
    r = api.put(f"/emailCampaigns/{cid}", {"sender": {"email": "demo@example.com"}})
    assert r.status_code == 400
    assert api.get("/emailCampaigns").json()["count"] == 2


def test_update_campaign(api: BrevoClient) -> None:
    lid = a_list(api)
    cid = api.post("/emailCampaigns", draft()).json()["id"]
    r = api.put(f"/emailCampaigns/{cid}", {"subject": "New subject", "htmlUrl":
                                           "https://example.com/mail.html"})
    assert r.status_code == 204
    c = api.get(f"/emailCampaigns/{cid}").json()
    assert c["subject"] == "New subject"
    assert c["htmlUrl"] == "https://example.com/mail.html"
    assert c["status"] == "draft"
    assert c["htmlContent"] == ""
    r = api.put(f"/emailCampaigns/{cid}", {"scheduledAt": "2026-12-24T08:00:00Z",
                                           "recipients": {"listIds": [lid]}})
    assert r.status_code == 204
    assert api.get(f"/emailCampaigns/{cid}").json()["status"] == "queued"
    assert api.put("/emailCampaigns/999", {"subject": "x"}).status_code == 404
    assert api.delete(f"/emailCampaigns/{cid}").status_code == 204
    assert api.get(f"/emailCampaigns/{cid}").status_code == 404


def test_list_campaigns_filters_and_limits(api: BrevoClient) -> None:
    lid = a_list(api)
    ids = [api.post("/emailCampaigns", draft(name=f"C{i}")).json()["id"] for i in range(3)]
    api.post("/emailCampaigns", draft(name="Sched", scheduledAt="2026-12-01T10:00:00Z",
                                      recipients={"listIds": [lid]}))
    every = api.get("/emailCampaigns").json()
    assert every["count"] == 4
    assert every["campaigns"][0]["name"] == "Sched"
    drafts = api.get("/emailCampaigns", params={"status": "draft", "sort": "asc"}).json()
    assert [c["id"] for c in drafts["campaigns"]] == ids
    assert drafts["count"] == 3
    queued = api.get("/emailCampaigns", params={"status": "queued"}).json()
    assert [c["name"] for c in queued["campaigns"]] == ["Sched"]
    page = api.get("/emailCampaigns", params={"limit": 2, "offset": 2, "sort": "asc",
                                              "excludeHtmlContent": True}).json()
    assert [c["name"] for c in page["campaigns"]] == ["C2", "Sched"]
    assert all(c["htmlContent"] == "" for c in page["campaigns"])
    assert api.get("/emailCampaigns", params={"status": "inReview"}).json()["count"] == 0
    assert api.get("/emailCampaigns", params={"limit": 100}).status_code == 200
    r = api.get("/emailCampaigns", params={"limit": 101}, invalid=True)
    assert r.status_code == 400
    assert "limit" in r.json()["message"]
    r = api.get("/emailCampaigns", params={"status": "scheduled"}, invalid=True)
    assert r.status_code == 400
    assert "status" in r.json()["message"]


# -- events -----------------------------------------------------------------------------------


def test_post_event(api: BrevoClient, sandbox: SandboxProcess) -> None:
    r = api.post("/events", {"event_name": "order_created",
                             "identifiers": {"email_id": "a@example.com", "ext_id": "ac-1"},
                             "event_properties": {"amount": 12, "items": [{"sku": "x"}]},
                             "event_date": "2026-03-08T13:30:00+00:00"})
    assert r.status_code == 204
    assert r.content == b""
    events = sandbox.control.dump()["events"]
    assert len(events) == 1
    assert events[0]["event_name"] == "order_created"
    assert events[0]["identifiers"] == {"email_id": "a@example.com", "ext_id": "ac-1"}
    r = api.post("/events", {"event_name": "bad name!", "identifiers": {"ext_id": "ac-1"}})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.post("/events", {"event_name": "x", "identifiers": {}}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    r = api.post("/events", {"event_name": "x"}, invalid=True)
    assert r.status_code == 400
    assert r.json() == {"code": "missing_parameter",
                                                 "message": "identifiers is missing"}
    r = api.post("/events", {"event_name": "x", "identifiers": {"contact_id": 5}})
    assert r.status_code == 204  # 2026: contact_id is an identifier
    assert len(sandbox.control.dump()["events"]) == 2


def test_event_contact_properties_update_an_existing_contact(api: BrevoClient,
                                                            sandbox: SandboxProcess) -> None:
    api.post("/contacts/attributes/normal/SCORE", {"type": "float"})
    cid = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1"}).json()["id"]
    r = api.post("/events", {"event_name": "upgraded", "identifiers": {"ext_id": "ac-1"},
                             "contact_properties": {"FIRSTNAME": "Ann", "SCORE": "high",
                                                    "NOPE": "x"}})
    assert r.status_code == 204
    assert api.get(f"/contacts/{cid}").json()["attributes"] == {"FIRSTNAME": "Ann",
                                                                 "EXT_ID": "ac-1"}
    r = api.post("/events/batch", {"events": [
        {"event_name": "scored", "identifiers": {"contact_id": cid, "email_id": "b@example.com"},
         "contact_properties": {"SCORE": 7}},
        {"event_name": "ghost", "identifiers": {"email_id": "ghost@example.com"},
         "contact_properties": {"FIRSTNAME": "Ghost"}},
    ]})
    assert r.status_code == 202
    assert api.get(f"/contacts/{cid}").json()["attributes"]["SCORE"] == 7
    assert api.get("/contacts").json()["count"] == 1  # events never create contacts
    assert len(sandbox.control.dump()["events"]) == 3


def test_events_batch_202_and_207(api: BrevoClient, sandbox: SandboxProcess) -> None:
    good = [{"event_name": "viewed", "identifiers": {"ext_id": f"ac-{i}"}} for i in range(3)]
    r = api.post("/events/batch", {"events": good})
    assert r.status_code == 202
    assert r.json() == {"message": "Batch accepted for processing", "count": 3}
    mixed = [good[0], {"event_name": "bad name", "identifiers": {"ext_id": "ac-1"}},
             {"event_name": "no_ids", "identifiers": {}}, {"identifiers": {"ext_id": "x"}}]
    r = api.post("/events/batch", {"events": mixed})
    assert r.status_code == 207
    body = r.json()
    assert body["count"] == 1
    assert [x["status"] for x in body["results"]] == ["accepted", "failed", "failed", "failed"]
    assert body["results"][3]["code"] == "missing_parameter"
    assert "event_name" in body["results"][3]["message"]
    events = sandbox.control.dump()["events"]
    assert len(events) == 4
    assert all(e["via_batch"] for e in events)
    r = api.post("/events/batch", [good[0]], invalid=True)  # the pre-2026-04-21 bare array
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.post("/events/batch", {"events": []}, invalid=True)
    assert r.status_code == 400
