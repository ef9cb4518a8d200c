"""No update made during a sync is lost, whatever the skew between the tap's and AC's clocks."""

from __future__ import annotations

import threading
import time
import typing as t

import pytest
from tap_testkit import run_tap, tap_config

CONTACTS = 2000


@pytest.mark.parametrize("skew_seconds", [-20, -1800])
def test_updates_during_a_sync_reach_the_next_run_when_ac_clock_is_behind(
    sandbox_factory: t.Any, skew_seconds: int
) -> None:
    sb = sandbox_factory("activecampaign", contacts=CONTACTS, seed=5, rate_limit=0, latency_ms=10)
    sb.control.advance_clock(skew_seconds)  # AC's clock behind the tap host's
    latest: dict[int, str] = {}
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            # low ids (read early) and high ids (read first / late) alternate
            for contact in (1 + n % 40, CONTACTS - n % 40, CONTACTS // 2 + n % 40):
                value = f"Skew{n}"
                sb.control.mutate(
                    {"op": "update_contact", "id": contact, "fields": {"lastName": value}}
                )
                latest[contact] = value
            time.sleep(0.02)

    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    try:
        first = run_tap(tap_config(sb, concurrency=4), streams=["contacts"])
    finally:
        stop.set()
        worker.join(10)
    assert len(latest) > 20, "too few mutations during the sync"

    second = run_tap(tap_config(sb, concurrency=4), state=first.final_state, streams=["contacts"])
    emitted = second.by_id("contacts")
    missing = {c for c in latest if c not in emitted}
    assert not missing, f"updates made during the first sync were lost: {sorted(missing)}"
    for contact, value in latest.items():
        assert emitted[contact]["last_name"] == value, contact
    # the bookmark stays before AC's time at the start of the first run
    bookmark = first.final_state["bookmarks"]["contacts"]["replication_key_value"]
    assert bookmark < min(r["udate"] for r in emitted.values() if int(r["id"]) in latest)
