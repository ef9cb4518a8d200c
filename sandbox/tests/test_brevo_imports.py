"""Brevo sandbox: POST /contacts/import, processes, reports, the retired /contacts/batch, and
persistence across restarts with --db."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess


@pytest.fixture
def api(api: BrevoClient, sandbox: SandboxProcess) -> BrevoClient:
    """The shared clean account, with imports that finish at once and reports served as URLs."""
    requests.post(sandbox.control.origin + "/__sandbox/imports",
                  json={"delay": 0, "fail_next": 0, "reports": "urls"},
                  timeout=10).raise_for_status()
    return api


def setup_list(api: BrevoClient) -> int:
    f = api.post("/contacts/folders", {"name": "F"}).json()["id"]
    return int(api.post("/contacts/lists", {"name": "L", "folderId": f}).json()["id"])


def wait_done(api: BrevoClient, pid: int, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = api.get(f"/processes/{pid}").json()
        if p["status"] in ("completed", "failed"):
            return dict(p)
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not finish")


def run_import(api: BrevoClient, body: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/contacts/import", body)
    assert r.status_code == 202, r.text
    assert set(r.json()) == {"processId"}
    return wait_done(api, r.json()["processId"])


def contacts_by_email(sandbox: SandboxProcess) -> dict[str | None, dict[str, Any]]:
    return {c["email"]: c for c in sandbox.control.dump()["contacts"]}


def report(url: str) -> list[list[str]]:
    r = requests.get(url, timeout=10)  # no api-key: like a pre-signed URL
    assert r.status_code == 200
    lines = r.text.splitlines()
    assert lines[0] == "row;email;ext_id;sms;reason"
    return [line.split(";") for line in lines[1:]]


def test_import_moves_queued_in_process_completed_and_applies_at_completion(
    api: BrevoClient, sandbox: SandboxProcess,
) -> None:
    lid = setup_list(api)
    requests.post(sandbox.control.origin + "/__sandbox/imports", json={"delay": 0.8},
                  timeout=10).raise_for_status()
    rows = [{"email": f"c{i}@example.com", "attributes": {"FIRSTNAME": f"C{i}"}}
            for i in range(50)]
    r = api.post("/contacts/import", {"jsonBody": rows, "listIds": [lid]})
    assert r.status_code == 202
    pid = r.json()["processId"]
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = api.get(f"/processes/{pid}").json()["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
            count = len(sandbox.control.dump()["contacts"])
            # nothing is visible before completion, everything right after
            assert count == (50 if status == "completed" else 0), (status, count)
        if status == "completed":
            break
        time.sleep(0.02)
    assert seen == ["queued", "in_process", "completed"]
    p = api.get(f"/processes/{pid}").json()
    assert p["name"] == "IMPORTUSER"
    assert p["info"]["import"] == {k: None for k in (
        "invalid_emails", "invalid_sms", "duplicate_contact_id", "duplicate_ext_id",
        "duplicate_email_id", "duplicate_phone_id")}
    assert api.get(f"/contacts/lists/{lid}").json()["uniqueSubscribers"] == 50


def test_import_rows_rules_and_reports(api: BrevoClient, sandbox: SandboxProcess) -> None:
    lid = setup_list(api)
    api.post("/contacts/attributes/normal/SCORE", {"type": "float"})
    api.post("/contacts", {"email": "owner@example.com", "ext_id": "ac-owned",
                           "attributes": {"SMS": "+33699999999"}})
    api.post("/contacts", {"email": "clash@example.com"})
    api.post("/contacts", {"email": "smsclash@example.com"})
    rows = [
        {"email": "ok@example.com", "attributes": {"EXT_ID": "ac-1", "SCORE": 5, "NOPE": "x"}},
        {"email": "not-an-email", "attributes": {"EXT_ID": "ac-2"}},
        {"email": "badsms@example.com", "attributes": {"SMS": "0612", "FIRSTNAME": "Kept"}},
        {"email": "OK@example.com", "attributes": {"FIRSTNAME": "Repeat"}},
        {"email": "clash@example.com", "attributes": {"EXT_ID": "ac-owned"}},
        {"email": "smsclash@example.com", "attributes": {"SMS": "33699999999"}},
        {"attributes": {"FIRSTNAME": "No identifier"}},
        {"attributes": {"EXT_ID": "ac-only", "SCORE": "high"}},
    ]
    p = run_import(api, {"jsonBody": rows, "listIds": [lid]})
    assert p["status"] == "completed"
    urls = p["info"]["import"]
    assert urls["duplicate_contact_id"] is None
    for kind in ("invalid_emails", "invalid_sms", "duplicate_email_id", "duplicate_ext_id",
                 "duplicate_phone_id"):
        assert urls[kind].startswith(sandbox.control.origin + "/")
        assert "/v3/" not in urls[kind]
    invalid = report(urls["invalid_emails"])
    assert [r[0] for r in invalid] == ["1", "6"]
    assert invalid[0][1] == "not-an-email"
    assert [r[0] for r in report(urls["invalid_sms"])] == ["2"]
    assert [r[0] for r in report(urls["duplicate_email_id"])] == ["3"]
    ext = report(urls["duplicate_ext_id"])
    assert [(r[0], r[1], r[2]) for r in ext] == [("4", "clash@example.com", "ac-owned")]
    assert [r[0] for r in report(urls["duplicate_phone_id"])] == ["5"]
    got = contacts_by_email(sandbox)
    assert set(got) == {"owner@example.com", "ok@example.com", "badsms@example.com",
                        "clash@example.com", "smsclash@example.com", None}
    assert got["clash@example.com"]["ext_id"] is None
    assert got["smsclash@example.com"]["sms"] is None
    assert got["clash@example.com"]["listIds"] == []
    assert got["ok@example.com"]["attributes"] == {"SCORE": 5}  # NOPE ignored
    assert got["ok@example.com"]["ext_id"] == "ac-1"
    assert got["badsms@example.com"]["sms"] is None
    assert got["badsms@example.com"]["attributes"] == {"FIRSTNAME": "Kept"}
    assert got[None]["ext_id"] == "ac-only"
    assert got[None]["attributes"] == {}
    assert got["ok@example.com"]["listIds"] == [lid]
    assert got["owner@example.com"]["listIds"] == []
    # report URLs are outside the API: not logged, not rate limited, no key needed
    assert not any("import-reports" in e["path"] for e in sandbox.control.requests()["log"])


def test_import_row_is_the_contact_of_its_first_identifier(api: BrevoClient,
                                                             sandbox: SandboxProcess) -> None:
    lid = setup_list(api)
    a = api.post("/contacts", {"email": "a@example.com", "ext_id": "ac-1"}).json()["id"]
    b = api.post("/contacts", {"ext_id": "ac-2", "attributes": {"SMS": "+33611111111"}}).json()
    rows = [
        # a new email whose EXT_ID is taken: a new contact clashing on EXT_ID, not a rename
        {"email": "renamed@example.com", "attributes": {"EXT_ID": "ac-1", "FIRSTNAME": "A"}},
        # a new email whose SMS is taken: never merged into the SMS holder
        {"email": "b@example.com", "attributes": {"SMS": "33611111111", "FIRSTNAME": "B"}},
        # no email: the EXT_ID decides, and the row updates that contact
        {"attributes": {"EXT_ID": "ac-2", "FIRSTNAME": "Bee"}},
    ]
    p = run_import(api, {"jsonBody": rows, "listIds": [lid]})
    # no email, no EXT_ID: the SMS decides
    run_import(api, {"jsonBody": [{"attributes": {"SMS": "+33611111111", "LASTNAME": "Smith"}}],
                     "listIds": [lid]})
    assert p["info"]["import"]["duplicate_ext_id"] is not None
    assert p["info"]["import"]["duplicate_phone_id"] is not None
    ext_report = report(p["info"]["import"]["duplicate_ext_id"])
    sms_report = report(p["info"]["import"]["duplicate_phone_id"])
    assert [r[:3] for r in ext_report] == [["0", "renamed@example.com", "ac-1"]]
    assert [r[:2] for r in sms_report] == [["1", "b@example.com"]]
    got = contacts_by_email(sandbox)
    assert set(got) == {"a@example.com", None}
    assert got["a@example.com"]["id"] == a
    by_id = {c["id"]: c for c in sandbox.control.dump()["contacts"]}
    assert by_id[b["id"]]["attributes"] == {"FIRSTNAME": "Bee", "LASTNAME": "Smith"}
    assert len(by_id) == 2


def test_import_options(api: BrevoClient, sandbox: SandboxProcess) -> None:
    lid = setup_list(api)
    api.post("/contacts", {"email": "a@example.com",
                           "attributes": {"FIRSTNAME": "Ann", "LASTNAME": "Old"}})
    # updateExistingContacts false: existing contacts only join the lists
    run_import(api, {"jsonBody": [{"email": "a@example.com", "attributes": {"FIRSTNAME": "X"}},
                                  {"email": "b@example.com", "attributes": {"FIRSTNAME": "B"}}],
                     "listIds": [lid], "updateExistingContacts": False})
    got = contacts_by_email(sandbox)
    assert got["a@example.com"]["attributes"]["FIRSTNAME"] == "Ann"
    assert got["a@example.com"]["listIds"] == [lid]
    assert got["b@example.com"]["attributes"] == {"FIRSTNAME": "B"}
    # empty values are ignored by default...
    run_import(api, {"jsonBody": [{"email": "a@example.com",
                                   "attributes": {"FIRSTNAME": "", "LASTNAME": None}}],
                     "listIds": [lid]})
    assert contacts_by_email(sandbox)["a@example.com"]["attributes"] == {
        "FIRSTNAME": "Ann", "LASTNAME": "Old"}
    # ...and erase with emptyContactsAttributes
    run_import(api, {"jsonBody": [{"email": "a@example.com",
                                   "attributes": {"FIRSTNAME": "", "LASTNAME": None}}],
                     "listIds": [lid], "emptyContactsAttributes": True})
    assert contacts_by_email(sandbox)["a@example.com"]["attributes"] == {}
    # emailBlacklist blocklists every imported row; newList is created at completion
    p = run_import(api, {"jsonBody": [{"email": "b@example.com"}, {"email": "c@example.com"}],
                         "newList": {"listName": "Imported"}, "emailBlacklist": True,
                         "smsBlacklist": True})
    assert p["status"] == "completed"
    lists = api.get("/contacts/lists").json()["lists"]
    new = next(x for x in lists if x["name"] == "Imported")
    assert new["uniqueSubscribers"] == 2
    assert new["totalBlacklisted"] == 2
    got = contacts_by_email(sandbox)
    assert got["c@example.com"]["emailBlacklisted"]
    assert got["c@example.com"]["smsBlacklisted"]
    assert got["a@example.com"]["emailBlacklisted"] is False


def test_import_csv_file_body(api: BrevoClient, sandbox: SandboxProcess) -> None:
    lid = setup_list(api)
    api.post("/contacts/attributes/normal/SCORE", {"type": "float"})
    api.post("/contacts/attributes/normal/VIP", {"type": "boolean"})
    api.post("/contacts/attributes/normal/SIGNUP", {"type": "date"})
    csv = ("email;firstname;SCORE;VIP;SIGNUP;EXT_ID;SMS\n"
           "a@example.com;Ann;4.5;true;2026-03-08;ac-1;+33612345678\n"
           "b@example.com;Bob;nope;maybe;08/03/2026;ac-2;\n")
    p = run_import(api, {"fileBody": csv, "listIds": [lid]})
    assert p["status"] == "completed"
    got = contacts_by_email(sandbox)
    assert got["a@example.com"]["attributes"] == {"FIRSTNAME": "Ann", "SCORE": 4.5, "VIP": True,
                                                  "SIGNUP": "2026-03-08"}
    assert got["a@example.com"]["sms"] == "+33612345678"
    assert got["b@example.com"]["attributes"] == {"FIRSTNAME": "Bob"}
    assert got["b@example.com"]["ext_id"] == "ac-2"


def test_import_request_checks(api: BrevoClient) -> None:
    lid = setup_list(api)
    rows = [{"email": "a@example.com"}]
    r = api.post("/contacts/import", {"jsonBody": rows})
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    assert "listIds" in r.json()["message"]
    r = api.post("/contacts/import", {"jsonBody": rows, "listIds": [999]})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.post("/contacts/import", {"jsonBody": rows, "fileBody": "EMAIL\na@b.co",
                                      "listIds": [lid]})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    r = api.post("/contacts/import", {"listIds": [lid]})
    assert r.status_code == 400
    assert r.json()["code"] == "missing_parameter"
    big = "EMAIL\n" + "x" * (10 * 1024 * 1024)
    r = api.post("/contacts/import", {"fileBody": big, "listIds": [lid]})
    assert r.status_code == 400
    assert "10 MB" in r.json()["message"]
    huge = [{"email": f"c{i}@example.com", "attributes": {"FIRSTNAME": "x" * 200}}
            for i in range(45_000)]
    r = api.post("/contacts/import", {"jsonBody": huge, "listIds": [lid]})
    assert r.status_code == 400
    assert "jsonBody" in r.json()["message"]
    assert "10 MB" in r.json()["message"]
    r = api.post("/contacts/import", {"jsonBody": [{"email": 5}], "listIds": [lid]}, invalid=True)
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_parameter"
    assert "jsonBody[0].email" in r.json()["message"]
    r = api.post("/contacts/import", {"jsonBody": rows, "listIds": "1"}, invalid=True)
    assert r.status_code == 400
    assert r.json()["message"] == "listIds should be an array"
    r = api.post("/contacts/import", {"jsonBody": rows, "listIds": [lid],
                                      "consentGroupIds": [1]})
    assert r.status_code == 403
    assert api.get("/processes").json()["count"] == 0


def test_failed_imports_apply_nothing(api: BrevoClient, sandbox: SandboxProcess) -> None:
    lid = setup_list(api)
    requests.post(sandbox.control.origin + "/__sandbox/imports", json={"fail_next": 1},
                  timeout=10).raise_for_status()
    p = run_import(api, {"jsonBody": [{"email": "a@example.com"}], "listIds": [lid]})
    assert p["status"] == "failed"
    assert "info" not in p
    assert p["error"]
    p = run_import(api, {"fileUrl": "https://example.com/contacts.csv", "listIds": [lid]})
    assert p["status"] == "failed"
    assert sandbox.control.dump()["contacts"] == []
    p = run_import(api, {"jsonBody": [{"email": "a@example.com"}], "listIds": [lid]})
    assert p["status"] == "completed"


def test_report_modes_counts_and_no_header(api: BrevoClient, sandbox: SandboxProcess) -> None:
    ctl = sandbox.control.origin + "/__sandbox/imports"
    lid = setup_list(api)
    rows = [{"email": "a@example.com"}, {"email": "not-an-email"}]
    r = requests.post(ctl, json={"reports": "counts"}, timeout=10)
    assert r.json()["reports"] == "counts"
    pid = api.post("/contacts/import", {"jsonBody": rows, "listIds": [lid]}).json()["processId"]
    time.sleep(0.2)
    p = api.get(f"/processes/{pid}", check_response=False).json()
    assert p["status"] == "completed"
    assert p["info"]["import"]["invalid_emails"] == 1
    assert p["info"]["import"]["duplicate_ext_id"] == 0
    requests.post(ctl, json={"reports": "no_header"}, timeout=10).raise_for_status()
    p = api.get(f"/processes/{pid}").json()
    text = requests.get(p["info"]["import"]["invalid_emails"], timeout=10).text
    assert not text.startswith("row;")
    assert "not-an-email" in text
    assert requests.post(ctl, json={"reports": "nope"}, timeout=10).status_code == 400


def test_processes_listing(api: BrevoClient) -> None:
    lid = setup_list(api)
    pids = [run_import(api, {"jsonBody": [{"email": f"c{i}@example.com"}],
                             "listIds": [lid]})["id"] for i in range(3)]
    listed = api.get("/processes").json()
    assert listed["count"] == 3
    assert [p["id"] for p in listed["processes"]] == pids[::-1]
    assert all(p["status"] == "completed" for p in listed["processes"])
    assert api.get("/processes", params={"limit": 50}).status_code == 200
    r = api.get("/processes", params={"limit": 51}, invalid=True)
    assert r.status_code == 400
    assert "limit" in r.json()["message"]
    assert api.get("/processes/999").status_code == 404


def test_contacts_batch_is_retired_and_logged(api: BrevoClient, sandbox: SandboxProcess) -> None:
    api.post("/contacts", {"email": "a@example.com"})
    r = api.post("/contacts/batch",
                 {"contacts": [{"email": "a@example.com", "attributes": {"FIRSTNAME": "X"}}]})
    assert r.status_code == 410
    body = r.json()
    assert set(body) == {"code", "message"}
    assert "2026-10-30" in body["message"]
    assert "/contacts/import" in body["message"]
    assert contacts_by_email(sandbox)["a@example.com"]["attributes"] == {}
    log = sandbox.control.requests()
    assert log["by_path"]["POST /v3/contacts/batch"] == 1
    assert log["by_bucket"]["contacts"] == 2


def test_state_survives_a_restart_with_a_db_file(tmp_path: Path) -> None:
    db = tmp_path / "brevo.sqlite3"
    with SandboxProcess("brevo", db=str(db), rate_scale=0, import_delay=0) as sb:
        api = BrevoClient(sb)
        lid = setup_list(api)
        api.post("/contacts", {"email": "a@example.com", "listIds": [lid]})
        run_import(api, {"jsonBody": [{"email": "b@example.com"}], "listIds": [lid]})
        # an import still queued when the server stops...
        requests.post(sb.control.origin + "/__sandbox/imports", json={"delay": 60},
                      timeout=10).raise_for_status()
        pending = api.post("/contacts/import", {"jsonBody": [{"email": "c@example.com"}],
                                                "listIds": [lid]}).json()["processId"]
        api.close()
    with SandboxProcess("brevo", db=str(db), rate_scale=0, import_delay=0) as sb:
        api = BrevoClient(sb)
        emails = {c["email"] for c in api.get("/contacts").json()["contacts"]}
        assert {"a@example.com", "b@example.com"} <= emails
        assert api.get(f"/contacts/lists/{lid}").json()["name"] == "L"
        # ...is resumed and completes after the restart
        assert wait_done(api, pending)["status"] == "completed"
        assert api.get("/contacts/c%40example.com").status_code == 200
        api.close()
