"""Rate-limit policies.

The core calls, for every API request and before anything else:

    decision = service.rate_limit.check(bucket, now)      # now = time.time()

`decision.headers` are added to the response whatever it is (normal, fault or 429); when
`decision.allowed` is False the core answers `service.error_response("429", request)` with those
headers (they should carry `Retry-After`). The `429` *fault* uses `peek_headers(bucket, now)`
(headers without consuming capacity) plus the service's 429 response.

`POST /__sandbox/ratelimit` passes its JSON body to `configure(body)`; `POST /__sandbox/reset`
and `POST /__sandbox/requests/reset` do not touch the limiter, `reset()` is for the service.

A service with per-second *and* per-hour buckets (Brevo) writes its own policy implementing the
`RateLimitPolicy` protocol; `SlidingWindow` is the building block (exact: it never admits more
than `limit` requests in any window of `window` seconds).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class RateDecision:
    allowed: bool
    headers: dict[str, str] = field(default_factory=dict)


class RateLimitPolicy(Protocol):
    def check(self, bucket: str, now: float) -> RateDecision: ...

    def peek_headers(self, bucket: str, now: float) -> dict[str, str]: ...

    def configure(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def as_dict(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class SlidingWindow:
    """Admits at most `limit` events in any `window`-second interval (timestamps of admitted
    events; rejected attempts are not counted). The window is half-open: an event at `t` holds
    its slot for `[t, t + window)`, so one exactly `window` seconds later is admitted.

    `tolerance` (seconds, default 0): an event that comes up to `tolerance` early, measured
    against the admission `limit` places back, is admitted and *recorded* as if it had come on
    time (`that admission + window`). Arrival jitter is forgiven, debt is not: the recorded
    times never hold more than `limit` events in any window, so the long-run rate never
    exceeds `limit / window`.
    """

    __slots__ = ("_recent", "_times", "limit", "tolerance", "window")

    def __init__(self, limit: int, window: float = 1.0, tolerance: float = 0.0) -> None:
        self.limit = limit
        self.window = window
        self.tolerance = tolerance
        self._times: deque[float] = deque()  # recorded admissions still in the window
        self._recent: deque[float] = deque(maxlen=max(1, limit))  # the last `limit` ones

    def _purge(self, now: float) -> None:
        times = self._times
        edge = now - self.window + self.tolerance
        while times and times[0] <= edge:
            times.popleft()

    def remaining(self, now: float) -> int:
        self._purge(now)
        return max(0, self.limit - len(self._times))

    def try_acquire(self, now: float) -> bool:
        self._purge(now)
        if len(self._times) >= self.limit:
            return False
        at = now
        if len(self._recent) == self.limit:  # early by at most `tolerance`: count it on time
            at = max(now, self._recent[0] + self.window)
        self._times.append(at)
        self._recent.append(at)
        return True

    def retry_after(self, now: float) -> float:
        """Seconds until one more event would be admitted."""
        self._purge(now)
        if len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.window - self.tolerance - now)

    def clear(self) -> None:
        self._times.clear()
        self._recent.clear()


class NoRateLimit:
    """A policy that admits everything and adds no headers."""

    def check(self, bucket: str, now: float) -> RateDecision:
        return RateDecision(True)

    def peek_headers(self, bucket: str, now: float) -> dict[str, str]:
        return {}

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        return {}

    def as_dict(self) -> dict[str, Any]:
        return {}

    def reset(self) -> None:
        return None


DEFAULT_TOLERANCE_S = 0.05


class SlidingWindowPolicy:
    """One sliding window of `rps` requests per second per bucket (0 = off).

    Headers (names configurable): `<limit_header>` and `<remaining_header>` on every response,
    plus `Retry-After` (whole seconds, at least 1) on a 429. A request up to `tolerance`
    seconds early (default 50 ms: network and scheduling jitter) is admitted and counted on
    time (`SlidingWindow`). Config body: `{"rps": 5}` and/or `{"tolerance_ms": 50}`.
    """

    def __init__(
        self,
        rps: float,
        limit_header: str = "RateLimit-Limit",
        remaining_header: str = "RateLimit-Remaining",
        window: float = 1.0,
        tolerance: float = DEFAULT_TOLERANCE_S,
    ) -> None:
        self.rps = rps
        self.window = window
        self.tolerance = tolerance
        self.limit_header = limit_header
        self.remaining_header = remaining_header
        self._windows: dict[str, SlidingWindow] = {}

    def _window(self, bucket: str) -> SlidingWindow:
        w = self._windows.get(bucket)
        if w is None:
            w = self._windows[bucket] = SlidingWindow(int(self.rps), self.window, self.tolerance)
        return w

    def check(self, bucket: str, now: float) -> RateDecision:
        if self.rps <= 0:
            return RateDecision(True)
        w = self._window(bucket)
        limit = str(int(self.rps))
        if w.try_acquire(now):
            return RateDecision(
                True, {self.limit_header: limit, self.remaining_header: str(w.remaining(now))}
            )
        retry = max(1, math.ceil(w.retry_after(now)))
        return RateDecision(
            False,
            {
                self.limit_header: limit,
                self.remaining_header: "0",
                "Retry-After": str(retry),
            },
        )

    def peek_headers(self, bucket: str, now: float) -> dict[str, str]:
        if self.rps <= 0:
            return {}
        w = self._window(bucket)
        return {self.limit_header: str(int(self.rps)), self.remaining_header: str(w.remaining(now))}

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        if "rps" in body:
            rps = float(body["rps"])
            if rps < 0:
                raise ValueError("rps must be >= 0")
            self.rps = rps
            self._windows.clear()
        if "tolerance_ms" in body:
            tolerance = float(body["tolerance_ms"]) / 1000
            if not 0 <= tolerance < self.window:
                raise ValueError(f"tolerance_ms must be >= 0 and < {self.window * 1000:g}")
            self.tolerance = tolerance
            self._windows.clear()
        if body.get("enabled") is False:
            self.rps = 0
            self._windows.clear()
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return {"rps": self.rps, "tolerance_ms": round(self.tolerance * 1000, 3)}

    def reset(self) -> None:
        self._windows.clear()
