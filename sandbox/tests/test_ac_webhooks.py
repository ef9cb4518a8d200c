"""AC sandbox webhooks: the registration API, and deliveries on the sandbox's own changes as a
collector HTTP server receives them (form encoding, sources, lists, duplicates, no retries, 410)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from sandbox.testing import SandboxProcess


class Collector:
    """An HTTP server recording every POST; answers `status` (settable)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size).decode()
                collector.received.append({"path": self.path, "body": body,
                                           "content_type": self.headers.get("Content-Type")})
                self.send_response(collector.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forms(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in parse_qs(r["body"], keep_blank_values=True).items()}
                for r in self.received]


AC_SANDBOX = {"contacts": 40, "seed": 3}


@pytest.fixture
def collector(ac: SandboxProcess) -> Iterator[Collector]:
    ac.control.reset()
    c = Collector()
    yield c
    c.server.shutdown()


def api(ac: SandboxProcess, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{ac.api_url}{path}", headers={"Api-Token": ac.token},
                            timeout=10, **kwargs)


def register(ac: SandboxProcess, url: str, events: list[str], sources: list[str] | None = None,
             listid: int = 0) -> int:
    r = api(ac, "POST", "/webhooks", json={"webhook": {
        "name": "t", "url": url, "events": events,
        "sources": sources or ["public", "admin", "api", "system"], "listid": listid}})
    assert r.status_code == 201, r.text
    return int(r.json()["webhook"]["id"])


def mutate(ac: SandboxProcess, *ops: dict[str, Any]) -> None:
    r = requests.post(f"{ac.base_url}/__sandbox/mutate", json={"ops": list(ops)}, timeout=10)
    assert r.status_code == 200, r.text


def settle(ac: SandboxProcess) -> dict[str, Any]:
    deadline = time.time() + 15
    while True:
        view: dict[str, Any] = requests.get(f"{ac.base_url}/__sandbox/webhooks",
                                            timeout=10).json()
        if view["pending"] == 0 or time.time() > deadline:
            return view
        time.sleep(0.05)


def test_registration_api(ac: SandboxProcess, collector: Collector) -> None:
    r = api(ac, "POST", "/webhooks", json={"webhook": {
        "name": "n", "url": "https://hooks.example.com/x", "events": ["open"],
        "sources": ["public"]}})
    assert r.status_code == 201
    hook = r.json()["webhook"]
    assert hook["id"] == "1"
    assert hook["listid"] == "0"
    assert hook["events"] == ["open"]
    assert hook["links"] == []
    assert datetime.fromisoformat(hook["cdate"]).utcoffset() is not None
    refused = {
        "missing sources": {"name": "n", "url": "https://a.example/x", "events": ["open"]},
        "https on 8443": {"name": "n", "url": "https://a.example:8443/x", "events": ["open"],
                          "sources": ["public"]},
        "unknown event": {"name": "n", "url": "https://a.example/x", "events": ["explode"],
                          "sources": ["public"]},
        "unknown source": {"name": "n", "url": "https://a.example/x", "events": ["open"],
                           "sources": ["robots"]},
        "not http": {"name": "n", "url": "ftp://a.example/x", "events": ["open"],
                     "sources": ["public"]},
    }
    for label, body in refused.items():
        resp = api(ac, "POST", "/webhooks", json={"webhook": body})
        assert resp.status_code == 422, label
        assert resp.json()["errors"][0]["title"]
    assert "port 443" in api(ac, "POST", "/webhooks", json={
        "webhook": refused["https on 8443"]}).json()["errors"][0]["detail"]
    listed = api(ac, "GET", "/webhooks", params={"filters[url]": "hooks.example.com"}).json()
    assert listed["meta"]["total"] == "1"
    assert api(ac, "PUT", "/webhooks/1", json={"webhook": {"events": ["open", "click"]}}
               ).json()["webhook"]["events"] == ["open", "click"]
    assert api(ac, "DELETE", "/webhooks/1").status_code == 200
    assert api(ac, "GET", "/webhooks/1").status_code == 404
    assert api(ac, "DELETE", "/webhooks/1").status_code == 404
    events = api(ac, "GET", "/webhook/events").json()
    assert events["meta"]["total"] == 25
    assert "contact_tag_added" in events["webhookEvents"]
    assert requests.get(f"{ac.api_url}/webhooks", headers={"Api-Token": "wrong"},
                        timeout=10).status_code == 403


def test_changes_are_delivered_form_encoded_with_php_keys(ac: SandboxProcess,
                                                          collector: Collector) -> None:
    register(ac, collector.url + "/hook",
             ["update", "subscribe", "contact_tag_added", "unsubscribe", "click"], ["admin"])
    mutate(ac,
           {"op": "update_contact", "id": 3, "fields": {"firstName": "Ada"}},
           {"op": "change_email", "id": 3, "email": "ada@example.org"},
           {"op": "subscribe", "contact": 3, "list": 2},
           {"op": "add_tag", "contact": 3, "tag": "vip"},
           {"op": "add_tag", "contact": 3, "tag": "vip"},  # already tagged: nothing happens
           {"op": "update_contact", "id": 4, "fields": {"firstName": "Api"}, "source": "api"},
           {"op": "email_click", "contact": 3, "campaign": 1, "link": "https://x.example/p"},
           {"op": "delete_contact", "id": 5},  # AC has no delete event
           {"op": "email_open", "contact": 3, "campaign": 1})  # not subscribed
    settle(ac)
    assert {r["content_type"] for r in collector.received} == {
        "application/x-www-form-urlencoded"}
    assert {r["path"] for r in collector.received} == {"/hook"}
    forms = sorted(collector.forms(), key=lambda f: (f["type"], f.get("contact[email]", "")))
    assert [f["type"] for f in forms] == ["click", "contact_tag_added", "subscribe", "update",
                                          "update"]
    first_update = next(f for f in forms if f["type"] == "update"
                        and f["contact[email]"] != "ada@example.org")
    assert first_update["contact[first_name]"] == "Ada"  # the contact as it was then
    assert first_update["contact[id]"] == "3"
    sub = next(f for f in forms if f["type"] == "subscribe")
    assert sub["list"] == "2"
    assert sub["contact[email]"] == "ada@example.org"
    assert sub["initiated_by"] == "admin"
    assert datetime.fromisoformat(sub["date_time"]).utcoffset() is not None
    tag = next(f for f in forms if f["type"] == "contact_tag_added")["tag"]
    assert tag.lower() == "vip"  # the account's tag, matched case-insensitively
    assert tag in next(f for f in forms if f["type"] == "click")["contact[tags]"].split(", ")
    click = next(f for f in forms if f["type"] == "click")
    assert click["link[url]"] == "https://x.example/p"
    assert click["campaign[id]"] == "1"


def test_list_webhook_gets_only_its_list_events(ac: SandboxProcess,
                                                collector: Collector) -> None:
    register(ac, collector.url + "/l2", ["subscribe", "contact_tag_added"], listid=2)
    mutate(ac, {"op": "subscribe", "contact": 6, "list": 1},
           {"op": "subscribe", "contact": 6, "list": 2},
           {"op": "add_tag", "contact": 6, "tag": "anywhere"})  # account-level: not restricted
    settle(ac)
    assert sorted((f["type"], f["list"]) for f in collector.forms()) == [
        ("contact_tag_added", "0"), ("subscribe", "2")]


def test_duplicates_at_the_configured_rate(ac: SandboxProcess, collector: Collector) -> None:
    requests.post(f"{ac.base_url}/__sandbox/webhooks", json={"duplicate_rate": 1.0}, timeout=10)
    register(ac, collector.url + "/d", ["update"])
    mutate(ac, {"op": "update_contact", "id": 7, "fields": {"lastName": "Twice"}})
    view = settle(ac)
    assert len(collector.received) == 2
    assert collector.received[0]["body"] == collector.received[1]["body"]
    assert sorted(d["duplicate"] for d in view["deliveries"]) == [False, True]


def test_failures_are_never_retried_and_410_deactivates(ac: SandboxProcess,
                                                        collector: Collector) -> None:
    register(ac, collector.url + "/f", ["update"])
    collector.status = 500
    mutate(ac, {"op": "update_contact", "id": 8, "fields": {"lastName": "A"}})
    settle(ac)
    time.sleep(0.5)
    assert len(collector.received) == 1  # not retried
    collector.status = 410
    mutate(ac, {"op": "update_contact", "id": 8, "fields": {"lastName": "B"}})
    settle(ac)
    collector.status = 200
    mutate(ac, {"op": "update_contact", "id": 8, "fields": {"lastName": "C"}})
    view = settle(ac)
    assert [f["contact[last_name]"] for f in collector.forms()] == ["A", "B"]
    assert view["webhooks"][0]["active"] is False
    assert [d["status"] for d in view["deliveries"]] == [500, 410]
    # an unreachable receiver: dropped too (never retried)
    register(ac, "http://127.0.0.1:9/nothing", ["update"])
    mutate(ac, {"op": "update_contact", "id": 8, "fields": {"lastName": "D"}})
    view = settle(ac)
    assert view["deliveries"][-1]["error"]
    assert view["deliveries"][-1]["status"] is None
