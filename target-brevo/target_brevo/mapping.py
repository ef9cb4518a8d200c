"""Stream → Brevo object mapping: which kind each stream becomes, with which options.

The ActiveCampaign defaults, merged under `stream_mapping`, and the EXT_ID prefix each stream
settles on. Attribute naming and value conversion per Brevo type: conversions.py.
"""

from __future__ import annotations

import copy
import typing as t

from target_brevo.settings import Settings

KINDS = (
    "contacts",
    "contact_attribute_values",
    "list_memberships",
    "lists",
    "attributes",
    "attribute_options",
    "campaigns",
    "campaign_messages",
    "events",
    "tag_names",
    "contact_tags",
    "deletes",
    "webhook_events",
    "ignore",
)

# What each ActiveCampaign stream (contracts §3) becomes in Brevo by default.
DEFAULT_AC_MAPPING: dict[str, dict[str, t.Any]] = {
    "contacts": {
        "kind": "contacts",
        "email": "email",
        "phone": "phone",
        "fields": {"first_name": "FIRSTNAME", "last_name": "LASTNAME", "orgname": "COMPANY"},
        "tags": "tags",
        "tags_attribute": "AC_TAGS",
        "blocklist_when": "bounced_hard",
    },
    "contact_custom_fields": {"kind": "attributes"},
    "contact_custom_field_options": {"kind": "attribute_options"},
    "contact_custom_field_values": {
        "kind": "contact_attribute_values",
        "contact": "contact",
        "field": "field",
        "value": "value",
    },
    "lists": {"kind": "lists", "name": "name"},
    "contact_lists": {
        "kind": "list_memberships",
        "contact": "contact",
        "list": "list",
        "status": "status",
    },
    "campaigns": {"kind": "campaigns"},
    "messages": {"kind": "campaign_messages"},
    "tags": {"kind": "tag_names", "id": "id", "name": "tag"},
    "contact_tags": {
        "kind": "contact_tags",
        "contact": "contact",
        "tag": "tag",
        "tags_attribute": "AC_TAGS",
        "full_scan": "auto",
    },
    "deals": {"kind": "ignore"},
    "automations": {"kind": "ignore"},
    "contact_automations": {"kind": "ignore"},
    # complete id scans (reconciliation): what a version lacks is handled by delete_policy
    "contact_ids": {"kind": "deletes", "of": "contacts"},
    "list_ids": {"kind": "deletes", "of": "lists"},
    "campaign_ids": {"kind": "deletes", "of": "campaigns"},
    "tag_ids": {"kind": "deletes", "of": "tags"},
    "contact_custom_field_ids": {"kind": "deletes", "of": "contact_custom_fields"},
    "webhook_events": {"kind": "webhook_events"},  # the real-time job only (writers/webhook_events)
}

CONTACT_REFERENCING_KINDS = (
    "contact_attribute_values",
    "list_memberships",
    "events",
    "contact_tags",
    "webhook_events",
)


def _raw_mapping(settings: Settings, stream_name: str) -> tuple[dict[str, t.Any], bool]:
    """(mapping, is an ActiveCampaign default) before the prefix is settled."""
    configured = settings.stream_mapping.get(stream_name)
    base = DEFAULT_AC_MAPPING.get(stream_name) if settings.use_default_mapping else None
    if configured is None:
        if base is not None:
            return copy.deepcopy(base), True
        return {"kind": settings.default_kind}, False
    is_ac = bool(base) and configured.get("kind", base["kind"]) == base["kind"]  # type: ignore[index]
    mapping = copy.deepcopy(base) if is_ac and base else {}
    mapping.update(copy.deepcopy(configured))
    mapping.setdefault("kind", "ignore")
    if mapping["kind"] not in KINDS:
        msg = f"stream_mapping.{stream_name}.kind must be one of {', '.join(KINDS)}"
        raise ValueError(msg)
    return mapping, is_ac


def contacts_prefix(config: Settings | t.Mapping[str, t.Any], stream_name: str) -> str:
    """EXT_ID prefix of a contacts stream: its own `ext_id_prefix`, else the global one
    (`ac-`) for the ActiveCampaign default-mapped streams, else `<stream_name>-`, so two
    streams with the same primary keys never share contacts."""
    settings = Settings.of(config)
    mapping, is_ac = _raw_mapping(settings, stream_name)
    if mapping.get("ext_id_prefix") is not None:
        return str(mapping["ext_id_prefix"])
    if is_ac:
        return settings.ext_id_prefix
    return f"{stream_name}-"


def stream_mapping(config: Settings | t.Mapping[str, t.Any], stream_name: str) -> dict[str, t.Any]:
    """The effective mapping of one stream: configured, else the AC default, else ignore.

    `ext_id_prefix` is always settled: contacts streams see `contacts_prefix`; a stream
    that refers to contacts (values, memberships, events) takes the prefix of its
    `contacts_stream`, else of the only contacts stream in `stream_mapping`, else the global
    `ext_id_prefix` (`ac-`).
    """
    settings = Settings.of(config)
    mapping, is_ac = _raw_mapping(settings, stream_name)
    if mapping["kind"] == "contacts":
        mapping["ext_id_prefix"] = contacts_prefix(settings, stream_name)
    elif mapping.get("ext_id_prefix") is None:
        contacts_stream = mapping.get("contacts_stream")
        if contacts_stream is None and not is_ac:
            configured = [
                name
                for name, m in settings.stream_mapping.items()
                if isinstance(m, dict) and _raw_mapping(settings, name)[0]["kind"] == "contacts"
            ]
            if len(configured) == 1 and mapping["kind"] in CONTACT_REFERENCING_KINDS:
                contacts_stream = configured[0]
        mapping["ext_id_prefix"] = (
            contacts_prefix(settings, str(contacts_stream))
            if contacts_stream is not None
            else settings.ext_id_prefix
        )
    return mapping


def needed_fields(
    mapping: t.Mapping[str, t.Any], key_properties: t.Sequence[str]
) -> frozenset[str] | None:
    """The record fields the writer of ``mapping`` reads, or ``None`` when it may read any.

    The sink keeps only these of each staged record, so a flush holds what it writes and not
    the tap's whole rows (memory per contact: issue 14). Presence is kept: a field the source
    did not send stays absent.
    """
    kind = mapping.get("kind")
    wanted: set[t.Any] = set(key_properties)
    if kind == "contacts":
        fields = mapping.get("fields")
        if fields is None:  # every scalar property becomes an attribute
            return None
        wanted |= {mapping.get("email", "email"), mapping.get("phone", "phone")}
        wanted |= {mapping.get("tags"), mapping.get("blocklist_when"), *fields}
    elif kind == "list_memberships":
        wanted |= {mapping.get("contact"), mapping.get("list"), "id"}
        wanted |= {mapping.get("status", "status"), mapping.get("order_by", "udate")}
    elif kind == "contact_attribute_values":
        wanted |= {mapping.get("contact"), mapping.get("field"), mapping.get("value", "value")}
    elif kind == "contact_tags":
        wanted |= {mapping.get("contact", "contact"), mapping.get("tag", "tag")}
    else:
        return None
    return frozenset(str(name) for name in wanted if name)


def prefix_conflicts(
    config: Settings | t.Mapping[str, t.Any], streams: t.Iterable[str]
) -> list[str]:
    """Messages for contacts streams among `streams` that would share an EXT_ID prefix."""
    settings = Settings.of(config)
    owners: dict[str, str] = {}
    problems: list[str] = []
    for name in streams:
        if _raw_mapping(settings, name)[0]["kind"] != "contacts":
            continue
        prefix = contacts_prefix(settings, name)
        if prefix in owners and owners[prefix] != name:
            problems.append(
                f"streams {owners[prefix]!r} and {name!r} are both mapped to contacts with "
                f"ext_id_prefix {prefix!r}: their records would overwrite each other's contacts. "
                f"Give each its own ext_id_prefix in stream_mapping."
            )
        owners.setdefault(prefix, name)
    return problems
