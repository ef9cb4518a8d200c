"""The `webhook_events` stream: the queue drained in order, resumed from STATE, the named
contacts re-read by id and emitted as `contacts` with their children; follow mode."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import requests
from sandbox.testing import SandboxProcess
from tap_activecampaign.tap import TapActiveCampaign
from tap_activecampaign.webhooks.decode import decode_delivery
from tap_activecampaign.webhooks.queue import open_queue
from tap_testkit import catalog_selecting, run_tap, tap_config

REALTIME_STREAMS = ["webhook_events", "contacts", "contact_lists", "contact_tags",
                    "contact_custom_field_values"]


def put_events(queue_url: str, events: list[dict[str, str]]) -> None:
    q = open_queue(queue_url)
    for body in events:
        q.put(decode_delivery(urlencode(body)), time.time())
    q.close()


def event(n: int, etype: str, contact: int, **extra: str) -> dict[str, str]:
    when = datetime.now(UTC) - timedelta(seconds=100 - n)
    return {"type": etype, "date_time": when.isoformat(), "initiated_by": "admin",
            "contact[id]": str(contact), "contact[email]": f"c{contact}@example.com",
            "list": "1", **extra}


def test_webhook_stream_exists_only_with_a_queue(ac_sandbox: SandboxProcess,
                                                 tmp_path: Path) -> None:
    plain = TapActiveCampaign(config=tap_config(ac_sandbox), parse_env_config=False)
    assert "webhook_events" not in plain.streams
    realtime = TapActiveCampaign(config=tap_config(
        ac_sandbox, webhook_queue=f"sqlite:///{tmp_path / 'q.db'}"), parse_env_config=False)
    assert "webhook_events" in realtime.streams


def test_drain_in_order_resume_and_reread_contacts(ac_sandbox: SandboxProcess,
                                                   tmp_path: Path) -> None:
    queue_url = f"sqlite:///{tmp_path / 'q.db'}"
    requests.post(f"{ac_sandbox.base_url}/__sandbox/mutate", json={"ops": [
        {"op": "update_contact", "id": 3, "fields": {"firstName": "Fresh"}},
        {"op": "add_tag", "contact": 4, "tag": "hot"},
        {"op": "delete_contact", "id": 6},
    ]}, timeout=10).raise_for_status()
    put_events(queue_url, [
        event(1, "update", 3, **{"contact[first_name]": "Stale"}),
        event(2, "open", 5, **{"campaign[id]": "1"}),  # an activity: no re-read
        event(3, "contact_tag_added", 4, tag="hot"),
        event(4, "update", 3),
        event(5, "update", 6),  # deleted since: nothing to re-read
    ])
    config = tap_config(ac_sandbox, webhook_queue=queue_url)
    ac_sandbox.control.reset_requests()
    out = run_tap(config, streams=REALTIME_STREAMS)
    events = out.records["webhook_events"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["type"] for e in events] == ["update", "open", "contact_tag_added", "update",
                                           "update"]
    assert events[0]["date_time"].endswith("+00:00")
    assert events[1]["campaign_id"] == 1
    assert events[0]["payload"]["contact"]["first_name"] == "Stale"
    contacts = out.by_id("contacts")
    assert sorted(contacts) == [3, 4]  # each once; 6 is gone, 5 only opened
    assert contacts[3]["first_name"] == "Fresh"  # the API is the truth, not the payload
    assert "hot" in [tag.lower() for tag in contacts[4]["tags"]]
    assert {r["contact"] for r in out.records.get("contact_lists", [])} <= {3, 4}
    assert out.records.get("contact_tags")
    log = ac_sandbox.control.requests()
    contact_reads = log["by_path"].get("GET /api/3/contacts", 0)
    assert contact_reads == 1  # one batch re-read for both contacts
    state = out.final_state["bookmarks"]["webhook_events"]
    assert state["replication_key_value"] == 5
    assert state["contacts_through"] == 5

    put_events(queue_url, [event(6, "unsubscribe", 7)])
    again = run_tap(config, state=out.final_state, streams=REALTIME_STREAMS)
    assert [e["seq"] for e in again.records["webhook_events"]] == [6]
    assert sorted(again.by_id("contacts")) == [7]


def test_crash_between_events_and_contacts_rereads_them(ac_sandbox: SandboxProcess,
                                                        tmp_path: Path) -> None:
    queue_url = f"sqlite:///{tmp_path / 'q.db'}"
    put_events(queue_url, [event(1, "update", 8), event(2, "update", 9), event(3, "open", 9)])
    state = {"bookmarks": {"webhook_events": {"replication_key": "seq",
                                              "replication_key_value": 2,
                                              "contacts_through": 0}}}
    out = run_tap(tap_config(ac_sandbox, webhook_queue=queue_url), state=state,
                  streams=REALTIME_STREAMS)
    assert [e["seq"] for e in out.records["webhook_events"]] == [3]  # never re-sent
    assert sorted(out.by_id("contacts")) == [8, 9]  # but their contacts are re-read


def test_scheduled_catalog_has_no_events(ac_sandbox: SandboxProcess) -> None:
    catalog = catalog_selecting(tap_config(ac_sandbox), None)
    assert "webhook_events" not in {s["tap_stream_id"] for s in catalog["streams"]}


def test_follow_mode_streams_new_events_until_the_time_limit(ac_sandbox: SandboxProcess,
                                                             tmp_path: Path) -> None:
    import threading

    queue_url = f"sqlite:///{tmp_path / 'q.db'}"
    config = tap_config(ac_sandbox, webhook_queue=queue_url, webhook_follow=True,
                        webhook_max_run_seconds=4, webhook_poll_seconds=0.2,
                        webhook_contacts_interval_seconds=1)
    put_events(queue_url, [event(1, "update", 10)])

    def later() -> None:
        time.sleep(1.5)
        put_events(queue_url, [event(2, "update", 11), event(3, "click", 11)])

    thread = threading.Thread(target=later)
    thread.start()
    started = time.monotonic()
    out = run_tap(config, streams=REALTIME_STREAMS)
    elapsed = time.monotonic() - started
    thread.join()
    assert 3.5 < elapsed < 15
    assert [e["seq"] for e in out.records["webhook_events"]] == [1, 2, 3]
    assert sorted(out.by_id("contacts")) == [10, 11]
    seqs = [s["bookmarks"]["webhook_events"].get("replication_key_value")
            for s in out.states if "webhook_events" in s.get("bookmarks", {})]
    assert 1 in seqs  # a STATE after the first batch, long before the run ended
    assert seqs[-1] == 3


def test_a_queue_set_on_a_scheduled_job_still_syncs_contacts(ac_sandbox: SandboxProcess,
                                                             tmp_path: Path) -> None:
    """webhook_queue set by mistake, webhook_events not selected: the REST sync goes on."""
    config = tap_config(ac_sandbox, webhook_queue=f"sqlite:///{tmp_path / 'q.db'}")
    out = run_tap(config, streams=["contacts"])
    assert len(out.records["contacts"]) == 200
    assert "webhook_events" not in out.records
