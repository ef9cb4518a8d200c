"""Attribute definitions: ActiveCampaign custom fields (and options) → typed Brevo attributes."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_brevo.conversions import AC_FIELD_TYPES, attribute_name

if t.TYPE_CHECKING:
    from target_brevo.attribute_catalog import Attribute
    from target_brevo.resolve import Resolver


@dataclass
class FieldDef:
    """One source custom field and its Brevo attribute."""

    field_id: str
    name: str
    brevo_type: str
    source_type: str = "text"
    options: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (value, label)

    def enumeration(self) -> dict[int, str]:
        """Category enumeration: the source option id is the Brevo integer value."""
        out: dict[int, str] = {}
        for option_id, (_value, label) in self.options.items():
            try:
                out[int(option_id)] = label
            except ValueError:
                continue
        return out

    def labels(self) -> list[str]:
        return [label for _value, label in self.options.values()]

    def value_to_label(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for value, label in self.options.values():
            out[value.lower()] = label
            out[label.lower()] = label
        return out


class FieldRegistry:
    """Custom fields seen in this run (definitions come before values, contracts §3)."""

    def __init__(self) -> None:
        self.fields: dict[str, FieldDef] = {}
        self.pending_options: dict[str, dict[str, tuple[str, str]]] = {}
        self.dirty: set[str] = set()

    def add_definition(self, record: t.Mapping[str, t.Any], mapping: t.Mapping[str, t.Any]) -> None:
        field_id = str(record.get(mapping.get("id_field", "id")))
        source_type = str(record.get(mapping.get("type_field", "type")) or "text").lower()
        raw_name = (
            record.get(mapping.get("name_field", "perstag"))
            or record.get("title")
            or f"FIELD_{field_id}"
        )
        types = {**AC_FIELD_TYPES, **(mapping.get("type_map") or {})}
        brevo_type = types.get(source_type, "text")
        name = attribute_name(str(raw_name))
        existing = self.fields.get(field_id)
        options = existing.options if existing else {}
        options.update(self.pending_options.pop(field_id, {}))
        self.fields[field_id] = FieldDef(field_id, name, brevo_type, source_type, options)
        self.dirty.add(field_id)

    def add_option(self, record: t.Mapping[str, t.Any], mapping: t.Mapping[str, t.Any]) -> None:
        field_id = str(record.get(mapping.get("field", "field")))
        option_id = str(record.get("id"))
        label = str(record.get("label") or record.get("value") or "")
        value = str(record.get("value") if record.get("value") is not None else label)
        if not label:
            return
        target = self.fields[field_id].options if field_id in self.fields else None
        if target is None:
            self.pending_options.setdefault(field_id, {})[option_id] = (value, label)
        else:
            target[option_id] = (value, label)
            self.dirty.add(field_id)

    def ensure(self, resolver: Resolver) -> dict[str, Attribute]:
        """Create or update the Brevo attributes of the fields defined in this flush."""
        out: dict[str, Attribute] = {}
        for field_id in sorted(self.dirty):
            fdef = self.fields[field_id]
            out[field_id] = resolver.ensure_attribute(
                fdef.name,
                fdef.brevo_type,
                enumeration=fdef.enumeration() if fdef.brevo_type == "category" else None,
                options=fdef.labels() if fdef.brevo_type == "multiple-choice" else None,
            )
        self.dirty.clear()
        return out
