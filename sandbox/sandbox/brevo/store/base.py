# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""The SQLite core of the Brevo store: the schema, the stored time format, the connection with
its transactions and strictly increasing clock, and the paging every listing shares."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sandbox.brevo.attributes import DEFAULT_ATTRIBUTES

SCHEMA = """
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT UNIQUE,
    ext_id TEXT UNIQUE,
    sms TEXT UNIQUE,
    attributes TEXT NOT NULL DEFAULT '{}',
    email_blacklisted INTEGER NOT NULL DEFAULT 0,
    sms_blacklisted INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_modified_at ON contacts(modified_at);
CREATE TABLE IF NOT EXISTS attributes (
    name TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    type TEXT,
    enumeration TEXT NOT NULL DEFAULT '[]',
    options TEXT NOT NULL DEFAULT '[]',
    calculated_value TEXT,
    is_recurring INTEGER,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS folders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    folder_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS list_contacts (
    list_id INTEGER NOT NULL,
    contact_id INTEGER NOT NULL,
    unsubscribed INTEGER NOT NULL DEFAULT 0,
    added_at TEXT NOT NULL,
    PRIMARY KEY (list_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS list_contacts_contact ON list_contacts(contact_id);
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    scheduled_at TEXT,
    data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_name TEXT NOT NULL,
    event_date TEXT,
    identifiers TEXT NOT NULL,
    contact_properties TEXT,
    event_properties TEXT,
    object TEXT,
    received_at TEXT NOT NULL,
    via_batch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS processes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    request BLOB,
    info TEXT,
    error TEXT
);
CREATE TABLE IF NOT EXISTS import_reports (
    process_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    row INTEGER NOT NULL,
    email TEXT,
    ext_id TEXT,
    sms TEXT,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS import_reports_process ON import_reports(process_id, kind);
"""

TABLES = (
    "contacts", "attributes", "folders", "lists", "list_contacts", "campaigns", "events",
    "processes", "import_reports",
)

CONTACT_COLUMNS = (
    "id, email, ext_id, sms, attributes, email_blacklisted, sms_blacklisted, created_at, "
    "modified_at"
)


def iso_ms(ms: int) -> str:
    """Brevo-style UTC time with milliseconds, e.g. ``2026-11-27T18:05:03.123Z``."""
    d = dt.datetime.fromtimestamp(ms // 1000, tz=dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso(epoch: float) -> str:
    """``iso_ms`` of an epoch in seconds (truncated to the millisecond)."""
    return iso_ms(int(epoch * 1000))


def parse_time(value: str) -> str | None:
    """A client's date-time (any ISO 8601, ``Z`` or offset; naive = UTC) as our stored form."""
    text = value.strip().replace(" ", "+")
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.UTC)
    whole = d.replace(microsecond=0)
    return iso_ms(int(whole.timestamp()) * 1000 + d.microsecond // 1000)



class StoreBase:
    """The SQLite connection and what every table module shares. Single-threaded: used from
    the event loop only."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA foreign_keys = OFF")
        if self.path != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(SCHEMA)
        self._last_ms = 0
        if not self.conn.execute("SELECT 1 FROM attributes LIMIT 1").fetchone():
            with self.transaction():
                self._insert_default_attributes()

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction (nested calls join the outer one)."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def now(self) -> str:
        """The current time as stored, strictly increasing across calls (a call within the
        same millisecond as the previous one gets the next millisecond), so two writes never
        share a ``modifiedAt`` and "modified since" is exact."""
        ms = int(time.time() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        return iso_ms(ms)

    def close(self) -> None:
        self.conn.close()

    def reset(self) -> None:
        """An empty account: no contacts, lists, folders, campaigns, events or processes."""
        with self.transaction() as c:
            for table in TABLES:
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM sqlite_sequence")
            self._insert_default_attributes()

    def _insert_default_attributes(self) -> None:
        for pos, (name, category, type_) in enumerate(DEFAULT_ATTRIBUTES):
            self.conn.execute(
                "INSERT INTO attributes(name, category, type, position) VALUES (?, ?, ?, ?)",
                (name, category, type_, pos),
            )

    def page(self, columns: str, source: str, where: str, params: Sequence[Any], order_by: str,
             sort: str, limit: int, offset: int) -> tuple[list[Any], int]:
        """One page of ``SELECT columns FROM source where`` ordered by ``order_by`` (``sort``
        "asc", else descending) and the count of all matching rows: every Brevo listing."""
        count = self.conn.execute(f"SELECT COUNT(*) FROM {source} {where}", params).fetchone()[0]
        order = "ASC" if sort == "asc" else "DESC"
        rows = self.conn.execute(
            f"SELECT {columns} FROM {source} {where} ORDER BY {order_by} {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return rows, int(count)


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
