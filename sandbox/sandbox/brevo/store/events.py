
"""Events of the Brevo store, as received by ``POST /events`` and ``/events/batch``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from sandbox.brevo.store.base import StoreBase


class EventTables(StoreBase):
    """Table ``events``."""

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


    def events(self) -> list[dict[str, Any]]:
        """Every event, oldest first, JSON columns decoded (the dump's ``events``)."""
        return [
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
