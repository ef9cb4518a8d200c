"""Brevo sandbox, in process: identifier rules, attribute typing, the spec subset and overlay,
the sliding-window limiter and the atomicity of an import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sandbox.brevo import attributes as attrs
from sandbox.brevo import imports
from sandbox.brevo.identifiers import is_valid_email, normalize_email, normalize_sms
from sandbox.brevo.ratelimit import BrevoRateLimit, bucket_for_path
from sandbox.brevo.store import Store
from sandbox.brevo.validation import (
    OPERATIONS,
    SUBSET_FILE,
    RequestInvalid,
    extract_subset,
    validate_body,
)

SPEC = Path(__file__).resolve().parents[1] / "specs" / "brevo-openapi.yaml"


def test_email_rules() -> None:
    assert normalize_email("  Jane.DOE@Example.com ") == "jane.doe@example.com"
    for good in ("a@example.com", "first.last+tag@sub.example.co.uk", "o'neil@example.org"):
        assert is_valid_email(good), good
    for bad in ("", "a", "a@", "@example.com", "a@example", "a b@example.com", "a@@example.com",
                "a..b@example.com", "a@example.c"):
        assert not is_valid_email(bad), bad


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+33612345678", "+33612345678"),
        ("33612345678", "+33612345678"),
        ("0033612345678", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("+1 (415) 555-0123", "+14155550123"),
        (919876543210, "+919876543210"),
        ("0612345678", None),  # national format: no country code
        ("+999123456789", None),  # no such country code
        ("+336", None),
        ("phone", None),
        (True, None),
    ],
)
def test_sms_rules(raw: Any, expected: str | None) -> None:
    assert normalize_sms(raw) == expected


def test_attribute_value_typing() -> None:
    text = attrs.AttributeDef("FIRSTNAME", "normal", "text")
    num = attrs.AttributeDef("AGE", "normal", "float")
    flag = attrs.AttributeDef("VIP", "normal", "boolean")
    day = attrs.AttributeDef("DOB", "normal", "date")
    cat = attrs.AttributeDef("G", "category", "category",
                             enumeration=[{"value": 1, "label": "M"}])
    multi = attrs.AttributeDef("I", "normal", "multiple-choice", options=["a", "b"])
    calc = attrs.AttributeDef("C", "calculated", None, calculated_value="1")
    sms = attrs.AttributeDef("SMS", "normal", "text")
    accepted = [(text, "x"), (num, 1), (num, 1.5), (flag, False), (day, "2024-02-29"),
                (cat, 1), (multi, ["b", "a"])]
    for attr, value in accepted:
        assert attrs.coerce_value(attr, value) == value, (attr.name, value)
    ignored = [(text, 1), (text, None), (num, "1"), (num, True), (flag, "true"), (flag, 1),
               (day, "2023-02-29"), (day, "2024-02-29T00:00:00Z"), (cat, "M"), (cat, 2),
               (multi, ["c"]), (multi, "a"), (calc, "2"), (sms, "+33612345678")]
    for attr, value in ignored:
        assert attrs.is_skip(attrs.coerce_value(attr, value)), (attr.name, value)


def test_spec_subset_is_regenerated_identically_from_the_spec_file() -> None:
    assert SPEC.exists(), SPEC
    fresh = extract_subset(SPEC)
    stored = json.loads(SUBSET_FILE.read_text())
    assert fresh == stored
    assert stored["info"]["version"] == "3.0.0"


def test_overlay_adds_the_2026_changes() -> None:
    create = OPERATIONS["POST /contacts"]["body"]["properties"]
    assert create["forceMerge"]["type"] == "boolean"
    assert create["getId"]["type"] == "boolean"
    assert "forceMerge" in OPERATIONS["PUT /contacts/{identifier}"]["body"]["properties"]
    assert "consentGroupIds" in OPERATIONS["POST /contacts/import"]["body"]["properties"]
    assert "POST /events/batch" in OPERATIONS
    status = next(p for p in OPERATIONS["GET /emailCampaigns"]["parameters"]
                  if p["name"] == "status")
    assert {"inReview", "cancelling", "cancelled"} <= set(status["schema"]["enum"])
    validate_body("POST /events", {"event_name": "x", "identifiers": {"contact_id": 3}})
    with pytest.raises(RequestInvalid) as exc:
        validate_body("POST /events", {"event_name": "x", "identifiers": {"contact_id": "3"}})
    assert exc.value.code == "invalid_parameter"
    assert "identifiers.contact_id" in exc.value.message


def test_buckets() -> None:
    assert bucket_for_path("/v3/contacts") == "contacts"
    assert bucket_for_path("/v3/contacts/import") == "contacts"
    assert bucket_for_path("/v3/contacts/lists/3/contacts/add") == "contacts"
    assert bucket_for_path("/v3/events/batch") == "events"
    assert bucket_for_path("/v3/processes/1") == "other"
    assert bucket_for_path("/v3/emailCampaigns") == "other"
    assert bucket_for_path("/v3/account") == "other"


def test_limiter_per_second_and_per_hour_windows() -> None:
    rl = BrevoRateLimit(scale=1.0)
    rl.configure({"buckets": {"contacts": {"per_second": 3, "per_hour": 5}}})
    t = 1000.0
    got = [rl.check("contacts", t + i * 0.1).allowed for i in range(4)]
    assert got == [True, True, True, False]  # per second
    d = rl.check("contacts", t + 1.05)  # the first one left the 1 s window
    assert d.allowed
    assert d.headers["x-sib-ratelimit-limit"] == "3"
    assert d.headers["x-sib-ratelimit-remaining"] == "0"
    assert d.headers["x-sib-ratelimit-reset"] == "1"
    d = rl.check("contacts", t + 2.5)
    assert d.allowed
    assert d.headers["x-sib-ratelimit-limit"] == "5"  # now the hourly window is the tightest
    assert d.headers["x-sib-ratelimit-remaining"] == "0"
    d = rl.check("contacts", t + 4.0)
    assert not d.allowed
    assert d.headers["x-sib-ratelimit-remaining"] == "0"
    assert d.headers["x-sib-ratelimit-reset"] == "3596"  # until the first admission is an hour old
    assert rl.check("contacts", t + 3600.01).allowed
    rl.configure({"scale": 0})
    assert all(rl.check("contacts", t).allowed for _ in range(100))


def test_import_is_applied_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    folder = store.create_folder("F")
    list_id = store.create_list("L", folder)
    pid = store.insert_process(imports.PROCESS_NAME, b"{}")
    body = {"jsonBody": [{"email": f"c{i}@example.com"} for i in range(100)],
            "listIds": [list_id]}

    def boom(*args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "insert_reports", boom)
    with pytest.raises(RuntimeError):
        imports.apply_import(store, pid, body)
    assert store.all_contacts() == []
    assert store.list_info(list_id)["uniqueSubscribers"] == 0
    monkeypatch.undo()
    info = imports.apply_import(store, pid, body)
    assert info["created"] == 100
    assert len(store.all_contacts()) == 100
    assert store.process(pid)["status"] == "completed"


def test_identifiers_can_move_between_contacts_within_one_import() -> None:
    store = Store()
    list_id = store.create_list("L", store.create_folder("F"))
    setup = store.insert_process(imports.PROCESS_NAME, b"{}")
    imports.apply_import(store, setup, {"listIds": [list_id], "jsonBody": [
        {"email": "x@example.com", "attributes": {"EXT_ID": "ac-x"}},
        {"email": "y@example.com", "attributes": {"EXT_ID": "ac-y"}},
    ]})
    pid = store.insert_process(imports.PROCESS_NAME, b"{}")
    info = imports.apply_import(store, pid, {"listIds": [list_id], "jsonBody": [
        {"attributes": {"EXT_ID": "ac-y", "FIRSTNAME": "Y"}},  # Y is written first
        {"email": "x@example.com", "attributes": {"EXT_ID": "ac-new"}},  # X gives up ac-x
        {"email": "y@example.com", "attributes": {"EXT_ID": "ac-x"}},  # ...which Y takes
    ]})
    assert info["reports"] == {k: 0 for k in imports.REPORT_KINDS}
    assert info["updated"] == 2
    got = {c.email: c.ext_id for c in store.all_contacts()}
    assert got == {"x@example.com": "ac-new", "y@example.com": "ac-x"}


def test_response_schemas_catch_a_wrong_shape() -> None:
    from sandbox.brevo.validation import response_error

    good: dict[str, Any] = {"contacts": [{"id": 1, "email": "a@example.com",
                                          "emailBlacklisted": False,
                          "smsBlacklisted": False, "createdAt": "x", "modifiedAt": "x",
                          "listIds": [], "attributes": {}}], "count": 1}
    assert response_error("GET /contacts", 200, good) is None
    bad = {"contacts": [{**good["contacts"][0], "listIds": ["1"]}], "count": 1}
    assert "listIds" in (response_error("GET /contacts", 200, bad) or "")
    assert response_error("GET /processes/{processId}", 200,
                          {"id": 1, "name": "IMPORTUSER", "status": "failed"}) is None
    assert response_error("GET /processes/{processId}", 200,
                          {"id": 1, "name": "IMPORTUSER", "status": "done"}) is not None
