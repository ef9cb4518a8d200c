"""The AC rate limit: a sliding window per account shared by every connection."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from sandbox.testing import SandboxProcess


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


def max_in_any_second(times: list[float]) -> int:
    times = sorted(times)
    best = 0
    for i, a in enumerate(times):
        best = max(best, sum(1 for b in times[i:] if b < a + 1.0))
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
    assert max_in_any_second(admitted) <= 5
    assert max_in_any_second(admitted) == 5  # and the limit is actually reachable
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
