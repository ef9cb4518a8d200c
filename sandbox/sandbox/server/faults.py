"""Fault injection, seeded, at a rate or as a scripted sequence.

The core decides *whether* and *which* fault applies to an API request (`FaultInjector.pick`) and
performs the transport-level ones itself (`reset`, `reset_after`, `truncated`, `empty`,
`timeout`, `timeout_after`). For status faults ("403", "429", "500", "502", "503", "524", "425")
it asks the service for the body: `Service.error_response(kind, request)`.

At a rate, `"burst": n` repeats each picked fault on the next n-1 matching requests too (a
burst of 429s, an outage of 503s); a script spells bursts out.

Kinds a service supports: `Service.fault_kinds` (unknown kinds are rejected by the control
surface with 400). Default kinds for `--fault-rate` without `--faults`:
`Service.default_fault_kinds`.

Semantics (contracts §2): pre-handler kinds do not run the handler (`reset`, status kinds;
`timeout` waits `timeout_s` first, then runs the handler and answers late only if the client is
still connected, so a client that timed out leaves no effect); post-handler kinds run the
handler first (`reset_after`, `timeout_after`, `empty`, `truncated`; the last two keep the
handler's status).

Post-handler status kinds (`500_after`, `502_after`, `503_after`, `504_after`, `520_after`,
`521_after`, `522_after`, `523_after`, `524_after`): the request is processed (its effect
stays), then that status is answered with the service's error body instead of the handler's
response: a create that was applied although the client saw a 5xx. The core only picks them;
a service applies them in its handler wrapper: `FaultInjector.last_picked` holds the kind
picked for the request being handled (read it before the handler's first `await`) and
`after_status(kind)` gives the status to answer (the Brevo sandbox does this).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

STATUS_FAULTS = frozenset({"403", "425", "429", "500", "502", "503", "524"})
PRE_HANDLER_FAULTS = STATUS_FAULTS | {"reset", "timeout"}
POST_HANDLER_FAULTS = frozenset({"reset_after", "timeout_after", "empty", "truncated"})
# processed, then answered with this status (applied by the service's handler wrapper)
POST_HANDLER_STATUS_FAULTS = frozenset(
    f"{code}_after" for code in ("500", "502", "503", "504", "520", "521", "522", "523", "524")
)
API_FAULT_KINDS = PRE_HANDLER_FAULTS | POST_HANDLER_FAULTS | POST_HANDLER_STATUS_FAULTS


def after_status(kind: str | None) -> str | None:
    """The status a post-handler status fault answers with (`"524_after"` → `"524"`)."""
    if kind in POST_HANDLER_STATUS_FAULTS:
        return str(kind).removesuffix("_after")
    return None
DEFAULT_TIMEOUT_S = 30.0


class FaultConfigError(ValueError):
    """A faults body the control surface rejects with 400."""


class FaultInjector:
    """Picks the fault for each API request. Deterministic for a given seed and request order."""

    def __init__(
        self,
        allowed_kinds: Iterable[str],
        default_kinds: Sequence[str],
        rate: float = 0.0,
        kinds: Sequence[str] | None = None,
        seed: int = 1,
    ) -> None:
        self.allowed_kinds = frozenset(allowed_kinds)
        self.default_kinds = list(default_kinds)
        self.rate = 0.0
        self.kinds: list[str] = []
        self.seed = seed
        self.script: list[str] | None = None
        self.paths: list[str] = []
        self.timeout_s = DEFAULT_TIMEOUT_S
        self.burst = 1
        self._burst_kind: str | None = None
        self._burst_left = 0
        self._rng = random.Random(seed)
        self.last_picked: str | None = None
        self.configure({"rate": rate, "kinds": list(kinds or self.default_kinds), "seed": seed})

    def _check_kinds(self, kinds: Iterable[str], allow_ok: bool = False) -> list[str]:
        out = []
        for k in kinds:
            k = str(k)
            if k == "ok" and allow_ok:
                out.append(k)
                continue
            if k not in self.allowed_kinds:
                raise FaultConfigError(f"unknown fault kind {k!r}")
            out.append(k)
        return out

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the fault configuration (the body of `POST /__sandbox/faults`)."""
        script = body.get("script")
        rate = float(body.get("rate", 0.0))
        if not 0.0 <= rate <= 1.0:
            raise FaultConfigError("rate must be within [0, 1]")
        kinds = self._check_kinds(body.get("kinds") or self.default_kinds)
        new_script = None if script is None else self._check_kinds(script, allow_ok=True)
        paths = body.get("paths") or []
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise FaultConfigError("paths must be a list of path prefixes")
        self.rate = rate if new_script is None else 0.0
        self.kinds = kinds
        self.script = new_script
        self.paths = list(paths)
        self.timeout_s = float(body.get("timeout_s", DEFAULT_TIMEOUT_S))
        burst = int(body.get("burst", 1))
        if burst < 1:
            raise FaultConfigError("burst must be >= 1")
        self.burst = burst
        self._burst_kind, self._burst_left = None, 0
        if "seed" in body:
            self.seed = int(body["seed"])
        self._rng = random.Random(self.seed)
        return self.as_dict()

    def clear(self) -> None:
        self._burst_kind, self._burst_left = None, 0
        self.burst = 1
        self.rate = 0.0
        self.script = None
        self.paths = []
        self.timeout_s = DEFAULT_TIMEOUT_S

    def as_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": self.kinds,
            "seed": self.seed,
            "script": self.script,
            "paths": self.paths,
            "timeout_s": self.timeout_s,
            "burst": self.burst,
        }

    def pick(self, path: str) -> str | None:
        """The fault kind for this API request, or None. Consumes a script entry if scripted.

        The result is also kept in `last_picked` for the service's handler wrapper."""
        self.last_picked = self._pick(path)
        return self.last_picked

    def _pick(self, path: str) -> str | None:
        if self.paths and not any(path.startswith(p) for p in self.paths):
            return None
        if self.script is not None:
            if not self.script:
                return None
            kind = self.script.pop(0)
            return None if kind == "ok" else kind
        if self._burst_left > 0 and self._burst_kind is not None:
            self._burst_left -= 1
            return self._burst_kind
        if self.rate <= 0.0 or not self.kinds:
            return None
        if self._rng.random() < self.rate:
            kind = self._rng.choice(self.kinds)
            if self.burst > 1:
                self._burst_kind, self._burst_left = kind, self.burst - 1
            return kind
        return None
