"""Our discovered catalog against singer-io 1.3.1's (a drop-in successor must offer the same).

The reference is ``fixtures/singer_io_1_3_1_catalog.json``, a snapshot of singer-io's discovered
catalog (its source is noted in the file). Every singer-io stream must exist here under the
same name with the same primary key, every one of its properties must exist, and no type may be
less specific than singer-io's (``integer`` where it says integer, a date-time ``format`` where
it has one; a plain string of singer-io's accepts anything more specific).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from tap_activecampaign.tap import TapActiveCampaign

FIXTURE = Path(__file__).parent / "fixtures" / "singer_io_1_3_1_catalog.json"
REFERENCE: dict[str, dict[str, t.Any]] = json.loads(FIXTURE.read_text())["streams"]
CONFIG = {"api_url": "https://parity.api-us1.com", "api_token": "not-used-by-discovery"}

#: for each singer-io type, the types of ours that are at least as specific
AT_LEAST_AS_SPECIFIC: dict[str, set[str]] = {
    "integer": {"integer"},
    "number": {"number", "integer"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
    "string": {"string", "integer", "number", "boolean"},
}


def _types(prop: t.Mapping[str, t.Any]) -> set[str]:
    declared = prop.get("type")
    if declared is None and "anyOf" in prop:
        return set().union(*(_types(option) for option in prop["anyOf"]))
    found = {declared} if isinstance(declared, str) else set(declared or [])
    return found - {"null"}


def _format(prop: t.Mapping[str, t.Any]) -> str | None:
    if prop.get("format"):
        return str(prop["format"])
    return next((o["format"] for o in prop.get("anyOf", []) if o.get("format")), None)


def weaker(theirs: t.Mapping[str, t.Any], ours: t.Mapping[str, t.Any]) -> str | None:
    """Why ``ours`` is less specific than ``theirs``, or None."""
    their_types, our_types = _types(theirs), _types(ours)
    if not our_types:
        return f"untyped, singer-io has {sorted(their_types)}"
    for our_type in our_types:
        if not any(our_type in AT_LEAST_AS_SPECIFIC.get(x, {x}) for x in their_types):
            return f"{our_type} where singer-io has {sorted(their_types)}"
    if _format(theirs) == "date-time" and _format(ours) not in {"date-time", "date"}:
        return f"no date-time format (ours {sorted(our_types)}, {_format(ours)})"
    return None


def catalog_diff(ours: dict[str, dict[str, t.Any]]) -> list[str]:
    """Every way ``ours`` (stream -> catalog entry) falls short of singer-io's catalog."""
    problems: list[str] = []
    for name, ref in sorted(REFERENCE.items()):
        entry = ours.get(name)
        if entry is None:
            problems.append(f"{name}: stream missing")
            continue
        if list(entry.get("key_properties") or []) != list(ref["key_properties"]):
            problems.append(
                f"{name}: key {entry.get('key_properties')} != singer-io {ref['key_properties']}"
            )
        properties = entry["schema"].get("properties", {})
        for field, their_prop in sorted(ref["properties"].items()):
            if field not in properties:
                problems.append(f"{name}.{field}: field missing")
                continue
            why = weaker(their_prop, properties[field])
            if why:
                problems.append(f"{name}.{field}: {why}")
    return problems


@pytest.fixture(scope="module")
def discovered() -> dict[str, dict[str, t.Any]]:
    tap = TapActiveCampaign(config=CONFIG, parse_env_config=False, validate_config=True)
    return {entry["tap_stream_id"]: entry for entry in tap.catalog_dict["streams"]}


def test_reference_is_singer_io_59_streams() -> None:
    assert len(REFERENCE) == 59
    assert REFERENCE["ecommerce_order_products"]["parent"] == "ecommerce_orders"


def test_every_singer_io_stream_key_and_field_is_here(discovered: dict[str, t.Any]) -> None:
    assert catalog_diff(discovered) == []


def test_the_diff_fails_on_a_missing_stream_key_field_or_weaker_type(
    discovered: dict[str, t.Any],
) -> None:
    broken = json.loads(json.dumps(discovered))
    del broken["webhooks"]
    broken["tasks"]["key_properties"] = ["id", "owner"]
    del broken["contacts"]["schema"]["properties"]["email"]
    broken["deals"]["schema"]["properties"]["owner"] = {"type": ["null", "string"]}
    broken["forms"]["schema"]["properties"]["udate"] = {"type": ["null", "string"]}
    assert catalog_diff(broken) == [
        "contacts.email: field missing",
        "deals.owner: string where singer-io has ['integer']",
        "forms.udate: no date-time format (ours ['string'], None)",
        "tasks: key ['id', 'owner'] != singer-io ['id']",
        "webhooks: stream missing",
    ]


def test_child_of_ecommerce_orders() -> None:
    tap = TapActiveCampaign(config=CONFIG, parse_env_config=False, validate_config=True)
    child = tap.streams["ecommerce_order_products"]
    assert child.parent_stream_type is type(tap.streams["ecommerce_orders"])


#: streams replicated differently on purpose (README, "Where we differ from singer-io")
CHILDREN_OF_THEIR_PARENT = {
    "contact_lists", "contact_tags", "contact_custom_field_values", "ecommerce_order_products",
}


def test_replication_methods(discovered: dict[str, t.Any]) -> None:
    """singer-io's FULL_TABLE streams are full table here too and its incremental streams
    incremental (tags too: ours filters on updated_timestamp); append-only logs on their id;
    children written with their parent's rows carry no bookmark of their own."""

    def root(name: str) -> dict[str, t.Any]:
        entry = discovered[name]
        return next(m for m in entry["metadata"] if not m["breadcrumb"])["metadata"]

    for name, ref in REFERENCE.items():
        method = "INCREMENTAL" if root(name).get("replication-key") else "FULL_TABLE"
        if name in CHILDREN_OF_THEIR_PARENT:
            assert method == "FULL_TABLE", name
        elif name == "tags":
            assert method == "INCREMENTAL"
        else:
            assert method == ref["replication_method"], name
    for name in ("activities", "email_activities", "deal_activities", "contact_emails", "sms",
                 "contact_conversions"):
        assert root(name)["replication-key"] == "id", name
