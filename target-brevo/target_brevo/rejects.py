"""Rejected records: one JSON line each (stream, key, code, reason, field)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import typing as t
from pathlib import Path

from target_brevo.serialize import dumps

LOGGER = logging.getLogger("target_brevo.rejects")


# Notes on written records that still lost a value count towards `max_rejects` too.
VALUE_LOSSES = {"invalid_value", "value_not_stored"}

# Per reject code, this many are logged at WARNING; the rest at DEBUG (all are in the file), so
# 5% of bad phone numbers in 200,000 contacts do not bury the log an operator has to read.
WARN_PER_CODE = 10


def problem_digest(entry: t.Mapping[str, t.Any]) -> bytes:
    """What makes two rejects the same problem: stream, key, code, field and reason (the reason
    names the offending value, so a record rejected again for other content is a new problem).
    Computed from the line itself, so files written before this existed are read too."""
    parts = [entry.get(k) for k in ("stream", "key", "code", "field", "reason")]
    # 16 bytes are plenty to tell problems apart and keep the run-wide set small
    return hashlib.sha256(dumps(parts).encode()).digest()[:16]


def read_digests(path: Path | None) -> set[bytes]:
    """The problems already in a rejects file (unreadable lines are skipped)."""
    if path is None or not path.is_file():
        return set()
    found: set[bytes] = set()
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                found.add(problem_digest(entry))
    return found


class TooManyRejectsError(RuntimeError):
    """More rejects than `max_rejects`: the run fails before STATE moves."""


class Rejects:
    """Collects rejects, appends them to a JSON-lines file and enforces `max_rejects`.

    Notes (a contact written without its phone number, a value Brevo did not store)
    are rejects too: they name the field that was dropped while the rest of the
    record was written.

    A problem already in the file (same stream, key, code, field and reason: a no-change
    rerun rejects the same records again) is counted for this run (``count``, ``max_rejects``)
    but not appended again nor counted as new: the file holds each problem once, from its
    first sighting, and ``new`` says how many this run added.
    """

    def __init__(self, path: str | None, max_rejects: int | None) -> None:
        self.path = Path(path) if path else None
        self.max_rejects = max_rejects
        self.count = 0
        self.not_written = 0  # records that did not reach Brevo: these count for max_rejects
        self.by_code: dict[str, int] = {}
        self.new = 0  # problems not in the file before (appended to it)
        self._known = read_digests(self.path)
        self._lock = threading.Lock()

    def add(
        self,
        stream: str,
        key: t.Any,
        code: str,
        reason: str,
        field: str | None = None,
        *,
        written: bool = False,
    ) -> None:
        """Record one reject. `written=True` means the rest of the record was written."""
        entry = {
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "stream": stream,
            "key": key,
            "code": code,
            "reason": reason,
            "field": field,
            "record_written": written,
        }
        with self._lock:
            self.count += 1
            if not written or code in VALUE_LOSSES:
                self.not_written += 1
            self.by_code[code] = self.by_code.get(code, 0) + 1
            digest = problem_digest(entry)
            repeat = digest in self._known
            if not repeat:
                self._known.add(digest)
                self.new += 1
                if self.path is not None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with self.path.open("a", encoding="utf-8") as fh:
                        fh.write(dumps(entry) + "\n")
            seen = self.by_code[code]
        if repeat:
            LOGGER.debug("Rejected again %s %s: %s (%s)", stream, key, reason, code)
        elif seen <= WARN_PER_CODE:
            LOGGER.warning("Rejected %s %s: %s (%s)", stream, key, reason, code)
            if seen == WARN_PER_CODE:
                LOGGER.warning(
                    "Further %s rejects are logged at DEBUG only; every reject is in %s",
                    code,
                    self.path or "the rejects list (set rejects_file to keep them)",
                )
        else:
            LOGGER.debug("Rejected %s %s: %s (%s)", stream, key, reason, code)

    def summary(self) -> str:
        """One line for the end of a run: counts per code and where the details are."""
        codes = ", ".join(f"{n} {code}" for code, n in sorted(self.by_code.items()))
        where = f"; details in {self.path}" if self.path else ""
        again = self.count - self.new
        if again:  # a rerun meeting the same problems: say how many are news
            codes += f"; {self.new} new, {again} already in the rejects file"
        return (
            f"{self.count} rejects ({codes}), {self.not_written} of them records or values "
            f"that did not reach Brevo{where}"
        )

    def check(self) -> None:
        """Raise when more records than `max_rejects` did not reach Brevo.

        Notes about records that were written without a phone number are in the file but do
        not count; a lost value (`invalid_value`, `value_not_stored`) does.
        """
        limit = self.max_rejects
        if limit is not None and limit >= 0 and self.not_written > limit:
            msg = (
                f"{self.not_written} rejected records exceed max_rejects={limit}; "
                "failing the run before STATE moves"
            )
            raise TooManyRejectsError(msg)
