# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""The Brevo account, kept in SQLite (a file with ``--db FILE``, else in memory).

Tables (inspect a file with ``sqlite3 FILE``; attribute values are JSON in ``contacts.attributes``):

- ``contacts(id, email, ext_id, sms, attributes, email_blacklisted, sms_blacklisted,
  created_at, modified_at)``: ``email`` lower-cased, ``sms`` in E.164 with ``+``; each of the
  three identifiers is UNIQUE (NULLs allowed);
- ``attributes(name, category, type, enumeration, options, calculated_value, is_recurring,
  position)``;
- ``folders(id, name, created_at)``, ``lists(id, name, folder_id, created_at)``,
  ``list_contacts(list_id, contact_id, unsubscribed, added_at)``;
- ``campaigns(id, name, status, scheduled_at, data, created_at, modified_at)`` (``data`` = the
  JSON fields of the draft);
- ``events(id, event_name, event_date, identifiers, contact_properties, event_properties,
  object, received_at, via_batch)``;
- ``processes(id, name, status, created_at, started_at, completed_at, request, info, error)``
  and ``import_reports(process_id, kind, row, email, ext_id, sms, reason)``.

Ids come from AUTOINCREMENT, so a deleted id is never reused (until ``reset``). Times are UTC
strings ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (they sort as text).

Methods here are storage primitives; Brevo's rules sit in ``contacts.py`` (contact writes),
``imports.py`` (bulk import), ``attributes.py`` and ``identifiers.py``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from sandbox.brevo.attributes import DEFAULT_ATTRIBUTES, AttributeDef

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


@dataclass
class Contact:
    """One contact row."""

    id: int
    email: str | None
    ext_id: str | None
    sms: str | None
    attributes: dict[str, Any]
    email_blacklisted: bool
    sms_blacklisted: bool
    created_at: str
    modified_at: str
    list_ids: list[int] = field(default_factory=list)
    unsubscribed: list[int] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Contact:
        return cls(
            id=row[0],
            email=row[1],
            ext_id=row[2],
            sms=row[3],
            attributes=orjson.loads(row[4]),
            email_blacklisted=bool(row[5]),
            sms_blacklisted=bool(row[6]),
            created_at=row[7],
            modified_at=row[8],
        )

    def api_attributes(self) -> dict[str, Any]:
        """Attributes as Brevo returns them: data attributes plus SMS and EXT_ID."""
        out = dict(self.attributes)
        if self.sms is not None:
            out["SMS"] = self.sms
        if self.ext_id is not None:
            out["EXT_ID"] = self.ext_id
        return out

    def to_api(self) -> dict[str, Any]:
        """The contact in ``GET /contacts`` (no ``email`` key when it has none)."""
        out: dict[str, Any] = {"id": self.id}
        if self.email is not None:
            out["email"] = self.email
        out.update(
            emailBlacklisted=self.email_blacklisted,
            smsBlacklisted=self.sms_blacklisted,
            # nothing in this API reaches WhatsApp, so no contact is ever blocklisted there
            whatsappBlacklisted=False,
            createdAt=self.created_at,
            modifiedAt=self.modified_at,
            listIds=self.list_ids,
            listUnsubscribed=self.unsubscribed,
            attributes=self.api_attributes(),
        )
        return out

    def to_dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "ext_id": self.ext_id,
            "sms": self.sms,
            "attributes": self.attributes,
            "listIds": self.list_ids,
            "listUnsubscribed": self.unsubscribed,
            "emailBlacklisted": self.email_blacklisted,
            "smsBlacklisted": self.sms_blacklisted,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
        }


class Store:
    """The SQLite-backed account. Single-threaded: used from the event loop only."""

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

    # -- attributes -----------------------------------------------------------------------

    def attributes(self) -> dict[str, AttributeDef]:
        rows = self.conn.execute(
            "SELECT name, category, type, enumeration, options, calculated_value, is_recurring "
            "FROM attributes ORDER BY position"
        ).fetchall()
        return {
            r[0]: AttributeDef(
                name=r[0], category=r[1], type=r[2], enumeration=orjson.loads(r[3]),
                options=orjson.loads(r[4]), calculated_value=r[5],
                is_recurring=None if r[6] is None else bool(r[6]),
            )
            for r in rows
        }

    def save_attribute(self, attr: AttributeDef) -> None:
        pos = self.conn.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM attributes").fetchone()
        self.conn.execute(
            "INSERT INTO attributes(name, category, type, enumeration, options, calculated_value, "
            "is_recurring, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE "
            "SET category = excluded.category, type = excluded.type, "
            "enumeration = excluded.enumeration, options = excluded.options, "
            "calculated_value = excluded.calculated_value, is_recurring = excluded.is_recurring",
            (
                attr.name, attr.category, attr.type, orjson.dumps(attr.enumeration).decode(),
                orjson.dumps(attr.options).decode(), attr.calculated_value,
                None if attr.is_recurring is None else int(attr.is_recurring), pos[0],
            ),
        )

    def delete_attribute(self, name: str) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM attributes WHERE name = ?", (name,))
            c.execute(
                "UPDATE contacts SET attributes = json_remove(attributes, ?) "
                "WHERE json_type(attributes, ?) IS NOT NULL",
                (f'$."{name}"', f'$."{name}"'),
            )

    # -- contacts -------------------------------------------------------------------------

    def _with_lists(self, contacts: list[Contact]) -> list[Contact]:
        if not contacts:
            return contacts
        by_id = {c.id: c for c in contacts}
        ids = list(by_id)
        for chunk in _chunks(ids, 900):
            marks = ",".join("?" * len(chunk))
            for contact_id, list_id, unsub in self.conn.execute(
                f"SELECT contact_id, list_id, unsubscribed FROM list_contacts "
                f"WHERE contact_id IN ({marks}) ORDER BY list_id",
                chunk,
            ):
                (by_id[contact_id].unsubscribed if unsub else by_id[contact_id].list_ids).append(
                    list_id
                )
        return contacts

    def contact_by(self, kind: str, value: str | int) -> Contact | None:
        column = {"email": "email", "id": "id", "ext_id": "ext_id", "sms": "sms"}.get(kind)
        if column is None:
            return None
        row = self.conn.execute(
            f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE {column} = ?",
            (value,),
        ).fetchone()
        if row is None:
            return None
        return self._with_lists([Contact.from_row(row)])[0]

    def contacts_by_column(self, column: str, values: Iterable[str]) -> dict[str, Contact]:
        """Contacts whose ``column`` (email, ext_id or sms) is among ``values``, by that value."""
        assert column in ("email", "ext_id", "sms")
        out: dict[str, Contact] = {}
        for chunk in _chunks(list(set(values)), 900):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT {CONTACT_COLUMNS} FROM contacts WHERE {column} IN ({marks})",
                chunk,
            ):
                c = Contact.from_row(row)
                out[getattr(c, column)] = c
        return out

    def insert_contact(self, c: Contact) -> int:
        cur = self.conn.execute(
            "INSERT INTO contacts(email, ext_id, sms, attributes, email_blacklisted, "
            "sms_blacklisted, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                c.email, c.ext_id, c.sms, orjson.dumps(c.attributes).decode(),
                int(c.email_blacklisted), int(c.sms_blacklisted), c.created_at, c.modified_at,
            ),
        )
        assert cur.lastrowid is not None
        c.id = cur.lastrowid
        return c.id

    def update_contact(self, c: Contact) -> None:
        self.conn.execute(
            "UPDATE contacts SET email = ?, ext_id = ?, sms = ?, attributes = ?, "
            "email_blacklisted = ?, sms_blacklisted = ?, modified_at = ? WHERE id = ?",
            (
                c.email, c.ext_id, c.sms, orjson.dumps(c.attributes).decode(),
                int(c.email_blacklisted), int(c.sms_blacklisted), c.modified_at, c.id,
            ),
        )

    def update_contacts(self, contacts: Sequence[Contact]) -> None:
        self.conn.executemany(
            "UPDATE contacts SET email = ?, ext_id = ?, sms = ?, attributes = ?, "
            "email_blacklisted = ?, sms_blacklisted = ?, modified_at = ? WHERE id = ?",
            [
                (
                    c.email, c.ext_id, c.sms, orjson.dumps(c.attributes).decode(),
                    int(c.email_blacklisted), int(c.sms_blacklisted), c.modified_at, c.id,
                )
                for c in contacts
            ],
        )

    def clear_identifiers(self, ids: Sequence[int]) -> None:
        self.conn.executemany(
            "UPDATE contacts SET email = NULL, ext_id = NULL, sms = NULL WHERE id = ?",
            [(i,) for i in ids],
        )

    def touch_contacts(self, ids: Sequence[int], stamp: str) -> None:
        self.conn.executemany(
            "UPDATE contacts SET modified_at = ? WHERE id = ?", [(stamp, i) for i in ids]
        )

    def delete_contact(self, contact_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM list_contacts WHERE contact_id = ?", (contact_id,))
            c.execute("DELETE FROM contacts WHERE id = ?", (contact_id,))

    def query_contacts(
        self,
        *,
        limit: int,
        offset: int,
        sort: str = "desc",
        modified_since: str | None = None,
        created_since: str | None = None,
        list_ids: Sequence[int] | None = None,
    ) -> tuple[list[Contact], int]:
        where: list[str] = []
        params: list[Any] = []
        if modified_since is not None:
            where.append("modified_at > ?")
            params.append(modified_since)
        if created_since is not None:
            where.append("created_at > ?")
            params.append(created_since)
        if list_ids:
            marks = ",".join("?" * len(list_ids))
            where.append(
                f"id IN (SELECT contact_id FROM list_contacts WHERE list_id IN ({marks}) "
                "AND unsubscribed = 0)"
            )
            params.extend(list_ids)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        count = self.conn.execute(
            f"SELECT COUNT(*) FROM contacts{clause}", params
        ).fetchone()[0]
        order = "ASC" if sort == "asc" else "DESC"
        rows = self.conn.execute(
            f"SELECT {CONTACT_COLUMNS} FROM contacts{clause} "
            f"ORDER BY id {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return self._with_lists([Contact.from_row(r) for r in rows]), count

    def all_contacts(self) -> list[Contact]:
        rows = self.conn.execute(f"SELECT {CONTACT_COLUMNS} FROM contacts ORDER BY id").fetchall()
        return self._with_lists([Contact.from_row(r) for r in rows])

    # -- membership -----------------------------------------------------------------------

    def add_to_lists(self, pairs: Iterable[tuple[int, int]], stamp: str) -> int:
        """Insert ``(list_id, contact_id)`` memberships (re-subscribing); returns rows changed."""
        before = self.conn.total_changes
        self.conn.executemany(
            "INSERT INTO list_contacts(list_id, contact_id, unsubscribed, added_at) "
            "VALUES (?, ?, 0, ?) ON CONFLICT(list_id, contact_id) DO UPDATE SET unsubscribed = 0 "
            "WHERE unsubscribed = 1",
            [(lid, cid, stamp) for lid, cid in pairs],
        )
        return self.conn.total_changes - before

    def unsubscribe(self, list_id: int, contact_id: int, stamp: str) -> None:
        """The recipient unsubscribed from the list (as through an email's link): no longer a
        member, listed in ``listUnsubscribed``."""
        self.conn.execute(
            "INSERT INTO list_contacts(list_id, contact_id, unsubscribed, added_at) "
            "VALUES (?, ?, 1, ?) ON CONFLICT(list_id, contact_id) DO UPDATE SET unsubscribed = 1",
            (list_id, contact_id, stamp),
        )

    def remove_from_lists(self, pairs: Iterable[tuple[int, int]]) -> int:
        before = self.conn.total_changes
        self.conn.executemany(
            "DELETE FROM list_contacts WHERE list_id = ? AND contact_id = ?", list(pairs)
        )
        return self.conn.total_changes - before

    def is_member(self, list_id: int, contact_id: int) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM list_contacts WHERE list_id = ? AND contact_id = ? AND unsubscribed = 0",
            (list_id, contact_id),
        ).fetchone()
        return row is not None

    # -- folders and lists ----------------------------------------------------------------

    def existing_list_ids(self, ids: Iterable[int]) -> set[int]:
        wanted = list(set(ids))
        found: set[int] = set()
        for chunk in _chunks(wanted, 900):
            marks = ",".join("?" * len(chunk))
            found.update(
                r[0]
                for r in self.conn.execute(
                    f"SELECT id FROM lists WHERE id IN ({marks})", chunk
                )
            )
        return found

    def create_folder(self, name: str) -> int:
        cur = self.conn.execute(
            "INSERT INTO folders(name, created_at) VALUES (?, ?)", (name, self.now())
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def folder(self, folder_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name FROM folders WHERE id = ?", (folder_id,)
        ).fetchone()
        if row is None:
            return None
        return {"id": row[0], "name": row[1], **self._totals("folder_id", folder_id)}

    def folders(self, limit: int, offset: int, sort: str) -> tuple[list[dict[str, Any]], int]:
        order = "ASC" if sort == "asc" else "DESC"
        count = self.conn.execute("SELECT COUNT(*) FROM folders").fetchone()[0]
        rows = self.conn.execute(
            f"SELECT id, name FROM folders ORDER BY id {order} LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [
            {"id": r[0], "name": r[1], **self._totals("folder_id", r[0])} for r in rows
        ], count

    def rename_folder(self, folder_id: int, name: str) -> None:
        self.conn.execute("UPDATE folders SET name = ? WHERE id = ?", (name, folder_id))

    def delete_folder(self, folder_id: int) -> None:
        with self.transaction() as c:
            c.execute(
                "DELETE FROM list_contacts WHERE list_id IN "
                "(SELECT id FROM lists WHERE folder_id = ?)",
                (folder_id,),
            )
            c.execute("DELETE FROM lists WHERE folder_id = ?", (folder_id,))
            c.execute("DELETE FROM folders WHERE id = ?", (folder_id,))

    def create_list(self, name: str, folder_id: int) -> int:
        cur = self.conn.execute(
            "INSERT INTO lists(name, folder_id, created_at) VALUES (?, ?, ?)",
            (name, folder_id, self.now()),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _totals(self, column: str, value: int) -> dict[str, int]:
        """Computed counters: members, blocklisted members, members not blocklisted."""
        if column == "folder_id":
            scope = "lc.list_id IN (SELECT id FROM lists WHERE folder_id = ?)"
        else:
            scope = "lc.list_id = ?"
        row = self.conn.execute(
            "SELECT COUNT(DISTINCT c.id), "
            "COUNT(DISTINCT CASE WHEN c.email_blacklisted = 1 THEN c.id END) "
            "FROM list_contacts lc JOIN contacts c ON c.id = lc.contact_id "
            f"WHERE lc.unsubscribed = 0 AND {scope}",
            (value,),
        ).fetchone()
        members, blocked = int(row[0]), int(row[1])
        return {
            "totalBlacklisted": blocked,
            "totalSubscribers": members - blocked,
            "uniqueSubscribers": members,
        }

    def list_info(self, list_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name, folder_id, created_at FROM lists WHERE id = ?", (list_id,)
        ).fetchone()
        if row is None:
            return None
        return {
            "id": row[0], "name": row[1], **self._totals("list_id", row[0]),
            "folderId": row[2], "createdAt": row[3], "dynamicList": False,
        }

    def lists(
        self, limit: int, offset: int, sort: str, folder_id: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        order = "ASC" if sort == "asc" else "DESC"
        where, params = ("WHERE folder_id = ?", [folder_id]) if folder_id is not None else ("", [])
        count = self.conn.execute(
            f"SELECT COUNT(*) FROM lists {where}", params
        ).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT id, name, folder_id FROM lists {where} "
            f"ORDER BY id {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        out = []
        for r in rows:
            item = {"id": r[0], "name": r[1], **self._totals("list_id", r[0])}
            if folder_id is None:
                item["folderId"] = r[2]
            out.append(item)
        return out, count

    def update_list(self, list_id: int, name: str | None, folder_id: int | None) -> None:
        if name is not None:
            self.conn.execute("UPDATE lists SET name = ? WHERE id = ?", (name, list_id))
        if folder_id is not None:
            self.conn.execute("UPDATE lists SET folder_id = ? WHERE id = ?", (folder_id, list_id))

    def delete_list(self, list_id: int) -> None:
        with self.transaction() as c:
            c.execute("DELETE FROM list_contacts WHERE list_id = ?", (list_id,))
            c.execute("DELETE FROM lists WHERE id = ?", (list_id,))

    def list_contacts(
        self, list_id: int, limit: int, offset: int, sort: str, modified_since: str | None
    ) -> tuple[list[Contact], int]:
        where = "lc.list_id = ? AND lc.unsubscribed = 0"
        params: list[Any] = [list_id]
        if modified_since is not None:
            where += " AND c.modified_at > ?"
            params.append(modified_since)
        count = self.conn.execute(
            "SELECT COUNT(*) FROM list_contacts lc JOIN contacts c ON c.id = lc.contact_id "
            f"WHERE {where}",
            params,
        ).fetchone()[0]
        order = "ASC" if sort == "asc" else "DESC"
        cols = ", ".join("c." + col.strip() for col in CONTACT_COLUMNS.split(","))
        rows = self.conn.execute(
            f"SELECT {cols} FROM list_contacts lc JOIN contacts c "
            f"ON c.id = lc.contact_id WHERE {where} ORDER BY c.id {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return self._with_lists([Contact.from_row(r) for r in rows]), count

    # -- campaigns ------------------------------------------------------------------------

    def insert_campaign(self, name: str, status: str, scheduled_at: str | None,
                        data: dict[str, Any]) -> int:
        stamp = self.now()
        cur = self.conn.execute(
            "INSERT INTO campaigns(name, status, scheduled_at, data, created_at, modified_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (name, status, scheduled_at, orjson.dumps(data).decode(), stamp, stamp),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def campaign(self, campaign_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name, status, scheduled_at, data, created_at, modified_at "
            "FROM campaigns WHERE id = ?",
            (campaign_id,),
        ).fetchone()
        return _campaign_row(row) if row else None

    def update_campaign(self, campaign_id: int, name: str, status: str,
                        scheduled_at: str | None, data: dict[str, Any]) -> None:
        self.conn.execute(
            "UPDATE campaigns SET name = ?, status = ?, scheduled_at = ?, data = ?, "
            "modified_at = ? WHERE id = ?",
            (name, status, scheduled_at, orjson.dumps(data).decode(), self.now(), campaign_id),
        )

    def delete_campaign(self, campaign_id: int) -> None:
        self.conn.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))

    def campaigns(self, limit: int, offset: int, sort: str,
                  status: str | None) -> tuple[list[dict[str, Any]], int]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        count = self.conn.execute(
            f"SELECT COUNT(*) FROM campaigns {where}", params
        ).fetchone()[0]
        order = "ASC" if sort == "asc" else "DESC"
        rows = self.conn.execute(
            "SELECT id, name, status, scheduled_at, data, created_at, modified_at "
            f"FROM campaigns {where} ORDER BY id {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [_campaign_row(r) for r in rows], count

    # -- events ---------------------------------------------------------------------------

    def insert_events(self, events: Sequence[dict[str, Any]], via_batch: bool) -> None:
        stamp = self.now()

        def js(v: Any) -> str | None:
            return None if v is None else orjson.dumps(v).decode()

        with self.transaction() as c:
            c.executemany(
                "INSERT INTO events(event_name, event_date, identifiers, contact_properties, "
                "event_properties, object, received_at, via_batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e["event_name"], e.get("event_date") or stamp, js(e["identifiers"]),
                        js(e.get("contact_properties")), js(e.get("event_properties")),
                        js(e.get("object")), stamp, int(via_batch),
                    )
                    for e in events
                ],
            )

    # -- processes ------------------------------------------------------------------------

    def insert_process(self, name: str, request: bytes | None, status: str = "queued") -> int:
        cur = self.conn.execute(
            "INSERT INTO processes(name, status, created_at, request) VALUES (?, ?, ?, ?)",
            (name, status, self.now(), request),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def process(self, process_id: int) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT id, name, status, created_at, started_at, completed_at, info, error "
            "FROM processes WHERE id = ?",
            (process_id,),
        ).fetchone()
        return _process_row(row) if row else None

    def process_request(self, process_id: int) -> bytes | None:
        row = self.conn.execute(
            "SELECT request FROM processes WHERE id = ?", (process_id,)
        ).fetchone()
        return None if row is None else row[0]

    def processes(self, limit: int, offset: int, sort: str) -> tuple[list[dict[str, Any]], int]:
        count = self.conn.execute("SELECT COUNT(*) FROM processes").fetchone()[0]
        order = "ASC" if sort == "asc" else "DESC"
        rows = self.conn.execute(
            "SELECT id, name, status, created_at, started_at, completed_at, info, error "
            f"FROM processes ORDER BY id {order} LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [_process_row(r) for r in rows], count

    def pending_processes(self) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT id FROM processes WHERE status IN ('queued', 'in_process') ORDER BY id"
            )
        ]

    def set_process_status(self, process_id: int, status: str, *, info: Any = None,
                           error: str | None = None) -> None:
        stamp = self.now()
        if status == "in_process":
            self.conn.execute(
                "UPDATE processes SET status = ?, started_at = ? WHERE id = ?",
                (status, stamp, process_id),
            )
        else:
            self.conn.execute(
                "UPDATE processes SET status = ?, completed_at = ?, info = ?, error = ?, "
                "request = NULL WHERE id = ?",
                (status, stamp, None if info is None else orjson.dumps(info).decode(), error,
                 process_id),
            )

    def insert_reports(self, process_id: int, rows: Sequence[tuple[Any, ...]]) -> None:
        self.conn.executemany(
            "INSERT INTO import_reports(process_id, kind, row, email, ext_id, sms, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(process_id, *r) for r in rows],
        )

    def report_rows(self, process_id: int, kind: str) -> list[tuple[Any, ...]]:
        return self.conn.execute(
            "SELECT row, email, ext_id, sms, reason FROM import_reports "
            "WHERE process_id = ? AND kind = ? ORDER BY rowid",
            (process_id, kind),
        ).fetchall()

    # -- dump -----------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        lists, _ = self.lists(10**9, 0, "asc")
        for item in lists:
            info = self.list_info(item["id"])
            assert info is not None
            item.update(createdAt=info["createdAt"])
        folders, _ = self.folders(10**9, 0, "asc")
        campaigns, _ = self.campaigns(10**9, 0, "asc", None)
        events = [
            {
                "id": r[0], "event_name": r[1], "event_date": r[2],
                "identifiers": orjson.loads(r[3]),
                "contact_properties": None if r[4] is None else orjson.loads(r[4]),
                "event_properties": None if r[5] is None else orjson.loads(r[5]),
                "object": None if r[6] is None else orjson.loads(r[6]),
                "received_at": r[7], "via_batch": bool(r[8]),
            }
            for r in self.conn.execute(
                "SELECT id, event_name, event_date, identifiers, contact_properties, "
                "event_properties, object, received_at, via_batch FROM events ORDER BY id"
            )
        ]
        processes, _ = self.processes(10**9, 0, "asc")
        return {
            "contacts": [c.to_dump() for c in self.all_contacts()],
            "lists": lists,
            "folders": folders,
            "attributes": [a.to_dump() for a in self.attributes().values()],
            "campaigns": campaigns,
            "events": events,
            "processes": processes,
        }


def _campaign_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0], "name": row[1], "status": row[2], "scheduledAt": row[3],
        "data": orjson.loads(row[4]), "createdAt": row[5], "modifiedAt": row[6],
    }


def _process_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0], "name": row[1], "status": row[2], "created_at": row[3],
        "started_at": row[4], "completed_at": row[5],
        "info": None if row[6] is None else orjson.loads(row[6]), "error": row[7],
    }


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
