"""One request budget per process, shared by every stream and every worker thread.

ActiveCampaign allows 5 requests per second per account and counts them in any sliding
one-second window, so a classic bucket that lets a burst through would be refused. This
limiter hands out evenly spaced send slots instead: consecutive requests start at least
``(1 + SAFETY_MARGIN) / rps`` seconds apart, whatever thread sends them, and no burst is ever
allowed. A 429 pushes the next slot back by its ``Retry-After`` for every thread at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Headroom on the spacing so that scheduling jitter between this process and the server's
#: clock never puts ``rps + 1`` arrivals inside one second (4.76 requests/s at 5).
SAFETY_MARGIN = 0.05


class RequestPacer:
    """A thread-safe limiter handing out evenly spaced send slots."""

    def __init__(
        self,
        rps: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._interval = 0.0
        self.sent = 0
        self.set_rate(rps)

    @property
    def interval(self) -> float:
        """Seconds between two consecutive send slots (0 when unlimited)."""
        return self._interval

    def set_rate(self, rps: float) -> None:
        """Change the budget; 0 or less means unlimited."""
        with self._lock:
            self._interval = (1.0 + SAFETY_MARGIN) / rps if rps > 0 else 0.0

    def reserve(self) -> float:
        """Reserve the next send slot and return how long to wait for it."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
            self.sent += 1
            return slot - now

    def acquire(self) -> None:
        """Block until this thread may send one request."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def defer(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (a 429's ``Retry-After``), in every thread."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + max(seconds, 0.0))


_PROCESS_PACER: RequestPacer | None = None
_PROCESS_LOCK = threading.Lock()


def process_pacer(rps: float) -> RequestPacer:
    """The process-wide pacer, created on first use; its rate follows the latest config."""
    global _PROCESS_PACER
    with _PROCESS_LOCK:
        if _PROCESS_PACER is None:
            _PROCESS_PACER = RequestPacer(rps)
        else:
            _PROCESS_PACER.set_rate(rps)
        return _PROCESS_PACER
