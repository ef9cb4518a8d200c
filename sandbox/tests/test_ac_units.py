"""In-process unit tests of the AC emulator's pieces: date-filter semantics, paging parameters,
local-time rendering, the sideload tables, the sliding-window limiter, fault picking and the
seeded data set."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox.activecampaign.dump import dump_store
from sandbox.activecampaign.generate import generate
from sandbox.activecampaign.query import (
    InvalidFilter,
    apply_orders,
    attr_key,
    page_params,
    parse_filter_time,
    parse_filters,
    parse_orders,
)
from sandbox.activecampaign.render import LocalClock, Renderer
from sandbox.activecampaign.sideloads import CONTACT_INCLUDES, contact_sideloads, parse_include
from sandbox.activecampaign.state import ACState
from sandbox.server.faults import FaultConfigError, FaultInjector
from sandbox.server.ratelimit import SlidingWindow, SlidingWindowPolicy

CHI = ZoneInfo("America/Chicago")


def utc_ts(s: str) -> float:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).timestamp()


# ----- date filters ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected_utc"),
    [
        ("2026-03-07", "2026-03-07T06:00:00"),  # date-only: local midnight (CST, -06:00)
        ("2026-07-01", "2026-07-01T05:00:00"),  # local midnight in summer (CDT, -05:00)
        ("2026-03-08T12:00:00", "2026-03-08T17:00:00"),  # naive: local wall time after the DST jump
        ("2026-03-08 01:30:00", "2026-03-08T07:30:00"),  # space separator, before the jump
        ("2024-03-19T17:00:00.000000Z", "2024-03-19T17:00:00"),  # explicit Z honoured
        ("2026-03-08T12:00:00+02:00", "2026-03-08T10:00:00"),  # explicit offset honoured
        ("2026-03-08T12:00:00-0500", "2026-03-08T17:00:00"),
    ],
)
def test_date_filter_values_are_read_in_the_account_timezone(value: str, expected_utc: str) -> None:
    assert parse_filter_time("updated_after", value, CHI) == utc_ts(expected_utc)


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-01", "2026-02-30T00:00:00"])
def test_unparseable_date_filter_is_rejected(value: str) -> None:
    with pytest.raises(InvalidFilter):
        parse_filter_time("updated_after", value, CHI)


def test_paging_parameters() -> None:
    assert page_params({}) == (20, 0)
    assert page_params({"limit": "100", "offset": "40"}) == (100, 40)
    assert page_params({"limit": "1000"}) == (100, 0)
    assert page_params({"limit": "0", "offset": "-5"}) == (20, 0)
    assert page_params({"limit": "abc", "offset": "x"}) == (20, 0)


def test_orders_and_filters_are_parsed_in_query_order() -> None:
    items = [("orders[email]", "desc"), ("filters[updated_after]", "2026-01-01"),
             ("orders[id]", "ASC"), ("filters[search][eq]", "vip"), ("limit", "5")]
    assert parse_orders(items) == [("email", True), ("id", False)]
    assert parse_filters(items) == {"updated_after": "2026-01-01", "search:eq": "vip"}


def test_multi_key_ordering_is_stable_with_id_tiebreak() -> None:
    class R:
        def __init__(self, id: int, a: int) -> None:
            self.id, self.a = id, a

    rows = [R(1, 2), R(2, 1), R(3, 2), R(4, 1)]
    out = apply_orders(rows, [("a", True)], {"a": attr_key("a")})
    assert [r.id for r in out] == [1, 3, 2, 4]


# ----- rendering of local time ---------------------------------------------------------------
@settings(max_examples=300)
@given(ts=st.integers(min_value=0, max_value=2**31),
       tz=st.sampled_from(["America/Chicago", "Asia/Kolkata", "Asia/Kathmandu",
                           "Australia/Lord_Howe", "Europe/Berlin", "UTC"]))
def test_local_clock_matches_zoneinfo(ts: int, tz: str) -> None:
    zone = ZoneInfo(tz)
    clock = LocalClock(zone)
    dt = datetime.fromtimestamp(ts, zone)
    assert clock.iso(ts) == dt.isoformat()
    assert clock.naive(ts) == dt.isoformat(" ")[:19]


def test_dst_offsets_are_rendered() -> None:
    clock = LocalClock(CHI)
    assert clock.iso(int(utc_ts("2026-01-15T12:00:00"))) == "2026-01-15T06:00:00-06:00"
    assert clock.iso(int(utc_ts("2026-07-15T12:00:00"))) == "2026-07-15T07:00:00-05:00"


# ----- rate limiting ---------------------------------------------------------------------------
@settings(max_examples=200)
@given(gaps=st.lists(st.floats(min_value=0, max_value=0.7), min_size=1, max_size=80),
       limit=st.integers(min_value=1, max_value=10))
def test_sliding_window_never_admits_more_than_the_limit_in_any_second(
        gaps: list[float], limit: int) -> None:
    w = SlidingWindow(limit, 1.0)
    t = 1000.0
    admitted: list[float] = []
    for g in gaps:
        t += g
        if w.try_acquire(t):
            admitted.append(t)
    # any window [a, a+1) starting at an admitted request holds at most `limit` of them
    for i, a in enumerate(admitted):
        assert sum(1 for b in admitted[i:] if b < a + 1.0) <= limit


def test_sliding_window_policy_headers() -> None:
    p = SlidingWindowPolicy(2)
    d1 = p.check("account", 10.0)
    d2 = p.check("account", 10.1)
    d3 = p.check("account", 10.2)
    assert (d1.allowed, d2.allowed, d3.allowed) == (True, True, False)
    assert d1.headers == {"RateLimit-Limit": "2", "RateLimit-Remaining": "1"}
    assert d2.headers["RateLimit-Remaining"] == "0"
    assert d3.headers["Retry-After"] == "1"
    assert p.check("account", 11.05).allowed  # the first one left the window
    p.configure({"rps": 0})
    assert all(p.check("account", 11.06).allowed for _ in range(100))


# ----- faults ----------------------------------------------------------------------------------
def test_fault_script_is_consumed_in_order_and_honours_paths() -> None:
    f = FaultInjector({"500", "reset"}, ["500"])
    f.configure({"script": ["500", "ok", "reset"], "paths": ["/api/3/contacts"]})
    assert f.pick("/api/3/lists") is None  # filtered out, does not consume
    assert [f.pick("/api/3/contacts") for _ in range(4)] == ["500", None, "reset", None]


def test_fault_rate_is_seeded() -> None:
    f = FaultInjector({"500", "503"}, ["500"])
    f.configure({"rate": 0.3, "kinds": ["500", "503"], "seed": 7})
    first = [f.pick("/x") for _ in range(200)]
    f.configure({"rate": 0.3, "kinds": ["500", "503"], "seed": 7})
    assert [f.pick("/x") for _ in range(200)] == first
    hits = [k for k in first if k]
    assert 30 < len(hits) < 90
    assert set(hits) == {"500", "503"}


def test_fault_bursts_repeat_the_picked_fault() -> None:
    f = FaultInjector({"429"}, ["429"])
    f.configure({"rate": 0.1, "kinds": ["429"], "seed": 4, "burst": 5})
    picks = ["x" if f.pick("/x") else "." for _ in range(400)]
    runs = [len(r) for r in "".join(picks).split(".") if r]
    assert runs
    assert all(n >= 5 for n in runs)
    assert f.as_dict()["burst"] == 5
    with pytest.raises(FaultConfigError):
        f.configure({"rate": 0.1, "burst": 0})


def test_unknown_fault_kind_is_rejected() -> None:
    f = FaultInjector({"500"}, ["500"])
    with pytest.raises(FaultConfigError):
        f.configure({"rate": 0.1, "kinds": ["teapot"]})


# ----- seeded data -----------------------------------------------------------------------------
def test_generation_is_deterministic_and_seed_dependent() -> None:
    a = dump_store(generate(300, 5, CHI), {})
    b = dump_store(generate(300, 5, CHI), {})
    c = dump_store(generate(300, 6, CHI), {})
    assert a == b
    assert a["contacts"] != c["contacts"]


def test_seeded_data_has_the_realistic_mess() -> None:
    s = generate(2000, 42, CHI)
    contacts = list(s.contacts.values())
    emails = [c.email for c in contacts]
    assert len({e.lower() for e in emails}) == len(emails)  # unique case-insensitively
    assert any(e != e.lower() for e in emails)  # mixed case
    assert any("+" in e.split("@")[0] for e in emails)  # plus-addressed
    assert any(not c.first_name for c in contacts)
    assert any(not c.first_name.isascii() for c in contacts)  # Unicode
    assert any(c.phone == "" for c in contacts)
    assert any(c.phone and not re.search(r"\d{7}", re.sub(r"\D", "", c.phone)) for c in contacts)
    assert any(c.adate is None for c in contacts)  # zero-date sentinels
    on_lists = {m.contact for m in s.contact_lists.values()}
    assert any(c.id not in on_lists for c in contacts)  # contacts with no lists
    assert {m.status for m in s.contact_lists.values()} == {0, 1, 2, 3}
    assert any(lst.udate is None for lst in s.lists.values())  # null udate
    types = {f.type for f in s.fields.values()}
    assert {"text", "textarea", "date", "datetime", "dropdown", "listbox", "checkbox"} <= types
    multi = {f.id for f in s.fields.values() if f.type == "listbox"}
    values = [v.value for v in s.field_values.values() if v.field in multi]
    assert values
    assert all(re.fullmatch(r"\|\|([^|]+\|\|)+", v) for v in values)
    for table in ("field_options", "deals", "deal_stages", "deal_groups", "accounts",
                  "account_contacts", "campaigns", "messages", "automations",
                  "contact_automations", "users", "contact_tags"):
        assert getattr(s, table), table
    offsets = {datetime.fromtimestamp(c.udate, CHI).utcoffset() for c in contacts if c.udate}
    assert len(offsets) == 2  # data straddles DST


def test_a_few_percent_of_contacts_and_deals_have_a_null_update_date() -> None:
    s = generate(2000, 42, CHI)
    never = [c.id for c in s.contacts.values() if c.udate is None]
    assert 0.015 * 2000 <= len(never) <= 0.035 * 2000
    for cid in never:  # each with memberships, tags and field values
        assert s.memberships_of(cid)
        assert s.contact_tags_of(cid)
        assert s.field_values_of(cid)
    deals = [d.id for d in s.deals.values() if d.mdate is None]
    assert deals
    assert len(deals) <= 0.06 * len(s.deals)
    # deterministic per seed, and a different seed picks others
    assert [c.id for c in generate(2000, 42, CHI).contacts.values() if c.udate is None] == never
    assert [c.id for c in generate(2000, 43, CHI).contacts.values() if c.udate is None] != never


def test_parse_include_keeps_known_names_and_their_hops_only() -> None:
    first, hops = parse_include(" contactLists.list,bogus.x,,deals, contactTags ")
    assert first == {"contactLists", "deals", "contactTags"}
    assert hops == {"contactLists.list"}


def test_every_include_and_hop_is_sideloaded_and_linked_from_its_contacts() -> None:
    st = ACState(contacts=40, seed=4, tz=CHI, token="t")
    contacts = st.store.rows("contacts")[:25]
    first = set(CONTACT_INCLUDES)
    hops = {f"{name}.{hop}" for name, inc in CONTACT_INCLUDES.items() for hop in inc.hops}
    out, per_contact = contact_sideloads(Renderer(CHI, "http://x/api/3"), st, contacts, first,
                                         hops)
    for name, inc in CONTACT_INCLUDES.items():
        rows = [x for c in contacts for x in inc.rows_of(st, c.id)]
        assert rows, name  # the seeded data set has some of every kind
        assert [x["id"] for x in out[name]] == [str(x.id) for x in rows]
        for c in contacts:
            want = [str(x.id) for x in inc.rows_of(st, c.id)] if inc.linked else []
            assert per_contact[c.id][name] == want, (name, c.id)
        for hop in inc.hops.values():
            assert {x["id"] for x in out[hop.key]} == {str(getattr(x, hop.ref)) for x in rows}
