"""The AC emulator over HTTP: auth, envelopes, paging, filters, orders, sideloads, shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from sandbox.testing import SandboxProcess

AC_SANDBOX = {"seed": 11}


pytestmark = pytest.mark.usefixtures("clean_ac")


def get(ac: SandboxProcess, path: str, token: str | None = "default",  # noqa: S107
        **params: Any) -> requests.Response:
    headers = {} if token is None else {"Api-Token": ac.token if token == "default" else token}
    return requests.get(f"{ac.api_url}{path}", headers=headers, params=params, timeout=10)


def all_pages(ac: SandboxProcess, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        body = get(ac, path, limit=100, offset=offset, **params).json()
        out += body[key]
        offset += 100
        if offset >= int(body["meta"]["total"]):
            return out


def utc(s: str) -> datetime:
    return datetime.fromisoformat(s).astimezone(UTC)


# ----- auth and token checks ------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_missing_or_wrong_token_is_403_forbidden(ac: SandboxProcess, token: str | None) -> None:
    for path in ("/contacts", "/users/me", "/", "/lists"):
        r = get(ac, path, token=token)
        assert r.status_code == 403
        assert r.json() == {"message": "Forbidden"}


def test_token_checks_answer_200(ac: SandboxProcess) -> None:
    assert get(ac, "/").status_code == 200
    me = get(ac, "/users/me")
    assert me.status_code == 200
    assert me.json()["user"]["id"] == "1"


def test_contact_404_body(ac: SandboxProcess) -> None:
    r = get(ac, "/contacts/99999")
    assert r.status_code == 404
    assert r.json() == {"message": "No Result found for Subscriber with id 99999"}
    assert get(ac, "/contacts/99999/contactLists").status_code == 404


# ----- envelopes, types, limits ---------------------------------------------------------------
def test_envelope_and_string_types(ac: SandboxProcess) -> None:
    body = get(ac, "/contacts").json()
    assert len(body["contacts"]) == 20  # default limit
    assert body["meta"]["total"] == "200"
    c = body["contacts"][0]
    assert isinstance(c["id"], str)
    assert isinstance(c["bounced_hard"], str)
    assert c["links"]["contactLists"].endswith(f"/api/3/contacts/{c['id']}/contactLists")
    deals = get(ac, "/deals").json()
    assert isinstance(deals["meta"]["total"], int)
    assert isinstance(deals["deals"][0]["winProbability"], int)
    assert isinstance(deals["deals"][0]["value"], str)
    lists = get(ac, "/lists").json()
    assert isinstance(lists["meta"]["total"], str)


def test_limit_is_clamped_to_100(ac: SandboxProcess) -> None:
    body = get(ac, "/contacts", limit=1000).json()
    assert len(body["contacts"]) == 100
    assert body["meta"]["page_input"]["limit"] == 100


def test_timestamps_are_local_with_dst_offsets_and_naive_fields(ac: SandboxProcess) -> None:
    contacts = all_pages(ac, "/contacts", "contacts")
    offsets = {c["udate"][-6:] for c in contacts if c["udate"] is not None}
    assert offsets == {"-05:00", "-06:00"}
    assert any(c["udate"] is None for c in contacts)  # imported, never updated
    for c in contacts:
        # *_timestamp and even *_utc_timestamp are naive local wall time
        assert c["created_utc_timestamp"] == c["cdate"][:19].replace("T", " ")
        # a null udate: the naive update stamp is the creation's
        assert c["updated_timestamp"] == (c["udate"] or c["cdate"])[:19].replace("T", " ")
        assert c["deleted_at"] == "0000-00-00 00:00:00"
    assert any(c["edate"] == "0000-00-00 00:00:00" for c in contacts)
    assert any(x["udate"] is None for x in get(ac, "/lists", limit=100).json()["lists"])


def test_timezone_flag(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=30, rate_limit=0, timezone="Europe/Berlin")
    r = requests.get(f"{sb.api_url}/contacts", headers={"Api-Token": sb.token},
                     params={"limit": 100}, timeout=10)
    assert {c["cdate"][-6:] for c in r.json()["contacts"]} <= {"+01:00", "+02:00"}


def test_dump_is_typed_utc_and_matches_the_api(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    contacts = {c["id"]: c for c in dump["contacts"]}
    api = all_pages(ac, "/contacts", "contacts")
    assert len(api) == len(contacts) == 200
    for c in api:
        d = contacts[int(c["id"])]
        assert d["email"] == c["email"]
        if c["udate"] is None:
            assert d["udate"] is None
        else:
            assert d["udate"].endswith("+00:00")
            assert utc(d["udate"]) == utc(c["udate"])
        assert isinstance(d["bounced_hard"], int)
    tagged = [c for c in dump["contacts"] if c["tags"]]
    assert tagged
    names = {t["id"]: t["tag"] for t in dump["tags"]}
    ct = [x for x in dump["contact_tags"] if x["contact"] == tagged[0]["id"]]
    assert sorted(names[x["tag"]] for x in ct) == tagged[0]["tags"]


# ----- filters and orders ---------------------------------------------------------------------
def test_updated_after_semantics_are_account_local_and_inclusive(ac: SandboxProcess) -> None:
    # 2026-10-15T04:30:00Z is 2026-10-14 23:30:00 in Chicago (CDT, -05:00)
    ac.control.set_clock("2026-10-15T04:30:00Z")
    ac.control.mutate({"op": "update_contact", "id": 5, "fields": {"firstName": "Moved"}})

    def ids(**filters: str) -> set[str]:
        params = {f"filters[{k}]": v for k, v in filters.items()}
        return {c["id"] for c in all_pages(ac, "/contacts", "contacts", **params)}

    assert "5" in ids(updated_after="2026-10-14")  # local midnight of the 14th
    assert "5" not in ids(updated_after="2026-10-15")  # local midnight of the 15th: after it
    assert "5" in ids(updated_after="2026-10-15T00:00:00Z")  # explicit offset honoured
    assert "5" in ids(updated_after="2026-10-14T23:30:00")  # naive = local; >= is inclusive
    assert "5" not in ids(updated_after="2026-10-14T23:30:01")
    assert "5" not in ids(updated_before="2026-10-14T23:30:00")  # < is exclusive
    assert "5" in ids(updated_before="2026-10-14T23:30:01")
    assert ids(updated_after="2026-10-14") == {"5"}  # seeded data is older
    # the percent-encoded form is the same parameter
    r = requests.get(f"{ac.api_url}/contacts?filters%5Bupdated_after%5D=2026-10-14",
                     headers={"Api-Token": ac.token}, timeout=10)
    assert [c["id"] for c in r.json()["contacts"]] == ["5"]


def test_invalid_date_filter_is_422(ac: SandboxProcess) -> None:
    r = get(ac, "/contacts", **{"filters[updated_after]": "last tuesday"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "field_invalid"


def test_created_filters_match_the_dump(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    cut = "2024-06-01T00:00:00-05:00"
    expected = {str(c["id"]) for c in dump["contacts"] if utc(c["cdate"]) >= utc(cut)}
    got = {c["id"] for c in all_pages(ac, "/contacts", "contacts",
                                      **{"filters[created_after]": cut})}
    assert got == expected
    assert 0 < len(got) < 200
    before = {c["id"] for c in all_pages(ac, "/contacts", "contacts",
                                         **{"filters[created_before]": cut})}
    assert before | got == {str(c["id"]) for c in dump["contacts"]}
    assert not before & got


def test_deal_updated_after_uses_mdate(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    cut = "2025-01-01"
    cut_utc = datetime(2025, 1, 1, 6, tzinfo=UTC)  # local midnight, CST
    expected = {str(d["id"]) for d in dump["deals"] if d["mdate"] and utc(d["mdate"]) >= cut_utc}
    got = {d["id"] for d in all_pages(ac, "/deals", "deals", **{"filters[updated_after]": cut})}
    assert got == expected
    assert got


def test_a_null_date_matches_no_date_filter(sandbox_factory: Any) -> None:
    """The unkind reading: rows with a null udate/mdate are in no date-filtered answer."""
    sb = sandbox_factory("activecampaign", contacts=1500, rate_limit=0)
    dump = sb.control.dump()
    null_contacts = {str(c["id"]) for c in dump["contacts"] if c["udate"] is None}
    null_deals = {str(d["id"]) for d in dump["deals"] if d["mdate"] is None}
    assert null_contacts
    assert null_deals
    early, late = "2000-01-01", "2100-01-01"
    for name, value in (("updated_after", early), ("updated_before", late)):
        got = {c["id"] for c in all_pages(sb, "/contacts", "contacts",
                                          **{f"filters[{name}]": value})}
        assert got == {str(c["id"]) for c in dump["contacts"]} - null_contacts, name
        deals = {d["id"] for d in all_pages(sb, "/deals", "deals", **{f"filters[{name}]": value})}
        assert deals == {str(d["id"]) for d in dump["deals"]} - null_deals, name
    # without a date filter (keyset by id) every one of them is there, with its children
    everything = {c["id"] for c in all_pages(sb, "/contacts", "contacts")}
    assert null_contacts <= everything


def test_orders(ac: SandboxProcess) -> None:
    by_email = all_pages(ac, "/contacts", "contacts", **{"orders[email]": "DESC"})
    emails = [c["email"].lower() for c in by_email]
    assert emails == sorted(emails, reverse=True)
    by_id = all_pages(ac, "/contacts", "contacts", **{"orders[id]": "DESC"})
    assert [int(c["id"]) for c in by_id] == sorted(range(1, 201), reverse=True)
    unknown = all_pages(ac, "/contacts", "contacts", **{"orders[nope]": "DESC"})
    assert [int(c["id"]) for c in unknown] == list(range(1, 201))


def test_id_greater_and_id_less(ac: SandboxProcess) -> None:
    body = get(ac, "/contacts", id_greater=150, id_less=160, **{"orders[id]": "ASC"}).json()
    assert [c["id"] for c in body["contacts"]] == [str(i) for i in range(151, 160)]
    assert body["meta"]["total"] == "9"


def test_collection_filters(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    members = [m for m in dump["contact_lists"] if m["list"] == 1 and m["status"] == 1]
    got = all_pages(ac, "/contactLists", "contactLists",
                    **{"filters[list]": "1", "filters[status]": "1"})
    assert {int(m["id"]) for m in got} == {m["id"] for m in members}
    listed = all_pages(ac, "/contacts", "contacts", listid=1, status=1)
    assert {int(c["id"]) for c in listed} == {m["contact"] for m in members}
    fv = all_pages(ac, "/fieldValues", "fieldValues", **{"filters[fieldid]": "2"})
    assert fv
    assert all(v["field"] == "2" for v in fv)
    tags = get(ac, "/tags", search="lead").json()["tags"]
    assert tags
    assert all("lead" in t["tag"].lower() for t in tags)


# ----- sideloads ------------------------------------------------------------------------------
def test_include_sideloads_are_scoped_to_the_page(ac: SandboxProcess) -> None:
    body = get(ac, "/contacts", limit=25, offset=25,
               include="contactTags.tag,contactLists.list,fieldValues").json()
    page_ids = {c["id"] for c in body["contacts"]}
    dump = ac.control.dump()
    for key, stream in (("contactTags", "contact_tags"), ("contactLists", "contact_lists"),
                        ("fieldValues", "contact_custom_field_values")):
        rows = body[key]
        assert {r["contact"] for r in rows} <= page_ids
        expected = {str(x["id"]) for x in dump[stream] if str(x["contact"]) in page_ids}
        assert {r["id"] for r in rows} == expected
        for c in body["contacts"]:
            assert set(c[key]) == {r["id"] for r in rows if r["contact"] == c["id"]}
    assert {t["id"] for t in body["tags"]} == {r["tag"] for r in body["contactTags"]}
    assert {x["id"] for x in body["lists"]} == {r["list"] for r in body["contactLists"]}
    plain = get(ac, "/contacts", limit=5).json()
    assert "contactTags" not in plain
    assert "contactTags" not in plain["contacts"][0]


def test_fields_sideload_options_and_relations(ac: SandboxProcess) -> None:
    body = get(ac, "/fields", limit=100).json()
    types = {f["type"] for f in body["fields"]}
    assert {"text", "textarea", "date", "datetime", "dropdown", "listbox", "checkbox"} <= types
    assert body["fieldOptions"]
    assert body["fieldRels"]
    opts = {o["id"] for o in body["fieldOptions"]}
    assert {i for f in body["fields"] for i in f["options"]} == opts


def test_single_contact_and_its_memberships(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    m = dump["contact_lists"][0]
    body = get(ac, f"/contacts/{m['contact']}").json()
    assert body["contact"]["id"] == str(m["contact"])
    assert str(m["id"]) in body["contact"]["contactLists"]
    lists = get(ac, f"/contacts/{m['contact']}/contactLists").json()
    assert "meta" not in lists
    assert str(m["id"]) in {x["id"] for x in lists["contactLists"]}


def test_every_served_collection_answers(ac: SandboxProcess) -> None:
    for path, key in (("/lists", "lists"), ("/fieldValues", "fieldValues"), ("/tags", "tags"),
                      ("/campaigns", "campaigns"), ("/messages", "messages"),
                      ("/automations", "automations"),
                      ("/contactAutomations", "contactAutomations"), ("/deals", "deals"),
                      ("/dealStages", "dealStages"), ("/dealGroups", "dealGroups"),
                      ("/accounts", "accounts"), ("/accountContacts", "accountContacts"),
                      ("/users", "users"), ("/contactLists", "contactLists"),
                      ("/contactTags", "contactTags")):
        body = get(ac, path).json()
        assert body[key], path
        assert int(body["meta"]["total"]) >= len(body[key])
