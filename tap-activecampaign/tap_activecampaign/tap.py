"""tap-activecampaign: settings and the stream registry."""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import typing as t

from singer_sdk import Tap
from singer_sdk import typing as th

from tap_activecampaign.api_url import normalize_api_url
from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.http_stream import PacedSession
from tap_activecampaign.pacing import RequestPacer, process_pacer
from tap_activecampaign.streams.contacts import ContactsStream
from tap_activecampaign.streams.id_scan import ContactIdsStream
from tap_activecampaign.streams.registry import in_run_order, stream_classes
from tap_activecampaign.timezone import infer_account_timezone

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream

from tap_activecampaign.timestamps import AccountClock, format_utc, parse_timezone

#: Subtracted from the sync start to cap every bookmark: updates AC stamps up to this long
#: before the start (clock skew, writes that land late) are read again by the next run.
BOOKMARK_SAFETY_MARGIN = dt.timedelta(minutes=5)


class TapActiveCampaign(Tap):
    """Singer tap for the ActiveCampaign API v3."""

    name = "tap-activecampaign"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_url",
            th.StringType,
            required=True,
            title="API URL",
            description=(
                "The account's API URL from Settings -> Developer, e.g. "
                "`https://youraccount.api-us1.com`. `/api/3` and a trailing slash are optional. "
                "Must be https, except for loopback hosts (local sandboxes)."
            ),
        ),
        th.Property(
            "api_token",
            th.StringType,
            required=True,
            secret=True,
            title="API token",
            description="The API key from Settings -> Developer (sent as the Api-Token header).",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description=(
                "Only records updated at or after this time are synced on the first run "
                "(ISO-8601; without an offset it is read as UTC). Unset: everything. For "
                "contacts and deals it is applied in the tap to coalesce(udate or mdate, "
                "cdate): the first run still reads every row by id, never through a date "
                "filter. The append-only logs (bookmarked on id) apply it to each row's own "
                "date (tstamp, cdate or sdate)."
            ),
        ),
        th.Property(
            "user_agent",
            th.StringType,
            title="User-Agent",
            description="User-Agent header sent with every request.",
            default="tap-activecampaign (singer-sdk)",
        ),
        th.Property(
            "request_timeout",
            th.IntegerType,
            title="Request timeout",
            description="Seconds to wait for a response before retrying it.",
            default=60,
        ),
        th.Property(
            "max_requests_per_second",
            th.NumberType,
            title="Max requests per second",
            description=(
                "One budget for the whole process, all streams and threads together "
                "(ActiveCampaign allows 5 per second per account, shared with every other "
                "integration). Requests are evenly spaced, with no burst. 0 disables pacing."
            ),
            default=5,
        ),
        th.Property(
            "lookback_window",
            th.IntegerType,
            title="Lookback window",
            description=(
                "Seconds subtracted from the bookmark in the server-side "
                "`filters[updated_after]` that incremental runs send for the changed contacts "
                "and deals (the new ones are read by id), so that no update is lost "
                "whatever time zone or day granularity ActiveCampaign applies to the filter. "
                "Records are then filtered on their UTC update time against the bookmark "
                "itself, so the window costs transfer only (the boundary duplicates come from "
                "the bookmark cap, see Incremental replication)."
            ),
            default=86400,
        ),
        th.Property(
            "account_timezone",
            th.StringType,
            title="Account time zone",
            description=(
                "IANA zone of the account (Settings -> Account), e.g. `America/Chicago`, used "
                "to read AC's naive `*_timestamp` values (offset-aware dates such as udate and "
                "mdate never need it). Unset: inferred once per run (2 requests) from the zone "
                "named by `GET /users/me` (`localZoneid`, the API user's personal setting) if it "
                "agrees with the UTC offsets of the dates of one page of contacts, else from "
                "those offsets (the IANA zone matching every offset, DST included; a fixed "
                "offset if no DST change is seen), else UTC; the choice is logged as a warning. "
                "Set it to be exact."
            ),
        ),
        th.Property(
            "membership_full_scan",
            th.BooleanType,
            title="Membership full scan",
            description=(
                "false (default): contact_lists, contact_tags and contact_custom_field_values "
                "come from the sideloads of the changed contacts (no extra requests). "
                "true: they are read by full scans of /contactLists, /contactTags and "
                "/fieldValues, e.g. for a periodic reconciliation."
            ),
            default=False,
        ),
        th.Property(
            "id_scan",
            th.BooleanType,
            title="Id scan",
            description=(
                "true: add the streams contact_ids, list_ids, tag_ids, contact_custom_field_ids "
                "and campaign_ids, complete id scans (100 ids per request, contacts in "
                "concurrent id ranges), each a full-table version ended by ACTIVATE_VERSION "
                "only when complete, so a target can remove what ActiveCampaign deleted. For "
                "the reconciliation job; false (default) adds no stream and no request."
            ),
            default=False,
        ),
        th.Property(
            "concurrency",
            th.IntegerType,
            title="Concurrency",
            description=(
                "Requests in flight at once: contact id ranges read in parallel, and later "
                "pages of the other streams. It hides latency; the request budget stays "
                "max_requests_per_second whatever this is."
            ),
            default=6,
        ),
        th.Property(
            "webhook_queue",
            th.StringType,
            secret=True,
            title="Webhook queue",
            description=(
                "The receiver's queue (`sqlite:///PATH` or `postgresql://...`). Set only in the "
                "real-time job: it adds the `webhook_events` stream and makes `contacts` (and "
                "its children) the re-reads of the contacts the events name, nothing else."
            ),
        ),
        th.Property(
            "webhook_follow",
            th.BooleanType,
            title="Follow the webhook queue",
            description="Keep polling the queue until webhook_max_run_seconds; false: drain.",
            default=False,
        ),
        th.Property(
            "webhook_max_run_seconds",
            th.IntegerType,
            title="Webhook follow: maximum run time",
            description="Follow mode stops (cleanly, STATE written) after this many seconds.",
            default=3300,
        ),
        th.Property(
            "webhook_poll_seconds",
            th.NumberType,
            title="Webhook follow: poll interval",
            default=0.5,
        ),
        th.Property(
            "webhook_contacts_interval_seconds",
            th.IntegerType,
            title="Webhook follow: contact re-read interval",
            description=(
                "Follow mode re-reads the named contacts at most this often (Brevo writes "
                "contacts through imports, whose status polls share 100 requests per hour)."
            ),
            default=60,
        ),
        th.Property(
            "webhook_batch_size",
            th.IntegerType,
            title="Webhook events per queue read",
            default=500,
        ),
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._lock = threading.RLock()
        self._session: PacedSession | None = None
        self._sync_started_local: dt.datetime | None = None
        self._server_started: dt.datetime | None = None
        self.clock = AccountClock()
        super().__init__(*args, **kwargs)
        if self.config.get("api_url"):  # fail early on a bad URL; discovery needs none
            normalize_api_url(str(self.config["api_url"]))
        if self.config.get("account_timezone"):
            self.clock.set_timezone(parse_timezone(str(self.config["account_timezone"])))
        self.pacer.reset_margin()

    # --- shared services --------------------------------------------------------------

    @property
    def pacer(self) -> RequestPacer:
        """The process-wide request budget."""
        return process_pacer(float(self.config.get("max_requests_per_second", 5) or 0))

    @property
    def session(self) -> PacedSession:
        """One HTTP session (connection pool) for every stream and thread."""
        with self._lock:
            if self._session is None:
                self._session = PacedSession(self.pacer)
            return self._session

    @property
    def page_concurrency(self) -> int:
        """Requests in flight at once for one stream (``concurrency``)."""
        return max(1, int(self.config.get("concurrency") or 6))

    def sync_started_at(self) -> str:
        """The cap of every bookmark this run writes (UTC).

        ``min(local start, ActiveCampaign's time at the start) - BOOKMARK_SAFETY_MARGIN``:
        AC's time comes from the ``Date`` header of the first response (minus the local time
        elapsed since the start), so a tap host whose clock runs ahead of AC's, or AC writes
        that land a little late, cannot push a bookmark past an update made during the sync.
        Records updated within the margin before the start are read again by the next run
        (boundary duplicates, never losses). Until a response has been seen the local start is
        used; the value only ever moves earlier.
        """
        with self._lock:
            if self._sync_started_local is None:
                self._sync_started_local = dt.datetime.now(dt.UTC)
            start = self._sync_started_local
            if self._server_started is not None:
                start = min(start, self._server_started)
            return format_utc(start - BOOKMARK_SAFETY_MARGIN)

    def note_server_date(self, date_header: str | None) -> None:
        """Remember AC's clock at the sync start from the first response's ``Date``."""
        if self._server_started is not None or not date_header:
            return
        try:
            server_now = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError):
            return
        if server_now.tzinfo is None:
            server_now = server_now.replace(tzinfo=dt.UTC)
        with self._lock:
            if self._server_started is not None:
                return
            local_now = dt.datetime.now(dt.UTC)
            if self._sync_started_local is None:
                self._sync_started_local = local_now
            # AC's time when the local clock read the start; the Date header is truncated to
            # the second and stamped after the request left, both of which only move it earlier
            self._server_started = server_now - (local_now - self._sync_started_local)

    def ensure_account_clock(self, stream: ActiveCampaignStream) -> None:
        """Configure the account time zone, inferring it once if it was not set."""
        self.sync_started_at()
        with self._lock:
            if self.clock.is_known:
                return
            tz = infer_account_timezone(stream)
            self.clock.set_timezone(tz)

    # --- streams ------------------------------------------------------------------------

    def discover_streams(self) -> list[Stream]:
        """Every stream of :func:`~tap_activecampaign.streams.registry.stream_classes`."""
        streams: list[Stream] = [cls(tap=self) for cls in stream_classes(self.config)]
        concurrency = int(self.config.get("concurrency") or 6)
        for stream in streams:
            if isinstance(stream, ContactsStream):
                stream.workers = max(1, concurrency)
                stream.max_ranges = max(2, concurrency * 2)
            if isinstance(stream, ContactIdsStream):
                stream.workers = max(1, concurrency)
        return streams

    @property
    def streams(self) -> dict[str, Stream]:
        """The streams in the registry's run order (the SDK sorts them by name)."""
        streams = super().streams
        order = in_run_order(streams)
        if list(streams) != order:
            self._streams = {name: streams[name] for name in order}
            return self._streams
        return streams


if __name__ == "__main__":
    TapActiveCampaign.cli()
