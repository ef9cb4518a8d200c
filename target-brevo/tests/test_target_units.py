"""Unit tests that need no sandbox: mapping, conversion, pacing, retries, keys."""

from __future__ import annotations

import datetime as dt
import decimal
import http.server
import io
import json
import logging
import threading
import typing as t

import pytest
from singer_sdk.exceptions import ConfigValidationError
from target_brevo.api_url import check_api_url
from target_brevo.client import BrevoClient
from target_brevo.conversions import (
    ConversionError,
    attribute_name,
    brevo_type_for_schema,
    convert,
    normalise_email,
    normalise_phone,
    same_value,
    tags_value,
)
from target_brevo.errors import (
    BrevoAuthError,
    BrevoConflict,
    BrevoInvalid,
    BrevoSystemic,
    BrevoUncertain,
)
from target_brevo.lookups import create_then_lookup
from target_brevo.mapping import stream_mapping
from target_brevo.name_keys import key_of, with_key
from target_brevo.pacing import Pacer, bucket_of
from target_brevo.rejects import WARN_PER_CODE, Rejects, TooManyRejectsError
from target_brevo.serialize import dumps
from target_brevo.staged import Staged
from target_brevo.target import TargetBrevo

KEY = "xkeysib-unit-secret"


def test_values_convert_to_the_attribute_type() -> None:
    assert convert("2026-03-08T23:30:00-05:00", "date") == "2026-03-09"
    assert convert(dt.date(2026, 1, 2), "date") == "2026-01-02"
    assert convert("1,234.5", "float") == 1234.5
    assert convert(decimal.Decimal("3"), "float") == 3
    assert convert("yes", "boolean") is True
    assert convert("0", "boolean") is False
    assert convert("Gold", "category", enumeration={"gold": 7}) == 7
    assert convert("||a||b||", "multiple-choice", options=["A", "b"]) == ["A", "b"]
    assert convert(None, "float") == ""
    assert convert("0000-00-00", "date") == ""  # AC's zero date clears the value
    assert convert({"a": 1}, "text") == '{"a":1}'
    for value, typ in [("soon", "date"), ("abc", "float"), ("maybe", "boolean")]:
        with pytest.raises(ConversionError):
            convert(value, typ)
    with pytest.raises(ConversionError):
        convert("Platinum", "category", enumeration={"gold": 7})
    with pytest.raises(ConversionError):
        convert("||zzz||", "multiple-choice", options=["a"])


def test_same_value_detects_dropped_values() -> None:
    assert same_value("2026-01-02", "2026-01-02", "date")
    assert same_value(3, 3.0, "float")
    assert not same_value(3, None, "float")
    assert same_value(["a", "b"], ["b", "a"], "multiple-choice")
    assert same_value("", None, "text")
    assert not same_value(True, None, "boolean")


def test_identifiers_are_normalised() -> None:
    assert normalise_phone("(415) 555-2671", "US") == ("+14155552671", None)
    assert normalise_phone("0033 1 23 45 67 89", "US")[0] == "+33123456789"
    assert normalise_phone("12", "US")[0] is None
    assert normalise_phone(None, "US") == (None, None)
    assert normalise_email(" Jane@Example.COM ")[0] == "jane@example.com"
    email, reason = normalise_email("not-an-email")
    assert email is None
    assert reason
    assert reason.startswith("invalid email")


def test_names_tags_and_schema_types() -> None:
    assert attribute_name("company size!") == "COMPANY_SIZE"
    assert attribute_name("9lives") == "F_9LIVES"
    assert attribute_name("email") == "SRC_EMAIL"
    assert tags_value(["vip", "customer", "vip"]) == "|customer|vip|"
    assert tags_value([]) == ""
    assert brevo_type_for_schema({"type": ["integer", "null"]}) == "float"
    assert brevo_type_for_schema({"type": "string", "format": "date-time"}) == "date"
    assert brevo_type_for_schema({"type": ["boolean", "null"]}) == "boolean"
    assert brevo_type_for_schema({"type": "object"}) == "text"


def test_stream_mapping_defaults_and_overrides() -> None:
    assert stream_mapping({}, "contacts")["kind"] == "contacts"
    assert stream_mapping({}, "tags")["kind"] == "tag_names"
    assert stream_mapping({}, "contact_tags")["kind"] == "contact_tags"
    assert stream_mapping({}, "contact_tags")["ext_id_prefix"] == "ac-"
    assert stream_mapping({}, "deals")["kind"] == "ignore"
    assert stream_mapping({}, "customers")["kind"] == "ignore"
    assert stream_mapping({"default_kind": "contacts"}, "customers")["kind"] == "contacts"
    cfg = {"stream_mapping": {"contacts": {"phone": None}, "orders": {"kind": "events"}}}
    contacts = stream_mapping(cfg, "contacts")
    assert contacts["phone"] is None
    assert contacts["fields"]["first_name"] == "FIRSTNAME"
    assert stream_mapping(cfg, "orders")["kind"] == "events"
    with pytest.raises(ValueError, match="kind"):
        stream_mapping({"stream_mapping": {"x": {"kind": "nope"}}}, "x")


def test_keys_in_names() -> None:
    assert with_key("Newsletter", "ac-list-3") == "Newsletter [ac-list-3]"
    assert with_key("Old [ac-list-3]", "ac-list-3") == "Old [ac-list-3]"
    assert key_of("Newsletter [ac-list-3]") == "ac-list-3"
    assert key_of("Newsletter") is None
    assert len(with_key("x" * 500, "ac-list-1")) <= 190


def test_dedupe_keeps_the_last_record() -> None:
    staged = Staged(
        "s", {"kind": "contacts"}, ["id"], {}, [{"id": 1, "v": 1}, {"id": 2}, {"id": 1, "v": 2}]
    )
    assert staged.deduped() == [{"id": 2}, {"id": 1, "v": 2}]


def test_serialize_handles_sdk_types() -> None:
    text = dumps(
        {"d": dt.datetime(2026, 1, 1, 12), "n": decimal.Decimal("1.5"), "i": decimal.Decimal(2)}
    )
    assert json.loads(text) == {"d": "2026-01-01T12:00:00+00:00", "n": 1.5, "i": 2}


def test_rejects_file_and_threshold(tmp_path: t.Any) -> None:
    path = tmp_path / "rejects.jsonl"
    rejects = Rejects(str(path), 1)
    rejects.add("contacts", 5, "invalid_email", "bad", "email")
    rejects.check()
    rejects.add("contacts", 6, "invalid_email", "bad", "email")
    with pytest.raises(TooManyRejectsError):
        rejects.check()
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["stream"] == "contacts"
    assert lines[0]["key"] == 5
    assert lines[0]["code"] == "invalid_email"
    assert lines[0]["field"] == "email"


def test_rejects_log_a_few_warnings_per_code_and_a_summary(
    tmp_path: t.Any, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rejects.jsonl"
    rejects = Rejects(str(path), None)
    with caplog.at_level(logging.DEBUG, logger="target_brevo.rejects"):
        for key in range(25):
            rejects.add("contacts", key, "invalid_phone", "bad phone", "phone", written=True)
        rejects.add("contacts", 99, "invalid_email", "bad email", "email")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    per_record = [m for m in warnings if m.startswith("Rejected contacts")]
    assert len(per_record) == WARN_PER_CODE + 1  # ten phones, one email
    assert any("Further invalid_phone rejects" in m and str(path) in m for m in warnings)
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 25 - WARN_PER_CODE
    assert len(path.read_text().splitlines()) == 26  # the file keeps every one
    assert rejects.summary() == (
        f"26 rejects (1 invalid_email, 25 invalid_phone), 1 of them records or values that "
        f"did not reach Brevo; details in {path}"
    )


def test_api_url_must_be_https_unless_loopback() -> None:
    check_api_url("https://api.brevo.com/v3")
    check_api_url("http://127.0.0.1:8080/v3")
    with pytest.raises(ValueError, match="https"):
        check_api_url("http://api.brevo.com/v3")
    check_api_url("http://localhost:8082/v3")
    check_api_url("http://127.1.2.3:8082/v3")
    check_api_url("http://[::1]:8082/v3")
    for fake in (
        "http://127.evil.example.com/v3",
        "http://127.0.0.1.nip.io/v3",
        "http://localhost.evil.example.com/v3",
        "http://10.0.0.1/v3",
    ):
        with pytest.raises(ValueError, match="https"):
            check_api_url(fake)


def test_buckets() -> None:
    assert bucket_of("/contacts/import") == "contacts"
    assert bucket_of("/events/batch") == "events"
    assert bucket_of("/processes/1") == "other"
    assert bucket_of("/emailCampaigns") == "other"


def test_pacer_waits_for_the_reset_when_the_bucket_is_empty() -> None:
    slept: list[float] = []
    pacer = Pacer("other")
    pacer.update({"x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "3"})
    pacer.before(slept.append)
    assert len(slept) == 1
    assert 2.5 < slept[0] <= 3.0
    pacer.update({"x-sib-ratelimit-remaining": "5", "x-sib-ratelimit-reset": "3"})
    pacer.before(slept.append)
    assert len(slept) == 1


def test_pacer_spaces_requests_when_the_bucket_runs_low() -> None:
    """10 requests left for 600 s: spaced about 60 s apart instead of a burst then an hour's
    wait; a per-second bucket and a bucket with plenty left are never slowed down."""
    slept: list[float] = []
    pacer = Pacer("other")
    pacer.update({"x-sib-ratelimit-remaining": "10", "x-sib-ratelimit-reset": "600"})
    pacer.before(slept.append)
    pacer.before(slept.append)
    assert len(slept) == 1
    assert 600 / 9 - 2 < slept[0] <= 600 / 9
    fast = Pacer("contacts")
    fast.update({"x-sib-ratelimit-remaining": "9", "x-sib-ratelimit-reset": "1"})
    for _ in range(5):
        fast.before(slept.append)
    roomy = Pacer("other")
    roomy.update({"x-sib-ratelimit-remaining": "90", "x-sib-ratelimit-reset": "3000"})
    for _ in range(5):
        roomy.before(slept.append)
    assert len(slept) == 1


def test_create_then_lookup_survives_a_short_outage_of_5xx() -> None:
    """Each 5xx of a create is uncertain: with the client's tries and backoff, three in a
    row (500, 502, 503, as a fault test sends them) do not end the run."""
    calls: list[str] = []
    paused: list[int] = []

    def create() -> int:
        calls.append("create")
        if len(calls) < 4:
            raise BrevoUncertain("500")
        return 7

    def lookup() -> int | None:
        return None

    assert create_then_lookup(create, lookup, "thing", tries=5, pause=paused.append) == 7
    assert paused == [1, 2, 3]
    client = BrevoClient("http://127.0.0.1:9/v3", KEY, max_tries=5)
    from target_brevo.resolve import Resolver

    assert Resolver(client, "F", "ac-")._retry["tries"] == 5
    client.close()


def test_create_then_lookup_never_blindly_repeats() -> None:
    calls: list[str] = []

    def create() -> int:
        calls.append("create")
        raise BrevoUncertain("reset")

    def lookup() -> int | None:
        calls.append("lookup")
        return 42

    assert create_then_lookup(create, lookup, "thing") == 42
    assert calls == ["create", "lookup"]


# --- the client against a scripted local HTTP server -----------------------------------------


class Script:
    def __init__(self) -> None:
        self.responses: list[tuple[int, dict[str, str], t.Any]] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []


def _server(script: Script) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            script.seen.append((self.command, self.path, dict(self.headers)))
            status, headers, body = script.responses.pop(0)
            if status == 0:  # close without an answer
                self.close_connection = True
                self.connection.close()
                return
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, *args: t.Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v3"


@pytest.fixture
def scripted() -> t.Iterator[tuple[Script, BrevoClient, list[float]]]:
    script = Script()
    server, url = _server(script)
    slept: list[float] = []
    client = BrevoClient(
        url, KEY, timeout=5, max_tries=3, retry_base_seconds=0.01, sleep=slept.append
    )
    yield script, client, slept
    client.close()
    server.shutdown()


def test_client_waits_for_the_reset_on_429_and_retries_5xx(scripted: t.Any) -> None:
    script, client, slept = scripted
    script.responses = [
        (
            429,
            {"x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "2"},
            {"code": "too_many_requests"},
        ),
        (500, {}, {"code": "internal", "message": "boom"}),
        (524, {}, None),
        (200, {"x-sib-ratelimit-remaining": "9", "x-sib-ratelimit-reset": "1"}, {"ok": True}),
    ]
    assert client.get("/contacts") == {"ok": True}
    assert slept[0] >= 2.0  # the 429 waited for the bucket reset
    assert len(script.seen) == 4
    assert script.seen[0][2]["api-key"] == KEY


def test_client_maps_errors(scripted: t.Any) -> None:
    script, client, _ = scripted
    script.responses = [
        (
            400,
            {},
            {
                "code": "duplicate_parameter",
                "message": "dup",
                "metadata": {"duplicate_identifiers": ["SMS"]},
            },
        ),
        (400, {}, {"code": "invalid_parameter", "message": "bad"}),
        (401, {}, {"code": "unauthorized", "message": "Key not found"}),
        (503, {}, None),
        (503, {}, None),
        (503, {}, None),
    ]
    with pytest.raises(BrevoConflict) as conflict:
        client.request("POST", "/contacts", body={"email": "a@b.c"})
    assert conflict.value.duplicate_identifiers == ["SMS"]
    with pytest.raises(BrevoInvalid):
        client.request("POST", "/contacts", body={})
    with pytest.raises(BrevoAuthError) as auth:
        client.get("/account")
    assert KEY not in str(auth.value)
    with pytest.raises(BrevoSystemic):
        client.get("/account")


def test_uncertain_create_is_not_repeated(scripted: t.Any) -> None:
    script, client, _ = scripted
    script.responses = [(0, {}, None)]
    with pytest.raises(BrevoUncertain):
        client.request("POST", "/contacts/lists", body={"name": "x", "folderId": 1})
    assert len(script.seen) == 1
    script.responses = [(0, {}, None), (202, {}, {"processId": 5})]
    assert client.request("POST", "/contacts/import", body={}, idempotent=True).body == {
        "processId": 5
    }


@pytest.mark.parametrize("status", [500, 503, 520, 521, 522, 523, 501])
def test_a_create_answered_with_any_5xx_is_uncertain(scripted: t.Any, status: int) -> None:
    script, client, _ = scripted
    script.responses = [(status, {}, {"code": "internal_error"}), (201, {}, {"id": 1})]
    with pytest.raises(BrevoUncertain):
        client.request("POST", "/contacts/folders", body={"name": "x"})
    assert len(script.seen) == 1  # never sent again blindly


def test_contacts_streams_get_their_own_default_prefix() -> None:
    assert stream_mapping({}, "contacts")["ext_id_prefix"] == "ac-"
    assert stream_mapping({"ext_id_prefix": "ac1-"}, "contacts")["ext_id_prefix"] == "ac1-"
    assert stream_mapping({}, "contact_lists")["ext_id_prefix"] == "ac-"
    anything = {"default_kind": "contacts"}
    assert stream_mapping(anything, "customers")["ext_id_prefix"] == "customers-"
    assert stream_mapping(anything, "leads")["ext_id_prefix"] == "leads-"
    cfg = {"stream_mapping": {"customers": {"kind": "contacts"}, "orders": {"kind": "events"}}}
    assert stream_mapping(cfg, "customers")["ext_id_prefix"] == "customers-"
    assert stream_mapping(cfg, "orders")["ext_id_prefix"] == "customers-"  # its only contacts
    explicit = {"stream_mapping": {"customers": {"kind": "contacts", "ext_id_prefix": "db-"}}}
    assert stream_mapping(explicit, "customers")["ext_id_prefix"] == "db-"


def test_contacts_streams_sharing_a_prefix_are_refused() -> None:
    same = {
        "api_key": "k",
        "stream_mapping": {
            "customers": {"kind": "contacts", "ext_id_prefix": "x-"},
            "leads": {"kind": "contacts", "ext_id_prefix": "x-"},
        },
    }
    with pytest.raises(ConfigValidationError, match="ext_id_prefix 'x-'"):
        TargetBrevo(config=same, validate_config=True)
    # a configured stream taking the AC contacts' prefix: refused at the second SCHEMA
    clash = {
        "api_key": "k",
        "api_url": "http://127.0.0.1:9/v3",
        "stream_mapping": {"customers": {"kind": "contacts", "ext_id_prefix": "ac-"}},
    }
    target = TargetBrevo(config=clash, validate_config=True)
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    messages = [
        {"type": "SCHEMA", "stream": "customers", "schema": schema, "key_properties": ["id"]},
        {"type": "SCHEMA", "stream": "contacts", "schema": schema, "key_properties": ["id"]},
    ]
    text = "".join(json.dumps(m) + "\n" for m in messages)
    with pytest.raises(ConfigValidationError, match="'customers' and 'contacts'"):
        target.listen(file_input=io.StringIO(text))
