"""The request log read by benchmarks and tests (`GET /__sandbox/requests`).

The core records every API request once, when its response is decided: method, path, the route
template (`/api/3/contacts/{id}`, used for `by_path`), query string, status (an int, or the
fault name `"reset"` / `"reset_after"` when no response was sent), rate bucket, fault kind and
whether no route serves it (`unimplemented`; counted per `"METHOD /path"` in `unimplemented`).
Control requests are never logged. Services do nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

MAX_LOG_ENTRIES = 200_000


@dataclass(slots=True)
class LogEntry:
    t: float
    method: str
    path: str
    route: str
    query: str
    status: int | str
    bucket: str
    fault: str | None
    unimplemented: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "method": self.method,
            "path": self.path,
            "route": self.route,
            "query": self.query,
            "status": self.status,
            "bucket": self.bucket,
            "fault": self.fault,
            "unimplemented": self.unimplemented,
        }


class RequestLog:
    def __init__(self, max_entries: int = MAX_LOG_ENTRIES) -> None:
        self.max_entries = max_entries
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_path: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.by_bucket: Counter[str] = Counter()
        self.by_fault: Counter[str] = Counter()
        self.unimplemented: Counter[str] = Counter()
        self.entries: list[LogEntry] = []
        self.dropped = 0

    def record(self, entry: LogEntry) -> None:
        self.total += 1
        self.by_path[f"{entry.method} {entry.route}"] += 1
        self.by_status[str(entry.status)] += 1
        self.by_bucket[entry.bucket] += 1
        if entry.fault:
            self.by_fault[entry.fault] += 1
        if entry.unimplemented:
            self.unimplemented[f"{entry.method} {entry.path}"] += 1
        if len(self.entries) < self.max_entries:
            self.entries.append(entry)
        else:
            self.dropped += 1

    def as_dict(self, include_log: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "total": self.total,
            "by_path": dict(self.by_path),
            "by_status": dict(self.by_status),
            "by_bucket": dict(self.by_bucket),
            "by_fault": dict(self.by_fault),
            "unimplemented": dict(self.unimplemented),
            "dropped": self.dropped,
        }
        if include_log:
            out["log"] = [e.as_dict() for e in self.entries]
        return out
