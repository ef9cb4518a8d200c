"""`webhook_events` -> Brevo events (`ac_<type>`), consent at once, STATE per accepted batch,
and a flush on the tap's STATE (follow mode) rather than at the end of input."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import typing as t
from collections import Counter
from pathlib import Path

DT = {"type": ["string", "null"], "format": "date-time"}
INT = {"type": ["integer", "null"]}
STR = {"type": ["string", "null"]}
SCHEMA = {
    "type": "SCHEMA", "stream": "webhook_events", "key_properties": ["event_id"],
    "schema": {"type": "object", "properties": {
        "seq": INT, "event_id": STR, "type": STR, "date_time": DT, "received_at": DT,
        "initiated_by": STR, "initiated_from": STR, "contact_id": INT, "email": STR,
        "list_id": INT, "campaign_id": INT, "campaign_name": STR, "link_url": STR,
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "payload": {"type": ["object", "null"]}}},
}


def wh(seq: int, etype: str, contact: int, **extra: t.Any) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": "webhook_events", "record": {
        "seq": seq, "event_id": f"e{seq:04d}", "type": etype,
        "date_time": f"2026-03-08T13:30:{seq % 60:02d}+00:00", "initiated_by": "public",
        "contact_id": contact, "email": f"person{contact}@example.com", "tags": ["vip"],
        "payload": {"type": etype}, **extra}}


def state(seq: int) -> dict[str, t.Any]:
    return {"type": "STATE", "value": {"bookmarks": {"webhook_events": {
        "replication_key": "seq", "replication_key_value": seq, "contacts_through": seq}}}}


def text(*messages: dict[str, t.Any]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_events_land_once_with_names_keys_and_consent(brevo: t.Any, config_for: t.Any,
                                                      h: t.Any) -> None:
    cfg = config_for(brevo, events_batch_size=2)
    h.run_target(cfg, h.ac_input())  # the contacts and lists exist (the backfill)
    before = h.contacts_by_ext(brevo.control.dump())
    news = next(lid for lid in before["ac-1"]["listIds"])
    dup = wh(2, "click", 2, campaign_id=1, campaign_name="Spring sale",
             link_url="https://shop.example/spring")
    run = h.run_target(cfg, text(
        SCHEMA,
        wh(1, "open", 1, campaign_id=1, campaign_name="Spring sale", list_id=1),
        dup, dup,  # the same event twice in the stream: sent once
        wh(3, "unsubscribe", 1, list_id=1),
        wh(4, "bounce", 3, list_id=2),
        wh(5, "contact_tag_added", 2, tags=["vip", "new"]),
        state(5)))
    dump = brevo.control.dump()
    events = sorted(dump["events"], key=lambda e: e["event_properties"]["event_id"])
    assert [e["event_name"] for e in events] == ["ac_open", "ac_click", "ac_unsubscribe",
                                                 "ac_bounce", "ac_contact_tag_added"]
    first = events[0]
    assert first["identifiers"] == {"ext_id": "ac-1", "email_id": "person1@example.com"}
    assert first["event_date"].startswith("2026-03-08T13:30:01")
    props = first["event_properties"]
    assert props["list_key"] == "ac-list-1"
    assert props["campaign_key"] == "ac-campaign-1"
    assert props["campaign_name"] == "Spring sale"
    assert props["tags"] == "|vip|"
    assert events[1]["event_properties"]["link_url"] == "https://shop.example/spring"
    after = h.contacts_by_ext(dump)
    assert news not in after["ac-1"]["listIds"]  # unsubscribed at once
    assert after["ac-3"]["emailBlacklisted"] is True  # bounced: blocklisted
    assert after["ac-2"]["emailBlacklisted"] is False
    bookmarks = [s["bookmarks"]["webhook_events"]["replication_key_value"] for s in run.states]
    # one STATE per accepted batch of 2, in queue order (then the final one, repeated)
    assert list(dict.fromkeys(bookmarks)) == [2, 4, 5]
    assert bookmarks == sorted(bookmarks)
    batches = [e for e in h.api_requests(brevo) if e["route"] == "/v3/events/batch"]
    assert len(batches) == 3


def test_a_rejected_event_does_not_sink_its_batch(brevo: t.Any, config_for: t.Any,
                                                  h: t.Any) -> None:
    cfg = config_for(brevo)
    run = h.run_target(cfg, text(
        SCHEMA, wh(1, "open", 1), wh(2, "open", 2, contact_id=None, email="not-an-email"),
        wh(3, "click", 3), state(3)))
    names = sorted(e["identifiers"].get("ext_id", "") for e in brevo.control.dump()["events"])
    assert names == ["ac-1", "ac-3"]
    rejects = h.rejects_of(cfg)
    assert [(r["stream"], r["key"]) for r in rejects] == [("webhook_events", "e0002")]
    assert run.states[-1]["bookmarks"]["webhook_events"]["replication_key_value"] == 3


def test_events_flush_on_the_taps_state_not_at_end_of_input(brevo: t.Any, config_for: t.Any,
                                                            tmp_path: Path) -> None:
    cfg_path = tmp_path / "cfg.json"
    cfg_path.write_text(json.dumps(config_for(brevo)))
    exe = Path(sys.executable).parent / "target-brevo"
    proc = subprocess.Popen([str(exe), "--config", str(cfg_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        proc.stdin.write(text(SCHEMA, wh(1, "open", 1), wh(2, "click", 1), state(2)))
        proc.stdin.flush()
        started = time.monotonic()
        line = proc.stdout.readline()  # the STATE, while the input is still open
        elapsed = time.monotonic() - started
        assert json.loads(line)["bookmarks"]["webhook_events"]["replication_key_value"] == 2
        assert elapsed < 10
        assert len(brevo.control.dump()["events"]) == 2
    finally:
        proc.stdin.close()
        proc.wait(30)


def test_duplicate_window_after_a_crash_is_at_most_one_batch(
    brevo: t.Any, config_for: t.Any, h: t.Any, tmp_path: Path
) -> None:
    """Batch 2 is processed by Brevo but answered 500 (then 500 again): the run fails with the
    STATE of batch 1 only; the rerun (the tap resends everything after seq 2) doubles batch 2
    and nothing else. That is the measured duplicate window: one batch."""
    cfg = config_for(brevo, events_batch_size=2, max_tries=2)
    brevo.control.set_faults(script=["ok", "500_after", "500"], paths=["/v3/events/batch"])
    events = [wh(n, "open", n) for n in range(1, 7)]
    failed = h.run_cli(cfg, text(SCHEMA, *events[:4], state(4)), tmp_path)
    assert failed.returncode != 0
    assert [s["bookmarks"]["webhook_events"]["replication_key_value"]
            for s in failed.states] == [2]
    brevo.control.clear_faults()
    resumed = h.run_cli(cfg, text(SCHEMA, *events[2:], state(6)), tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    seen = Counter(e["event_properties"]["event_id"] for e in brevo.control.dump()["events"])
    assert seen == {"e0001": 1, "e0002": 1, "e0003": 2, "e0004": 2, "e0005": 1, "e0006": 1}
