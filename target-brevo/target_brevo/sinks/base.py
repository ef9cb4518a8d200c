"""The one SDK sink class: it stages a deduplicated batch for the ordered flush."""

from __future__ import annotations

import typing as t

from singer_sdk.sinks import BatchSink

from target_brevo.mapping import stream_mapping

if t.TYPE_CHECKING:
    from target_brevo.target import TargetBrevo

# A full sink triggers an ordered flush of every sink. Contacts decide the size of a
# batch; their children (values, memberships) are allowed many more rows so that they
# usually land in the same flush as their contacts and ride in the same imports.
CHILD_SIZE_FACTOR = 20
DEFAULT_BATCH_ROWS = 25_000


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

    @property
    def mapping(self) -> dict[str, t.Any]:
        if not hasattr(self, "_mapping"):
            self._mapping = stream_mapping(self.config, self.stream_name)
        return self._mapping

    @property
    def kind(self) -> str:
        return str(self.mapping["kind"])

    @property
    def max_size(self) -> int:
        if self.kind == "ignore":
            return 10**12
        base = int(self.config.get("batch_size_rows") or DEFAULT_BATCH_ROWS)
        return base if self.kind == "contacts" else base * CHILD_SIZE_FACTOR

    def process_record(self, record: dict, context: dict) -> None:
        if self.kind == "ignore":
            return
        context.setdefault("records", []).append(record)

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
