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
    events; rejected attempts are not counted)."""

    __slots__ = ("_times", "limit", "window")

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def _purge(self, now: float) -> None:
        times = self._times
        edge = now - self.window
        while times and times[0] <= edge:
            times.popleft()

    def remaining(self, now: float) -> int:
        self._purge(now)
        return max(0, self.limit - len(self._times))

    def try_acquire(self, now: float) -> bool:
        self._purge(now)
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def retry_after(self, now: float) -> float:
        """Seconds until one more event would be admitted."""
        self._purge(now)
        if len(self._times) < self.limit:
            return 0.0
        return max(0.0, self._times[0] + self.window - now)

    def clear(self) -> None:
        self._times.clear()


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


class SlidingWindowPolicy:
    """One sliding window of `rps` requests per second per bucket (0 = off).

    Headers (names configurable): `<limit_header>` and `<remaining_header>` on every response,
    plus `Retry-After` (whole seconds, at least 1) on a 429. Config body: `{"rps": 5}`.
    """

    def __init__(
        self,
        rps: float,
        limit_header: str = "RateLimit-Limit",
        remaining_header: str = "RateLimit-Remaining",
        window: float = 1.0,
    ) -> None:
        self.rps = rps
        self.window = window
        self.limit_header = limit_header
        self.remaining_header = remaining_header
        self._windows: dict[str, SlidingWindow] = {}

    def _window(self, bucket: str) -> SlidingWindow:
        w = self._windows.get(bucket)
        if w is None:
            w = self._windows[bucket] = SlidingWindow(int(self.rps), self.window)
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
        if body.get("enabled") is False:
            self.rps = 0
            self._windows.clear()
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return {"rps": self.rps}

    def reset(self) -> None:
        self._windows.clear()
