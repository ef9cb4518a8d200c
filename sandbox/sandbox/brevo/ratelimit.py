"""Brevo's rate limits by bucket (notes §7, docs/contracts.md §4).

General plan: ``contacts`` (every path under ``/v3/contacts``) 10/s and 36,000/h; ``events``
(``/v3/events*``) 10/s and 36,000/h; ``other`` (everything else: ``/emailCampaigns``,
``/processes``, ``/account``) 100/h. Each limit is an exact sliding window (never more than the
limit in any window). ``--rate-scale`` multiplies every limit (at least 1 remains; ``0`` turns the
limits off).

Every API response carries ``x-sib-ratelimit-limit``, ``x-sib-ratelimit-remaining`` and
``x-sib-ratelimit-reset`` for the bucket's tightest window (the one with the fewest requests
left): its limit, what is left in it, and the whole seconds until it frees a slot (0 when it has
never been used). No ``Retry-After`` (Brevo documents none). With the limits off the headers
still come, with the nominal limit, ``remaining`` equal to it and ``reset`` 0.

``POST /__sandbox/ratelimit`` bodies: ``{"scale": 0.5}``, ``{"enabled": false}``,
``{"buckets": {"contacts": {"per_second": 10, "per_hour": 36000}}}`` (a limit of 0 or null
removes that window); several keys may be combined.
"""

from __future__ import annotations

import math
from typing import Any

from sandbox.server import RateDecision, SlidingWindow

BASE_LIMITS: dict[str, dict[str, int | None]] = {
    "contacts": {"per_second": 10, "per_hour": 36_000},
    "events": {"per_second": 10, "per_hour": 36_000},
    "other": {"per_second": None, "per_hour": 100},
}
WINDOWS = {"per_second": 1.0, "per_hour": 3600.0}

H_LIMIT = "x-sib-ratelimit-limit"
H_REMAINING = "x-sib-ratelimit-remaining"
H_RESET = "x-sib-ratelimit-reset"


def bucket_for_path(path: str) -> str:
    """``contacts`` / ``events`` / ``other`` for an API path."""
    if path == "/v3/contacts" or path.startswith("/v3/contacts/"):
        return "contacts"
    if path.startswith("/v3/events"):
        return "events"
    return "other"


class BrevoRateLimit:
    """Per-bucket sliding windows (per second and per hour); implements the core's policy."""

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale
        self.enabled = scale > 0
        self.base: dict[str, dict[str, int | None]] = {
            b: dict(limits) for b, limits in BASE_LIMITS.items()
        }
        self._windows: dict[str, list[SlidingWindow]] = {}
        self._build()

    def _build(self) -> None:
        self._windows = {}
        for bucket, limits in self.base.items():
            windows = []
            for key, base in limits.items():
                if not base:
                    continue
                limit = max(1, math.floor(base * self.scale + 1e-9)) if self.scale > 0 else 0
                if limit > 0:
                    windows.append(SlidingWindow(limit, WINDOWS[key]))
            self._windows[bucket] = windows

    def _headers(self, windows: list[SlidingWindow], now: float) -> dict[str, str]:
        if not windows:
            return {}
        tight = min(windows, key=lambda w: (w.remaining(now), w.window))
        remaining = tight.remaining(now)
        times = getattr(tight, "_times", None)
        if remaining == 0:
            reset = tight.retry_after(now)
        elif times:
            reset = max(0.0, times[0] + tight.window - now)
        else:
            reset = 0.0
        return {
            H_LIMIT: str(tight.limit),
            H_REMAINING: str(remaining),
            H_RESET: str(math.ceil(reset)),
        }

    def _idle_headers(self, bucket: str) -> dict[str, str]:
        """Headers while limits are off: the nominal limit, never consumed."""
        limits = [v for v in self.base.get(bucket, {}).values() if v]
        if not limits:
            return {}
        limit = str(min(limits))
        return {H_LIMIT: limit, H_REMAINING: limit, H_RESET: "0"}

    def check(self, bucket: str, now: float) -> RateDecision:
        if not self.enabled:
            return RateDecision(True, self._idle_headers(bucket))
        windows = self._windows.get(bucket, [])
        if any(w.remaining(now) <= 0 for w in windows):
            headers = self._headers(windows, now)
            headers[H_RESET] = str(max(1, int(headers.get(H_RESET, "1"))))
            return RateDecision(False, headers)
        for w in windows:
            w.try_acquire(now)
        return RateDecision(True, self._headers(windows, now))

    def peek_headers(self, bucket: str, now: float) -> dict[str, str]:
        if not self.enabled:
            return self._idle_headers(bucket)
        return self._headers(self._windows.get(bucket, []), now)

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        if "scale" in body:
            scale = float(body["scale"])
            if scale < 0:
                raise ValueError("scale must be >= 0")
            self.scale = scale
            self.enabled = scale > 0
        if "buckets" in body:
            buckets = body["buckets"]
            if not isinstance(buckets, dict):
                raise TypeError("buckets must be an object")
            for name, limits in buckets.items():
                if name not in self.base:
                    raise KeyError(f"unknown bucket {name!r} (contacts, events, other)")
                for key, value in dict(limits).items():
                    if key not in WINDOWS:
                        raise KeyError(f"unknown window {key!r} (per_second, per_hour)")
                    self.base[name][key] = None if value in (None, 0) else int(value)
        if "enabled" in body:
            self.enabled = bool(body["enabled"]) and self.scale > 0
        self._build()
        return self.as_dict()

    def as_dict(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "scale": self.scale,
            "buckets": {
                b: {
                    "per_second": next((w.limit for w in ws if w.window == 1.0), None),
                    "per_hour": next((w.limit for w in ws if w.window == 3600.0), None),
                }
                for b, ws in self._windows.items()
            },
            "base": self.base,
        }

    def reset(self) -> None:
        self._build()
