# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""Email campaigns of the Brevo store (drafts and queued ones; nothing is ever sent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sandbox.brevo.store.base import StoreBase

CAMPAIGN_COLUMNS = "id, name, status, scheduled_at, data, created_at, modified_at"


class CampaignTables(StoreBase):
    """Table ``campaigns`` (``data`` = the JSON fields of the draft)."""

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
            f"SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?",
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
        rows, count = self.page(CAMPAIGN_COLUMNS, "campaigns", where, params, "id", sort, limit,
                                offset)
        return [_campaign_row(r) for r in rows], count



def _campaign_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0], "name": row[1], "status": row[2], "scheduledAt": row[3],
        "data": orjson.loads(row[4]), "createdAt": row[5], "modifiedAt": row[6],
    }

