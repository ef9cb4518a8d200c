"""Per-stream progress at the default log level: records so far, requests, rates.

The SDK's ``record_count`` metrics come every minute, per context and without the stream in the
message text, so a long first sync looks silent. Here every stream counts the records it writes
and the requests it sends; at most every :data:`INTERVAL_SECONDS` one line per stream that moved
since the last line is logged, and when a top-level stream (with its children) is done, one
summary line per stream.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from dataclasses import dataclass, field

#: Seconds between two progress lines.
INTERVAL_SECONDS = 10.0

_REGISTRY_LOCK = threading.Lock()


@dataclass
class StreamCounts:
    """What one stream did so far."""

    records: int = 0
    requests: int = 0
    started: float | None = None
    last_event: float | None = None
    reported: tuple[int, int] = (0, 0)  # (records, requests) at the last progress line
    summarized: bool = False

    def elapsed(self, now: float) -> float:
        return max(0.0, now - self.started) if self.started is not None else 0.0


@dataclass
class Progress:
    """The progress of every stream of one tap process (thread-safe)."""

    logger: logging.Logger
    interval: float = INTERVAL_SECONDS
    clock: t.Callable[[], float] = time.monotonic
    streams: dict[str, StreamCounts] = field(default_factory=dict)
    last_line: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _counts(self, stream: str, now: float) -> StreamCounts:
        counts = self.streams.get(stream)
        if counts is None:
            counts = self.streams[stream] = StreamCounts()
        if counts.started is None:
            counts.started = now
        counts.last_event = now
        return counts

    def start(self, stream: str) -> None:
        """The stream begins (its clock starts, if it has not already)."""
        with self.lock:
            self._counts(stream, self.clock())

    def record(self, stream: str, n: int = 1) -> None:
        """``n`` records written."""
        with self.lock:
            now = self.clock()
            self._counts(stream, now).records += n
            self._maybe_report(now)

    def request(self, stream: str) -> None:
        """One request sent (a retry is a request too)."""
        with self.lock:
            now = self.clock()
            self._counts(stream, now).requests += 1
            self._maybe_report(now)

    def _maybe_report(self, now: float) -> None:
        if self.last_line is None:
            self.last_line = now
            return
        if now - self.last_line < self.interval:
            return
        self.last_line = now
        for name, counts in self.streams.items():
            if counts.summarized or counts.reported == (counts.records, counts.requests):
                continue
            counts.reported = (counts.records, counts.requests)
            elapsed = counts.elapsed(now)
            self.logger.info(
                "progress: stream %s: %s records so far (%s/s), %s requests (%.1f/s) in %.0f s",
                name,
                f"{counts.records:,}",
                _rate(counts.records, elapsed),
                f"{counts.requests:,}",
                counts.requests / elapsed if elapsed else 0.0,
                elapsed,
            )

    def summarize(self, names: t.Iterable[str]) -> None:
        """One final line for each of these streams that has not had one."""
        with self.lock:
            now = self.clock()
            for name in names:
                counts = self.streams.get(name)
                if counts is None or counts.summarized:
                    continue
                counts.summarized = True
                end = counts.last_event if counts.last_event is not None else now
                elapsed = counts.elapsed(end)
                self.logger.info(
                    "stream %s done: %s records, %s requests in %.1f s (%s records/s)",
                    name,
                    f"{counts.records:,}",
                    f"{counts.requests:,}",
                    elapsed,
                    _rate(counts.records, elapsed),
                )


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:,.0f}" if seconds > 0 else "-"


def progress_of(owner: object, logger: logging.Logger) -> Progress:
    """The one :class:`Progress` of ``owner`` (the tap), created on first use."""
    with _REGISTRY_LOCK:
        found = owner.__dict__.get("_stream_progress")
        if not isinstance(found, Progress):
            found = Progress(logger)
            owner.__dict__["_stream_progress"] = found
        return found
