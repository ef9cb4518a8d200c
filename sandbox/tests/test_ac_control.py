"""The AC control surface: mutate ops, the clock, the request log, reset and dump."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sandbox.testing import SandboxProcess

AC_SANDBOX = {"contacts": 60, "seed": 5}


pytestmark = pytest.mark.usefixtures("clean_ac")


def get(ac: SandboxProcess, path: str, **params: Any) -> Any:
    r = requests.get(f"{ac.api_url}{path}", headers={"Api-Token": ac.token}, params=params,
                     timeout=10)
    return r.json() if r.status_code == 200 else r


def contact(ac: SandboxProcess, cid: int) -> dict[str, Any]:
    return dict(get(ac, f"/contacts/{cid}")["contact"])


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).astimezone(UTC)


def test_health_and_ready_line(ac: SandboxProcess) -> None:
    assert ac.control.health() == {"ok": True, "service": "activecampaign"}
    assert ac.base_url.startswith("http://127.0.0.1:")
    assert ac.api_url == ac.base_url + "/api/3"


def test_update_contact_moves_udate_to_the_sandbox_clock(ac: SandboxProcess) -> None:
    ac.control.set_clock("2026-11-01T12:00:00Z")
    ac.control.mutate({"op": "update_contact", "id": 3,
                       "fields": {"firstName": "Zoë", "lastName": "Ünïcode", "phone": "+1 555"}})
    c = contact(ac, 3)
    assert (c["firstName"], c["lastName"], c["phone"]) == ("Zoë", "Ünïcode", "+1 555")
    assert c["udate"] == "2026-11-01T06:00:00-06:00"  # CST after the fall-back
    ac.control.advance_clock(3600)
    ac.control.mutate({"op": "update_contact", "id": 3, "fields": {"firstName": "Z"}})
    assert utc(contact(ac, 3)["udate"]) == datetime(2026, 11, 1, 13, tzinfo=UTC)


def test_change_email_is_unique_case_insensitively(ac: SandboxProcess) -> None:
    other = contact(ac, 2)["email"]
    r = requests.post(f"{ac.base_url}/__sandbox/mutate", timeout=10, json={
        "ops": [{"op": "change_email", "id": 1, "email": other.upper()}]})
    assert r.status_code == 400
    assert r.json()["op_index"] == 0
    ac.control.mutate({"op": "change_email", "id": 1, "email": "Fresh+Tag@Example.COM"})
    assert contact(ac, 1)["email"] == "Fresh+Tag@Example.COM"
    assert get(ac, "/contacts", email="fresh+tag@example.com")["meta"]["total"] == "1"


def test_create_and_delete_contact(ac: SandboxProcess) -> None:
    before = ac.control.dump()
    victim = next(c["id"] for c in before["contacts"] if c["tags"])
    [created] = ac.control.mutate({"op": "create_contact",
                                   "fields": {"email": "new@example.com", "firstName": "N"}})
    assert created["id"] == 61
    assert contact(ac, 61)["firstName"] == "N"
    ac.control.mutate({"op": "delete_contact", "id": victim})
    assert get(ac, f"/contacts/{victim}").status_code == 404
    after = ac.control.dump()
    for stream in ("contact_lists", "contact_tags", "contact_custom_field_values",
                   "contact_automations", "account_contacts"):
        assert all(x["contact"] != victim for x in after[stream]), stream
    for path, key in (("/contactTags", "contactTags"), ("/contactLists", "contactLists"),
                      ("/fieldValues", "fieldValues")):
        body = get(ac, path, limit=100, **{"filters[contact]": str(victim)})
        assert all(x["contact"] != str(victim) for x in body[key])
    assert get(ac, "/contacts")["meta"]["total"] == "60"


def test_import_contact_leaves_udate_null_with_its_children(ac: SandboxProcess) -> None:
    [made] = ac.control.mutate({"op": "import_contact",
                                "fields": {"email": "imported@example.com"},
                                "lists": [2], "tags": ["imported-2026"],
                                "field_values": {"1": "11-50"}})
    cid = int(made["id"])
    body = get(ac, "/contacts", id_greater=cid - 1, id_less=cid + 1,
               include="contactLists,contactTags.tag,fieldValues")
    [c] = body["contacts"]
    assert c["udate"] is None
    assert c["cdate"]
    assert [(m["list"], m["status"]) for m in body["contactLists"]] == [("2", "1")]
    assert [t["tag"] for t in body["tags"]] == ["imported-2026"]
    assert [(v["field"], v["value"]) for v in body["fieldValues"]] == [("1", "11-50")]
    filtered = get(ac, "/contacts", limit=100, id_greater=cid - 1,
                   **{"filters[updated_after]": "2000-01-01"})
    assert filtered["contacts"] == []  # a null udate matches no date filter
    # the first real update gives it a udate
    ac.control.mutate({"op": "update_contact", "id": cid, "fields": {"firstName": "Now"}})
    assert contact(ac, cid)["udate"] is not None


def test_subscribe_unsubscribe_bounce(ac: SandboxProcess) -> None:
    ac.control.mutate({"op": "subscribe", "contact": 4, "list": 12})

    def status(list_id: int) -> str:
        rows = get(ac, "/contacts/4/contactLists")["contactLists"]
        return next(m["status"] for m in rows if m["list"] == str(list_id))

    assert status(12) == "1"
    ac.control.mutate({"op": "unsubscribe", "contact": 4, "list": 12})
    assert status(12) == "2"
    ac.control.mutate({"op": "bounce", "contact": 4, "list": 12})
    assert status(12) == "3"
    assert contact(ac, 4)["bounced_hard"] == "1"


def test_tags_and_field_values(ac: SandboxProcess) -> None:
    ac.control.mutate({"op": "add_tag", "contact": 6, "tag": "vip-2026"},
                      {"op": "set_field_value", "contact": 6, "field": 2,
                       "value": ["CRM", "SMS"]})
    body = get(ac, "/contacts", id_greater=5, id_less=7, include="contactTags.tag,fieldValues")
    assert "vip-2026" in {t["tag"] for t in body["tags"]}
    assert "||CRM||SMS||" in {fv["value"] for fv in body["fieldValues"] if fv["field"] == "2"}
    ac.control.mutate({"op": "remove_tag", "contact": 6, "tag": "vip-2026"})
    dump = ac.control.dump()
    assert "vip-2026" not in next(c for c in dump["contacts"] if c["id"] == 6)["tags"]


def test_rename_list_and_update_campaign_and_message(ac: SandboxProcess) -> None:
    ac.control.set_clock("2026-11-20T10:00:00Z")
    ac.control.mutate({"op": "rename_list", "id": 2, "name": "Renamed ✓"},
                      {"op": "update_campaign", "id": 1, "fields": {"name": "C1 new"}},
                      {"op": "update_message", "id": 1, "fields": {"subject": "New subj"}})
    lst = next(x for x in get(ac, "/lists")["lists"] if x["id"] == "2")
    assert lst["name"] == "Renamed ✓"
    assert utc(lst["udate"]) == datetime(2026, 11, 20, 10, tzinfo=UTC)
    camp = next(x for x in get(ac, "/campaigns")["campaigns"] if x["id"] == "1")
    assert camp["name"] == "C1 new"
    assert utc(camp["mdate"]) == datetime(2026, 11, 20, 10, tzinfo=UTC)
    msg = next(x for x in get(ac, "/messages")["messages"] if x["id"] == "1")
    assert msg["subject"] == "New subj"


def test_bad_ops_are_400(ac: SandboxProcess) -> None:
    for op in ({"op": "nope"}, {"op": "update_contact", "id": 999, "fields": {}},
               {"op": "update_contact", "id": 1, "fields": {"shoeSize": 3}},
               {"op": "subscribe", "contact": 1}):
        r = requests.post(f"{ac.base_url}/__sandbox/mutate", json={"ops": [op]}, timeout=10)
        assert r.status_code == 400, op


def test_reset_restores_the_seeded_state(ac: SandboxProcess) -> None:
    seeded = ac.control.dump()
    ac.control.mutate({"op": "delete_contact", "id": 1},
                      {"op": "rename_list", "id": 1, "name": "x"})
    assert ac.control.dump()["contacts"] != seeded["contacts"]
    ac.control.reset()
    again = ac.control.dump()
    again["meta"].pop("clock")
    seeded["meta"].pop("clock")
    assert again == seeded


def test_request_log_counts_by_route_and_status(ac: SandboxProcess) -> None:
    get(ac, "/contacts/1")
    get(ac, "/contacts/2")
    get(ac, "/contacts/999")
    get(ac, "/lists", limit=5)
    requests.get(f"{ac.api_url}/lists", timeout=10)  # no token → 403
    log = ac.control.requests()
    assert log["total"] == 5
    assert log["by_path"] == {"GET /api/3/contacts/{id}": 3, "GET /api/3/lists": 2}
    assert log["by_status"] == {"200": 3, "404": 1, "403": 1}
    assert log["by_bucket"] == {"account": 5}
    assert log["log"][3]["query"] == "limit=5"
    assert "log" not in ac.control.requests(log=False)
    ac.control.reset_requests()
    assert ac.control.requests()["total"] == 0


def test_the_ac_sandbox_fixture_is_small_and_unlimited(ac_sandbox: SandboxProcess) -> None:
    r = requests.get(f"{ac_sandbox.api_url}/contacts", headers={"Api-Token": ac_sandbox.token},
                     timeout=10)
    assert r.json()["meta"]["total"] == "200"
    assert "RateLimit-Limit" not in r.headers
    assert ac_sandbox.token == "sandbox-ac-token"


def test_a_sandbox_that_cannot_start_raises_with_its_stderr() -> None:
    with pytest.raises(RuntimeError, match="contacts"):
        SandboxProcess("activecampaign", contacts="many", ready_timeout=20).start()


def test_token_and_latency_flags(sandbox_factory: Any) -> None:
    import time

    sb = sandbox_factory("activecampaign", contacts=5, rate_limit=0, token="t0k", latency_ms=200)
    assert sb.token == "t0k"
    t = time.perf_counter()
    r = requests.get(f"{sb.api_url}/users/me", headers={"Api-Token": "t0k"}, timeout=10)
    assert r.status_code == 200
    assert time.perf_counter() - t >= 0.2
    bad = requests.get(f"{sb.api_url}/users/me", headers={"Api-Token": "sandbox-ac-token"},
                       timeout=10)
    assert bad.status_code == 403


def quirks(ac: SandboxProcess, **body: Any) -> dict[str, Any]:
    url = f"{ac.base_url}/__sandbox/quirks"
    r = requests.post(url, json=body, timeout=10) if body else requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_stale_total_quirk_halves_meta_total_until_reset(ac: SandboxProcess) -> None:
    assert quirks(ac) == {"stale_total": False, "udate_on_child_change": True}
    real = int(get(ac, "/contacts", limit=10)["meta"]["total"])
    assert quirks(ac, stale_total=True)["stale_total"] is True
    body = get(ac, "/contacts", limit=100)
    assert int(body["meta"]["total"]) == real // 2
    assert len(body["contacts"]) == real  # the data itself is complete
    ac.control.reset()
    assert quirks(ac)["stale_total"] is False
    bad = requests.post(f"{ac.base_url}/__sandbox/quirks", json={"stale_total": 1}, timeout=10)
    assert bad.status_code == 400


def test_udate_on_child_change_quirk_off_leaves_the_contact_udate(ac: SandboxProcess) -> None:
    before = contact(ac, 3)["udate"]
    quirks(ac, udate_on_child_change=False)
    ac.control.advance_clock(120)
    ac.control.mutate(
        {"op": "add_tag", "contact": 3, "tag": "quirk-tag"},
        {"op": "subscribe", "contact": 3, "list": 1},
        {"op": "set_field_value", "contact": 3, "field": 1, "value": "q"},
    )
    assert contact(ac, 3)["udate"] == before
    quirks(ac, udate_on_child_change=True)
    ac.control.mutate({"op": "add_tag", "contact": 3, "tag": "quirk-tag-2"})
    assert utc(contact(ac, 3)["udate"]) > utc(before)


def test_users_carry_a_personal_zone_that_set_user_zone_changes(ac: SandboxProcess) -> None:
    users = {int(u["id"]): u for u in get(ac, "/users")["users"]}
    assert users[1]["localZoneid"] == "America/Chicago"  # the account zone
    assert users[2]["localZoneid"] not in (None, "America/Chicago")  # a user elsewhere
    assert users[4]["localZoneid"] is None
    ac.control.mutate({"op": "set_user_zone", "id": 1, "zone": "Asia/Tokyo"})
    assert get(ac, "/users/me")["user"]["localZoneid"] == "Asia/Tokyo"
    assert {u["id"]: u["local_zone_id"] for u in ac.control.dump()["users"]}[1] == "Asia/Tokyo"
