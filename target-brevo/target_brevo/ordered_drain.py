"""Dependency-ordered draining: the one place that leans on singer-sdk's private drain API.

Why it exists: singer-sdk 0.54 drains sinks one by one in the order they were created
(`Target.drain_all` is `@final`) and drains a full sink *alone* (`drain_one` straight from
`_process_record_message`). Brevo needs the opposite: a list membership must never reach
Brevo before its list and its contact, so every drain stages all sinks and only then writes
everything in dependency order (`sync.Syncer.flush`). The SDK's public API has no hook for
either, so this mixin overrides the private `_drain_all` and reads the private
`_sinks_to_clear`, `_sinks_active` and `_latest_state`. Those names are pinned by
`singer-sdk==0.54.9` and checked by `tests/test_target_ordered_drain.py`, which fails on an
SDK upgrade that renames them.
"""

from __future__ import annotations

import copy
import typing as t

from singer_sdk.target_base import Target

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.sinks import Sink


class OrderedDrain(Target):
    """A Target whose every drain (a full sink included) stages all sinks, then flushes once."""

    _ordered = False

    def flush_in_order(self) -> None:
        """Write everything staged, in dependency order (the subclass's flush)."""
        raise NotImplementedError

    def active_sinks(self) -> list[Sink]:
        """The sinks receiving records now (the SDK keeps them privately)."""
        return list(self._sinks_active.values())

    def latest_state(self, *, copied: bool = True) -> dict[str, t.Any] | None:
        """The last STATE received from the tap (maybe not emitted yet): a copy, unless
        `copied=False` for a caller that only reads it."""
        if not self._latest_state:
            return None
        return copy.deepcopy(self._latest_state) if copied else self._latest_state

    def write_staged(self) -> None:
        """Stage every sink and flush in order, without emitting STATE: for an early write
        that should not make a crashed run skip anything on its rerun."""
        self._drain_all(list(self._sinks_active.values()), self.max_parallelism)

    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        """Every drain stages all sinks, then writes in dependency order."""
        self._ordered = True
        try:
            for sink in list(sink_list):
                self.drain_one(sink)
            if sink_list is not self._sinks_to_clear:
                self.flush_in_order()
        finally:
            self._ordered = False

    def on_sink_drained(self) -> None:
        """A full sink drained alone: stage every other sink too, flush in order, then emit
        the latest STATE (all records before it are confirmed)."""
        if self._ordered:
            return
        self._ordered = True
        try:
            for sink in [*self._sinks_to_clear, *self._sinks_active.values()]:
                self.drain_one(sink)
            self.flush_in_order()
        finally:
            self._ordered = False
        # Every record received so far is now confirmed by Brevo, so the latest STATE
        # (which only covers records received before it) may move: long runs resume here.
        state = self.latest_state()
        if state:
            self._write_state_message(state)
        self._reset_max_record_age()
