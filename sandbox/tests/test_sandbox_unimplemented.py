"""A request no emulator route serves is reported as unimplemented, never as a missing object.

The core (sandbox/sandbox/server/app.py) decides it from the router's match, for every service:
404 with `X-Sandbox-Unimplemented: true` and a body that says so, a stderr line
`unimplemented: GET /api/3/foo`, `"unimplemented": true` in the request-log entry and a count
per `"METHOD /path"` under `unimplemented` in `GET /__sandbox/requests`. A handler's own 404
(an implemented route, a missing object) carries none of that.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from sandbox.testing import SandboxProcess


def _stderr_lines(sb: SandboxProcess, needle: str, wait: float = 5.0) -> list[str]:
    """The sandbox's stderr lines containing `needle` (it logs asynchronously: wait a little)."""
    deadline = time.monotonic() + wait
    while True:
        lines = [ln for ln in sb._stderr_tail().splitlines() if needle in ln]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _entry(sb: SandboxProcess, method: str, path: str) -> dict[str, Any]:
    log = sb.control.requests()["log"]
    return next(e for e in reversed(log) if e["method"] == method and e["path"] == path)


def test_ac_unimplemented_endpoint_is_logged_as_such(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=0)
    s = requests.Session()
    s.headers["Api-Token"] = sb.token
    # real AC endpoints no tap reads (so no parity work will add them)
    r = s.get(f"{sb.api_url}/siteTrackingDomains", params={"limit": 100}, timeout=10)
    assert r.status_code == 404
    assert r.headers["X-Sandbox-Unimplemented"] == "true"
    assert r.json()["message"].startswith("unimplemented: GET /api/3/siteTrackingDomains ")
    r = s.post(f"{sb.api_url}/contact/sync", json={"contact": {"email": "a@example.com"}},
               timeout=10)
    assert r.status_code == 404
    # a served path, a method it does not serve (AC deletes with DELETE /contacts/{id})
    r = s.delete(f"{sb.api_url}/contacts/1", timeout=10)
    assert r.status_code == 404
    assert r.headers["X-Sandbox-Unimplemented"] == "true"
    # a real 404: implemented route, missing object
    missing = s.get(f"{sb.api_url}/contacts/999999", timeout=10)
    assert missing.status_code == 404
    assert "X-Sandbox-Unimplemented" not in missing.headers
    assert "unimplemented" not in missing.text
    assert s.get(f"{sb.api_url}/contacts/1", timeout=10).status_code == 200

    report = sb.control.requests()
    assert report["unimplemented"] == {
        "GET /api/3/siteTrackingDomains": 1, "POST /api/3/contact/sync": 1,
        "DELETE /api/3/contacts/1": 1}
    assert _entry(sb, "GET", "/api/3/siteTrackingDomains")["unimplemented"] is True
    assert _entry(sb, "GET", "/api/3/siteTrackingDomains")["status"] == 404
    assert _entry(sb, "GET", "/api/3/contacts/999999")["unimplemented"] is False
    assert _entry(sb, "GET", "/api/3/contacts/999999")["route"] == "/api/3/contacts/{id}"
    assert _stderr_lines(sb, "unimplemented: GET /api/3/siteTrackingDomains")
    assert _stderr_lines(sb, "unimplemented: DELETE /api/3/contacts/1")
    assert not _stderr_lines(sb, "/api/3/contacts/999999", wait=0.2)
    # counted like any API request, and cleared with the log
    assert report["by_status"]["404"] == 4
    sb.control.reset_requests()
    assert sb.control.requests()["unimplemented"] == {}


def test_ac_unimplemented_endpoint_still_needs_the_token(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=20, rate_limit=0)
    r = requests.get(f"{sb.api_url}/siteTrackingDomains", headers={"Api-Token": "wrong"},
                     timeout=10)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}
    entry = _entry(sb, "GET", "/api/3/siteTrackingDomains")
    assert entry["status"] == 403
    assert entry["unimplemented"] is True  # what the request asked for, whatever the answer


def test_brevo_unimplemented_endpoint_is_logged_as_such(sandbox_factory: Any) -> None:
    sb = sandbox_factory("brevo", rate_scale=0, import_delay=0)
    s = requests.Session()
    s.headers["api-key"] = sb.token
    r = s.get(f"{sb.api_url}/smtp/statistics/events", timeout=10)
    assert r.status_code == 404
    assert r.headers["X-Sandbox-Unimplemented"] == "true"
    missing = s.get(f"{sb.api_url}/contacts/nobody@example.com", timeout=10)
    assert missing.status_code == 404
    assert "X-Sandbox-Unimplemented" not in missing.headers
    assert missing.json()["code"] == "document_not_found"
    report = sb.control.requests()
    assert report["unimplemented"] == {"GET /v3/smtp/statistics/events": 1}
    assert _entry(sb, "GET", "/v3/contacts/nobody@example.com")["unimplemented"] is False
    assert _stderr_lines(sb, "unimplemented: GET /v3/smtp/statistics/events")
    # outside the API prefix (import reports) nothing changes: a plain 404, not logged
    r = requests.get(sb.base_url.removesuffix("/v3") + "/import-reports/9/x.csv", timeout=10)
    assert r.status_code == 404
    assert "X-Sandbox-Unimplemented" not in r.headers
