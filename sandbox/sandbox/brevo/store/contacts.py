# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""Contact rows of the Brevo store: contacts, their list memberships and the attribute
definitions their values follow."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from sandbox.brevo.attributes import AttributeDef
from sandbox.brevo.store.base import StoreBase, chunks

CONTACT_COLUMNS = (
    "id, email, ext_id, sms, attributes, email_blacklisted, sms_blacklisted, created_at, "
    "modified_at"
)



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



class ContactTables(StoreBase):
    """Tables ``contacts``, ``list_contacts`` and ``attributes``."""

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
        for chunk in chunks(ids, 900):
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
        for chunk in chunks(list(set(values)), 900):
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
        self.update_contacts([c])

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
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows, count = self.page(CONTACT_COLUMNS, "contacts", clause, params, "id", sort, limit,
                                offset)
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


    def list_contacts(
        self, list_id: int, limit: int, offset: int, sort: str, modified_since: str | None
    ) -> tuple[list[Contact], int]:
        where = "lc.list_id = ? AND lc.unsubscribed = 0"
        params: list[Any] = [list_id]
        if modified_since is not None:
            where += " AND c.modified_at > ?"
            params.append(modified_since)
        cols = ", ".join("c." + col.strip() for col in CONTACT_COLUMNS.split(","))
        rows, count = self.page(cols, "list_contacts lc JOIN contacts c ON c.id = lc.contact_id",
                                f"WHERE {where}", params, "c.id", sort, limit, offset)
        return self._with_lists([Contact.from_row(r) for r in rows]), count

