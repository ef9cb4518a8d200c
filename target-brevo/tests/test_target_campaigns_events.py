"""Campaign drafts (never scheduled, not rewritten when unchanged) and events."""

from __future__ import annotations

import typing as t


def test_campaigns_are_drafts_and_unchanged_ones_are_not_rewritten(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input())
    dump = brevo.control.dump()
    assert len(dump["campaigns"]) == 1
    campaign = dump["campaigns"][0]
    assert campaign["name"] == "Spring sale [ac-campaign-1]"
    assert campaign["status"] == "draft"
    assert campaign["scheduledAt"] is None
    assert "scheduledAt" not in campaign["data"]
    assert campaign["data"]["subject"] == "Spring is here"
    assert campaign["data"]["htmlContent"] == "<p>Hello</p>"
    assert campaign["data"]["sender"] == {"name": "Demo", "email": "demo@example.com"}

    brevo.control.reset_requests()
    h.run_target(cfg, h.ac_input())
    log = h.api_requests(brevo)
    assert [e for e in log if "/emailCampaigns" in e["path"] and e["method"] != "GET"] == []
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
