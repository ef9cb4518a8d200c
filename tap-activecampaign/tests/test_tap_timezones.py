"""Time zones: DST changes, naive account-local values, inference, start_date and filters."""

from __future__ import annotations

import datetime as dt
import typing as t
from urllib.parse import parse_qs

import pytest
import requests
from sandbox.testing import SandboxProcess
from tap_testkit import run_tap, tap_config

CONTACT_STREAMS = ["contacts"]


@pytest.fixture(scope="module")
def chicago() -> t.Iterator[SandboxProcess]:
    with SandboxProcess(
        "activecampaign", contacts=150, seed=4, rate_limit=0, timezone="America/Chicago"
    ) as sb:
        yield sb


def _raw_contact(sb: SandboxProcess, contact_id: int) -> dict[str, t.Any]:
    response = requests.get(
        f"{sb.api_url}/contacts/{contact_id}", headers={"Api-Token": sb.token}, timeout=10
    )
    return t.cast("dict[str, t.Any]", response.json()["contact"])


def test_incremental_across_the_spring_dst_change(chicago: SandboxProcess) -> None:
    chicago.control.reset()
    config = tap_config(chicago)
    first = run_tap(config, streams=CONTACT_STREAMS)
    bookmark = first.final_state["bookmarks"]["contacts"]["replication_key_value"]
    boundary = {int(r["id"]) for r in first.records["contacts"] if r["udate"] == bookmark}

    chicago.control.set_clock("2027-03-14T07:30:00Z")  # 01:30 CST, 30 min before the change
    chicago.control.mutate({"op": "update_contact", "id": 3, "fields": {"firstName": "Before"}})
    chicago.control.set_clock("2027-03-14T08:30:00Z")  # 03:30 CDT, 30 min after it
    chicago.control.mutate({"op": "update_contact", "id": 4, "fields": {"firstName": "After"}})
    assert _raw_contact(chicago, 3)["udate"] == "2027-03-14T01:30:00-06:00"
    assert _raw_contact(chicago, 4)["udate"] == "2027-03-14T03:30:00-05:00"

    second = run_tap(config, state=first.final_state, streams=CONTACT_STREAMS)
    contacts = second.by_id("contacts")
    assert set(contacts) == {3, 4} | boundary
    assert contacts[3]["udate"] == "2027-03-14T07:30:00+00:00"
    assert contacts[4]["udate"] == "2027-03-14T08:30:00+00:00"
    # the naive account-local copies agree with the exact dates on both sides of the change
    assert contacts[3]["updated_timestamp"] == "2027-03-14T07:30:00+00:00"
    assert contacts[4]["updated_utc_timestamp"] == "2027-03-14T08:30:00+00:00"


def test_the_repeated_autumn_hour(chicago: SandboxProcess) -> None:
    chicago.control.reset()
    chicago.control.set_clock("2027-11-07T06:30:00Z")  # 01:30 CDT
    chicago.control.mutate({"op": "update_contact", "id": 5, "fields": {"lastName": "First"}})
    chicago.control.set_clock("2027-11-07T07:30:00Z")  # 01:30 CST, the same wall-clock time
    chicago.control.mutate({"op": "update_contact", "id": 6, "fields": {"lastName": "Second"}})
    contacts = run_tap(tap_config(chicago), streams=CONTACT_STREAMS).by_id("contacts")
    # offset-aware dates are exact
    assert contacts[5]["udate"] == "2027-11-07T06:30:00+00:00"
    assert contacts[6]["udate"] == "2027-11-07T07:30:00+00:00"
    # a naive "01:30" is ambiguous on that night: read as its first occurrence (documented)
    assert contacts[5]["updated_timestamp"] == "2027-11-07T06:30:00+00:00"
    assert contacts[6]["updated_timestamp"] == "2027-11-07T06:30:00+00:00"


def _contacts_filters(sb: SandboxProcess) -> set[str]:
    return {
        value
        for entry in sb.control.requests()["log"]
        if entry["path"].endswith("/contacts")
        for value in parse_qs(entry["query"]).get("filters[updated_after]", [])
    }


def test_start_date_is_a_client_floor_and_the_server_filter_carries_an_explicit_utc_offset(
    chicago: SandboxProcess,
) -> None:
    chicago.control.reset()
    chicago.control.reset_requests()
    config = tap_config(chicago, start_date="2026-06-01T00:00:00-05:00")
    first = run_tap(config, streams=CONTACT_STREAMS)
    dump = chicago.control.dump()
    # start_date applies to coalesce(udate, cdate), in the tap: the first sync sends no filter
    expected = {
        int(c["id"])
        for c in dump["contacts"]
        if (c["udate"] or c["cdate"]) >= "2026-06-01T05:00:00"
    }
    assert set(first.ids("contacts")) == expected
    assert _contacts_filters(chicago) == set()
    # the incremental run filters from its bookmark minus the one-day lookback window, in UTC
    # as YYYY-MM-DDTHH:MM:SSZ (singer-io's form)
    chicago.control.reset_requests()
    bookmark = first.final_state["bookmarks"]["contacts"]["replication_key_value"]
    run_tap(config, state=first.final_state, streams=CONTACT_STREAMS)
    since = dt.datetime.fromisoformat(bookmark) - dt.timedelta(days=1)
    assert _contacts_filters(chicago) == {since.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.mark.parametrize("zone", ["America/Chicago", "Europe/Berlin", "Asia/Kolkata"])
def test_account_timezone_is_inferred_when_unset(
    sandbox_factory: t.Any, zone: str, caplog: pytest.LogCaptureFixture
) -> None:
    sb = sandbox_factory("activecampaign", contacts=120, seed=8, rate_limit=0, timezone=zone)
    config = tap_config(sb)
    del config["account_timezone"]
    out = run_tap(config, streams=CONTACT_STREAMS)
    assert "account_timezone is not set: inferred" in caplog.text
    for record in out.records["contacts"]:
        # the naive account-local copies are right only if the zone (and its DST) is right
        assert record["created_utc_timestamp"] == record["cdate"]
        # (a never-updated contact's naive update stamp is its creation's)
        assert record["updated_timestamp"] == (record["udate"] or record["cdate"])


def test_a_user_zone_that_disagrees_with_the_account_dates_is_ignored(
    sandbox_factory: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    """localZoneid is the API user's own setting: kept only if the account's dates agree."""
    sb = sandbox_factory(
        "activecampaign", contacts=120, seed=8, rate_limit=0, timezone="Europe/Berlin"
    )
    sb.control.mutate({"op": "set_user_zone", "id": 1, "zone": "America/Chicago"})
    config = tap_config(sb)
    del config["account_timezone"]
    out = run_tap(config, streams=CONTACT_STREAMS)
    assert "America/Chicago (GET /users/me) disagrees" in caplog.text
    # Europe/Paris or Berlin: the same offsets and DST rules, both right for the dates
    assert "account_timezone is not set: inferred Europe/" in caplog.text
    for record in out.records["contacts"]:
        assert record["created_utc_timestamp"] == record["cdate"]
        # (a never-updated contact's naive update stamp is its creation's)
        assert record["updated_timestamp"] == (record["udate"] or record["cdate"])


def test_a_user_zone_that_agrees_with_the_account_dates_is_used(
    sandbox_factory: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    sb = sandbox_factory(
        "activecampaign", contacts=120, seed=8, rate_limit=0, timezone="Europe/Berlin"
    )
    config = tap_config(sb)
    del config["account_timezone"]
    run_tap(config, streams=CONTACT_STREAMS)
    assert "inferred Europe/Berlin, the zone of the API user" in caplog.text
