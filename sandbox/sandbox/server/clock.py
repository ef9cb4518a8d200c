"""The sandbox clock: real time plus an adjustable offset.

A service that stamps records with "now" (AC `udate` on mutations) reads `Clock.now()` so tests
can move time with `POST /__sandbox/clock` (`advance(seconds)` / `set(epoch)`); the clock keeps
ticking from the new point.
"""

from __future__ import annotations

import time


class Clock:
    """Wall clock with an offset in seconds (float epoch seconds, UTC)."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def now_int(self) -> int:
        """Whole seconds, the resolution ActiveCampaign stores."""
        return int(self.now())

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def set(self, epoch: float) -> None:
        self._offset = epoch - time.time()

    def reset(self) -> None:
        self._offset = 0.0
