"""The webhook receiver as a real process, on both queue backends (SQLite and a real PostgreSQL).

Each test reads the queue back through the backend itself: what the receiver acknowledged must be
there, exactly once; what it refused must not.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests
from sandbox.pgserver import PostgresServer
from sandbox.receiver_process import ReceiverProcess
from tap_activecampaign.webhooks.decode import (
    DecodeError,
    decode_delivery,
    event_id_of,
    parse_php_form,
)
from tap_activecampaign.webhooks.queue import WebhookQueue, open_queue

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.sqlite3'}"
    pg: PostgresServer = request.getfixturevalue("pg_server")
    name = f"q_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return pg.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def secret() -> str:
    return secrets.token_urlsafe(24)


def wrong_secret(secret: str) -> str:
    """``secret`` with its last character changed (a fixed "x" is the secret 1 time in 64)."""
    return secret[:-1] + ("y" if secret.endswith("x") else "x")


def delivery(n: int, *, etype: str = "update", when: datetime | None = None,
             **extra: str) -> dict[str, str]:
    stamp = (when or datetime.now(UTC)).astimezone(ZoneInfo("America/Chicago"))
    body = {"type": etype, "date_time": stamp.isoformat(timespec="seconds"),
            "initiated_by": "admin", "initiated_from": "admin", "list": "2",
            "contact[id]": str(n), "contact[email]": f"Person{n}@Example.com",
            "contact[first_name]": f"P{n}", "contact[tags]": "vip, customer",
            "contact[fields][favorite_color]": "blue"}
    body.update(extra)
    return body


def stored(url: str) -> WebhookQueue:
    return open_queue(url)


# --- decoding, no process -------------------------------------------------------------------


def test_php_bracket_form_decodes_to_nested_typed_event() -> None:
    body = urlencode({**delivery(7, etype="click"), "campaign[id]": "3",
                      "campaign[name]": "Spring", "link[url]": "https://x.example/a?b=1",
                      "contact[fields][multi][]": "a"})
    event = decode_delivery(body)
    assert event.type == "click"
    assert event.contact_id == 7
    assert event.email == "person7@example.com"
    assert event.list_id == 2
    assert event.campaign_id == 3
    assert event.campaign_name == "Spring"
    assert event.link_url == "https://x.example/a?b=1"
    assert event.tags == ["vip", "customer"]
    assert event.date_time.tzinfo == UTC
    assert event.payload["contact"]["fields"] == {"favorite_color": "blue", "multi": ["a"]}
    assert parse_php_form("a[]=x&a[]=y&b=1") == {"a": ["x", "y"], "b": "1"}


def test_event_id_ignores_key_order_and_encoding_but_not_content() -> None:
    pairs = list(delivery(3).items())
    forward = urlencode(pairs)
    backward = urlencode(list(reversed(pairs))).replace("%5B", "[").replace("%5D", "]")
    assert event_id_of(forward) == event_id_of(backward)
    assert event_id_of(forward) != event_id_of(urlencode(delivery(4)))


def test_naive_date_time_is_read_in_the_account_zone() -> None:
    body = urlencode({"type": "open", "date_time": "2026-01-15 07:30:00", "contact[id]": "1"})
    event = decode_delivery(body, ZoneInfo("America/Chicago"))
    assert event.date_time == datetime(2026, 1, 15, 13, 30, tzinfo=UTC)


@pytest.mark.parametrize(("body", "reason"), [
    ("date_time=2026-03-08T07:30:00Z", "missing type"),
    ("type=delete_everything&date_time=2026-03-08T07:30:00Z", "unknown event type"),
    ("type=open", "missing date_time"),
    ("type=open&date_time=yesterday", "unreadable date_time"),
    ("type=open&date_time=2026-01-01&a]b[=1", "malformed form key"),
])
def test_undecodable_bodies_name_the_reason(body: str, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_delivery(body)


# --- the receiver process, both backends ------------------------------------------------------


def test_delivery_is_stored_typed_and_a_duplicate_once(queue_url: str, secret: str) -> None:
    with ReceiverProcess(queue_url, secret) as rx:
        first = requests.post(rx.hook_url, data=delivery(5), timeout=10)
        # the same delivery again, keys in another order (AC's at-least-once)
        again = requests.post(rx.hook_url, data=dict(reversed(delivery(5).items())), timeout=10)
        other = requests.post(rx.hook_url, data=delivery(6, etype="open"), timeout=10)
        assert [first.status_code, again.status_code, other.status_code] == [200, 200, 200]
        assert first.json()["duplicate"] is False
        assert again.json()["duplicate"] is True
        assert again.json()["seq"] == first.json()["seq"]
        metrics = requests.get(f"{rx.url}/metrics", timeout=10).text
        assert 'outcome="accepted"} 2' in metrics
        assert 'outcome="duplicate"} 1' in metrics
        assert requests.get(f"{rx.url}/healthz", timeout=10).json() == {"ok": True}
        log = rx.log_text()
    q = stored(queue_url)
    rows = q.read(0)
    q.close()
    assert [r.record["contact_id"] for r in rows] == [5, 6]
    assert rows[0].seq < rows[1].seq
    rec = rows[0].record
    assert rec["type"] == "update"
    assert rec["email"] == "person5@example.com"
    assert rec["date_time"].endswith("+00:00")
    assert rec["list_id"] == 2
    assert rec["tags"] == ["vip", "customer"]
    assert "contact%5Bid%5D=5" in rows[0].raw
    assert secret not in log
    assert "accepted=2 duplicate=1" in log


def test_refusals_store_nothing(queue_url: str, secret: str) -> None:
    old = datetime.now(UTC) - timedelta(days=8)
    ahead = datetime.now(UTC) + timedelta(minutes=30)
    with ReceiverProcess(queue_url, secret, "--max-body", "4096") as rx:
        base = rx.url
        cases = [
            ("wrong secret", requests.post(f"{base}/activecampaign/{wrong_secret(secret)}",
                                           data=delivery(1), timeout=10), 404),
            ("wrong path", requests.post(f"{base}/webhooks/{secret}", data=delivery(1),
                                         timeout=10), 404),
            ("GET", requests.get(rx.hook_url, timeout=10), 404),
            ("json", requests.post(rx.hook_url, json=delivery(1), timeout=10), 415),
            ("oversized", requests.post(rx.hook_url, data={**delivery(1), "pad": "x" * 5000},
                                        timeout=10), 413),
            ("chunked oversized", requests.post(
                rx.hook_url, headers=FORM,
                data=iter([urlencode(delivery(1)).encode(), b"&pad=" + b"x" * 5000]),
                timeout=10), 413),
            ("no type", requests.post(rx.hook_url, data={
                k: v for k, v in delivery(1).items() if k != "type"}, timeout=10), 400),
            ("unknown type", requests.post(rx.hook_url, data=delivery(1, etype="nope"),
                                           timeout=10), 400),
            ("not a form", requests.post(rx.hook_url, headers=FORM, data=b"\xff\xfe&&==",
                                         timeout=10), 400),
            ("replayed old", requests.post(rx.hook_url, data=delivery(1, when=old),
                                           timeout=10), 400),
            ("from the future", requests.post(rx.hook_url, data=delivery(1, when=ahead),
                                              timeout=10), 400),
        ]
        got = {name: resp.status_code for name, resp, _ in cases}
        assert got == {name: status for name, _, status in cases}
        assert requests.post(rx.hook_url, data=delivery(1, when=old), timeout=10).json()[
            "error"] == "replayed"
        metrics = requests.get(f"{base}/metrics", timeout=10).text
        assert 'reason="replayed"} 3' in metrics
        assert 'outcome="accepted"} 0' in metrics
        log = rx.log_text()
    q = stored(queue_url)
    assert q.count() == 0
    q.close()
    assert secret not in log


def test_acknowledged_deliveries_survive_sigkill(queue_url: str, secret: str) -> None:
    rx = ReceiverProcess(queue_url, secret).start()
    acked: list[int] = []
    stop = threading.Event()
    t0 = datetime.now(UTC)

    def send() -> None:
        with requests.Session() as s:
            for n in range(1, 400):
                if stop.is_set():
                    return
                try:
                    r = s.post(rx.hook_url, data=delivery(n, when=t0), timeout=5)
                except requests.RequestException:
                    return
                if r.status_code == 200:
                    acked.append(n)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        while len(acked) < 40:
            threading.Event().wait(0.01)
        rx.kill()
        stop.set()
        sender.join(10)
        rx.start()  # same port, same queue
        r = requests.post(rx.hook_url, data=delivery(1, when=t0), timeout=10)
        assert r.json()["duplicate"] is True  # ids survived the kill too
    finally:
        stop.set()
        rx.stop()
    q = stored(queue_url)
    ids = [row.record["contact_id"] for row in q.read(0, 1000)]
    q.close()
    assert set(acked) <= set(ids)
    assert len(ids) == len(set(ids))


def test_two_receivers_share_one_postgresql_queue(pg_server: PostgresServer,
                                                  secret: str) -> None:
    name = f"q_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = pg_server.url.rsplit("/", 1)[0] + f"/{name}"
    t0 = datetime.now(UTC)
    bodies = [delivery(n, when=t0) for n in range(150)]
    bodies += [bodies[n] for n in range(0, 150, 10)]  # 10% delivered twice
    with ReceiverProcess(url, secret) as a, ReceiverProcess(url, secret) as b:
        results: list[dict[str, object]] = []

        def send(rx: ReceiverProcess, part: list[dict[str, str]]) -> None:
            with requests.Session() as s:
                for body in part:
                    resp = s.post(rx.hook_url, data=body, timeout=10)
                    assert resp.status_code == 200
                    results.append(resp.json())

        # duplicates cross receivers: even bodies to a, odd to b, the repeats the other way
        threads = [threading.Thread(target=send, args=(a, bodies[0:150:2] + bodies[151::2])),
                   threading.Thread(target=send, args=(b, bodies[1:150:2] + bodies[150::2]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    q = stored(url)
    rows = q.read(0, 1000)
    q.close()
    ids = [r.record["contact_id"] for r in rows]
    assert sorted(ids) == list(range(150))
    assert sum(1 for r in results if r["duplicate"]) == 15
    seqs = [r.seq for r in rows]
    assert seqs == sorted(seqs)


def test_ids_are_kept_for_the_replay_window_then_pruned(queue_url: str) -> None:
    q = stored(queue_url)
    now = datetime.now(UTC)
    recent = decode_delivery(urlencode(delivery(1, when=now - timedelta(days=6))))
    expired = decode_delivery(urlencode(delivery(2, when=now - timedelta(days=8))))
    assert q.put(recent, now.timestamp())[0] is True
    assert q.put(expired, now.timestamp())[0] is True
    assert q.prune((now - timedelta(days=7)).timestamp()) == 1
    assert q.put(recent, now.timestamp())[0] is False  # still known: a duplicate
    assert [r.record["contact_id"] for r in q.read(0)] == [1]
    q.close()
