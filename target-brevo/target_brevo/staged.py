"""`Staged`: one sink's batch of records, waiting for the ordered flush."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from target_brevo.serialize import dumps


@dataclass
class Staged:
    """One sink's batch, waiting for the ordered flush."""

    stream: str
    mapping: dict[str, t.Any]
    key_properties: list[str]
    schema: dict[str, t.Any]
    records: list[dict[str, t.Any]]

    @property
    def kind(self) -> str:
        return str(self.mapping["kind"])

    def deduped(self, key_fields: list[str] | None = None) -> list[dict[str, t.Any]]:
        """Deduplicate by primary-key tuple, keeping the last record (in arrival order)."""
        keys = key_fields or self.key_properties
        if not keys:
            return list(self.records)
        latest: dict[tuple[str, ...], dict[str, t.Any]] = {}
        for record in self.records:
            latest.pop(k := tuple(dumps(record.get(x)) for x in keys), None)
            latest[k] = record
        return list(latest.values())
