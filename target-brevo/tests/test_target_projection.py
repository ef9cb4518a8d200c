"""Staged records keep only the fields their writer reads (memory per contact, issue 14),
and what Brevo receives is unchanged by it."""

from __future__ import annotations

from target_brevo.mapping import DEFAULT_AC_MAPPING, needed_fields
from target_brevo.target import TargetBrevo


def test_default_mappings_keep_their_named_fields_and_the_keys() -> None:
    def fields(stream: str) -> frozenset[str] | None:
        return needed_fields(DEFAULT_AC_MAPPING[stream], ["id"])

    assert fields("contacts") == {
        "id", "email", "phone", "tags", "bounced_hard", "first_name", "last_name", "orgname",
    }  # fmt: skip
    assert fields("contact_lists") == {"id", "contact", "list", "status", "udate"}
    assert fields("contact_custom_field_values") == {"id", "contact", "field", "value"}
    assert fields("contact_tags") == {"id", "contact", "tag"}
    # kinds whose writers read the whole record, and a contacts stream of any tap (every
    # property becomes an attribute) keep everything
    assert fields("campaigns") is None
    assert needed_fields({"kind": "events"}, ["id"]) is None
    assert needed_fields({"kind": "contacts", "email": "mail"}, ["uid"]) is None
    custom = {"kind": "list_memberships", "contact": "person", "list": "group", "status": None}
    assert needed_fields(custom, ["person", "group"]) == {"person", "group", "id", "udate"}


def test_the_sink_stages_the_projection_and_keeps_absent_fields_absent() -> None:
    target = TargetBrevo(
        config={"api_key": "xkeysib-test", "api_url": "http://127.0.0.1:9/v3", "dry_run": True},
        validate_config=False,
    )
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "contact": {"type": "integer"},
            "list": {"type": "integer"},
            "status": {"type": "integer"},
            "links": {"type": "object"},
            "sourceid": {"type": "integer"},
        },
    }
    sink = target.get_sink("contact_lists", schema=schema, key_properties=["id"])
    context: dict = {}
    record = {"id": 1, "contact": 7, "list": 2, "status": 1, "links": {"a": "b"}, "sourceid": 0}
    sink.process_record(record, context)
    assert context["records"] == [{"id": 1, "contact": 7, "list": 2, "status": 1}]
