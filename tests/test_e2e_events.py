"""A stream mapped to Brevo events by configuration alone, through Meltano."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e_support import dump

STREAMS = [
    "contacts", "lists", "contact_lists", "tags", "contact_tags", "contact_custom_fields",
    "contact_custom_field_options", "contact_custom_field_values", "campaigns", "messages",
    "contact_automations",
]


def test_contact_automations_become_events(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=120)
    p.extra_env["TAP_ACTIVECAMPAIGN__SELECT"] = json.dumps([f"{s}.*" for s in STREAMS])
    p.extra_env["TARGET_BREVO_STREAM_MAPPING"] = json.dumps({
        "contact_automations": {"kind": "events", "event_name": "automation_entered",
                                "contact_field": "contact", "date_field": "adddate"},
    })
    result = p.run()
    assert result.returncode == 0, result.output[-4000:]

    ac = dump(p.ac_url)
    brevo = dump(p.brevo_url)
    in_brevo = {c["ext_id"] for c in brevo["contacts"]}
    expected = {
        (f"ac-{ca['contact']}", ca["id"]) for ca in ac["contact_automations"]
        if f"ac-{ca['contact']}" in in_brevo
    }
    assert expected, "the seeded account should have contact automations"
    got: set[tuple[str, int]] = set()
    for event in brevo["events"]:
        assert event["event_name"] == "automation_entered"
        props = event.get("event_properties") or {}
        assert props["_source_stream"] == "contact_automations"
        got.add((event["identifiers"]["ext_id"], int(props["_source_key"])))
    assert got == expected
