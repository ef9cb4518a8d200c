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

Methods here are storage primitives; Brevo's rules sit in ``brevo/contacts.py`` (contact
writes), ``brevo/imports.py`` (bulk import), ``brevo/attributes.py`` and ``brevo/identifiers.py``.

One module per group of tables (``contacts.py``, ``lists.py``, ``campaigns.py``, ``events.py``,
``processes.py``) on the shared core in ``base.py``; ``Store`` is all of them.
"""

from __future__ import annotations

from typing import Any

from sandbox.brevo.store.base import TABLES, iso, iso_ms, parse_time
from sandbox.brevo.store.campaigns import CampaignTables
from sandbox.brevo.store.contacts import Contact, ContactTables
from sandbox.brevo.store.events import EventTables
from sandbox.brevo.store.lists import ListTables
from sandbox.brevo.store.processes import ProcessTables

__all__ = ["TABLES", "Contact", "Store", "iso", "iso_ms", "parse_time"]


class Store(ContactTables, ListTables, CampaignTables, EventTables, ProcessTables):
    """The SQLite-backed account (a file with ``--db FILE``, else in memory)."""

    def dump(self) -> dict[str, Any]:
        lists, _ = self.lists(10**9, 0, "asc")
        for item in lists:
            info = self.list_info(item["id"])
            assert info is not None
            item.update(createdAt=info["createdAt"])
        folders, _ = self.folders(10**9, 0, "asc")
        campaigns, _ = self.campaigns(10**9, 0, "asc", None)
        processes, _ = self.processes(10**9, 0, "asc")
        return {
            "contacts": [c.to_dump() for c in self.all_contacts()],
            "lists": lists,
            "folders": folders,
            "attributes": [a.to_dump() for a in self.attributes().values()],
            "campaigns": campaigns,
            "events": self.events(),
            "processes": processes,
        }
