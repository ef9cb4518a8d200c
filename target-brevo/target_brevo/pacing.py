"""Pacing per Brevo rate-limit bucket, read from the `x-sib-ratelimit-*` headers."""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field

LOGGER = logging.getLogger("target_brevo.client")


def bucket_of(path: str) -> str:
    """Brevo's rate bucket for an API path relative to /v3 (contracts §4)."""
    if path.startswith("/contacts"):
        return "contacts"
    if path.startswith("/events"):
        return "events"
    return "other"


@dataclass
class Pacer:
    """Paces one rate bucket from the last `x-sib-ratelimit-*` headers seen."""

    name: str
    remaining: int | None = None
    reset_at: float = 0.0
    requests: int = 0
    waited: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    last_at: float = 0.0

    # Spacing starts when this few requests are left and each would have to last longer
    # than MIN_SPACING seconds on average (the 100-an-hour bucket, never a 10-per-second one).
    LOW_REMAINING: t.ClassVar[int] = 20
    MIN_SPACING: t.ClassVar[float] = 1.0

    def before(self, sleep: t.Callable[[float], None]) -> None:
        """Wait when the bucket is known to be empty until its window resets; when it runs
        low relative to its reset, space the requests (reset / remaining apart) so that a
        burst does not drain it and leave the next request waiting up to an hour."""
        with self.lock:
            now = time.monotonic()
            if self.remaining is not None and self.remaining <= 0 and now < self.reset_at:
                delay = self.reset_at - now
                LOGGER.info("Bucket %s exhausted, waiting %.2fs for its reset", self.name, delay)
                self.waited += delay
                sleep(delay)
                self.remaining = None
            elif self.remaining is not None:
                left = self.reset_at - now
                if 0 < self.remaining <= self.LOW_REMAINING and left > 0:
                    spacing = left / self.remaining
                    delay = self.last_at + spacing - now
                    if spacing >= self.MIN_SPACING and delay > 0:
                        LOGGER.info(
                            "Bucket %s: %d requests left for %.0fs, spacing them %.1fs apart",
                            self.name,
                            self.remaining,
                            left,
                            spacing,
                        )
                        self.waited += delay
                        sleep(delay)
                self.remaining -= 1
            self.requests += 1
            self.last_at = time.monotonic()

    def update(self, headers: t.Mapping[str, str]) -> float | None:
        """Read the headers; returns the reset delay in seconds when present."""
        remaining = headers.get("x-sib-ratelimit-remaining")
        reset = headers.get("x-sib-ratelimit-reset")
        delay: float | None = None
        with self.lock:
            if reset is not None:
                try:
                    delay = max(0.0, float(reset))
                    self.reset_at = time.monotonic() + delay
                except ValueError:
                    delay = None
            if remaining is not None:
                try:
                    self.remaining = int(float(remaining))
                except ValueError:
                    self.remaining = None
        return delay

