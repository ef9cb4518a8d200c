"""The SDK's standard target inputs against the Brevo sandbox, each with a `validate()`.

The built-in tests only prove that nothing crashed; here every input is mapped by
configuration (contacts with an email derived by a stream map, events, or ignore) and
`validate()` checks what the sandbox holds (`GET /__sandbox/dump`).
"""

from __future__ import annotations

import typing as t

import pytest
from sandbox.testing import SandboxProcess
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from singer_sdk.testing.suites import SingerTestSuite
from singer_sdk.testing.target_tests import (
    TargetArrayData,
    TargetCamelcaseComplexSchema,
    TargetCamelcaseTest,
    TargetCliPrintsTest,
    TargetDuplicateRecords,
    TargetEncodedStringData,
    TargetInvalidSchemaTest,
    TargetNoPrimaryKeys,
    TargetOptionalAttributes,
    TargetPrimaryKeyUpdates,
    TargetRecordBeforeSchemaTest,
    TargetRecordMissingKeyProperty,
    TargetRecordMissingOptionalFields,
    TargetSchemaNoProperties,
    TargetSchemaUpdates,
    TargetSpecialCharsInAttributes,
)
from target_brevo.target import TargetBrevo


def _email(prefix: str, key: str = "id") -> dict[str, str]:
    return {"email": f"'{prefix}-' + str({key}) + '@example.com'"}


def _contacts(prefix: str) -> dict[str, t.Any]:
    return {"kind": "contacts", "ext_id_prefix": f"{prefix}-", "phone": None}


STREAM_MAPS = {
    "test_duplicate_records": _email("dup"),
    "TestCamelcase": _email("camel", "Id"),
    "test_array_data": _email("arr"),
    "test_strings": _email("str"),
    "test_optional_attributes": _email("opt"),
    "record_missing_fields": _email("miss"),
    "test_schema_updates": _email("schema"),
}
STREAM_MAPPING = {
    "test_duplicate_records": _contacts("dup"),
    "TestCamelcase": _contacts("camel"),
    "test_array_data": _contacts("arr"),
    "test_strings": _contacts("str"),
    "test_optional_attributes": _contacts("opt"),
    "record_missing_fields": _contacts("miss"),
    "test_schema_updates": _contacts("schema"),
    "example_stream": _contacts("pk"),
    "test_record_missing_key_property": {
        "kind": "events",
        "contact_field": "id",
        "ext_id_prefix": "nokey-",
    },
    "test_no_pk": {
        "kind": "events",
        "event_name": "no_pk_metric",
        "contact_field": "id",
        "ext_id_prefix": "nopk-",
    },
    "test:SpecialChars!in?attributes": {
        "kind": "events",
        "contact_field": "_id",
        "ext_id_prefix": "sc-",
    },
    "test_strings_in_objects": {"kind": "ignore"},
    "test_strings_in_arrays": {"kind": "ignore"},
    "ForecastingTypeToCategory": {"kind": "ignore"},
    "test_object_schema_with_properties": {"kind": "ignore"},
    "test_object_schema_no_properties": {"kind": "ignore"},
}


def _dump(test: t.Any) -> dict[str, t.Any]:
    return dict(test.resource.control.dump())


def _by_ext(test: t.Any, prefix: str) -> dict[str, dict[str, t.Any]]:
    out = {}
    for c in _dump(test)["contacts"]:
        ext = str((c.get("attributes") or {}).get("EXT_ID") or c.get("ext_id") or "")
        if ext.startswith(prefix):
            out[ext] = c
    return out


class DuplicateRecords(TargetDuplicateRecords):
    def validate(self) -> None:
        got = _by_ext(self, "dup-")
        assert set(got) == {"dup-1", "dup-2"}
        assert got["dup-1"]["attributes"]["METRIC"] == 100  # the last record wins
        assert got["dup-2"]["attributes"]["METRIC"] == 20
        assert got["dup-1"]["email"] == "dup-1@example.com"


class Camelcase(TargetCamelcaseTest):
    def validate(self) -> None:
        got = _by_ext(self, "camel-")
        assert got["camel-1"]["attributes"]["CLIENTNAME"] == "Gitter Windows Desktop App"
        assert got["camel-2"]["attributes"]["CLIENTNAME"] == "Gitter iOS App"


class ArrayData(TargetArrayData):
    def validate(self) -> None:
        got = _by_ext(self, "arr-")
        assert len(got) == 4
        assert got["arr-1"]["attributes"]["FRUITS"] == '["apple","orange","pear"]'


class EncodedStrings(TargetEncodedStringData):
    def validate(self) -> None:
        got = _by_ext(self, "str-")
        assert got["str-2"]["attributes"]["INFO"] == "απλή συμβολοσειρά"
        assert got["str-3"]["attributes"]["INFO"] == "简单的字串"
        assert got["str-6"]["attributes"]["INFO"] == 'various " \\ / \n escape sequences'
        assert got["str-11"]["attributes"]["INFO"] == "Control Characters in string: \x00 A \x01"
        assert len(got) == 11


class OptionalAttributes(TargetOptionalAttributes):
    def validate(self) -> None:
        got = _by_ext(self, "opt-")
        assert got["opt-1"]["attributes"]["OPTIONAL"] == "This is optional"
        assert "OPTIONAL" not in got["opt-2"]["attributes"]
        assert len(got) == 4


class MissingOptionalFields(TargetRecordMissingOptionalFields):
    def validate(self) -> None:
        got = _by_ext(self, "miss-")
        assert got["miss-1"]["attributes"]["OPTIONAL"] == "now you see me"
        assert "OPTIONAL" not in got["miss-2"]["attributes"]


class SchemaUpdates(TargetSchemaUpdates):
    def validate(self) -> None:
        got = _by_ext(self, "schema-")
        assert len(got) == 6
        six = got["schema-6"]["attributes"]
        assert six["A1"] == 106
        assert six["A2"] == "string6"
        assert six["A3"] is True
        assert six["A6"] == 341
        assert got["schema-5"]["attributes"]["A3"] is False
        types = {a["name"]: a["type"] for a in _dump(self)["attributes"]}
        assert types["A1"] == "float"
        assert types["A3"] == "boolean"


class PrimaryKeyUpdates(TargetPrimaryKeyUpdates):
    def validate(self) -> None:
        # the file puts key_properties inside the schema: no key, so contacts key by email
        by_email = {c["email"]: c for c in _dump(self)["contacts"]}
        assert by_email["alice@example.com"]["attributes"]["NAME"] == "Alice"
        assert by_email["bob@example.com"]["attributes"]["NAME"] == "Bob"


class NoPrimaryKeys(TargetNoPrimaryKeys):
    def validate(self) -> None:
        events = [e for e in _dump(self)["events"] if e["event_name"] == "no_pk_metric"]
        assert sorted(e["event_properties"]["metric"] for e in events) == [11, 22, 33]
        assert {e["identifiers"]["ext_id"] for e in events} == {"nopk-1", "nopk-2", "nopk-3"}


class SpecialChars(TargetSpecialCharsInAttributes):
    def validate(self) -> None:
        events = [
            e for e in _dump(self)["events"] if e["identifiers"].get("ext_id") == "sc-a2e98886"
        ]
        assert len(events) == 1
        assert events[0]["event_name"] == "test_SpecialChars_in_attributes"
        assert events[0]["event_properties"]["d"]["agent:os:version"] == "10.13.1"


class RecordMissingKeyProperty(TargetRecordMissingKeyProperty):
    """A record without its key is a reject (stream, field, reason) and the run goes on;
    the SDK's own version of this test expects the run to stop."""

    def test(self) -> None:
        self.runner.sync_all()

    def validate(self) -> None:
        import json
        from pathlib import Path

        lines = Path(self.runner.config["rejects_file"]).read_text().splitlines()
        rejects = [json.loads(x) for x in lines]
        assert [(r["stream"], r["code"], r["field"]) for r in rejects] == [
            ("test_record_missing_key_property", "missing_key", "id")
        ]
        events = _dump(self)["events"]
        assert not [e for e in events if str(e["identifiers"].get("ext_id")).startswith("nokey")]


class CamelcaseComplex(TargetCamelcaseComplexSchema):
    def validate(self) -> None:  # mapped to ignore: nothing of it reaches Brevo
        dump = _dump(self)
        assert not any("FORECAST" in a["name"] for a in dump["attributes"])


class SchemaNoProperties(TargetSchemaNoProperties):
    def validate(self) -> None:
        dump = _dump(self)
        assert not any(a["name"].startswith("OBJECT") for a in dump["attributes"])


brevo_target_tests = SingerTestSuite(
    kind="target",
    tests=[
        TargetCliPrintsTest,
        TargetInvalidSchemaTest,
        TargetRecordBeforeSchemaTest,
        RecordMissingKeyProperty,
        DuplicateRecords,
        Camelcase,
        ArrayData,
        EncodedStrings,
        OptionalAttributes,
        MissingOptionalFields,
        SchemaUpdates,
        PrimaryKeyUpdates,
        NoPrimaryKeys,
        SpecialChars,
        CamelcaseComplex,
        SchemaNoProperties,
    ],
)

StandardTargetTests = get_target_test_class(
    TargetBrevo,
    config={"api_key": "placeholder", "api_url": "http://127.0.0.1:9/v3"},
    custom_suites=[brevo_target_tests],
    include_target_tests=False,
)


class TestTargetBrevoStandard(StandardTargetTests):  # type: ignore[misc, valid-type]
    """One sandbox for the class; each test checks its own streams in the dump."""

    @pytest.fixture(scope="class")
    @classmethod
    def resource(cls) -> t.Iterator[SandboxProcess]:
        with SandboxProcess("brevo", import_delay=0.1, rate_scale=0) as sb:
            yield sb

    @pytest.fixture
    def runner(self, resource: SandboxProcess, tmp_path: t.Any) -> TargetTestRunner:
        config = {
            "api_key": resource.token,
            "api_url": resource.api_url,
            "stream_maps": STREAM_MAPS,
            "stream_mapping": STREAM_MAPPING,
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            "poll_initial_seconds": 0.15,
            "poll_seconds_per_1000_rows": 0.1,
        }
        return TargetTestRunner(target_class=TargetBrevo, config=config)
