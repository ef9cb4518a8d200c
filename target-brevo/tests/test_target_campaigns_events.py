"""Campaign drafts (never scheduled, not rewritten when unchanged) and events."""

from __future__ import annotations

import typing as t

import requests
from target_brevo.name_keys import draft_keys, draft_label, with_key


def test_campaigns_are_drafts_and_unchanged_ones_are_not_rewritten(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input())
    dump = brevo.control.dump()
    assert len(dump["campaigns"]) == 1
    campaign = dump["campaigns"][0]
    assert campaign["name"] == "Spring sale [ac-campaign-1 ac-message-1]"
    assert campaign["status"] == "draft"
    assert campaign["scheduledAt"] is None
    assert "scheduledAt" not in campaign["data"]
    assert campaign["data"]["subject"] == "Spring is here"
    assert campaign["data"]["htmlContent"] == "<p>Hello</p>"
    assert campaign["data"]["sender"] == {"name": "Sandbox", "email": "sandbox@example.com"}

    brevo.control.reset_requests()
    h.run_target(cfg, h.ac_input())
    log = h.api_requests(brevo)
    assert [e for e in log if "/emailCampaigns" in e["path"] and e["method"] != "GET"] == []
    lookups = [e["query"] for e in log if e["route"] == "/v3/emailCampaigns"]
    assert lookups
    assert all("status=draft" in q for q in lookups)  # drafts only: fewer pages of 100/hour
    assert h.stable(brevo.control.dump()) == h.stable(dump)

    # a changed subject: one PUT of the same draft
    m = h.ac_input(campaigns=False)
    m.add(
        "campaigns",
        {"id": 1, "name": "Spring sale", "status": 0, "type": "single", "message_id": 1},
    )
    m.add(
        "messages",
        {
            "id": 1,
            "name": "Spring",
            "subject": "Spring is really here",
            "html": "<p>Hello</p>",
            "reply2": "help@example.com",
        },
    )
    brevo.control.reset_requests()
    h.run_target(cfg, m)
    writes = [
        e for e in h.api_requests(brevo) if "/emailCampaigns" in e["path"] and e["method"] != "GET"
    ]
    assert [(e["method"], e["route"]) for e in writes] == [
        ("PUT", "/v3/emailCampaigns/{campaignId}")
    ]
    after = brevo.control.dump()["campaigns"]
    assert len(after) == 1
    assert after[0]["data"]["subject"] == "Spring is really here"
    assert after[0]["scheduledAt"] is None
    assert h.client_errors(brevo) == []


def _message(mid: int = 1, **fields: t.Any) -> dict[str, t.Any]:
    base = {
        "id": mid,
        "name": "Spring",
        "subject": "Spring is here",
        "reply2": "help@example.com",
        "html": "<p>Hello</p>",
    }
    return {**base, **fields}


def _campaign_writes(h: t.Any, brevo: t.Any) -> list[tuple[str, str]]:
    return [
        (e["method"], e["route"])
        for e in h.api_requests(brevo)
        if "/emailCampaigns" in e["path"] and e["method"] != "GET"
    ]


def test_draft_keys_name_the_campaign_and_its_message() -> None:
    label = draft_label("ac-campaign-3", "ac-message-7")
    assert with_key("Spring", label) == "Spring [ac-campaign-3 ac-message-7]"
    assert draft_keys("Spring [ac-campaign-3 ac-message-7]") == ("ac-campaign-3", ("ac-message-7",))
    assert draft_keys("Spring [ac-campaign-3]") == ("ac-campaign-3", ())  # the older form
    assert draft_keys("Spring") is None
    assert draft_label("ac-message-7", None) == "ac-message-7"
    assert with_key("Spring [ac-campaign-3 ac-message-7]", "ac-campaign-3 ac-message-8") == (
        "Spring [ac-campaign-3 ac-message-8]"
    )


def test_a_message_only_change_updates_the_draft_of_its_campaign(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    campaign = {"id": 3, "name": "Autumn", "status": 0, "type": "single", "message_id": 7}
    # 1. campaign and message: one draft, carrying both keys
    h.run_target(cfg, h.Messages().add("campaigns", campaign).add("messages", _message(7)))
    drafts = brevo.control.dump()["campaigns"]
    assert [d["name"] for d in drafts] == ["Autumn [ac-campaign-3 ac-message-7]"]
    draft_id = drafts[0]["id"]
    assert drafts[0]["data"]["subject"] == "Spring is here"

    # 2. an incremental run with only the edited message: the same draft, one PUT, no POST
    changed = _message(7, subject="Autumn is here", html="<p>Leaves</p>", reply2="fall@example.com")
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("messages", changed))
    assert _campaign_writes(h, brevo) == [("PUT", "/v3/emailCampaigns/{campaignId}")]
    after = brevo.control.dump()["campaigns"]
    assert len(after) == 1
    assert after[0]["id"] == draft_id
    assert after[0]["name"] == "Autumn [ac-campaign-3 ac-message-7]"
    assert after[0]["data"]["subject"] == "Autumn is here"
    assert after[0]["data"]["htmlContent"] == "<p>Leaves</p>"
    assert after[0]["data"]["replyTo"] == "fall@example.com"
    assert after[0]["status"] == "draft"
    assert after[0]["scheduledAt"] is None

    # 3. the same run again: nothing to write
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("messages", changed))
    assert _campaign_writes(h, brevo) == []
    assert h.stable(brevo.control.dump())["campaigns"] == after

    # a campaign-only change (rename) keeps the draft's subject and content
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("campaigns", {**campaign, "name": "Autumn sale"}))
    assert _campaign_writes(h, brevo) == [("PUT", "/v3/emailCampaigns/{campaignId}")]
    renamed = brevo.control.dump()["campaigns"]
    assert [(d["id"], d["name"]) for d in renamed] == [
        (draft_id, "Autumn sale [ac-campaign-3 ac-message-7]")
    ]
    assert renamed[0]["data"]["subject"] == "Autumn is here"
    assert renamed[0]["data"]["htmlContent"] == "<p>Leaves</p>"
    assert h.client_errors(brevo) == []


def test_drafts_named_the_older_way_still_resolve(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    body = {
        "name": "Spring sale [ac-campaign-1]",
        "subject": "Spring is here",
        "sender": {"name": "Sandbox", "email": "sandbox@example.com"},
        "htmlContent": "<p>Hello</p>",
        "replyTo": "help@example.com",
    }
    resp = requests.post(
        brevo.api_url + "/emailCampaigns", json=body, headers={"api-key": brevo.token}, timeout=10
    )
    resp.raise_for_status()
    old_id = resp.json()["id"]
    cfg = config_for(brevo)
    campaign = {"id": 1, "name": "Spring sale", "status": 0, "type": "single", "message_id": 1}
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("campaigns", campaign).add("messages", _message(1)))
    # found by its campaign key; the one rewrite adds the message key to the name
    assert _campaign_writes(h, brevo) == [("PUT", "/v3/emailCampaigns/{campaignId}")]
    drafts = brevo.control.dump()["campaigns"]
    assert [(d["id"], d["name"]) for d in drafts] == [
        (old_id, "Spring sale [ac-campaign-1 ac-message-1]")
    ]
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("messages", _message(1, subject="Later")))
    assert _campaign_writes(h, brevo) == [("PUT", "/v3/emailCampaigns/{campaignId}")]
    assert brevo.control.dump()["campaigns"][0]["data"]["subject"] == "Later"
    assert h.client_errors(brevo) == []


def test_a_message_no_draft_carries_waits_or_becomes_its_own_draft(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    h.run_target(config_for(brevo), h.Messages().add("messages", _message(9)))
    assert brevo.control.dump()["campaigns"] == []
    cfg = config_for(brevo, unlinked_messages_as_drafts=True)
    h.run_target(cfg, h.Messages().add("messages", _message(9)))
    drafts = brevo.control.dump()["campaigns"]
    assert [d["name"] for d in drafts] == ["Spring [ac-message-9]"]
    brevo.control.reset_requests()
    h.run_target(cfg, h.Messages().add("messages", _message(9, subject="Other")))
    assert _campaign_writes(h, brevo) == [("PUT", "/v3/emailCampaigns/{campaignId}")]
    assert brevo.control.dump()["campaigns"][0]["data"]["subject"] == "Other"


def test_streams_mapped_to_events_go_through_the_batch_endpoint(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(
        brevo,
        stream_mapping={
            "visits": {"kind": "events", "contact_field": "contact_id", "date_field": "when"},
            "orders": {
                "kind": "events",
                "event_name": "order placed",
                "contact_field": "contact_id",
                "email_field": "email",
                "date_field": "placed_at",
            },
        },
    )
    props = {
        "id": {"type": "integer"},
        "contact_id": {"type": ["integer", "null"]},
        "email": {"type": ["string", "null"]},
        "total": {"type": ["number", "null"]},
        "placed_at": {"type": ["string", "null"], "format": "date-time"},
    }
    m = h.ac_input(campaigns=False)
    m.items.append(h.schema_msg("orders", props, ["id"]))
    m.items.append(
        h.record_msg(
            "orders",
            {
                "id": 100,
                "contact_id": 1,
                "email": None,
                "total": 12.5,
                "placed_at": "2026-03-08T10:00:00Z",
            },
        )
    )
    m.items.append(
        h.record_msg(
            "orders",
            {
                "id": 101,
                "contact_id": None,
                "email": "person2@example.com",
                "total": 3,
                "placed_at": "2026-03-08T11:00:00Z",
            },
        )
    )
    m.items.append(
        h.record_msg(
            "orders", {"id": 102, "contact_id": None, "email": None, "total": 1, "placed_at": None}
        )
    )
    # Brevo refuses this one event in a 207 (its date is not ISO 8601): a reject, the rest lands
    visit_props = {
        "id": {"type": "integer"},
        "contact_id": {"type": "integer"},
        "when": {"type": "string"},
    }
    m.items.append(h.schema_msg("visits", visit_props, ["id"]))
    m.items.append(h.record_msg("visits", {"id": 1, "contact_id": 2, "when": "2026-03-08T09:00Z"}))
    m.items.append(h.record_msg("visits", {"id": 2, "contact_id": 3, "when": "last tuesday"}))
    h.run_target(cfg, m)
    dump = brevo.control.dump()
    events = [e for e in dump["events"] if e["event_name"] == "order_placed"]
    assert len(events) == 2
    visits = [e for e in dump["events"] if e["event_name"] == "visits"]
    assert [e["identifiers"] for e in visits] == [{"ext_id": "ac-2"}]
    first = next(e for e in events if e["identifiers"].get("ext_id") == "ac-1")
    assert first["event_name"] == "order_placed"
    assert first["event_properties"]["total"] == "12.5"
    assert "email" not in first["event_properties"]  # nulls are left out
    assert first["event_properties"]["_source_key"] == 100
    assert first["event_date"].startswith("2026-03-08T10:00:00")
    second = next(e for e in events if e["identifiers"].get("email_id") == "person2@example.com")
    assert second["event_properties"]["_source_key"] == 101
    paths = {e["route"] for e in h.api_requests(brevo) if "/events" in e["path"]}
    assert paths == {"/v3/events/batch"}
    rejects = [r for r in h.rejects_of(cfg) if r["stream"] in ("orders", "visits")]
    assert sorted((r["stream"], r["key"], r["code"]) for r in rejects) == [
        ("orders", 102, "missing_identifier"),
        ("visits", 2, "invalid_parameter"),
    ]
    assert h.client_errors(brevo) == []


def test_campaigns_without_a_sender_are_rejects_not_api_calls(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """No default sender: Brevo refuses unverified ones, so without `campaign_sender` the
    campaign and message records are rejects with a clear reason and no draft request."""
    cfg = config_for(brevo, max_rejects=-1)
    del cfg["campaign_sender"]
    run = h.run_target(cfg, h.ac_input())
    assert run.states  # contacts and lists still land
    assert brevo.control.dump()["campaigns"] == []
    assert [e for e in h.api_requests(brevo) if "/emailCampaigns" in e["path"]] == []
    rejects = [r for r in h.rejects_of(cfg) if r["code"] == "missing_sender"]
    assert {(r["stream"], r["key"]) for r in rejects} == {("campaigns", "1"), ("messages", "1")}
    assert "set campaign_sender to a verified Brevo sender" in rejects[0]["reason"]
    assert h.client_errors(brevo) == []
    # an unverified sender is refused by Brevo (and the sandbox): a reject, the run goes on
    cfg["campaign_sender"] = {"name": "Demo", "email": "demo@example.com"}
    h.run_target(cfg, h.ac_input())
    assert brevo.control.dump()["campaigns"] == []
    assert any("Sender is invalid" in r["reason"] for r in h.rejects_of(cfg))
