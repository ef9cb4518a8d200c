# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""Folders and lists of the Brevo store, with their computed subscriber counters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.brevo.store.base import StoreBase, chunks


class ListTables(StoreBase):
    """Tables ``folders`` and ``lists``."""

    # -- folders and lists ----------------------------------------------------------------

    def existing_list_ids(self, ids: Iterable[int]) -> set[int]:
        wanted = list(set(ids))
        found: set[int] = set()
        for chunk in chunks(wanted, 900):
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
        rows, count = self.page("id, name", "folders", "", [], "id", sort, limit, offset)
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
        where, params = ("WHERE folder_id = ?", [folder_id]) if folder_id is not None else ("", [])
        rows, count = self.page("id, name, folder_id", "lists", where, params, "id", sort, limit,
                                offset)
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

