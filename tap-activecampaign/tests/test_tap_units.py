"""Unit tests that need no sandbox: URLs, time values, pacing, paging math, retries, records."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from tap_activecampaign.api_url import ConfigError, normalize_api_url
from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.error_bodies import ac_reason, parse_retry_after
from tap_activecampaign.pacing import MAX_MARGIN, SAFETY_MARGIN, RequestPacer
from tap_activecampaign.paging import IdRange, meta_total, offset_has_more, split_id_range
from tap_activecampaign.records import RecordNormalizer, decamelize, to_bool, to_int
from tap_activecampaign.timestamps import AccountClock, format_utc, parse_timezone
from tap_activecampaign.timezone import offset_from_user, zone_from_user

# --- URL normalisation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("https://acme.api-us1.com", "https://acme.api-us1.com/api/3"),
        ("https://acme.api-us1.com/", "https://acme.api-us1.com/api/3"),
        ("https://acme.api-us1.com/api/3", "https://acme.api-us1.com/api/3"),
        ("https://acme.api-us1.com/api/3/", "https://acme.api-us1.com/api/3"),
        ("  https://acme.api-eu1.com/API/3/ ", "https://acme.api-eu1.com/api/3"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123/api/3"),
        ("http://localhost:8123/api/3", "http://localhost:8123/api/3"),
        ("http://[::1]:8123/", "http://[::1]:8123/api/3"),
    ],
)
def test_api_url_is_normalised(given_url: str, expected: str) -> None:
    assert normalize_api_url(given_url) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "acme.api-us1.com",
        "http://acme.api-us1.com",
        "http://10.0.0.5",
        "ftp://acme.api-us1.com",
        "https://user:pw@acme.api-us1.com",
    ],
)
def test_api_url_rejects_unsafe_or_malformed(bad: str) -> None:
    with pytest.raises(ConfigError):
        normalize_api_url(bad)


# --- timestamps ------------------------------------------------------------------------------


def test_offset_aware_times_become_utc() -> None:
    clock = AccountClock(parse_timezone("America/Chicago"))
    assert clock.to_utc_iso("2026-03-08T01:30:00-06:00") == "2026-03-08T07:30:00+00:00"
    assert clock.to_utc_iso("2026-03-08T03:30:00-05:00") == "2026-03-08T08:30:00+00:00"
    assert clock.to_utc_iso("2026-03-08T08:30:00Z") == "2026-03-08T08:30:00+00:00"


def test_naive_times_are_read_in_the_account_zone_across_dst() -> None:
    clock = AccountClock(parse_timezone("America/Chicago"))
    # CST (-06:00) before the 2026-03-08 change, CDT (-05:00) after it
    assert clock.to_utc_iso("2026-03-08 01:59:59") == "2026-03-08T07:59:59+00:00"
    assert clock.to_utc_iso("2026-03-08 03:00:00") == "2026-03-08T08:00:00+00:00"
    assert clock.to_utc_iso("2026-07-01 12:00:00") == "2026-07-01T17:00:00+00:00"
    # the repeated hour when DST ends is read as its first occurrence (CDT)
    assert clock.to_utc_iso("2026-11-01 01:30:00") == "2026-11-01T06:30:00+00:00"


def test_zero_dates_and_empty_values_are_null() -> None:
    clock = AccountClock(dt.UTC)
    for value in ("0000-00-00", "0000-00-00 00:00:00", "", "  ", None):
        assert clock.to_utc_iso(value) is None
        assert clock.to_date(value) is None
    assert clock.to_date("2026-02-03") == "2026-02-03"


def test_fixed_offsets_and_bad_zones() -> None:
    assert parse_timezone("-05:00").utcoffset(None) == dt.timedelta(hours=-5)
    assert parse_timezone("UTC") is dt.UTC
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_timezone("Mars/Olympus")


@given(st.datetimes(timezones=st.timezones()))
def test_utc_strings_sort_like_the_times_they_encode(value: dt.datetime) -> None:
    other = value.astimezone(dt.UTC) + dt.timedelta(seconds=1)  # +1 s of real time
    assert format_utc(value) < format_utc(other)


def test_timezone_inference_from_the_user() -> None:
    assert str(zone_from_user({"localZoneid": "America/Chicago"})) == "America/Chicago"
    assert zone_from_user({"localZoneid": "nonsense"}) is None
    fixed = offset_from_user({"cdate": "2026-01-02T03:04:05-06:00"})
    assert fixed is not None
    assert fixed.utcoffset(None) == dt.timedelta(hours=-6)


# --- pacing -----------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_spaces_requests_and_allows_no_burst() -> None:
    fake = FakeTime()
    pacer = RequestPacer(5, clock=fake.clock, sleep=fake.sleep)
    starts = []
    for _ in range(20):
        pacer.acquire()
        starts.append(fake.now)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= (1 + SAFETY_MARGIN) / 5 - 1e-9
    # never more than 5 starts in any one-second window
    for i in range(len(starts) - 5):
        assert starts[i + 5] - starts[i] > 1.0


def test_pacer_defer_pauses_everyone_and_zero_means_unlimited() -> None:
    fake = FakeTime()
    pacer = RequestPacer(5, clock=fake.clock, sleep=fake.sleep)
    pacer.acquire()
    pacer.defer(1.0)
    before = fake.now
    pacer.acquire()
    assert fake.now - before == pytest.approx(1.0)
    unlimited = RequestPacer(0, clock=fake.clock, sleep=fake.sleep)
    before = fake.now
    for _ in range(50):
        unlimited.acquire()
    assert fake.now == before


def test_pacer_widens_its_headroom_after_a_429() -> None:
    fake = FakeTime()
    pacer = RequestPacer(5, clock=fake.clock, sleep=fake.sleep)
    before = pacer.interval
    pacer.slow_down()
    assert pacer.interval > before
    for _ in range(20):
        pacer.slow_down()
    assert pacer.interval == pytest.approx((1 + MAX_MARGIN) / 5)
    pacer.reset_margin()
    assert pacer.interval == pytest.approx(before)


def test_pacer_is_shared_by_threads() -> None:
    import threading
    import time

    pacer = RequestPacer(50)
    starts: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            pacer.acquire()
            with lock:
                starts.append(time.monotonic())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    starts.sort()
    # 20 sends at 50/s with no burst take at least 19 intervals, whatever the threads do
    assert starts[-1] - starts[0] >= 19 * (1 + SAFETY_MARGIN) / 50 - 0.01
    assert pacer.sent == 20


# --- paging -----------------------------------------------------------------------------------


def test_meta_total_accepts_strings_and_ints() -> None:
    assert meta_total({"meta": {"total": "250"}}) == 250
    assert meta_total({"meta": {"total": 3}}) == 3
    assert meta_total({"meta": {}}) is None
    assert meta_total({}) is None


@pytest.mark.parametrize(
    ("offset", "page_len", "total", "more"),
    [
        (0, 100, 250, True),
        (100, 100, 250, True),
        (200, 50, 250, False),
        (0, 100, 100, False),
        (0, 100, None, True),
        (0, 99, None, False),
        (0, 0, 500, False),
    ],
)
def test_offset_paging_stops_on_meta_total(
    offset: int, page_len: int, total: int | None, more: bool
) -> None:
    assert offset_has_more(offset, page_len, 100, total) is more


@given(st.integers(1, 10_000_000), st.integers(1, 200_000), st.integers(1, 64))
def test_id_ranges_cover_the_id_space_without_overlap(max_id: int, total: int, parts: int) -> None:
    ranges = split_id_range(max_id, total, parts)
    assert ranges[0].lo == 0
    assert ranges[-1].hi == max_id
    for a, b in itertools.pairwise(ranges):
        assert a.hi == b.lo
    assert all(r.hi > r.lo and r.pos == r.lo for r in ranges)
    assert len(ranges) <= parts


def test_small_syncs_get_one_range() -> None:
    assert len(split_id_range(500, 300, 24)) == 1
    assert 20 <= len(split_id_range(20_000, 20_000, 24)) <= 24
    # dense ids: every range but the last holds whole pages
    ranges = split_id_range(19_900, 19_900, 12)
    assert all((r.hi - r.lo) % 100 == 0 for r in ranges[:-1])


# --- retries and errors ----------------------------------------------------------------------


def test_retry_after_parsing() -> None:
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = dt.datetime(2026, 3, 8, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("Sun, 08 Mar 2026 12:00:30 GMT", now=now) == 30.0


def _response(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers.update(headers or {})
    response.url = "https://acme.api-us1.com/api/3/contacts?email=a%40b.c"
    return response


def test_retry_wait_honours_retry_after_exactly_then_backs_off() -> None:
    from singer_sdk.exceptions import RetriableAPIError

    limited = RetriableAPIError("429", _response(429, headers={"Retry-After": "3"}))
    assert ActiveCampaignStream.retry_wait(limited, 1) == 3.0
    assert ActiveCampaignStream.retry_wait(limited, 5) == 3.0
    other = ConnectionResetError()
    assert [ActiveCampaignStream.retry_wait(other, n) for n in (1, 2, 3, 9)] == [1, 2, 4, 30]


def test_ac_reason_reads_both_error_shapes() -> None:
    assert ac_reason(_response(404, b'{"message": "No Result found"}')) == "No Result found"
    body = b'{"errors": [{"title": "Invalid", "detail": "bad filter"}]}'
    assert ac_reason(_response(422, body)) == "Invalid - bad filter"
    assert ac_reason(_response(402, b"")) == "no reason given"


# --- records ---------------------------------------------------------------------------------


def test_decamelize_matches_singer_io_names() -> None:
    assert decamelize("firstName") == "first_name"
    assert decamelize("ip4Sub") == "ip4_sub"
    assert decamelize("winProbabilityMdate") == "win_probability_mdate"
    assert decamelize("cdate") == "cdate"
    assert decamelize("tag_type") == "tag_type"


def test_values_are_typed_by_schema() -> None:
    schema = {
        "properties": {
            "id": {"type": ["integer"]},
            "bounced_hard": {"type": ["null", "integer"]},
            "email_empty": {"type": ["null", "boolean"]},
            "value": {"type": ["null", "number"]},
            "udate": {"type": ["null", "string"], "format": "date-time"},
            "bounced_date": {"type": ["null", "string"], "format": "date"},
            "score_values": {"type": ["null", "array"], "items": {"type": "integer"}},
            "first_name": {"type": ["null", "string"]},
        }
    }
    normalize = RecordNormalizer(schema, AccountClock(parse_timezone("America/Chicago")), "t")
    record = normalize(
        {
            "id": "7",
            "bouncedHard": "0",
            "emailEmpty": False,
            "value": "1872151.50",
            "udate": "2026-03-08T03:30:00-05:00",
            "bouncedDate": "0000-00-00",
            "scoreValues": ["1", "2"],
            "firstName": "Ann",
            "links": {"x": "/y"},
            "unknownField": "dropped",
        }
    )
    assert record == {
        "id": 7,
        "bounced_hard": 0,
        "email_empty": False,
        "value": Decimal("1872151.50"),
        "udate": "2026-03-08T08:30:00+00:00",
        "bounced_date": None,
        "score_values": [1, 2],
        "first_name": "Ann",
    }
    assert to_int("x") is None
    assert to_bool("1") is True
    assert to_bool("0") is False


def test_an_id_range_keeps_whether_it_is_read_through_the_update_filter() -> None:
    changed = IdRange(lo=0, hi=500, pos=200, changed=True)
    assert IdRange.from_state(changed.to_state()) == changed
    assert IdRange.from_state(IdRange(lo=500, hi=900, pos=500).to_state()).changed is False
    # a range saved by a version without the flag is read in full: nothing can be skipped
    old = {"lo": 0, "hi": 500, "pos": 200, "done": False}
    assert IdRange.from_state(old).changed is False
