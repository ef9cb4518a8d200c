"""The durable webhook queue, shared by the receiver (writes) and the tap (reads in order).

Two backends behind one interface, chosen by URL:

- `sqlite:///PATH` (embedded default): WAL journal, `synchronous=FULL`, so a committed insert
  is on disk before the receiver answers 2xx; several processes on one host may share the file.
- `postgresql://...`: several receivers behind a load balancer share one queue. Inserts take a
  transaction-scoped advisory lock, so sequence numbers are handed out in commit order and a
  reader that has seen `seq = n` can never later find a committed row below `n`.

Both keep one row per event id (a unique index; `INSERT ... ON CONFLICT DO NOTHING`), so a
duplicate delivery is acknowledged and stored once. Rows whose event time is older than the
replay window are pruned (deliveries that old are refused anyway, so their ids are not needed to
spot duplicates); the tap must drain the queue within that window.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tap_activecampaign.webhooks.decode import WebhookEvent

# Any constant: the advisory lock key that serializes inserts (and schema creation).
_PG_LOCK_KEY = 0x4143_5748  # "ACWH"


class QueueError(RuntimeError):
    """The queue cannot be opened or written; the message never holds the URL's password."""


@dataclass(frozen=True)
class QueuedEvent:
    seq: int
    event_id: str
    received_at: float
    record: dict[str, Any]
    raw: str


class WebhookQueue(Protocol):
    def put(self, event: WebhookEvent, received_at: float) -> tuple[bool, int]:
        """Store durably; (inserted, seq). A duplicate answers (False, seq of the stored row)."""

    def read(self, after: int, limit: int = 500) -> list[QueuedEvent]:
        """Events with seq > after, in seq order."""

    def prune(self, older_than_epoch: float) -> int: ...

    def count(self) -> int: ...

    def close(self) -> None: ...


def redact_url(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    if "://" not in url or "@" not in url.split("://", 1)[1]:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def open_queue(url: str) -> WebhookQueue:
    if url.startswith("sqlite:///"):
        return SQLiteQueue(Path(url[len("sqlite:///"):]))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresQueue(url)
    raise QueueError(f"unsupported queue URL {redact_url(url)!r}: expected sqlite:///PATH "
                     "or postgresql://...")


def _row_event(event: WebhookEvent) -> tuple[str, float, str, str, str]:
    return (event.event_id, event.date_time.timestamp(), event.type, event.raw,
            json.dumps(event.as_record(), separators=(",", ":"), sort_keys=True))


class SQLiteQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS webhook_events ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " event_id TEXT NOT NULL UNIQUE,"
            " event_epoch REAL NOT NULL,"
            " received_at REAL NOT NULL,"
            " type TEXT NOT NULL,"
            " raw TEXT NOT NULL,"
            " event TEXT NOT NULL)")

    def put(self, event: WebhookEvent, received_at: float) -> tuple[bool, int]:
        eid, epoch, etype, raw, body = _row_event(event)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "INSERT INTO webhook_events (event_id, event_epoch, received_at, type, raw,"
                    " event) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
                    " RETURNING seq", (eid, epoch, received_at, etype, raw, body)).fetchone()
                if row is None:
                    existing = self._db.execute(
                        "SELECT seq FROM webhook_events WHERE event_id = ?", (eid,)).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        if row is not None:
            return True, int(row[0])
        return False, int(existing[0]) if existing else 0

    def read(self, after: int, limit: int = 500) -> list[QueuedEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, received_at, event, raw FROM webhook_events"
                " WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [QueuedEvent(int(r[0]), r[1], float(r[2]), json.loads(r[3]), r[4]) for r in rows]

    def prune(self, older_than_epoch: float) -> int:
        with self._lock:
            cur = self._db.execute("DELETE FROM webhook_events WHERE event_epoch < ?",
                                   (older_than_epoch,))
            return cur.rowcount

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM webhook_events").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class PostgresQueue:
    def __init__(self, url: str) -> None:
        import psycopg  # only needed for this backend

        self._psycopg = psycopg
        self._url = url
        self._lock = threading.Lock()
        self._conn: Any = None
        with self._lock:
            conn = self._connect()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS webhook_events ("
                    " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                    " event_id TEXT NOT NULL,"
                    " event_epoch DOUBLE PRECISION NOT NULL,"
                    " received_at DOUBLE PRECISION NOT NULL,"
                    " type TEXT NOT NULL,"
                    " raw TEXT NOT NULL,"
                    " event JSONB NOT NULL)")
                conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_event_id"
                             " ON webhook_events (event_id)")

    def _connect(self) -> Any:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = self._psycopg.connect(self._url, autocommit=True,
                                                   connect_timeout=10)
            except self._psycopg.Error as exc:
                raise QueueError(f"cannot connect to {redact_url(self._url)}: "
                                 f"{type(exc).__name__}") from None
        return self._conn

    def _run(self, fn: Any) -> Any:
        """Run fn(conn) in one transaction; one reconnect if the connection was lost."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._connect()
                try:
                    with conn.transaction():
                        return fn(conn)
                except self._psycopg.OperationalError:
                    conn.close()
                    if attempt == 2:
                        raise QueueError(f"lost the connection to {redact_url(self._url)}"
                                         ) from None
        raise AssertionError("unreachable")

    def put(self, event: WebhookEvent, received_at: float) -> tuple[bool, int]:
        eid, epoch, etype, raw, body = _row_event(event)

        def insert(conn: Any) -> tuple[bool, int]:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
            row = conn.execute(
                "INSERT INTO webhook_events (event_id, event_epoch, received_at, type, raw,"
                " event) VALUES (%s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT (event_id)"
                " DO NOTHING RETURNING seq", (eid, epoch, received_at, etype, raw, body)
            ).fetchone()
            if row is not None:
                return True, int(row[0])
            old = conn.execute("SELECT seq FROM webhook_events WHERE event_id = %s",
                               (eid,)).fetchone()
            return False, int(old[0]) if old else 0

        result: tuple[bool, int] = self._run(insert)
        return result

    def read(self, after: int, limit: int = 500) -> list[QueuedEvent]:
        rows = self._run(lambda conn: conn.execute(
            "SELECT seq, event_id, received_at, event::text, raw FROM webhook_events"
            " WHERE seq > %s ORDER BY seq LIMIT %s", (after, limit)).fetchall())
        return [QueuedEvent(int(r[0]), r[1], float(r[2]), json.loads(r[3]), r[4]) for r in rows]

    def prune(self, older_than_epoch: float) -> int:
        count: int = self._run(lambda conn: conn.execute(
            "DELETE FROM webhook_events WHERE event_epoch < %s", (older_than_epoch,)).rowcount)
        return count

    def count(self) -> int:
        n: int = self._run(lambda conn: conn.execute(
            "SELECT count(*) FROM webhook_events").fetchone()[0])
        return int(n)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
