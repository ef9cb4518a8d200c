"""HTTP concerns of every stream: base URL, auth, pacing, retries, AC's envelope and errors."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import logging
import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from importlib import resources
from urllib.parse import urlparse, urlunparse

import requests
from requests.adapters import HTTPAdapter
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_activecampaign.pacing import RequestPacer
from tap_activecampaign.paging import PAGE_SIZE, MetaTotalOffsetPaginator, meta_total
from tap_activecampaign.progress import Progress, progress_of
from tap_activecampaign.records import RecordNormalizer
from tap_activecampaign.singer_io_names import SINGER_IO_NAMES, add_singer_io_properties
from tap_activecampaign.timestamps import format_utc
from tap_activecampaign.unreachable import (
    ServiceUnreachable,
    give_up_message,
    is_loopback,
    raise_if_not_running,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_activecampaign.tap import TapActiveCampaign

LOGGER = logging.getLogger("tap_activecampaign")

#: A 403 can be one of AC's intermittent authentication hiccups: retried this many times.
MAX_AUTH_RETRIES = 2
#: Total tries for 429, 5xx, timeouts, resets, empty and truncated bodies.
MAX_TRIES = 8
RETRY_BASE_SECONDS = 1.0
#: Stream-state key of the highest id read without a date filter (see ``server_filter``).
MAX_ID_KEY = "max_id"
#: Transient 4xx statuses (request timeout, too early) retried like 5xx.
RETRIABLE_4XX = frozenset({408, 425})
RETRY_MAX_SECONDS = 30.0


class ConfigError(ValueError):
    """A setting that cannot work (bad URL, unknown time zone)."""


def normalize_api_url(value: str) -> str:
    """The account API URL as ``<scheme>://<host>[:port][/prefix]/api/3``.

    Accepts the URL from Settings -> Developer with or without ``/api/3`` and a trailing slash.
    ``https`` is required, except for loopback hosts (local sandboxes and tests).
    """
    text = (value or "").strip()
    if not text:
        msg = "api_url is empty: use the API URL shown under Settings -> Developer"
        raise ConfigError(msg)
    parsed = urlparse(text)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        msg = "api_url must look like https://<account>.api-us1.com"
        raise ConfigError(msg)
    if parsed.username or parsed.password:
        msg = "api_url must not carry credentials; put the key in api_token"
        raise ConfigError(msg)
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        msg = "api_url must use https (http is accepted only for loopback hosts)"
        raise ConfigError(msg)
    path = parsed.path.rstrip("/")
    if path.lower().endswith("/api/3"):
        path = path[: -len("/api/3")]
    return urlunparse((parsed.scheme, parsed.netloc, f"{path}/api/3", "", "", ""))


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None if absent/invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max((when - current).total_seconds(), 0.0)


def ac_reason(response: requests.Response) -> str:
    """AC's own explanation from an error body (``message`` or ``errors[].title/detail``)."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "").strip() or "no reason given"
    parts: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            parts.append(body["message"])
        for error in body.get("errors") or []:
            if isinstance(error, dict):
                text = " - ".join(
                    str(error[k]) for k in ("title", "detail") if error.get(k) not in (None, "")
                )
                if text:
                    parts.append(text)
    return "; ".join(parts) or (response.reason or "").strip() or "no reason given"


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


class PacedSession(requests.Session):
    """A ``requests`` session whose every send waits for the process-wide pacer."""

    def __init__(self, pacer: RequestPacer, pool_size: int = 32) -> None:
        super().__init__()
        self.pacer = pacer
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        """Send once the pacer grants a slot; a refused loopback URL fails at once."""
        self.pacer.acquire()
        try:
            return super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            raise_if_not_running(exc, request.url or "")
            raise


class ActiveCampaignStream(RESTStream[int]):
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

    # --- wiring to the tap ------------------------------------------------------------

    @property
    def ac_tap(self) -> TapActiveCampaign:
        """The tap, typed."""
        return t.cast("TapActiveCampaign", self._tap)

    @property
    def url_base(self) -> str:
        """``https://<account>.api-us1.com/api/3`` from ``api_url``."""
        return normalize_api_url(str(self.config.get("api_url", "")))

    @property
    def requests_session(self) -> requests.Session:
        """The tap's one paced session (shared connection pool and request budget)."""
        return self.ac_tap.session

    @cached_property
    def authenticator(self) -> APIKeyAuthenticator:
        """``Api-Token`` header."""
        return APIKeyAuthenticator(
            key="Api-Token", value=str(self.config.get("api_token", "")), location="header"
        )

    @property
    def http_headers(self) -> dict[str, str]:
        """JSON, and the configured User-Agent."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @property
    def user_agent(self) -> str:
        """``user_agent`` setting, or ``tap-activecampaign``."""
        return str(self.config.get("user_agent") or "tap-activecampaign (singer-sdk)")

    @property
    def timeout(self) -> int:
        """``request_timeout`` setting (seconds, default 60)."""
        return int(self.config.get("request_timeout") or 60)

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

    @staticmethod
    def response_body(response: requests.Response) -> dict[str, t.Any]:
        """The JSON body parsed once by :meth:`validate_response`."""
        body = getattr(response, "_ac_body", None)
        if body is None:
            body = response.json()
        return t.cast("dict[str, t.Any]", body)

    def fetch(self, params: t.Mapping[str, t.Any], path: str | None = None) -> dict[str, t.Any]:
        """One GET with the stream's retry policy, returning the JSON body (thread-safe)."""
        url = f"{self.url_base}{path or self.path}"
        prepared = self.build_prepared_request(
            method="GET", url=url, params=dict(params), headers=self.http_headers
        )

        def send(request: requests.PreparedRequest, context: Context | None) -> t.Any:
            self.progress.request(self.name)  # every try, retries included
            return self._request(request, context)

        response = self.request_decorator(send)(prepared, None)
        return self.response_body(response)

    # --- progress and the end of a stream -----------------------------------------------

    @property
    def progress(self) -> Progress:
        """The tap's per-stream progress log (records, requests, rates)."""
        return progress_of(self._tap, LOGGER)

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

    # --- errors and retries ---------------------------------------------------------------

    def validate_response(self, response: requests.Response) -> None:
        """Classify every outcome in one place.

        - 429: retried after exactly ``Retry-After`` (the whole process pauses for it);
        - 5xx, 408, 425: retried with exponential backoff;
        - 401/403: retried at most twice (AC has intermittent 403s), then "check api_token";
        - other 4xx (402, 404, 422, ...): fatal, naming stream, path and AC's reason;
        - 200 with an empty, truncated or non-JSON body: retried.
        """
        self.ac_tap.note_server_date(response.headers.get("Date"))
        status = response.status_code
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            self.ac_tap.pacer.defer(wait if wait is not None else RETRY_BASE_SECONDS)
            self.ac_tap.pacer.slow_down()
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 500 or status in RETRIABLE_4XX:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status in {401, 403}:
            request = response.request
            tries = int(getattr(request, "_ac_auth_failures", 0)) + 1
            setattr(request, "_ac_auth_failures", tries)  # noqa: B010 - counted per request
            if tries > MAX_AUTH_RETRIES:
                msg = (
                    f"{self.response_error_message(response)}. ActiveCampaign refused the "
                    f"credentials {tries} times in a row: check api_token (Settings -> "
                    "Developer) and that its user may read this resource."
                )
                raise FatalAPIError(msg)
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 400:
            raise FatalAPIError(self.response_error_message(response))
        if not response.content or not response.content.strip():
            msg = (
                f"stream {self.name}: empty body with HTTP {status} for {self._safe_path(response)}"
            )
            raise RetriableAPIError(msg, response)
        try:
            body = response.json()
        except ValueError as exc:
            msg = (
                f"stream {self.name}: unreadable JSON (truncated?) with HTTP {status} for "
                f"{self._safe_path(response)}"
            )
            raise RetriableAPIError(msg, response) from exc
        if not isinstance(body, dict):
            msg = f"stream {self.name}: unexpected JSON shape for {self._safe_path(response)}"
            raise RetriableAPIError(msg, response)
        setattr(response, "_ac_body", body)  # noqa: B010 - parsed once, read by parse_response

    def _safe_path(self, response: requests.Response) -> str:
        """The URL path only: no host, no query string (which can carry data), no token."""
        url = response.request.url if response.request is not None else response.url
        return urlparse(url or "").path or self.path

    def response_error_message(self, response: requests.Response) -> str:
        """``stream contacts: HTTP 404 for GET /api/3/contacts: <AC's reason>``."""
        method = response.request.method if response.request is not None else "GET"
        return (
            f"stream {self.name}: HTTP {response.status_code} for {method} "
            f"{self._safe_path(response)}: {ac_reason(response)}"
        )

    def backoff_max_tries(self) -> int:
        """Tries per request (403s stop earlier, see :meth:`validate_response`)."""
        return MAX_TRIES

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """``Retry-After`` exactly on 429; otherwise 1, 2, 4, ... 30 seconds."""
        attempt = 0
        exc = yield 0.0
        while True:
            attempt += 1
            exc = yield self.retry_wait(exc, attempt)

    @staticmethod
    def retry_wait(exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based) after ``exc``."""
        response = getattr(exc, "response", None)
        if response is not None and getattr(response, "status_code", None) == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None:
                return wait
        return float(min(RETRY_BASE_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS))

    def backoff_jitter(self, value: float) -> float:
        """No jitter: the pacer already spreads retries, and Retry-After must be exact."""
        return value

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        """One warning per retry, without URLs' query strings or headers."""
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        cause = (
            f"HTTP {response.status_code}"
            if isinstance(response, requests.Response)
            else type(exc).__name__
        )
        self.logger.warning(
            "stream %s: %s on %s, retry %d in %.2f s",
            self.name,
            cause,
            self.path,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )
