"""One request budget per process, shared by every stream and every worker thread.

ActiveCampaign allows 5 requests per second per account and counts them in any sliding
one-second window, so a classic bucket that lets a burst through would be refused. This
limiter hands out evenly spaced send slots instead: consecutive requests start at least
``(1 + margin) / rps`` seconds apart, whatever thread sends them, and no burst is ever
allowed.

The server counts *arrivals*, which jitter: a request that reaches the server late (network,
or the server busy with the previous response) squeezes the window that follows it. With
spacing ``(1 + m) / rps``, ``rps + 1`` arrivals fit in one second only if one of them is late
by more than ``m`` seconds, so the default 5 % headroom absorbs 50 ms of jitter at 5/s. Slots
are measured from the moment the previous thread actually left the pacer, so a thread that
wakes late (a GC pause, a busy GIL) pushes the following ones back instead of letting them
catch up. A 429 pushes the next slot back by its ``Retry-After`` for every thread at once and
widens the headroom by 5 % (up to :data:`MAX_MARGIN`) for the rest of the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: Headroom on the spacing (4.76 requests/s at 5), see the module docstring.
SAFETY_MARGIN = 0.05
#: Added to the headroom after each 429, up to MAX_MARGIN.
MARGIN_STEP = 0.05
MAX_MARGIN = 0.30


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
        self._turnstile = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0
        self._interval = 0.0
        self._rps = 0.0
        self.margin = SAFETY_MARGIN
        self.sent = 0
        self.set_rate(rps)

    @property
    def interval(self) -> float:
        """Seconds between two consecutive send slots (0 when unlimited)."""
        return self._interval

    def set_rate(self, rps: float) -> None:
        """Change the budget; 0 or less means unlimited."""
        with self._lock:
            self._rps = rps
            self._interval = (1.0 + self.margin) / rps if rps > 0 else 0.0

    def acquire(self) -> None:
        """Block until this thread may send one request.

        Threads pass one at a time; each waits until ``interval`` after the previous one
        actually left, so a late wake-up delays the next slot rather than squeezing it.
        """
        with self._turnstile:
            while True:  # re-checked after sleeping: a 429 may have deferred the slot
                with self._lock:
                    wait = self._next_slot - self._clock()
                if wait <= 0:
                    break
                self._sleep(wait)
            with self._lock:
                self._next_slot = max(self._next_slot, self._clock() + self._interval)
                self.sent += 1

    def defer(self, seconds: float) -> None:
        """Send nothing for ``seconds`` from now (a 429's ``Retry-After``), in every thread."""
        with self._lock:
            self._next_slot = max(self._next_slot, self._clock() + max(seconds, 0.0))

    def reset_margin(self) -> None:
        """Back to the default headroom (a new run)."""
        with self._lock:
            self.margin = SAFETY_MARGIN
        self.set_rate(self._rps)

    def slow_down(self) -> None:
        """Widen the headroom after a 429 (the server saw more than we meant to send)."""
        with self._lock:
            self.margin = min(MAX_MARGIN, self.margin + MARGIN_STEP)
            if self._rps > 0:
                self._interval = (1.0 + self.margin) / self._rps


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
