"""The one SDK sink class: it stages a deduplicated batch for the ordered flush."""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from target_brevo.mapping import needed_fields, stream_mapping

if t.TYPE_CHECKING:
    from target_brevo.target import TargetBrevo

# A full sink triggers an ordered flush of every sink. Contacts decide the size of a
# batch; their children (values, memberships) are allowed many more rows so that they
# usually land in the same flush as their contacts and ride in the same imports.
CHILD_SIZE_FACTOR = 20
DEFAULT_BATCH_ROWS = 25_000
REJECTED = "__target_brevo_rejected__"


class StagingSink(BatchSink):
    """Collects records; `process_batch` hands them to the target's ordered flush."""

    def __init__(
        self,
        target: TargetBrevo,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.brevo_target = target
        if self.kind == "contacts":
            target.check_contacts_stream(stream_name)

    @property
    def mapping(self) -> dict[str, t.Any]:
        if not hasattr(self, "_mapping"):
            self._mapping = stream_mapping(self.config, self.stream_name)
        return self._mapping

    @property
    def needed_fields(self) -> frozenset[str] | None:
        if not hasattr(self, "_needed_fields"):
            self._needed_fields = needed_fields(self.mapping, list(self.key_properties or []))
        return self._needed_fields

    @property
    def kind(self) -> str:
        return str(self.mapping["kind"])

    @property
    def max_size(self) -> int:
        if self.kind in ("ignore", "deletes"):
            return 10**12
        base = int(self.config.get("batch_size_rows") or DEFAULT_BATCH_ROWS)
        return base if self.kind == "contacts" else base * CHILD_SIZE_FACTOR

    # A bad record is a reject (rejects file, run goes on), not the end of the run.
    def _reject(self, record: dict, code: str, reason: str, field: str | None = None) -> None:
        key = [record.get(k) for k in self.key_properties]
        self.brevo_target.syncer.rejects.add(
            self.stream_name, key[0] if len(key) == 1 else (key or None), code, reason, field
        )
        record[REJECTED] = True

    def _drop_bad_fields(self, record: dict) -> bool:
        """Contacts: a field whose value fails the schema is left out with an
        `invalid_value` reject and the rest of the record is written. Returns False when
        that is not possible (a key field, or an error not tied to one field)."""
        checker = getattr(self._validator, "validator", None)
        if checker is None:
            return False
        errors = list(checker.iter_errors(record))
        fields = {str(e.absolute_path[0]) if e.absolute_path else None for e in errors}
        if not errors or None in fields or fields & set(self.key_properties):
            return False
        key = [record.get(k) for k in self.key_properties]
        for error in errors:
            name = str(error.absolute_path[0])
            if name in record:
                self.brevo_target.syncer.rejects.add(
                    self.stream_name,
                    key[0] if len(key) == 1 else (key or None),
                    "invalid_value",
                    f"{name}: {error.message[:300]}; left out, the rest was written",
                    name,
                    written=True,
                )
                record.pop(name, None)
        return not list(checker.iter_errors(record))

    def _validate_and_parse(self, record: dict) -> dict:
        if self.kind != "ignore" and self._validator is not None:
            try:
                self._validator.validate(record)
            except InvalidRecord as exc:
                if not (self.kind == "contacts" and self._drop_bad_fields(record)):
                    self._reject(record, "invalid_record", str(exc)[:500])
                    return record
        self._parse_timestamps_in_record(
            record=record, schema=self.schema, treatment=self.datetime_error_treatment
        )
        return record

    def _singer_validate_message(self, record: dict) -> None:
        if record.get(REJECTED) or self.kind == "ignore":
            return
        missing = [k for k in self.key_properties if record.get(k) is None]
        if missing:
            self._reject(record, "missing_key", f"record has no {', '.join(missing)}", missing[0])

    def process_record(self, record: dict, context: dict) -> None:
        if record.pop(REJECTED, False) or self.kind == "ignore":
            return
        if self.kind == "deletes":  # only the version's keys are kept (target_brevo.deletes)
            key = record.get(self.key_properties[0]) if self.key_properties else None
            self.brevo_target.reconciler.add(
                self.stream_name, self.brevo_target.record_version, key
            )
            return
        if self.kind == "contact_tags":  # full scan or incremental: the STATE before it says
            target = self.brevo_target
            state = target.latest_state(copied=False)
            target.syncer.tags.observe_stream(self.stream_name, self.mapping, state)
        fields = self.needed_fields
        if fields is not None:  # only what the writer reads is held until the flush
            record = {name: record[name] for name in fields if name in record}
        context.setdefault("records", []).append(record)

    def activate_version(self, new_version: int) -> None:
        """A complete version: what it lacks is handled by `delete_policy` (deletes.py)."""
        self.brevo_target.activate_version(self, new_version)

    def process_batch(self, context: dict) -> None:
        records = context.get("records") or []
        target = self.brevo_target
        if records:
            target.syncer.stage(
                stream=self.stream_name,
                mapping=self.mapping,
                key_properties=list(self.key_properties or []),
                schema=self.schema,
                records=records,
            )
        target.on_sink_drained()
