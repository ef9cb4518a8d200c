"""The one base stream: AC's offset paging (pages fetched a few at a time), completeness
(new rows by id, changed rows by the server's date filter), bookmarks and per-record typing.

Its HTTP side (URL, auth, pacing, errors, retries) is `http_stream.HttpStream`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from importlib import resources

import requests

from tap_activecampaign.http_stream import HttpStream
from tap_activecampaign.paging import PAGE_SIZE, MetaTotalOffsetPaginator, meta_total
from tap_activecampaign.records import RecordNormalizer
from tap_activecampaign.singer_io_names import SINGER_IO_NAMES, add_singer_io_properties
from tap_activecampaign.timestamps import format_utc
from tap_activecampaign.unreachable import ServiceUnreachable, give_up_message

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

LOGGER = logging.getLogger("tap_activecampaign")

#: Stream-state key of the highest id read without a date filter (see ``server_filter``).
MAX_ID_KEY = "max_id"


def _int_id(row: t.Mapping[str, t.Any]) -> int | None:
    try:
        return int(str(row.get("id")))
    except (TypeError, ValueError):
        return None


def _max_id(current: int | None, row: t.Mapping[str, t.Any]) -> int | None:
    value = _int_id(row)
    if value is None:
        return current
    return value if current is None else max(current, value)



class ActiveCampaignStream(HttpStream):
    """Base of every stream: one AC collection read page by page.

    A subclass declares ``name``, ``path``, ``records_key`` (the envelope key), and optionally
    ``replication_key``, ``order_by`` and ``server_filter``.
    """

    records_key: str = ""
    primary_keys = ("id",)
    #: ``orders[...]`` parameters sent with every page, for a stable offset order.
    order_by: t.ClassVar[dict[str, str]] = {}
    #: Name of AC's server-side ``filters[...]`` for updates (``filters[updated_after]``).
    #: Declaring it opts the stream into the completeness rule ("Complete whatever the
    #: dates" in the README), so that no row depends on the filter to be read: a sync
    #: without a bookmark, or without the highest id already read (``max_id`` in the stream
    #: state), reads every row by id with no date filter; an incremental sync reads the rows
    #: created since by id (``orders[id]=DESC`` down to ``max_id``, no date filter) and the
    #: changed ones with the filter. A row whose date is null is thus emitted once.
    server_filter: str | None = None
    #: Field used when the replication key is null (e.g. a list never updated: udate null).
    replication_fallback: str | None = "cdate"
    #: Output names that differ from the decamelized AC name (singer-io compatibility).
    field_aliases: t.ClassVar[dict[str, str]] = {}
    is_sorted = False
    #: Logged once per run, instead of the SDK's "assumed to be unsorted" warning: what an
    #: interruption costs this stream (see :meth:`_increment_stream_state`).
    resume_note = (
        "pages come in id order, not by the replication key: an interrupted run reads this "
        "stream again from its last completed bookmark"
    )
    page_size = PAGE_SIZE
    STATE_MSG_FREQUENCY = 500
    #: What is being read now: "all" rows by id, the "new" rows by id, or the "changed"
    #: rows through ``server_filter`` (which alone send the filter and cut at the bookmark).
    _reading: t.Literal["all", "new", "changed"] = "all"

    @cached_property
    def normalize(self) -> RecordNormalizer:
        """AC object -> typed record of this stream's schema."""
        return RecordNormalizer(
            self.schema,
            self.ac_tap.clock,
            self.name,
            self.field_aliases,
            copies=SINGER_IO_NAMES.get(self.name),
        )

    @classmethod
    def load_schema(cls, name: str) -> dict[str, t.Any]:
        """The packaged JSON schema ``schemas/<name>.json``."""
        import json

        text = resources.files("tap_activecampaign").joinpath(f"schemas/{name}.json").read_text()
        return add_singer_io_properties(name, t.cast("dict[str, t.Any]", json.loads(text)))

    # --- requests -----------------------------------------------------------------------

    def get_new_paginator(self) -> BaseAPIPaginator[int]:
        """``offset``/``limit`` paging until ``meta.total``."""
        return MetaTotalOffsetPaginator(start_value=0, page_size=self.page_size)

    def get_url_params(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, t.Any]:
        """``limit``, ``offset``, the stable order and, for changed rows, the update filter."""
        params: dict[str, t.Any] = {"limit": self.page_size, "offset": next_page_token or 0}
        params.update(self.order_by)
        params.update(self.server_filter_params(context))
        return params

    def server_filter_params(self, context: Context | None) -> dict[str, str]:
        """The update filter while the changed rows are read, else nothing."""
        if self._reading != "changed":
            return {}
        return self.changed_rows_filter(context) or {}

    # --- completeness: new rows by id, changed rows by the server's date filter ----------

    def changed_rows_filter(self, context: Context | None) -> dict[str, str] | None:
        """``{server_filter: <bookmark - lookback>}`` for an incremental sync, or None when
        every row must be read by id: no ``server_filter``, no bookmark (nor ``start_date``),
        or no ``max_id`` in the stream state (a first sync, or a state of an older version).
        """
        if not self.server_filter or not self.replication_key or self.saved_max_id() is None:
            return None
        start = self.get_starting_timestamp(context)
        if start is None:
            return None
        lookback = dt.timedelta(seconds=int(self.config.get("lookback_window", 86400)))
        # UTC as YYYY-MM-DDTHH:MM:SSZ, the form singer-io's tap sends to AC
        return {self.server_filter: format_utc(start - lookback).replace("+00:00", "Z")}

    def saved_max_id(self) -> int | None:
        """The highest id a previous complete sync read without a date filter."""
        value = self.stream_state.get(MAX_ID_KEY)
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            return None

    def save_max_id(self, seen: int | None) -> None:
        """Keep ``max(saved, seen)`` in the stream state (once the stream is complete)."""
        if not self.server_filter:
            return
        known = [v for v in (self.saved_max_id(), seen) if v is not None]
        self.stream_state[MAX_ID_KEY] = max(known, default=0)
        self.state_manager.is_flushed = False

    def start_date_cut(self) -> str | None:
        """``start_date`` in the UTC format of our records: the floor of rows read by id."""
        value = self.config.get("start_date")
        if not value:
            return None
        when = dt.datetime.fromisoformat(str(value))
        return format_utc(when if when.tzinfo else when.replace(tzinfo=dt.UTC))

    def cut_for(self, context: Context | None, *, changed: bool) -> str | None:
        """The UTC value a record's replication value must reach (``>=``) to be emitted.

        Changed rows (and every row of a stream without ``server_filter``) are cut at the
        bookmark; rows read by id in a stream with ``server_filter`` at ``start_date`` only,
        applied to the replication key or its fallback (``coalesce(udate, cdate)``).
        """
        if changed or not self.server_filter:
            return self.starting_bookmark(context)
        return self.start_date_cut()

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of every page, once the account clock is known."""
        self.ac_tap.ensure_account_clock(self)
        yield from self.read_complete(context)
        self.refresh_signpost(context)

    def read_complete(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Every row (no bookmark), or the new rows by id then the changed ones by filter."""
        changed = self.changed_rows_filter(context)
        max_id = self.saved_max_id()
        seen: int | None = None
        try:
            if changed is None or max_id is None:
                self._reading = "all"
                for row in self.request_pages_concurrently(context):
                    seen = _max_id(seen, row)
                    yield row
            else:
                self._reading = "new"
                new_ids: set[str] = set()
                for row in self.read_new_rows(context, max_id):
                    seen = _max_id(seen, row)
                    new_ids.add(str(row.get("id")))
                    yield row
                self._reading = "changed"
                for row in self.request_pages_concurrently(context):
                    if str(row.get("id")) not in new_ids:
                        yield row
        finally:
            self._reading = "all"
        self.save_max_id(seen)

    def read_new_rows(self, context: Context | None, max_id: int) -> t.Iterator[dict[str, t.Any]]:
        """Rows with an id above ``max_id``, whatever their dates: ``orders[id]=DESC`` pages
        (no date filter) until a page reaches an id already read or runs short."""
        offset = 0
        while True:
            params = {**self.get_url_params(context, offset), "orders[id]": "DESC"}
            rows = self._rows_list(self.fetch(params))
            fresh = [row for row in rows if (_int_id(row) or 0) > max_id]
            yield from fresh
            if len(rows) < self.page_size or len(fresh) < len(rows):
                return
            offset += self.page_size

    def refresh_signpost(self, context: Context | None) -> None:
        """Write the bookmark cap again once AC's clock is known (it only moves earlier).

        The SDK asks for the signpost before the stream's first request, when only the local
        clock may be known.
        """
        if self.replication_key and (signpost := self.get_replication_key_signpost(context)):
            self._write_replication_key_signpost(context, signpost)

    def request_pages_concurrently(self, context: Context | None) -> t.Iterator[dict[str, t.Any]]:
        """Offset paging with the later pages fetched a few at a time.

        The first page gives ``meta.total``, so every later offset is known: they are
        requested by a small thread pool (the pacer still spaces every request) and yielded in
        page order. Without a usable total, pages are read one after the other until a short
        page.
        """
        first = self.fetch(self.get_url_params(context, 0))
        yield from self._rows(first)
        total = meta_total(first)
        size = self.page_size
        if total is None:
            offset, page = 0, first
            while len(self._rows_list(page)) >= size:
                offset += size
                page = self.fetch(self.get_url_params(context, offset))
                yield from self._rows(page)
            return
        offsets = list(range(size, total, size))
        if not offsets:
            return
        workers = max(1, min(self.ac_tap.page_concurrency, len(offsets)))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.name}-page")
        try:
            pending: deque[Future[dict[str, t.Any]]] = deque()
            queued = iter(offsets)
            for offset in itertools.islice(queued, workers * 2):
                pending.append(pool.submit(self.fetch, self.get_url_params(context, offset)))
            while pending:
                body = pending.popleft().result()
                for offset in itertools.islice(queued, 1):
                    pending.append(pool.submit(self.fetch, self.get_url_params(context, offset)))
                yield from self._rows(body)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _rows_list(self, body: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
        rows = body.get(self.records_key) or []
        if isinstance(rows, dict):  # a single object instead of a list
            rows = [rows]
        return [row for row in rows if isinstance(row, dict)]

    def _rows(self, body: t.Mapping[str, t.Any]) -> t.Iterator[dict[str, t.Any]]:
        yield from self._rows_list(body)

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        """The objects under ``records_key`` (the body was checked in validate_response)."""
        yield from self._rows(self.response_body(response))

    # --- progress and the end of a stream -----------------------------------------------

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        super()._write_record_message(record)
        self.progress.record(self.name)

    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> t.Generator[dict[str, t.Any], t.Any, t.Any]:
        """The SDK's record loop, plus progress, and one line (no traceback) when the API
        cannot be reached."""
        self.progress.start(self.name)
        try:
            yield from super()._sync_records(context, write_messages=write_messages)
        except ServiceUnreachable as exc:
            raise SystemExit(f"tap-activecampaign: stream {self.name}: {exc}") from None
        except requests.ConnectionError as exc:  # retries spent on a real host
            msg = f"tap-activecampaign: stream {self.name}: {give_up_message(exc, self.url_base)}"
            raise SystemExit(msg) from None

    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        """The SDK's end of a stream; a top-level stream then logs its own and its
        children's summary lines."""
        super().finalize_state_progress_markers(state)
        if self.parent_stream_type is None:
            self.progress.summarize([self.name, *self._descendant_names()])

    def _descendant_names(self) -> list[str]:
        names: list[str] = []
        for child in self.child_streams:
            names.append(child.name)
            if isinstance(child, ActiveCampaignStream):
                names.extend(child._descendant_names())
        return names

    # --- per record ---------------------------------------------------------------------

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Typed record; dropped when older than the bookmark (client-side filter)."""
        record = self.normalize(row)
        return record if self.is_new_enough(record, context) else None

    def is_new_enough(self, record: dict[str, t.Any], context: Context | None) -> bool:
        """Client-side incremental filter: replication key (UTC) >= the cut, inclusive (the
        bookmark; ``start_date`` for rows read by id, see :meth:`cut_for`)."""
        return self.reaches(record, self.cut_for(context, changed=self._reading == "changed"))

    def reaches(self, record: t.Mapping[str, t.Any], cut: str | None) -> bool:
        """Whether the record's replication value (or its fallback) is at or after ``cut``."""
        if not self.replication_key:
            return True
        value = self.replication_value(record)
        return value is None or cut is None or str(value) >= cut

    def replication_value(self, record: t.Mapping[str, t.Any]) -> t.Any:
        """The record's replication key, or its fallback (e.g. ``cdate``) when null.

        Used for the filter and the bookmark only: the record itself is emitted unchanged.
        """
        key = self.replication_key
        if not key:
            return None
        value = record.get(key)
        if value is None and self.replication_fallback:
            value = record.get(self.replication_fallback)
        return value

    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        """The SDK's bookmark update, fed the fallback when the replication key is null."""
        state = self.get_context_state(context)
        if self.replication_key and not self.is_sorted and "progress_markers" not in state:
            # the SDK would warn "assumed to be unsorted" for every stream: say what is true
            state["progress_markers"] = {"Note": self.resume_note}
            self.logger.info("stream %s: %s", self.name, self.resume_note)
        key = self.replication_key
        if key and latest_record.get(key) is None:
            value = self.replication_value(latest_record)
            if value is None:
                return
            latest_record = {**latest_record, key: value}
        super()._increment_stream_state(latest_record, context=context)

    def starting_bookmark(self, context: Context | None) -> str | None:
        """``max(bookmark, start_date)`` in the UTC format of our records, or None."""
        cache = getattr(self, "_start_cache", None)
        if cache is None:
            start = self.get_starting_timestamp(context) if self.replication_key else None
            cache = (format_utc(start) if start else None,)
            self._start_cache = cache
        return cache[0]

    def get_replication_key_signpost(self, context: Context | None = None) -> str | None:
        """The bookmark never moves past the time this sync started (server clock if known)."""
        if not self.is_timestamp_replication_key:
            return None
        return self.ac_tap.sync_started_at()

