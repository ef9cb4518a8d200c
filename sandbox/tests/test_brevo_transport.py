"""Brevo sandbox: CLI, auth, spec validation errors, rate limits, faults, control surface."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests
from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess

H_LIMIT, H_REMAINING, H_RESET = (
    "x-sib-ratelimit-limit", "x-sib-ratelimit-remaining", "x-sib-ratelimit-reset",
)


BREVO_SANDBOX = {"rate_scale": 0.3}


@pytest.fixture
def api(api: BrevoClient, sandbox: SandboxProcess) -> BrevoClient:
    """The shared clean account, with no faults and the rate limits off until a test sets them."""
    sandbox.control.clear_faults()
    sandbox.control.set_rate_limit(enabled=False)
    return api


def limits(sandbox: SandboxProcess, **body: object) -> None:
    sandbox.control.set_rate_limit(enabled=True, scale=0.3, **body)


def test_cli_prints_ready_line_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "sandbox", "brevo", "--port", "0", "--import-delay", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert re.fullmatch(r"SANDBOX_READY http://127\.0\.0\.1:\d+/v3\n", line), line
        base = line.split()[1]
        r = requests.get(base + "/account", headers={"api-key": "xkeysib-sandbox-key"}, timeout=5)
        assert r.status_code == 200
        assert r.json()["email"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_auth_by_api_key_header(api: BrevoClient, sandbox: SandboxProcess) -> None:
    r = requests.get(sandbox.api_url + "/account", timeout=5)
    assert r.status_code == 401
    assert r.json() == {"message": "authentication not found in headers", "code": "unauthorized"}
    r = requests.get(sandbox.api_url + "/contacts", headers={"api-key": "xkeysib-wrong"},
                     timeout=5)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    r = requests.get(sandbox.api_url + "/account", headers={"api-key": sandbox.token}, timeout=5)
    assert r.status_code == 200
    assert {"email", "firstName", "lastName", "companyName", "plan", "relay"} <= set(r.json())
    assert sandbox.control.health() == {"ok": True, "service": "brevo"}  # control needs no key


def test_spec_validation_errors(api: BrevoClient, sandbox: SandboxProcess) -> None:
    cases = [
        ("POST", "/contacts", {"email": "a@example.com", "listIds": ["x"]},
         "invalid_parameter", "listIds[0]"),
        ("POST", "/contacts", {"email": "a@example.com", "updateEnabled": "yes"},
         "invalid_parameter", "updateEnabled"),
        ("POST", "/contacts", {"email": "a@example.com", "attributes": {"FIRSTNAME": {"a": 1}}},
         "invalid_parameter", "attributes.FIRSTNAME"),
        ("POST", "/contacts", ["a@example.com"], "invalid_parameter", "body"),
        ("PUT", "/contacts/a%40example.com", {"unlinkListIds": 3}, "invalid_parameter",
         "unlinkListIds"),
        ("POST", "/contacts/folders", {"name": 7}, "invalid_parameter", "name"),
    ]
    for method, path, body, code, field in cases:
        r = api.request(method, path, body, invalid=True)
        assert r.status_code == 400, (path, body, r.text)
        assert r.json()["code"] == code, r.json()
        assert field in r.json()["message"], r.json()
    r = api.get("/contacts", params={"limit": "ten"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["message"] == "limit should be an integer"
    r = api.get("/contacts/lists/abc", invalid=True)
    assert r.status_code == 400
    assert "listId" in r.json()["message"]
    r = requests.post(sandbox.api_url + "/contacts", data="{not json",
                      headers={"api-key": sandbox.token}, timeout=5)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_request"
    r = requests.post(sandbox.api_url + "/contacts", headers={"api-key": sandbox.token},
                      timeout=5)
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    assert api.get("/contacts").json()["count"] == 0
    # unknown top-level properties are allowed (the spec never sets additionalProperties false)
    r = api.post("/contacts", {"email": "a@example.com", "somethingElse": 1})
    assert r.status_code == 201


def test_rate_limit_headers_and_429_per_bucket(api: BrevoClient, sandbox: SandboxProcess) -> None:
    r = api.get("/account")
    assert r.headers[H_LIMIT] == "100"
    assert r.headers[H_REMAINING] == "100"
    limits(sandbox)
    statuses = []
    for _ in range(5):
        r = api.get("/contacts")
        statuses.append(r.status_code)
        assert {H_LIMIT, H_REMAINING, H_RESET} <= set(r.headers)
    assert statuses == [200, 200, 200, 429, 429]  # 10/s x 0.3
    assert r.json()["code"] == "too_many_requests"
    assert r.json()["message"]
    assert r.headers[H_LIMIT] == "3"
    assert r.headers[H_REMAINING] == "0"
    assert r.headers[H_RESET] == "1"
    assert "Retry-After" not in r.headers
    # other buckets are independent
    r = api.post("/events", {"event_name": "x", "identifiers": {"ext_id": "1"}})
    assert r.status_code == 204
    assert r.headers[H_LIMIT] == "3"
    assert r.headers[H_REMAINING] == "2"
    r = api.get("/processes")
    assert r.status_code == 200
    assert r.headers[H_LIMIT] == "30"
    assert r.headers[H_REMAINING] == "29"
    # errors carry the headers too
    r = api.get("/emailCampaigns/999")
    assert r.status_code == 404
    assert r.headers[H_REMAINING] == "28"
    time.sleep(1.05)
    assert api.get("/contacts").status_code == 200  # the second window freed
    by_bucket = sandbox.control.requests(log=False)["by_bucket"]
    assert by_bucket["contacts"] == 6
    assert by_bucket["events"] == 1
    assert by_bucket["other"] == 3


def test_hourly_bucket_reset_counts_down_the_hour(api: BrevoClient,
                                                  sandbox: SandboxProcess) -> None:
    limits(sandbox, buckets={"other": {"per_hour": 10}})  # x 0.3 = 3 per hour
    assert [api.get("/account").status_code for _ in range(4)] == [200, 200, 200, 429]
    r = api.get("/emailCampaigns")
    assert r.status_code == 429
    assert 3590 <= int(r.headers[H_RESET]) <= 3600
    sandbox.control.set_rate_limit(buckets={"other": {"per_hour": 100}}, scale=1.0)
    r = api.get("/account")
    assert r.status_code == 200
    assert r.headers[H_LIMIT] == "100"


def test_sliding_window_never_admits_more_than_the_limit(api: BrevoClient,
                                                         sandbox: SandboxProcess) -> None:
    sandbox.control.set_rate_limit(enabled=True, scale=1.0,
                                   buckets={"contacts": {"per_second": 5, "per_hour": None}})
    stop = time.monotonic() + 2.3

    def hammer() -> None:
        with requests.Session() as s:
            s.headers["api-key"] = sandbox.token
            while time.monotonic() < stop:
                s.get(sandbox.api_url + "/contacts/attributes", timeout=5)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log = sandbox.control.requests()["log"]
    admitted = sorted(e["t"] for e in log if e["status"] == 200)
    rejected = [e for e in log if e["status"] == 429]
    assert rejected
    assert len(admitted) >= 10
    for i, t in enumerate(admitted):
        in_window = [u for u in admitted[: i + 1] if u > t - 1.0]
        assert len(in_window) <= 5


def test_status_faults_have_brevo_bodies(api: BrevoClient, sandbox: SandboxProcess) -> None:
    sandbox.control.set_faults(script=["500", "524", "425", "429", "503", "ok"],
                               paths=["/v3/account"])
    r = api.get("/account")
    assert r.status_code == 500
    assert r.json()["code"]
    r = api.get("/account")
    assert r.status_code == 524
    assert "error code: 524" in r.text
    assert r.headers["Content-Type"].startswith("text/html")
    r = api.get("/account")
    assert r.status_code == 425
    assert r.json()["code"] == "account_in_process"
    r = api.get("/account")
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_requests"
    assert H_REMAINING in r.headers
    assert api.get("/account").status_code == 503
    assert api.get("/contacts").status_code == 200  # outside the path filter
    assert api.get("/account").status_code == 200


def test_reset_after_processes_the_create_and_a_blind_retry_fails(
    api: BrevoClient, sandbox: SandboxProcess,
) -> None:
    sandbox.control.set_faults(script=["reset_after"])
    body = {"email": "a@example.com", "attributes": {"FIRSTNAME": "Ann"}}
    with pytest.raises(requests.ConnectionError):
        api.post("/contacts", body)
    assert [c["email"] for c in sandbox.control.dump()["contacts"]] == ["a@example.com"]
    r = api.post("/contacts", body)  # a blind retry of the create
    assert r.status_code == 400
    assert r.json()["metadata"]["duplicate_identifiers"] == ["email"]
    sandbox.control.set_faults(script=["reset"])
    with pytest.raises(requests.ConnectionError):
        api.post("/contacts", {"email": "b@example.com"})
    assert len(sandbox.control.dump()["contacts"]) == 1  # reset: never processed
    statuses = sandbox.control.requests(log=False)["by_status"]
    assert statuses["reset_after"] == 1
    assert statuses["reset"] == 1


def test_status_after_faults_process_the_request_then_answer_the_status(
    api: BrevoClient, sandbox: SandboxProcess,
) -> None:
    sandbox.control.set_faults(script=["500_after", "524_after", "503"],
                               paths=["/v3/contacts/folders"])
    r = api.post("/contacts/folders", {"name": "A"})
    assert r.status_code == 500
    assert r.json()["code"] == "internal_error"
    r = api.post("/contacts/folders", {"name": "B"})
    assert r.status_code == 524
    assert "error code: 524" in r.text
    r = api.post("/contacts/folders", {"name": "C"})  # a pre-handler 503: not processed
    assert r.status_code == 503
    assert sorted(f["name"] for f in sandbox.control.dump()["folders"]) == ["A", "B"]
    log = sandbox.control.requests(log=True)["log"]
    assert [(e["status"], e["fault"]) for e in log] == [
        (500, "500_after"), (524, "524_after"), (503, "503"),
    ]
    assert api.post("/contacts/folders", {"name": "D"}).status_code == 201
    for kind in ("502_after", "504_after", "520_after", "521_after", "522_after", "523_after"):
        sandbox.control.set_faults(script=[kind])
    with pytest.raises(RuntimeError, match="400"):
        sandbox.control.set_faults(script=["599_after"])


def test_timeout_after_processes_the_request(api: BrevoClient, sandbox: SandboxProcess) -> None:
    sandbox.control.set_faults(script=["timeout_after"], timeout_s=1.0)
    with pytest.raises(requests.ReadTimeout):
        api.session.post(sandbox.api_url + "/contacts/folders", json={"name": "F"}, timeout=0.3)
    time.sleep(0.05)
    assert [f["name"] for f in sandbox.control.dump()["folders"]] == ["F"]


def test_seeded_fault_rate_is_reproducible(api: BrevoClient, sandbox: SandboxProcess) -> None:
    runs = []
    for _ in range(2):
        sandbox.control.set_faults(rate=0.5, kinds=["500", "503"], seed=7)
        runs.append([api.get("/contacts/attributes").status_code for _ in range(12)])
    assert runs[0] == runs[1]
    assert {200, 500} <= set(runs[0]) or {200, 503} <= set(runs[0])


def test_control_dump_reset_and_request_log(api: BrevoClient, sandbox: SandboxProcess) -> None:
    f = api.post("/contacts/folders", {"name": "F"}).json()["id"]
    lid = api.post("/contacts/lists", {"name": "L", "folderId": f}).json()["id"]
    api.post("/contacts/attributes/normal/SCORE", {"type": "float"})
    api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1", "listIds": [lid],
                           "attributes": {"SMS": "+33612345678", "SCORE": 2}})
    api.get("/contacts/a%40example.com")
    api.post("/emailCampaigns", {"name": "C", "subject": "S", "htmlContent": "h",
                                 "sender": {"email": "sandbox@example.com"}})
    api.post("/events", {"event_name": "e", "identifiers": {"ext_id": "ac-1"}})
    dump = sandbox.control.dump()
    assert set(dump) == {"contacts", "lists", "folders", "attributes", "campaigns", "events",
                         "processes"}
    c = dump["contacts"][0]
    assert set(c) == {"id", "email", "ext_id", "sms", "attributes", "listIds",
                      "listUnsubscribed", "emailBlacklisted", "smsBlacklisted", "createdAt",
                      "modifiedAt"}
    assert (c["ext_id"], c["sms"], c["attributes"]) == ("ac-1", "+33612345678", {"SCORE": 2})
    assert dump["lists"][0]["uniqueSubscribers"] == 1
    assert dump["folders"][0]["name"] == "F"
    log = sandbox.control.requests()
    assert log["by_path"]["GET /v3/contacts/{identifier}"] == 1
    assert log["by_path"]["POST /v3/contacts"] == 1
    assert log["by_bucket"] == {"contacts": 5, "other": 1, "events": 1}
    assert all(not e["path"].startswith("/__sandbox") for e in log["log"])
    sandbox.control.reset()
    dump = sandbox.control.dump()
    assert all(dump[k] == [] for k in ("contacts", "lists", "folders", "campaigns", "events",
                                       "processes"))
    assert [a["name"] for a in dump["attributes"]] == ["FIRSTNAME", "LASTNAME", "SMS", "EXT_ID"]
    assert api.post("/contacts/folders", {"name": "G"}).json()["id"] == 1


def test_latency_applies_to_api_requests_only(api: BrevoClient, sandbox: SandboxProcess) -> None:
    sandbox.control.set_latency(fixed_ms=300)
    try:
        t0 = time.perf_counter()
        assert api.get("/contacts/attributes").status_code == 200
        slow = time.perf_counter() - t0
        t0 = time.perf_counter()
        sandbox.control.health()
        fast = time.perf_counter() - t0
    finally:
        sandbox.control.set_latency(fixed_ms=0)
    assert slow >= 0.3
    assert fast < 0.3


def test_plugin_fixture_runs_the_default_import_delay(brevo_sandbox: SandboxProcess) -> None:
    api = BrevoClient(brevo_sandbox)
    f = api.post("/contacts/folders", {"name": "F"}).json()["id"]
    lid = api.post("/contacts/lists", {"name": "L", "folderId": f}).json()["id"]
    t0 = time.monotonic()
    pid = api.post("/contacts/import", {"jsonBody": [{"email": "a@example.com"}],
                                        "listIds": [lid]}).json()["processId"]
    assert api.get(f"/processes/{pid}").json()["status"] == "queued"
    while api.get(f"/processes/{pid}").json()["status"] != "completed":
        assert time.monotonic() - t0 < 5
        time.sleep(0.05)
    assert time.monotonic() - t0 >= 0.9  # --import-delay defaults to 1 s
    assert api.get("/contacts/a%40example.com").status_code == 200
    api.close()
