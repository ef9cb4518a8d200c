# ruff: noqa: S608  (SQL text is built from fixed column names and "?" placeholders only)
"""Import processes of the Brevo store and the rows of their reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sandbox.brevo.store.base import StoreBase

PROCESS_COLUMNS = "id, name, status, created_at, started_at, completed_at, info, error"


class ProcessTables(StoreBase):
    """Tables ``processes`` and ``import_reports``."""

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
            f"SELECT {PROCESS_COLUMNS} FROM processes WHERE id = ?",
            (process_id,),
        ).fetchone()
        return _process_row(row) if row else None

    def process_request(self, process_id: int) -> bytes | None:
        row = self.conn.execute(
            "SELECT request FROM processes WHERE id = ?", (process_id,)
        ).fetchone()
        return None if row is None else row[0]

    def processes(self, limit: int, offset: int, sort: str) -> tuple[list[dict[str, Any]], int]:
        rows, count = self.page(PROCESS_COLUMNS, "processes", "", [], "id", sort, limit, offset)
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



def _process_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": row[0], "name": row[1], "status": row[2], "created_at": row[3],
        "started_at": row[4], "completed_at": row[5],
        "info": None if row[6] is None else orjson.loads(row[6]), "error": row[7],
    }

