"""target-brevo: a Singer target that writes ActiveCampaign (or any tap's) data into Brevo."""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import ConfigValidationError

from target_brevo.api_url import check_api_url, probe_loopback
from target_brevo.deletes import Reconciler
from target_brevo.errors import BrevoSystemic
from target_brevo.mapping import prefix_conflicts
from target_brevo.ordered_drain import OrderedDrain
from target_brevo.rejects import TooManyRejectsError
from target_brevo.settings import CONFIG_SCHEMA, Settings
from target_brevo.sink import StagingSink
from target_brevo.sync import Syncer

if t.TYPE_CHECKING:
    from singer_sdk.sinks import Sink

# Streams that define what contacts refer to (attributes, their options, lists, tag names).
SETUP_KINDS = frozenset({"attributes", "attribute_options", "lists", "tag_names"})


class TargetBrevo(OrderedDrain):
    """Singer target for the Brevo API v3."""

    name = "target-brevo"
    default_sink_class = StagingSink

    config_jsonschema = CONFIG_SCHEMA

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
        self._state_withheld_logged = False
        self._contact_streams: list[str] = []
        self._reconciler: Reconciler | None = None
        self.record_version: int | None = None
        self._setup_written = False
        self._streams_seen: set[str] = set()  # streams whose first record was checked
        self.settings = Settings.from_config(self.config)
        check_api_url(self.settings.api_url)
        problems = prefix_conflicts(self.settings, list(self.settings.stream_mapping))
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
            if not self.settings.dry_run:
                probe_loopback(self.settings.api_url)
        version = message_dict.get("version")
        self.record_version = int(version) if isinstance(version, int) else None
        stream = str(message_dict.get("stream"))
        if not self._setup_written and stream not in self._streams_seen:
            self._streams_seen.add(stream)
            self._write_setup_early(stream)
        super()._process_record_message(message_dict)

    def _write_setup_early(self, stream: str) -> None:
        """At the first record of a stream that is not setup (contacts, in the tap's order),
        the setup staged so far is written: the lists and attributes reach Brevo while the
        tap still reads the contacts, and the flush of the contacts does not wait for them.
        No STATE is emitted for it: the next STATE still comes only after the contacts."""
        sinks = {sink.stream_name: sink for sink in self.active_sinks()}
        sink = sinks.get(stream)
        kind = getattr(sink, "kind", None)
        if kind is None or kind in SETUP_KINDS or kind in ("ignore", "deletes"):
            return
        self._setup_written = True
        holding = [s for s in sinks.values() if s.current_size]
        kinds = {getattr(s, "kind", None) for s in holding}
        # without an options stream a category attribute is created with the options its
        # values name, so it waits for the values (one create, no update)
        options_known = "attributes" not in kinds or "attribute_options" in kinds
        if holding and kinds <= SETUP_KINDS and options_known:
            self.logger.info(
                "writing the setup streams (%s) before the first %s record",
                ", ".join(sorted(s.stream_name for s in holding)),
                stream,
            )
            self.write_staged()

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
    # -- the real-time path (writers/webhook_events.py) -------------------------------------
    def _process_state_message(self, message_dict: dict) -> None:
        """Webhook events are flushed on the tap's next STATE (seconds), not after 5 minutes:
        the tap's follow mode sends one after each batch it read from the queue."""
        super()._process_state_message(message_dict)
        if any(
            sink.current_size and getattr(sink, "kind", None) == "webhook_events"
            for sink in self.active_sinks()
        ):
            self.drain_all()

    def _webhook_events_confirmed(self, seq: int) -> None:
        """After each accepted events batch: a STATE whose webhook_events bookmark is that
        batch's last sequence (everything else of the flush is written by then), so a crash
        resends at most the batch in flight."""
        state = self.latest_state() or {}
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
            problems = prefix_conflicts(self.settings, [*self._contact_streams, stream_name])
            if problems:
                raise ConfigValidationError(problems[0], errors=problems)
            self._contact_streams.append(stream_name)

    def flush_in_order(self) -> None:
        self.syncer.flush()

    def _write_state_message(self, state: dict) -> None:
        """A dry run wrote nothing, so its STATE must not move: none is emitted at all."""
        if self.settings.dry_run:
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
