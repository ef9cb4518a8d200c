"""Consent is never lost: unsubscribes, bounces and blocklists survive later writes."""

from __future__ import annotations

import typing as t

import requests


def _lists(dump: dict[str, t.Any]) -> dict[str, int]:
    return {x["name"]: x["id"] for x in dump["lists"]}


def test_unsubscribe_and_bounce_are_kept_across_later_writes(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    lists = _lists(brevo.control.dump())
    news, promo = lists["Newsletter [ac-list-1]"], lists["Promo [ac-list-2]"]

    later = [
        {"id": 1, "contact": 1, "list": 1, "status": 2, "udate": "2026-03-09T10:00:00+00:00"},
        {"id": 3, "contact": 3, "list": 2, "status": 3, "udate": "2026-03-09T10:00:00+00:00"},
    ]
    bounced = [
        h.contact(1, phone="(415) 555-2671", tags=["vip", "customer"]),
        h.contact(2, orgname="Acme"),
        h.contact(3, bounced_hard=1),
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, memberships=later, contacts=bounced))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert news not in by_ext["ac-1"]["listIds"]
    assert promo not in by_ext["ac-3"]["listIds"]
    assert by_ext["ac-3"]["emailBlacklisted"] is True
    assert news in by_ext["ac-2"]["listIds"]

    # a replay of that input, then later contact writes (new name, even a new email for
    # the bounced contact, whose blocklist Brevo clears on an email change) undo nothing
    h.run_target(cfg, h.ac_input(campaigns=False, memberships=later, contacts=bounced))
    changed = [
        h.contact(1, first_name="Renamed", phone="(415) 555-2671", tags=["vip"]),
        h.contact(2, orgname="Acme"),
        h.contact(3, email="moved@example.com", bounced_hard=0),
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, memberships=[later[0]], contacts=changed))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    assert by_ext["ac-1"]["attributes"]["FIRSTNAME"] == "Renamed"
    assert news not in by_ext["ac-1"]["listIds"]
    assert by_ext["ac-3"]["email"] == "moved@example.com"
    assert by_ext["ac-3"]["emailBlacklisted"] is True
    assert promo not in by_ext["ac-3"]["listIds"]
    assert h.client_errors(brevo) == []


def test_in_one_batch_the_latest_status_wins_and_consent_wins_ties(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    members = [
        # contact 1: unsubscribed after subscribing (arrives in that order)
        {"id": 1, "contact": 1, "list": 1, "status": 1, "udate": "2026-03-08T10:00:00+00:00"},
        {"id": 9, "contact": 1, "list": 1, "status": 2, "udate": "2026-03-08T11:00:00+00:00"},
        # contact 2: a stale subscribe arrives after the unsubscribe
        {"id": 2, "contact": 2, "list": 1, "status": 2, "udate": "2026-03-08T12:00:00+00:00"},
        {"id": 8, "contact": 2, "list": 1, "status": 1, "udate": "2026-03-08T09:00:00+00:00"},
        # contact 3: same time, consent wins
        {"id": 3, "contact": 3, "list": 1, "status": 2, "udate": "2026-03-08T12:00:00+00:00"},
        {"id": 7, "contact": 3, "list": 1, "status": 1, "udate": "2026-03-08T12:00:00+00:00"},
        # unconfirmed: not added
        {"id": 4, "contact": 3, "list": 2, "status": 0, "udate": "2026-03-08T12:00:00+00:00"},
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, memberships=members))
    dump = brevo.control.dump()
    news, promo = _lists(dump)["Newsletter [ac-list-1]"], _lists(dump)["Promo [ac-list-2]"]
    for ext, c in h.contacts_by_ext(dump).items():
        assert news not in c["listIds"], ext
        assert promo not in c["listIds"], ext


def test_hard_bounce_blocklists_and_is_never_undone(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    people = [h.contact(1, bounced_hard=2), h.contact(2), h.contact(3)]
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=people))
    assert h.contacts_by_ext(brevo.control.dump())["ac-1"]["emailBlacklisted"] is True
    people[0] = h.contact(1, bounced_hard=0, first_name="Again")
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=people))
    c1 = h.contacts_by_ext(brevo.control.dump())["ac-1"]
    assert c1["attributes"]["FIRSTNAME"] == "Again"
    assert c1["emailBlacklisted"] is True
    bodies = [e for e in h.api_requests(brevo) if "emailBlacklisted" in str(e.get("query"))]
    assert bodies == []


def test_email_change_keeps_a_blocklist_the_preread_did_not_see(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """A blocklisted contact outside the master list (and a master list created in this run,
    whose counter is 0) still keeps its blocklist when the source changes its email."""
    resp = requests.post(
        f"{brevo.api_url}/contacts",
        json={
            "email": "person3@example.com",
            "attributes": {"EXT_ID": "ac-3"},
            "emailBlacklisted": True,
        },
        headers={"api-key": brevo.token},
        timeout=10,
    )
    assert resp.status_code == 201
    moved = [h.contact(3, email="moved@example.com")]
    h.run_target(config_for(brevo), h.ac_input(campaigns=False, contacts=moved, memberships=[]))
    c3 = h.contacts_by_ext(brevo.control.dump())["ac-3"]
    assert c3["email"] == "moved@example.com"
    assert c3["emailBlacklisted"] is True


def test_unsubscribes_in_brevo_are_never_undone(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """A recipient who unsubscribed in Brevo (from the master list, or a synced list) is
    never put back on it, and an unchanged rerun then writes nothing."""
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    lists = _lists(brevo.control.dump())
    master, news = lists["All synced contacts [ac-all]"], lists["Newsletter [ac-list-1]"]
    brevo.control._call("POST", "unsubscribe", {"ext_id": "ac-1", "listId": master})
    brevo.control._call("POST", "unsubscribe", {"email": "person2@example.com", "listId": news})

    brevo.control.reset_requests()
    h.run_target(cfg, h.ac_input(campaigns=False))  # same input: nothing to write
    log = h.api_requests(brevo)
    assert [e for e in log if e["method"] in ("POST", "PUT", "DELETE")] == []

    changed = [
        h.contact(1, first_name="Renamed", phone="(415) 555-2671", tags=["vip", "customer"]),
        h.contact(2, first_name="Renamed2", orgname="Acme"),
        h.contact(3),
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=changed))
    h.run_target(cfg, h.ac_input(campaigns=False, contacts=changed))
    by_ext = h.contacts_by_ext(brevo.control.dump())
    c1, c2 = by_ext["ac-1"], by_ext["ac-2"]
    assert c1["attributes"]["FIRSTNAME"] == "Renamed"
    assert master not in c1["listIds"]
    assert master in c1["listUnsubscribed"]
    assert news in c1["listIds"]
    assert c2["attributes"]["FIRSTNAME"] == "Renamed2"
    assert news not in c2["listIds"]
    assert news in c2["listUnsubscribed"]
    assert master in c2["listIds"]
    assert h.client_errors(brevo) == []
