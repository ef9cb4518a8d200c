"""target-brevo: a Singer target that writes ActiveCampaign (or any tap's) data into Brevo."""

from __future__ import annotations

import copy
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.target_base import Target

from target_brevo.client import BrevoSystemic, check_api_url, probe_loopback
from target_brevo.deletes import DEFAULT_POLICY, POLICIES, Reconciler
from target_brevo.mapping import prefix_conflicts
from target_brevo.rejects import TooManyRejectsError
from target_brevo.sinks.base import StagingSink
from target_brevo.sync import Syncer

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.sinks import Sink

SENDER = th.ObjectType(
    th.Property("name", th.StringType, description="Sender name shown in the draft."),
    th.Property("email", th.StringType, description="A sender address verified in Brevo."),
    th.Property("id", th.IntegerType, description="Or the id of a Brevo sender."),
)


class TargetBrevo(Target):
    """Singer target for the Brevo API v3."""

    name = "target-brevo"
    default_sink_class = StagingSink

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            required=True,
            secret=True,
            description="Brevo API key (`xkeysib-…`). Never logged.",
        ),
        th.Property(
            "api_url",
            th.StringType,
            default="https://api.brevo.com/v3",
            description="Brevo API base URL; `http` is accepted only for loopback hosts.",
        ),
        th.Property(
            "stream_mapping",
            th.ObjectType(additional_properties=True),
            default={},
            description=(
                'Stream name → object: `{"kind": KIND, ...options}`; KIND is one of contacts, '
                "contact_attribute_values, list_memberships, lists, attributes, "
                "attribute_options, campaigns, campaign_messages, events, ignore. Merged over "
                "the ActiveCampaign defaults (see README). Contacts options: `email`, `phone`, "
                "`fields` (source field → attribute name or `{attribute, type}`; omitted = "
                "every other property, typed from the schema), `tags`, `tags_attribute`, "
                "`blocklist_when`, `ext_id_prefix`. Events options: `event_name` or "
                "`event_name_field`, `contact_field` (→ ext_id) and/or `email_field`, "
                "`date_field`. Memberships: `contact`, `list`, `status`, `status_map`."
            ),
        ),
        th.Property(
            "use_default_mapping",
            th.BooleanType,
            default=True,
            description="Apply the ActiveCampaign defaults to streams named like the AC tap's.",
        ),
        th.Property(
            "default_kind",
            th.StringType,
            default="ignore",
            description="Kind for streams with no mapping (e.g. `contacts` or `ignore`).",
        ),
        th.Property(
            "list_folder",
            th.StringType,
            default="ActiveCampaign",
            description="Brevo folder holding the synced lists.",
        ),
        th.Property(
            "ext_id_prefix",
            th.StringType,
            default="ac-",
            description="Prefix of EXT_ID and of the `[key]` suffix of list/campaign names.",
        ),
        th.Property(
            "default_phone_region",
            th.StringType,
            default="US",
            description="Region (ISO 3166 alpha-2) for phone numbers without a country code.",
        ),
        th.Property(
            "campaign_sender",
            SENDER,
            description=(
                "Sender of the campaign drafts: a sender verified in Brevo (`name` + `email`, "
                "or its `id`; see GET /senders). Required for campaign drafts: without it "
                "campaign and message records are rejects (`missing_sender`)."
            ),
        ),
        th.Property(
            "unlinked_messages_as_drafts",
            th.BooleanType,
            default=False,
            description=(
                "Messages no campaign of the run links to become drafts of their own "
                "(`[ac-message-<id>]`); off: they wait for their campaign."
            ),
        ),
        th.Property(
            "rejects_file",
            th.StringType,
            default="target-brevo-rejects.jsonl",
            description="JSON-lines file of rejected records and dropped values.",
        ),
        th.Property(
            "max_rejects",
            th.IntegerType,
            default=1000,
            description=(
                "The run fails (no STATE) when more records than this were not written or lost "
                "a value (notes such as a dropped phone number do not count); -1 = no limit."
            ),
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Log the planned writes (counts and a sample); send no request.",
        ),
        th.Property(
            "verify_values",
            th.BooleanType,
            default=True,
            description="Read written contacts back and reject values Brevo did not store.",
        ),
        th.Property(
            "import_max_bytes",
            th.IntegerType,
            default=7_500_000,
            description="Maximum jsonBody size of one `/contacts/import` (Brevo: < 8 MB).",
        ),
        th.Property(
            "membership_import_min_rows",
            th.IntegerType,
            default=300,
            description="Smaller groups join lists with 150-per-call adds, not an import.",
        ),
        th.Property(
            "poll_initial_seconds",
            th.NumberType,
            default=1.0,
            description="Wait before the first `/processes` poll (plus the per-row estimate).",
        ),
        th.Property(
            "poll_seconds_per_1000_rows",
            th.NumberType,
            default=0.5,
            description="Estimated import time per 1,000 rows, waited before the first poll.",
        ),
        th.Property(
            "poll_max_seconds",
            th.NumberType,
            default=120.0,
            description="Longest wait between two polls of an import.",
        ),
        th.Property(
            "import_timeout_seconds",
            th.NumberType,
            default=3600.0,
            description="Fail the run when an import has not completed by then.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=60.0,
            description="HTTP timeout per request, in seconds.",
        ),
        th.Property(
            "max_tries",
            th.IntegerType,
            default=5,
            description="Tries per request for 5xx, 524, 425, timeouts and resets.",
        ),
        th.Property(
            "retry_base_seconds",
            th.NumberType,
            default=1.0,
            description="First backoff wait; doubles per retry (with jitter).",
        ),
        th.Property(
            "batch_size_rows",
            th.IntegerType,
            default=25_000,
            description=(
                "Contacts per ordered flush (their values and memberships may be 20 times "
                "as many rows); a full sink flushes every sink, in dependency order."
            ),
        ),
        th.Property(
            "events_batch_size",
            th.IntegerType,
            default=100,
            description="Events per `POST /events/batch`.",
        ),
        th.Property(
            "delete_policy",
            th.StringType,
            default=DEFAULT_POLICY,
            allowed_values=list(POLICIES),
            description=(
                "What happens, when a complete version of a stream arrives (ACTIVATE_VERSION, "
                "the reconciliation's id scans), to the Brevo objects this pipeline created "
                "that the version lacks: `mark` (default: contacts get AC_DELETED_AT and leave "
                "every synced list; lists are emptied and drafts renamed `[deleted in "
                "ActiveCampaign] …`), `delete` (deleted in Brevo), `ignore`."
            ),
        ),
        th.Property(
            "delete_guard_percent",
            th.IntegerType,
            default=90,
            description=(
                "A version smaller than this percentage of the live objects the pipeline holds "
                "in Brevo for that stream (or empty) handles nothing and stops the run before "
                "STATE; 0 disables the guard."
            ),
        ),
        th.Property(
            "delete_guard_min_count",
            th.IntegerType,
            default=3,
            description="The guard lets a version through that would handle at most this many.",
        ),
        # declared here so the SDK's built-in (default append-only) is not shown: it means
        # nothing to this target
        th.Property(
            "load_method",
            th.StringType,
            default="upsert",
            allowed_values=["upsert", "append-only", "overwrite"],
            description=(
                "Ignored: every write is an upsert keyed by the stream's primary keys "
                "(contacts by EXT_ID, lists and drafts by their [key] suffix)."
            ),
        ),
    ).to_dict()

    @classmethod
    def invoke(cls, **kwargs: t.Any) -> None:
        """The command line: an error that stops the run (credentials, an unreachable API,
        too many rejects) ends it with one line instead of a traceback."""
        try:
            super().invoke(**kwargs)
        except (BrevoSystemic, TooManyRejectsError) as exc:
            raise SystemExit(f"target-brevo: {exc}") from None

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1
        self._syncer: Syncer | None = None
        self._ordered = False
        self._state_withheld_logged = False
        self._contact_streams: list[str] = []
        self._reconciler: Reconciler | None = None
        self.record_version: int | None = None
        check_api_url(str(self.config.get("api_url") or "https://api.brevo.com/v3"))
        problems = prefix_conflicts(self.config, list(self.config.get("stream_mapping") or {}))
        if problems:
            raise ConfigValidationError(problems[0], errors=problems)

    @property
    def syncer(self) -> Syncer:
        if self._syncer is None:
            self._syncer = Syncer(self.config)
            self._syncer.on_events_confirmed = self._webhook_events_confirmed
        return self._syncer

    @property
    def reconciler(self) -> Reconciler:
        if self._reconciler is None:
            self._reconciler = Reconciler(self.syncer)
        return self._reconciler

    def _process_record_message(self, message_dict: dict) -> None:
        """The message's full-table version, for the `deletes` sinks (the SDK drops it); the
        first record also checks that a loopback Brevo (the sandbox) is listening."""
        if not self.__dict__.get("_probed"):
            self.__dict__["_probed"] = True
            if not self.config.get("dry_run"):
                probe_loopback(str(self.config.get("api_url") or "https://api.brevo.com/v3"))
        version = message_dict.get("version")
        self.record_version = int(version) if isinstance(version, int) else None
        super()._process_record_message(message_dict)

    def _process_activate_version_message(self, message_dict: dict) -> None:
        """Only `deletes` streams act on a version; any other stream ignores it."""
        self._assert_line_requires(message_dict, requires={"stream", "version"})
        for stream_map in self.mapper.stream_maps.get(message_dict["stream"], []):
            sink = self.get_sink(stream_map.stream_alias)
            if sink is not None:
                sink.activate_version(int(message_dict["version"]))

    def activate_version(self, sink: StagingSink, version: int) -> None:
        """Everything received before the version is written first (a contact staged for an
        upsert must not come back after its deletion), then the version is compared."""
        if sink.kind != "deletes":
            self.logger.info("ACTIVATE_VERSION of %s (%s) ignored", sink.stream_name, sink.kind)
            return
        self.drain_all()
        self.reconciler.activate(sink.stream_name, version, sink.mapping)
    # -- the real-time path (sinks/webhook_events.py) -------------------------------------
    def _process_state_message(self, message_dict: dict) -> None:
        """Webhook events are flushed on the tap's next STATE (seconds), not after 5 minutes:
        the tap's follow mode sends one after each batch it read from the queue."""
        super()._process_state_message(message_dict)
        if any(
            sink.current_size and getattr(sink, "kind", None) == "webhook_events"
            for sink in self._sinks_active.values()
        ):
            self.drain_all()

    def _webhook_events_confirmed(self, seq: int) -> None:
        """After each accepted events batch: a STATE whose webhook_events bookmark is that
        batch's last sequence (everything else of the flush is written by then), so a crash
        resends at most the batch in flight."""
        state = copy.deepcopy(self._latest_state or {})
        bookmark = (state.get("bookmarks") or {}).get("webhook_events")
        if not isinstance(bookmark, dict) or bookmark.get("replication_key_value") is None:
            return
        seq = min(seq, int(bookmark["replication_key_value"]))
        bookmark["replication_key_value"] = seq
        if bookmark.get("contacts_through") is not None:
            bookmark["contacts_through"] = min(int(bookmark["contacts_through"]), seq)
        self._write_state_message(state)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        return StagingSink

    def check_contacts_stream(self, stream_name: str) -> None:
        """At a stream's SCHEMA: refuse a second contacts stream with the same prefix."""
        if stream_name not in self._contact_streams:
            problems = prefix_conflicts(self.config, [*self._contact_streams, stream_name])
            if problems:
                raise ConfigValidationError(problems[0], errors=problems)
            self._contact_streams.append(stream_name)

    def _drain_all(self, sink_list: Iterable[Sink], parallelism: int) -> None:
        """Every drain stages all sinks, then writes in dependency order."""
        self._ordered = True
        try:
            for sink in list(sink_list):
                self.drain_one(sink)
            if sink_list is not self._sinks_to_clear:
                self.syncer.flush()
        finally:
            self._ordered = False

    def on_sink_drained(self) -> None:
        """A full sink drained alone: stage every other sink too, flush in order, then emit
        the latest STATE (all records before it are confirmed)."""
        if self._ordered:
            return
        self._ordered = True
        try:
            for sink in [*self._sinks_to_clear, *self._sinks_active.values()]:
                self.drain_one(sink)
            self.syncer.flush()
        finally:
            self._ordered = False
        # Every record received so far is now confirmed by Brevo, so the latest STATE
        # (which only covers records received before it) may move: long runs resume here.
        if self._latest_state:
            self._write_state_message(copy.deepcopy(self._latest_state))
        self._reset_max_record_age()

    def _write_state_message(self, state: dict) -> None:
        """A dry run wrote nothing, so its STATE must not move: none is emitted at all."""
        if self.config.get("dry_run"):
            if not self._state_withheld_logged:
                self._state_withheld_logged = True
                self.logger.info("DRY RUN: STATE is withheld (nothing was written to Brevo)")
            return
        super()._write_state_message(state)

    def process_endofpipe(self) -> None:
        if self._syncer is not None:  # the last flush ends full scans of contact_tags
            self._syncer.tags.final = True
        super().process_endofpipe()
        if self._syncer is not None:
            self._syncer.close()


if __name__ == "__main__":
    TargetBrevo.cli()
