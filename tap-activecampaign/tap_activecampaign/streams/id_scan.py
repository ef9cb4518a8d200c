"""Complete id scans: the only exact delete signal ActiveCampaign gives.

AC has no tombstones, no delete webhook and no deleted-records endpoint, so what is gone is what
a complete scan no longer contains. Each ``*_ids`` stream is one Singer full-table *version*:
every record carries the version, and an ``ACTIVATE_VERSION`` message follows the last record
only when the scan read the whole collection. A scan that fails or is killed ends without it, so
no target ever sees an interrupted scan as complete. The streams exist only with ``id_scan: true``
(the reconciliation job); the hourly incremental job does not pay for them.

Cost: AC v3 has no sparse-fieldset parameter (no ``fields=``), so a scan cannot ask for ids
only; it asks for no sideloads (no ``include``), the smallest body AC serves, 100 per request.

- Contacts: a contact listed with ``deleted: "1"`` (AC has the field; whether the API lists
  soft-deleted contacts is undocumented) is left out of the version, i.e. treated as deleted.
- Contacts: keyset paging (``orders[id]=ASC`` + ``id_greater``/``id_less``) over the id ranges
  of :func:`~tap_activecampaign.paging.split_id_range`, read concurrently under the process-wide
  pacer. Deletions during the scan cannot shift a keyset page; the last range is open-ended, so
  contacts created during the scan are read too.
- The small collections (lists, tags, custom fields, campaigns) have offset paging only, where a
  deletion during the scan shifts every later page by one and would hide a live id. Pages
  therefore overlap by one row: each page must start with the previous page's last id, else the
  collection changed under the scan and it starts again (``OFFSET_SCAN_TRIES`` times, then the
  stream fails without a version).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import typing as t
from dataclasses import dataclass

from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.paging import PAGE_SIZE, IdRange, meta_total, split_id_range

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context

#: Upper bound of the open-ended last contacts range.
MAX_ID = 2**53
#: Full re-reads of an offset-paged collection that changed under the scan.
OFFSET_SCAN_TRIES = 3

ID_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {"id": {"type": "integer"}},
    "required": ["id"],
    "additionalProperties": False,
}


class ScanIncomplete(RuntimeError):
    """The collection kept changing under the scan: no version is emitted."""


class IdScanStream(ActiveCampaignStream):
    """Base of the id scans: a full-table version of the ids of ``path``."""

    schema = ID_SCHEMA
    replication_key = None
    order_by = {"orders[id]": "ASC"}
    #: The stream whose objects this version lists (documentation; targets map by name).
    scans: t.ClassVar[str] = ""

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every id once, then ``ACTIVATE_VERSION`` (only reached when the scan is whole)."""
        self._stream_version = time.time_ns() // 1_000_000  # ms: later versions are larger
        count = 0
        for record_id in self.scan_ids():
            count += 1
            yield {"id": record_id}
        # every record above was written before this line runs (the SDK pulls lazily)
        self._write_activate_version_message(self._stream_version)
        self.logger.info(
            "%s: complete id scan of %s, %d ids, version %d activated",
            self.name, self.path, count, self._stream_version,
        )

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Already ``{"id": int}``."""
        return row

    def scan_ids(self) -> Iterator[int]:
        """Offset paging with one row of overlap per page (see the module docstring)."""
        for attempt in range(1, OFFSET_SCAN_TRIES + 1):
            ids = self._offset_pass()
            if ids is not None:
                yield from ids
                return
            self.logger.warning(
                "%s: %s changed during the scan (a page did not start where the last one "
                "ended); reading it again (%d of %d)",
                self.name, self.path, attempt, OFFSET_SCAN_TRIES,
            )
        raise ScanIncomplete(
            f"{self.name}: {self.path} kept changing during {OFFSET_SCAN_TRIES} scans; "
            "no version emitted, nothing will be deleted for it this run"
        )

    def _offset_pass(self) -> list[int] | None:
        ids: list[int] = []
        offset = 0
        previous_last: int | None = None
        while True:
            body = self.fetch({"limit": PAGE_SIZE, "offset": offset, **self.order_by})
            page = [int(row["id"]) for row in self._rows_list(body)]
            if previous_last is not None:
                if not page or page[0] != previous_last:
                    return None
                page_new = page[1:]
            else:
                page_new = page
            ids.extend(page_new)
            if len(page) < PAGE_SIZE:
                return ids
            previous_last = page[-1]
            offset += PAGE_SIZE - 1


class ListIdsStream(IdScanStream):
    """Every list id (``GET /lists``)."""

    name = "list_ids"
    path = "/lists"
    records_key = "lists"
    scans = "lists"


class TagIdsStream(IdScanStream):
    """Every tag id (``GET /tags``)."""

    name = "tag_ids"
    path = "/tags"
    records_key = "tags"
    scans = "tags"


class ContactCustomFieldIdsStream(IdScanStream):
    """Every custom field id (``GET /fields``)."""

    name = "contact_custom_field_ids"
    path = "/fields"
    records_key = "fields"
    scans = "contact_custom_fields"


class CampaignIdsStream(IdScanStream):
    """Every campaign id (``GET /campaigns``)."""

    name = "campaign_ids"
    path = "/campaigns"
    records_key = "campaigns"
    scans = "campaigns"


def soft_deleted(contact: t.Mapping[str, t.Any]) -> bool:
    """A contact AC still lists with ``deleted: "1"`` (whether the API does is undocumented;
    the unkind reading) counts as gone: its id is left out of the version."""
    return str(contact.get("deleted") or "0").strip() not in ("0", "")


@dataclass
class _Failure:
    error: BaseException


class ContactIdsStream(IdScanStream):
    """Every contact id: concurrent keyset id ranges under the process-wide pacer."""

    name = "contact_ids"
    path = "/contacts"
    records_key = "contacts"
    scans = "contacts"
    #: Ranges read at once; the pacer keeps the total under max_requests_per_second.
    workers = 6

    def scan_ids(self) -> Iterator[int]:
        """The highest page first (``orders[id]=DESC``) sizes the ranges below it."""
        body = self.fetch({"limit": PAGE_SIZE, "orders[id]": "DESC"})
        rows = self._rows_list(body)
        top = sorted(int(c["id"]) for c in rows)
        yield from sorted(int(c["id"]) for c in rows if not soft_deleted(c))
        if len(top) < PAGE_SIZE:
            # a short page is the whole account; the open range catches contacts created since
            ranges = [IdRange(lo=top[-1] if top else 0, hi=MAX_ID, pos=top[-1] if top else 0)]
        else:
            total = meta_total(body)
            remaining = (total - len(top)) if total is not None else 0
            if remaining <= 0:  # no usable total: guess from the top page's id density
                density = len(top) / max(1, top[-1] - top[0] + 1)
                remaining = max(PAGE_SIZE, round((top[0] - 1) * density))
            parts = max(1, self.workers * 2)
            ranges = [
                *split_id_range(top[0] - 1, remaining, parts),
                IdRange(lo=top[-1], hi=MAX_ID, pos=top[-1]),  # created during the scan
            ]
        yield from self._read_ranges(ranges)

    def _read_ranges(self, ranges: list[IdRange]) -> Iterator[int]:
        pages: queue.Queue[list[int] | _Failure | None] = queue.Queue(maxsize=self.workers * 4)
        todo: queue.Queue[IdRange] = queue.Queue()
        for id_range in ranges:
            todo.put(id_range)
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=self._worker, args=(todo, pages, stop), name=f"{self.name}-{n}",
                daemon=True,
            )
            for n in range(max(1, min(self.workers, len(ranges))))
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                item = pages.get()
                if item is None:
                    running -= 1
                elif isinstance(item, _Failure):
                    raise item.error
                else:
                    yield from item
        finally:
            stop.set()
            while any(th.is_alive() for th in threads):
                with contextlib.suppress(queue.Empty):
                    pages.get(timeout=0.05)

    def _worker(
        self,
        todo: queue.Queue[IdRange],
        pages: queue.Queue[list[int] | _Failure | None],
        stop: threading.Event,
    ) -> None:
        def put(item: list[int] | _Failure | None) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                except queue.Full:
                    continue
                return True
            return False

        try:
            while not stop.is_set():
                try:
                    id_range = todo.get_nowait()
                except queue.Empty:
                    break
                position = id_range.pos
                while not stop.is_set():
                    params: dict[str, t.Any] = {
                        "limit": PAGE_SIZE, "orders[id]": "ASC", "id_greater": position,
                    }
                    if id_range.hi < MAX_ID:
                        params["id_less"] = id_range.hi + 1
                    body = self.fetch(params)
                    rows = self._rows_list(body)
                    ids = [int(c["id"]) for c in rows]
                    in_range = [i for i in ids if position < i <= id_range.hi]
                    live = [int(c["id"]) for c in rows
                            if position < int(c["id"]) <= id_range.hi and not soft_deleted(c)]
                    if live and not put(live):
                        return
                    # a short page or the id bound ends the range, never meta.total (a hint)
                    if len(ids) < PAGE_SIZE or any(i >= id_range.hi for i in ids):
                        break
                    last = max(in_range, default=position)
                    if last <= position:
                        break
                    position = last
        except BaseException as exc:  # handed to the writer thread, which raises it
            put(_Failure(exc))
        finally:
            put(None)


#: The id scans, in run order (after the streams they cover).
ID_SCAN_STREAMS: tuple[type[IdScanStream], ...] = (
    ContactCustomFieldIdsStream,
    ListIdsStream,
    TagIdsStream,
    ContactIdsStream,
    CampaignIdsStream,
)
