"""Contact rows: staged contacts and attribute values turned into import rows.

`Row` is one contact as it goes into `POST /contacts/import`; `ContactBatch` holds one
flush's rows and list changes; `RowBuilder` fills it from the staged records, converting
each value to its attribute's type (an unconvertible value is an `invalid_value` reject).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_brevo.conversions import (
    ConversionError,
    attribute_name,
    brevo_type_for_schema,
    convert,
    normalise_email,
    normalise_phone,
    split_multi,
    tags_value,
)
from target_brevo.options import missing_labels, unrepresentable

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.settings import Settings
    from target_brevo.staged import Staged
    from target_brevo.writers.attributes import FieldRegistry
    from target_brevo.writers.contacts.tags import TagChange, TagSync

_REJECTED = object()  # a value that could not be converted (and was reported)

@dataclass
class Row:
    """One contact as it goes into an import."""

    ext_id: str | None
    email: str | None = None
    sms: str | None = None
    attrs: dict[str, t.Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    lists: set[int] = field(default_factory=set)
    blocklist: bool = False
    stream: str = ""
    key: t.Any = None
    full: bool = False  # built from a contacts record (not only values/memberships)
    email_changed: bool = False
    # the contact unsubscribed from the master list: never in an import (which would add it
    # back), written with one PUT instead
    no_master: bool = False
    # tags from contact_tags rows, applied to what Brevo holds once the pre-read is in
    tag_change: TagChange | None = None

    def body(self, *, with_sms: bool = True) -> dict[str, t.Any]:
        attributes: dict[str, t.Any] = {}
        if self.ext_id:
            attributes["EXT_ID"] = self.ext_id
        if self.sms and with_sms:
            attributes["SMS"] = self.sms
        attributes.update(self.attrs)
        out: dict[str, t.Any] = {"attributes": attributes}
        if self.email:
            out["email"] = self.email
        return out



@dataclass
class ContactBatch:
    """One flush's contact rows and list changes, shared by the contact writer's parts."""

    rows: dict[str, Row] = field(default_factory=dict)  # by ext_id (or "email:<email>")
    adds: dict[int, set[str]] = field(default_factory=dict)
    removes: dict[int, set[str]] = field(default_factory=dict)
    blocklist_only: set[str] = field(default_factory=set)
    existing: dict[str, dict[str, t.Any]] = field(default_factory=dict)
    # (list id, ext_id) → (stream, source key) of the membership, for rejects
    add_origin: dict[tuple[int, str], tuple[str, t.Any]] = field(default_factory=dict)
    # values that need an option added to their attribute: (row key, attribute, labels,
    # stream, source key, field, rest of the record written), for rejects if Brevo refuses
    option_uses: list[tuple[str, str, list[str], str, t.Any, str, bool]] = field(
        default_factory=list
    )


def _key_value(record: t.Mapping[str, t.Any], keys: list[str]) -> t.Any:
    values = [record.get(k) for k in keys]
    if any(v is None for v in values):
        return None
    return values[0] if len(values) == 1 else tuple(values)


def _key_text(value: t.Any) -> str:
    if isinstance(value, tuple):
        return ":".join(str(v) for v in value)
    return str(value)


def prefix_for(settings: Settings, mapping: t.Mapping[str, t.Any]) -> str:
    """The EXT_ID prefix of a stream: its mapping's, else the settings' `ext_id_prefix`."""
    return str(mapping.get("ext_id_prefix") or settings.ext_id_prefix)


class RowBuilder:
    """Builds the batch's rows from staged contacts and contact attribute values."""

    def __init__(
        self, ctx: WriteContext, batch: ContactBatch, fields: FieldRegistry, tags: TagSync
    ) -> None:
        self.ctx = ctx
        self.batch = batch
        self.fields = fields
        self.tags = tags

    def _contact_fields(self, staged: Staged) -> dict[str, tuple[str, str | None]]:
        """source field → (attribute name, declared type or None)."""
        mapping = staged.mapping
        fields = mapping.get("fields")
        out: dict[str, tuple[str, str | None]] = {}
        if fields is None:  # any tap: every other scalar property becomes an attribute
            skip = {
                mapping.get("email", "email"),
                mapping.get("phone", "phone"),
                mapping.get("tags"),
                mapping.get("blocklist_when"),
                *staged.key_properties,
            }
            for name, prop in (staged.schema.get("properties") or {}).items():
                if name in skip or name.startswith("_sdc_"):
                    continue
                out[name] = (attribute_name(name), brevo_type_for_schema(prop))
            return out
        for src, spec in fields.items():
            if isinstance(spec, str):
                out[src] = (attribute_name(spec), None)
            else:
                out[src] = (attribute_name(spec.get("attribute", src)), spec.get("type"))
        return out

    def _typed_attribute(
        self, name: str, declared: str | None, prop: t.Mapping[str, t.Any]
    ) -> t.Any:
        typ = declared or brevo_type_for_schema(prop)
        return self.ctx.resolver.ensure_attribute(name, typ)

    def add_contacts(self, staged: Staged) -> None:
        mapping = staged.mapping
        prefix = prefix_for(self.ctx.settings, mapping)
        email_field = mapping.get("email", "email")
        phone_field = mapping.get("phone", "phone")
        tags_field = mapping.get("tags")
        block_field = mapping.get("blocklist_when")
        region = self.ctx.settings.default_phone_region
        fields = self._contact_fields(staged)
        props = staged.schema.get("properties") or {}
        attrs = {
            src: self._typed_attribute(name, declared, props.get(src, {}))
            for src, (name, declared) in fields.items()
        }
        tags_attr = None
        if tags_field:
            tags_attr = self.ctx.resolver.ensure_attribute(
                attribute_name(mapping.get("tags_attribute", "AC_TAGS")), "text"
            )
        for record in staged.deduped():
            key = _key_value(record, staged.key_properties) if staged.key_properties else None
            key_text = _key_text(key) if key is not None else None
            ext_id = f"{prefix}{key_text}" if key_text is not None else None
            email, reason = normalise_email(record.get(email_field))
            sms, phone_reason = (None, None)
            if phone_field and phone_field in record:
                sms, phone_reason = normalise_phone(record.get(phone_field), region)
            if email is None:
                self.ctx.rejects.add(staged.stream, key, "invalid_email", str(reason), email_field)
                if ext_id:
                    self.ctx.rejected_contacts.add(ext_id)
                continue
            row_key = ext_id or f"email:{email}"
            row = self.batch.rows.get(row_key) or Row(ext_id=ext_id)
            row.email, row.full, row.stream, row.key = email, True, staged.stream, key
            if phone_reason:
                self.ctx.rejects.add(
                    staged.stream, key, "invalid_phone", phone_reason, phone_field, written=True
                )
            elif sms:
                row.sms = sms
            for src, attr in attrs.items():
                if src not in record:
                    continue  # only fields the source actually sent
                value = self._converted(
                    staged, key, attr, record[src], src, written=True, row_key=row_key
                )
                if value is _REJECTED:
                    continue
                row.attrs[attr.name] = value
                row.types[attr.name] = attr.type
            if tags_attr is not None and tags_field in record:
                row.attrs[tags_attr.name] = tags_value(record.get(tags_field))
                row.types[tags_attr.name] = "text"
            if tags_attr is not None and ext_id:
                self.tags.note_contact(
                    ext_id, tags_attr.name, carries_tags=tags_field in record
                )
            if block_field and record.get(block_field):
                try:
                    row.blocklist = bool(float(record[block_field]))
                except (TypeError, ValueError):
                    row.blocklist = bool(record[block_field])
            self.batch.rows[row_key] = row

    def _converted(
        self,
        staged: Staged,
        key: t.Any,
        attr: t.Any,
        raw: t.Any,
        field: str,
        *,
        written: bool,
        row_key: str,
    ) -> t.Any:
        """`raw` converted to the attribute's type, or `_REJECTED` after an `invalid_value`
        reject naming the field (`written`: whether the rest of the record is still written).

        Options the value names that the attribute lacks are added to it (in memory; written
        once per attribute by `apply_attribute_updates`), unless Brevo cannot hold them."""
        missing = missing_labels(raw, attr)
        if missing:
            why = next((w for label in missing if (w := unrepresentable(label))), None)
            if why is not None:
                self.ctx.rejects.add(
                    staged.stream,
                    key,
                    "invalid_value",
                    f"{attr.name} ({attr.type}): {why}",
                    field,
                    written=written,
                )
                return _REJECTED
            self.ctx.resolver.add_options(attr, missing)
            self.batch.option_uses.append(
                (row_key, attr.name, missing, staged.stream, key, field, written)
            )
        try:
            return convert(
                raw, attr.type, enumeration=attr.enum_lookup(), options=attr.options or None
            )
        except ConversionError as exc:
            self.ctx.rejects.add(
                staged.stream,
                key,
                "invalid_value",
                f"{attr.name} ({attr.type}): {exc}",
                field,
                written=written,
            )
            return _REJECTED

    def add_values(self, staged: Staged) -> None:
        """contact_attribute_values: one record = one (contact, field, value)."""
        mapping = staged.mapping
        prefix = prefix_for(self.ctx.settings, mapping)
        registry = self.fields
        for record in staged.deduped(key_fields=[mapping["contact"], mapping["field"]]):
            contact = record.get(mapping["contact"])
            field_id = str(record.get(mapping["field"]))
            key = _key_value(record, staged.key_properties) or (contact, field_id)
            ext_id = f"{prefix}{contact}"
            if ext_id in self.ctx.rejected_contacts:
                self.ctx.rejects.add(
                    staged.stream, key, "contact_rejected", f"contact {ext_id} was rejected"
                )
                continue
            fdef = registry.fields.get(field_id)
            if fdef is None:
                self.ctx.rejects.add(
                    staged.stream,
                    key,
                    "unknown_field",
                    f"custom field {field_id} was not defined in this run",
                    field_id,
                )
                continue
            attr = self.ctx.resolver.ensure_attribute(fdef.name, fdef.brevo_type)
            raw = record.get(mapping.get("value", "value"))
            to_label = fdef.value_to_label()
            if attr.type == "multiple-choice":
                raw = [to_label.get(v.lower(), v) for v in split_multi(raw or "")]
            elif attr.type == "category" and raw not in (None, ""):
                raw = to_label.get(str(raw).lower(), raw)
            value = self._converted(
                staged, key, attr, raw, attr.name, written=False, row_key=ext_id
            )
            if value is _REJECTED:
                continue
            row = self.batch.rows.get(ext_id)
            if row is None:
                row = Row(ext_id=ext_id, stream=staged.stream, key=contact)
                self.batch.rows[ext_id] = row
            row.attrs[attr.name] = value
            row.types[attr.name] = attr.type

    def apply_attribute_updates(self) -> None:
        """Write the attribute options this flush needs (one request per attribute); the
        values that needed an option Brevo refused are left out, each an `invalid_value`."""
        failed = self.ctx.resolver.write_attribute_updates()
        for row_key, name, labels, stream, key, field_name, written in self.batch.option_uses:
            row = self.batch.rows.get(row_key)
            if name not in failed or row is None or name not in row.attrs:
                continue
            del row.attrs[name]
            row.types.pop(name, None)
            self.ctx.rejects.add(
                stream,
                key,
                "invalid_value",
                f"{name}: Brevo refused the new option(s) {labels}: {failed[name]}",
                field_name,
                written=written,
            )
        self.batch.option_uses.clear()
