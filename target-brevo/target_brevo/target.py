"""target-brevo: a Singer target that writes ActiveCampaign (or any tap's) data into Brevo."""

from __future__ import annotations

import copy
import typing as t

from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.target_base import Target

from target_brevo.api_url import check_api_url, probe_loopback
from target_brevo.deletes import Reconciler
from target_brevo.errors import BrevoSystemic
from target_brevo.mapping import prefix_conflicts
from target_brevo.rejects import TooManyRejectsError
from target_brevo.settings import CONFIG_SCHEMA, Settings
from target_brevo.sinks.base import StagingSink
from target_brevo.sync import Syncer

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.sinks import Sink


class TargetBrevo(Target):
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
        self._ordered = False
        self._state_withheld_logged = False
        self._contact_streams: list[str] = []
        self._reconciler: Reconciler | None = None
        self.record_version: int | None = None
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
            problems = prefix_conflicts(self.settings, [*self._contact_streams, stream_name])
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
