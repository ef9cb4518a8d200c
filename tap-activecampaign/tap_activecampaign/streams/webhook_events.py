"""`webhook_events`: the receiver's queue, drained in order; named contacts re-read by id.

Only registered when `webhook_queue` is set (the real-time job), so the scheduled REST sync never
drains the queue and never emits an event. In that mode `contacts` (and its children) come only
from the re-reads: the webhook is the trigger, the REST API the truth. Contacts named by
`subscribe`, `update`, `unsubscribe`, `bounce` and tag events are read back with `GET /contacts?
ids[]=...&include=...` (100 per request) and written as `contacts`, `contact_lists`,
`contact_tags` and `contact_custom_field_values` through the contacts stream's own machinery.

State: the bookmark is the queue's sequence number of the last event emitted; `contacts_through`
is the sequence up to which the named contacts were re-read and emitted. Both sit in the same
STATE message, which follows the records it covers, so a rerun after a crash resumes after the
last event the target confirmed and re-reads the contacts it may not have written.

Drain mode (default): read what is queued, re-read its contacts, stop. Follow mode
(`webhook_follow`): poll every `webhook_poll_seconds`, emit each batch of events with a STATE at
once (the target flushes events on it), re-read contacts every
`webhook_contacts_interval_seconds` (Brevo writes contacts through imports, whose status polls
share a 100-per-hour budget), until `webhook_max_run_seconds`.
"""

from __future__ import annotations

import time
import typing as t

from singer_sdk import typing as th

from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.paging import PAGE_SIZE
from tap_activecampaign.streams.contact_children import (
    ContactCustomFieldValuesStream,
    ContactListsStream,
    ContactTagsStream,
)
from tap_activecampaign.streams.contacts import ContactsStream
from tap_activecampaign.streams.contacts_plan import Page
from tap_activecampaign.webhooks.decode import CONTACT_EVENTS
from tap_activecampaign.webhooks.queue import QueuedEvent, WebhookQueue, open_queue

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

CONTACTS_THROUGH = "contacts_through"


class RealtimeContactsStream(ContactsStream):
    """`contacts` in the real-time job: no scan of its own; fed by `webhook_events`."""

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Nothing of its own while webhook_events runs; a plain contacts sync otherwise (a
        `webhook_queue` set by mistake on a scheduled job must not stop its REST sync)."""
        events = self.ac_tap.streams.get("webhook_events")
        if events is not None and events.selected:
            return iter(())
        self.logger.warning("contacts: webhook_queue is set but webhook_events is not selected;"
                            " syncing contacts from the REST API as usual")
        return super().get_records(context)

    def emit_by_ids(self, ids: list[int]) -> int:
        """Re-read these contacts (100 per request) and write them with their children."""
        if not ids or not self.selected:
            return 0
        self.ac_tap.ensure_account_clock(self)
        if not getattr(self, "_realtime_schema_written", False):
            self._write_schema_message()
            self._realtime_schema_written = True
        params = {"limit": PAGE_SIZE, "include": self._includes()}
        written = 0
        for i in range(0, len(ids), PAGE_SIZE):
            chunk = ids[i:i + PAGE_SIZE]
            body = self.fetch({**params, "ids[]": chunk})
            rows = [c for c in body.get("contacts") or [] if isinstance(c, dict)
                    and int(c.get("id") or 0) in set(chunk)]  # a deleted contact is absent
            page = Page(0, rows, self._sideloads(body), max(chunk), True)
            tag_names = {int(tag["id"]): str(tag.get("tag") or "")
                         for tag in page.sideloads.get("tags", []) if tag.get("id") is not None}
            tags_of: dict[int, list[str]] = {}
            for row in page.sideloads.get("contactTags", []):
                cid, tid = int(row.get("contact") or 0), int(row.get("tag") or 0)
                if tid in tag_names:
                    tags_of.setdefault(cid, []).append(tag_names[tid])
            records = []
            for raw in sorted(rows, key=lambda c: int(c["id"])):
                record = self.normalize(raw)
                record["tags"] = sorted(tags_of.get(int(record["id"]), []))
                records.append(record)
            for record in records:
                self._write_record_message(record)
            self._write_children(page, records)
            written += len(records)
        return written


class RealtimeContactListsStream(ContactListsStream):
    parent_stream_type = RealtimeContactsStream


class RealtimeContactTagsStream(ContactTagsStream):
    parent_stream_type = RealtimeContactsStream


class RealtimeContactCustomFieldValuesStream(ContactCustomFieldValuesStream):
    parent_stream_type = RealtimeContactsStream


#: the contacts family of the real-time job (fed by the re-reads only)
REALTIME_CONTACT_STREAMS: tuple[type[ActiveCampaignStream], ...] = (
    RealtimeContactsStream, RealtimeContactListsStream, RealtimeContactTagsStream,
    RealtimeContactCustomFieldValuesStream)


class WebhookEventsStream(ActiveCampaignStream):
    """The receiver's queue in sequence order (see the module docstring)."""

    name = "webhook_events"
    path = "/webhook-queue"  # never requested: records come from the queue
    primary_keys = ("event_id",)
    replication_key = "seq"
    is_sorted = True
    replication_fallback = None
    schema = th.PropertiesList(
        th.Property("seq", th.IntegerType, required=True,
                    description="The queue's sequence number (the bookmark)."),
        th.Property("event_id", th.StringType, required=True,
                    description="SHA-256 of the canonical body (AC sends no id)."),
        th.Property("type", th.StringType, required=True),
        th.Property("date_time", th.DateTimeType, required=True, description="UTC"),
        th.Property("received_at", th.DateTimeType, description="When the receiver stored it"),
        th.Property("initiated_by", th.StringType),
        th.Property("initiated_from", th.StringType),
        th.Property("contact_id", th.IntegerType),
        th.Property("email", th.StringType),
        th.Property("list_id", th.IntegerType),
        th.Property("campaign_id", th.IntegerType),
        th.Property("campaign_name", th.StringType),
        th.Property("link_url", th.StringType),
        th.Property("tags", th.ArrayType(th.StringType)),
        th.Property("payload", th.ObjectType(additional_properties=True),
                    description="The whole decoded form (PHP brackets as nested objects)."),
    ).to_dict()

    # --- settings -----------------------------------------------------------------------

    @property
    def follow(self) -> bool:
        return bool(self.config.get("webhook_follow", False))

    @property
    def max_run_seconds(self) -> float:
        return float(self.config.get("webhook_max_run_seconds") or 3300)

    @property
    def poll_seconds(self) -> float:
        return float(self.config.get("webhook_poll_seconds") or 0.5)

    @property
    def contacts_interval(self) -> float:
        return float(self.config.get("webhook_contacts_interval_seconds", 60))

    @property
    def batch_size(self) -> int:
        return int(self.config.get("webhook_batch_size") or 500)

    def open_queue(self) -> WebhookQueue:
        return open_queue(str(self.config["webhook_queue"]))

    # --- records ------------------------------------------------------------------------

    def post_process(self, row: dict[str, t.Any], context: Context | None = None
                     ) -> dict[str, t.Any] | None:
        return row

    @staticmethod
    def to_record(item: QueuedEvent) -> dict[str, t.Any]:
        from datetime import UTC, datetime

        record = {k: item.record.get(k) for k in (
            "event_id", "type", "date_time", "initiated_by", "initiated_from", "contact_id",
            "email", "list_id", "campaign_id", "campaign_name", "link_url", "tags", "payload")}
        record["seq"] = item.seq
        record["received_at"] = datetime.fromtimestamp(item.received_at, UTC).isoformat()
        return record

    def _contacts(self) -> RealtimeContactsStream | None:
        stream = self.ac_tap.streams.get("contacts")
        return stream if isinstance(stream, RealtimeContactsStream) else None

    def _flush_state(self, contacts_through: int) -> None:
        self.stream_state[CONTACTS_THROUGH] = contacts_through
        self.state_manager.is_flushed = False
        self._write_state_message()

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        queue = self.open_queue()
        try:
            yield from self._drain(queue, context)
        finally:
            queue.close()

    def _drain(self, queue: WebhookQueue, context: Context | None
               ) -> t.Iterator[dict[str, t.Any]]:
        start = int(self.get_starting_replication_key_value(context) or 0)
        saved = self.stream_state.get(CONTACTS_THROUGH)
        through = start if saved is None else int(saved)
        through = min(through, start)
        contacts = self._contacts()
        if contacts is not None and not contacts.selected:
            contacts = None  # nothing to re-read into
        pending: dict[int, None] = {}  # contact ids to re-read, in order, once each
        if through < start:  # a crash between the events and their contacts: re-read those
            position = through
            while rows := queue.read(position, self.batch_size):
                for item in rows:
                    if item.seq > start:
                        break
                    self._note_contact(item, pending)
                position = rows[-1].seq
                if position >= start:
                    break
        deadline = time.monotonic() + self.max_run_seconds
        last_contacts = time.monotonic()
        position = start
        while True:
            rows = queue.read(position, self.batch_size)
            for item in rows:
                yield self.to_record(item)  # the SDK writes it and moves the bookmark to seq
                if contacts is not None:
                    self._note_contact(item, pending)
            if rows:
                position = rows[-1].seq
            now = time.monotonic()
            due = not self.follow or now - last_contacts >= self.contacts_interval
            if pending and due and contacts is not None:
                contacts.emit_by_ids(list(pending))
                pending.clear()
                through = position
                last_contacts = now
            elif not pending:
                through = position
            if rows or through != self.stream_state.get(CONTACTS_THROUGH):
                self._flush_state(through)
            if len(rows) == self.batch_size:
                continue  # more queued: read on at once
            if not self.follow or now >= deadline:
                break
            time.sleep(self.poll_seconds)
        if pending and contacts is not None:
            contacts.emit_by_ids(list(pending))
            through = position
        self.stream_state[CONTACTS_THROUGH] = through
        self.state_manager.is_flushed = False

    @staticmethod
    def _note_contact(item: QueuedEvent, pending: dict[int, None]) -> None:
        cid = item.record.get("contact_id")
        if item.record.get("type") in CONTACT_EVENTS and isinstance(cid, int):
            pending[cid] = None
