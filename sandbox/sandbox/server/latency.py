"""Injected latency: `fixed_ms` plus a seeded uniform jitter in [0, jitter_ms].

Applied by the core to API requests only (never to `/__sandbox/`). Services do nothing.
"""

from __future__ import annotations

import random
from typing import Any


class Latency:
    def __init__(self, fixed_ms: float = 0.0, jitter_ms: float = 0.0, seed: int = 1) -> None:
        self.fixed_ms = fixed_ms
        self.jitter_ms = jitter_ms
        self._rng = random.Random(seed)

    def configure(self, body: dict[str, Any]) -> dict[str, float]:
        if "fixed_ms" in body:
            self.fixed_ms = max(0.0, float(body["fixed_ms"]))
        if "jitter_ms" in body:
            self.jitter_ms = max(0.0, float(body["jitter_ms"]))
        if "seed" in body:
            self._rng = random.Random(int(body["seed"]))
        return self.as_dict()

    def as_dict(self) -> dict[str, float]:
        return {"fixed_ms": self.fixed_ms, "jitter_ms": self.jitter_ms}

    def next_delay(self) -> float:
        """Seconds to wait before handling the next API request (0 when off)."""
        if self.fixed_ms <= 0 and self.jitter_ms <= 0:
            return 0.0
        jitter = self._rng.uniform(0.0, self.jitter_ms) if self.jitter_ms > 0 else 0.0
        return (self.fixed_ms + jitter) / 1000.0
