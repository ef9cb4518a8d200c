"""The AC rate limit: a sliding window per account shared by every connection.

Assumed where ActiveCampaign documents nothing (sandbox README, "Rate limit"): the window is
half-open (a request exactly 1.000 s after an admission is admitted), a request up to 50 ms
early is admitted and counted on time (jitter is forgiven, debt is not), authentication comes
before the limit (a bad token gets 403 whatever the load and consumes no capacity).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from sandbox.server.ratelimit import DEFAULT_TOLERANCE_S, SlidingWindow, SlidingWindowPolicy
from sandbox.testing import SandboxProcess

TOL = DEFAULT_TOLERANCE_S


def hammer(sb: SandboxProcess, threads: int, seconds: float) -> list[requests.Response]:
    out: list[requests.Response] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker() -> None:
        s = requests.Session()  # one connection per thread: the limit is per account
        s.headers["Api-Token"] = sb.token
        while time.monotonic() < stop:
            r = s.get(f"{sb.api_url}/users/me", timeout=10)
            with lock:
                out.append(r)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


def max_in_any_second(times: list[float], span: float = 1.0) -> int:
    times = sorted(times)
    best = 0
    for i, a in enumerate(times):
        best = max(best, sum(1 for b in times[i:] if b < a + span))
    return best


def test_never_more_than_the_rate_in_any_one_second_window(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=5)
    responses = hammer(sb, threads=4, seconds=2.5)
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) > 10
    assert 10 <= len(ok) <= 5 * 3 + 5  # about 5 per second over 2.5 s
    for r in ok:
        assert r.headers["RateLimit-Limit"] == "5"
        assert 0 <= int(r.headers["RateLimit-Remaining"]) <= 4
    for r in limited:
        assert r.headers["RateLimit-Limit"] == "5"
        assert r.headers["RateLimit-Remaining"] == "0"
        assert int(r.headers["Retry-After"]) >= 1
    log = sb.control.requests()["log"]
    admitted = [e["t"] for e in log if e["status"] == 200]
    assert len(admitted) == len(ok)
    # early by at most the tolerance: never 6 within 0.95 s (a second may hold two bursts of 5,
    # 0.95 s apart: the second one came 50 ms early and was counted on time)
    assert max_in_any_second(admitted, 1.0 - TOL) <= 5
    assert max_in_any_second(admitted, 1.0 - TOL) == 5  # and the limit is actually reachable
    # ... and the long run stays at 5/s: admission i+5k comes k seconds after i, less TOL
    admitted.sort()
    assert all(admitted[i + 5] >= admitted[i] + 1.0 - TOL for i in range(len(admitted) - 5))
    assert all(admitted[i + 10] >= admitted[i] + 2.0 - TOL for i in range(len(admitted) - 10))
    # the control surface is never limited
    assert all(sb.control.health()["ok"] for _ in range(20))


def test_a_client_under_the_rate_is_never_limited_and_rps_is_configurable(
        sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=5)
    s = requests.Session()
    s.headers["Api-Token"] = sb.token
    remaining = []
    for _ in range(8):
        r = s.get(f"{sb.api_url}/lists", timeout=10)
        assert r.status_code == 200
        remaining.append(int(r.headers["RateLimit-Remaining"]))
        time.sleep(0.22)  # ~4.5 requests per second
    assert min(remaining) >= 0
    sb.control.set_rate_limit(rps=2)
    statuses = [s.get(f"{sb.api_url}/lists", timeout=10).status_code for _ in range(4)]
    assert statuses.count(200) == 2
    assert statuses.count(429) == 2
    sb.control.set_rate_limit(rps=0)
    rs = [s.get(f"{sb.api_url}/lists", timeout=10) for _ in range(30)]
    assert all(r.status_code == 200 for r in rs)
    assert "RateLimit-Limit" not in rs[0].headers


# ----- the window's edge and its tolerance (in process: exact times) ----------------------------
T0 = 1_764_878_400.123457  # a real epoch: float rounding at this magnitude is part of the test


def _five_at_the_limit(p: SlidingWindowPolicy) -> list[float]:
    times, t = [], T0
    for _ in range(5):
        assert p.check("account", t).allowed
        times.append(t)
        t += 0.2  # as a client adds its interval
    return times


def test_a_request_exactly_one_second_after_an_admission_is_admitted() -> None:
    for tolerance in (0.0, TOL):
        p = SlidingWindowPolicy(5, tolerance=tolerance)
        first = _five_at_the_limit(p)[0]
        d = p.check("account", first + 1.0)
        assert d.allowed, tolerance
        assert d.headers == {"RateLimit-Limit": "5", "RateLimit-Remaining": "0"}
    strict = SlidingWindowPolicy(5, tolerance=0.0)
    first = _five_at_the_limit(strict)[0]
    refused = strict.check("account", first + 0.999)
    assert not refused.allowed
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["RateLimit-Remaining"] == "0"


def test_jitter_within_the_tolerance_is_forgiven_and_counted_on_time() -> None:
    p = SlidingWindowPolicy(5)  # the AC sandbox's default
    first = _five_at_the_limit(p)[0]
    assert not p.check("account", first + 1.0 - TOL - 0.001).allowed  # 51 ms early: too early
    assert p.check("account", first + 1.0 - TOL + 0.001).allowed  # 49 ms early: forgiven
    # ... but counted at first + 1.0: the next slot is first + 1.2, not 49 ms sooner
    second = first + 0.2
    assert not p.check("account", second + 1.0 - TOL - 0.001).allowed
    assert p.check("account", second + 1.0 - TOL + 0.001).allowed
    # a sixth request inside the same second is never admitted, tolerance or not
    p2 = SlidingWindowPolicy(5)
    first = _five_at_the_limit(p2)[0]
    assert not p2.check("account", first + 0.9).allowed


def test_a_client_slightly_too_fast_is_held_to_five_per_second() -> None:
    p = SlidingWindowPolicy(5)
    t, admitted = T0, 0
    while t < T0 + 60:
        admitted += p.check("account", t).allowed
        t += 0.19  # 5.26/s: each request 10 ms early, within the tolerance one by one
    assert admitted <= 300 + 5  # 5/s over 60 s (each refusal costs it a 0.19 s turn)
    assert admitted >= 280


@settings(max_examples=200)
@given(gaps=st.lists(st.floats(min_value=0, max_value=0.7), min_size=1, max_size=80),
       limit=st.integers(min_value=1, max_value=10),
       tolerance=st.sampled_from([0.0, 0.01, TOL, 0.2]))
def test_tolerance_never_lets_the_long_run_rate_exceed_the_limit(
        gaps: list[float], limit: int, tolerance: float) -> None:
    w = SlidingWindow(limit, 1.0, tolerance)
    t = T0
    admitted: list[float] = []
    for g in gaps:
        t += g
        if w.try_acquire(t):
            admitted.append(t)
    for i, a in enumerate(admitted):
        # no window shorter by the tolerance holds more than the limit ...
        assert sum(1 for b in admitted[i:] if b < a + 1.0 - tolerance) <= limit
        # ... and k windows later come at most k * limit more
        for k in (1, 2, 3):
            if i + k * limit < len(admitted):
                assert admitted[i + k * limit] >= a + k * 1.0 - tolerance - 1e-9


def test_tolerance_is_configurable_at_run_time(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=5)
    assert sb.control.set_rate_limit(tolerance_ms=0) == {"rps": 5.0, "tolerance_ms": 0.0}
    r = requests.post(sb.base_url + "/__sandbox/ratelimit", json={"tolerance_ms": 1000},
                      timeout=10)
    assert r.status_code == 400
    assert "tolerance_ms" in r.json()["error"]
    assert sb.control.set_rate_limit(tolerance_ms=50) == {"rps": 5.0, "tolerance_ms": 50.0}


# ----- over HTTP ---------------------------------------------------------------------------------
def test_a_client_pacing_exactly_at_the_limit_is_never_limited(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=5)
    s = requests.Session()
    s.headers["Api-Token"] = sb.token
    start = time.monotonic()
    statuses = []
    for i in range(16):  # 5 per second by the client's clock, 3 s long
        time.sleep(max(0.0, start + i * 0.2 - time.monotonic()))
        statuses.append(s.get(f"{sb.api_url}/users/me", timeout=10).status_code)
    assert statuses == [200] * 16
    admitted = sorted(e["t"] for e in sb.control.requests()["log"])
    assert all(admitted[i + 5] >= admitted[i] + 1.0 - TOL for i in range(len(admitted) - 5))


def test_a_bad_token_in_a_burst_gets_403_and_consumes_nothing(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=5)
    good = requests.Session()
    good.headers["Api-Token"] = sb.token
    bad = requests.Session()
    bad.headers["Api-Token"] = "not-the-token"
    assert [good.get(f"{sb.api_url}/lists", timeout=10).status_code for _ in range(5)] == [200] * 5
    # the account's window is full: a bad token is still told it is a bad token
    r = bad.get(f"{sb.api_url}/lists", timeout=10)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}
    assert "Retry-After" not in r.headers
    assert r.headers["RateLimit-Remaining"] == "0"
    assert good.get(f"{sb.api_url}/lists", timeout=10).status_code == 429
    time.sleep(1.1)
    # a burst of bad tokens: all 403, and they leave the account's capacity untouched
    assert {bad.get(f"{sb.api_url}/lists", timeout=10).status_code for _ in range(20)} == {403}
    assert requests.get(f"{sb.api_url}/lists", timeout=10).status_code == 403  # no token at all
    statuses = [good.get(f"{sb.api_url}/lists", timeout=10).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    by_status = sb.control.requests()["by_status"]
    assert by_status == {"200": 10, "403": 22, "429": 2}
