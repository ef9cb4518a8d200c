"""The real-time path end to end: AC sandbox changes -> webhooks (10% delivered twice) -> the
receiver (SIGKILLed once mid-burst) -> `meltano run tap-activecampaign--realtime target-brevo`
-> Brevo events, exactly one per acknowledged change, and the right contacts; then the
scheduled REST sync restores what the outage lost, without sending a single event.

The burst is 200 changes here (CI time); bench/bench_webhooks.py runs the full 1,000.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests
from sandbox.pgserver import PostgresServer
from sandbox.receiver_process import ReceiverProcess

from tests.conftest import PipelineFactory
from tests.e2e_support import dump
from tests.webhook_support import (
    burst_ops,
    change_key,
    delivery_outcomes,
    register,
    send_burst,
    set_duplicate_rate,
    wait_delivered,
)

BURST = 200


def contacts_by_ext(brevo: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for c in brevo["contacts"]:
        ext = (c.get("attributes") or {}).get("EXT_ID") or c.get("ext_id") or c.get("extId")
        if ext:
            out[str(ext)] = c
    return out


def test_burst_with_duplicates_and_a_receiver_crash(make_pipeline: PipelineFactory,
                                                    tmp_path: Path) -> None:
    p = make_pipeline(contacts=BURST + 20, seed=5)
    backfill = p.run(timeout=300)
    assert backfill.returncode == 0, backfill.output[-3000:]
    assert dump(p.brevo_url)["events"] == []  # the REST backfill never sends an event

    secret = secrets.token_urlsafe(24)
    queue_url = f"sqlite:///{p.workdir / 'webhook-queue.sqlite3'}"
    rx = ReceiverProcess(queue_url, secret).start()
    try:
        register(p.ac_url, p.ac_token, rx.hook_url)
        set_duplicate_rate(p.ac_url, 0.1)
        ids = sorted(int(c["id"]) for c in dump(p.ac_url)["contacts"])[:BURST]
        ops = burst_ops(ids)
        killed: list[float] = []

        def crash_mid_burst(done: int) -> None:
            if not killed and done >= BURST * 2 // 5:
                rx.kill()  # SIGKILL: ActiveCampaign's deliveries fail and are never retried
                killed.append(time.time())
                time.sleep(0.5)
                rx.start()  # same port, same queue

        burst = send_burst(p.ac_url, ops, rate=100, on_progress=crash_mid_burst)
        view = wait_delivered(p.ac_url)
        metrics = requests.get(f"{rx.url}/metrics", timeout=10).text
    finally:
        rx.stop()
    acked, tried = delivery_outcomes(view, burst)
    lost = set(burst.applied_at) - acked
    assert killed
    assert lost  # the outage cost deliveries (by ActiveCampaign's design)
    assert len(acked) > BURST // 2
    duplicates = sum(1 for d in view["deliveries"] if d["duplicate"])
    assert duplicates > 0
    assert 'outcome="duplicate"}' in metrics

    env = {
        "TAP_ACTIVECAMPAIGN__REALTIME_API_URL": p.ac_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_API_TOKEN": p.ac_token,
        "WEBHOOK_QUEUE_URL": queue_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_WEBHOOK_FOLLOW": "false",
    }
    p.extra_env.update(env)
    realtime = p.run(tap="tap-activecampaign--realtime", timeout=300)
    assert realtime.returncode == 0, realtime.output[-3000:]
    brevo = dump(p.brevo_url)
    got = Counter((e["event_name"], e["identifiers"].get("ext_id")) for e in brevo["events"])
    assert max(got.values()) == 1  # exactly once: duplicates and retries never doubled one
    expected_acked = {change_key(burst.op_of(c)) for c in acked}
    possible = {change_key(burst.op_of(c)) for c in tried}
    assert expected_acked <= set(got)  # every acknowledged change is a Brevo event
    assert set(got) <= possible  # nothing that was not delivered
    # a delivery stored just before the kill, whose answer never reached AC: at most a few
    assert len(set(got) - expected_acked) <= 4
    first = next(e for e in brevo["events"] if e["event_name"] == "ac_open")
    assert first["event_properties"]["campaign_key"] == "ac-campaign-1"
    assert first["event_date"]

    # contacts: the realtime run re-read the contacts of the delivered updates
    ac_names = {int(c["id"]): c["first_name"] for c in dump(p.ac_url)["contacts"]}
    by_ext = contacts_by_ext(brevo)
    updated = [burst.op_of(c) for c in sorted(burst.applied_at)
               if burst.op_of(c)["op"] == "update_contact"]
    delivered = {change_key(burst.op_of(c))[1] for c in acked}
    for op in updated:
        ext = f"ac-{op['id']}"
        if ext in delivered:
            assert by_ext[ext]["attributes"]["FIRSTNAME"] == ac_names[op["id"]]
    stale = [op for op in updated if f"ac-{op['id']}" not in delivered
             and by_ext[f"ac-{op['id']}"]["attributes"].get("FIRSTNAME") != ac_names[op["id"]]]

    # the scheduled REST sync (the reconciliation) restores the contacts the outage lost,
    # and sends no event: only the webhook path fires Brevo automations
    events_before = len(brevo["events"])
    rest = p.run(timeout=300)
    assert rest.returncode == 0, rest.output[-3000:]
    after = dump(p.brevo_url)
    assert len(after["events"]) == events_before
    by_ext = contacts_by_ext(after)
    for op in updated:
        assert by_ext[f"ac-{op['id']}"]["attributes"]["FIRSTNAME"] == ac_names[op["id"]]
    lost_updates = [op for op in updated if f"ac-{op['id']}" not in delivered]
    assert lost_updates  # the outage lost some updates...
    assert len(stale) >= len(lost_updates) - 4  # ...stale in Brevo until the REST sync ran
    for out in p.outputs:
        assert secret not in out


def test_refused_deliveries_store_nothing_and_reach_nothing(make_pipeline: PipelineFactory,
                                                            tmp_path: Path) -> None:
    p = make_pipeline(contacts=30, seed=9)
    secret = secrets.token_urlsafe(24)
    queue_url = f"sqlite:///{p.workdir / 'webhook-queue.sqlite3'}"
    form = {"type": "update", "contact[id]": "1", "contact[email]": "a@example.com"}
    old = "2020-01-01T00:00:00-06:00"
    with ReceiverProcess(queue_url, secret, "--max-body", "2048") as rx:
        statuses = [
            requests.post(f"{rx.url}/activecampaign/{secrets.token_urlsafe(24)}",
                          data={**form, "date_time": old}, timeout=10).status_code,
            requests.post(f"{rx.url}/hooks/{secret}", data=form, timeout=10).status_code,
            requests.post(rx.hook_url, data={**form, "pad": "x" * 4000}, timeout=10).status_code,
            requests.post(rx.hook_url, data={"contact[id]": "1"}, timeout=10).status_code,
            requests.post(rx.hook_url, data={**form, "date_time": old}, timeout=10).status_code,
        ]
        assert statuses == [404, 404, 413, 400, 400]
    p.extra_env.update({
        "TAP_ACTIVECAMPAIGN__REALTIME_API_URL": p.ac_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_API_TOKEN": p.ac_token,
        "WEBHOOK_QUEUE_URL": queue_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_WEBHOOK_FOLLOW": "false",
    })
    run = p.run(tap="tap-activecampaign--realtime", timeout=300)
    assert run.returncode == 0, run.output[-3000:]
    brevo = dump(p.brevo_url)
    assert brevo["events"] == []
    assert brevo["contacts"] == []  # no event named a contact, so none was re-read


def test_two_receivers_on_one_postgresql_queue(make_pipeline: PipelineFactory) -> None:
    """Two receivers (the HA setup: AC never retries), a webhook registered for each, so every
    change is delivered to both, 10% of them twice more: each event once in Brevo."""
    p = make_pipeline(contacts=60, seed=13)
    secret = secrets.token_urlsafe(24)
    with PostgresServer() as pg, ReceiverProcess(pg.url, secret) as a, \
            ReceiverProcess(pg.url, secret) as b:
        register(p.ac_url, p.ac_token, a.hook_url)
        register(p.ac_url, p.ac_token, b.hook_url)
        set_duplicate_rate(p.ac_url, 0.1)
        ids = sorted(int(c["id"]) for c in dump(p.ac_url)["contacts"])[:50]
        ops = [op for op in burst_ops(ids) if op["op"] in ("email_open", "add_tag",
                                                            "update_contact")]
        burst = send_burst(p.ac_url, ops, rate=50)
        view = wait_delivered(p.ac_url)
        acked, _ = delivery_outcomes(view, burst)
        assert acked == set(burst.applied_at)
        per_receiver = Counter(d["webhook"] for d in view["deliveries"] if d["status"] == 200)
        assert set(per_receiver) == {1, 2}
        p.extra_env.update({
            "TAP_ACTIVECAMPAIGN__REALTIME_API_URL": p.ac_url,
            "TAP_ACTIVECAMPAIGN__REALTIME_API_TOKEN": p.ac_token,
            "WEBHOOK_QUEUE_URL": pg.url,
            "TAP_ACTIVECAMPAIGN__REALTIME_WEBHOOK_FOLLOW": "false",
        })
        run = p.run(tap="tap-activecampaign--realtime", timeout=300)
        assert run.returncode == 0, run.output[-3000:]
    events = dump(p.brevo_url)["events"]
    got = Counter((e["event_name"], e["identifiers"].get("ext_id")) for e in events)
    assert sorted(got) == sorted(change_key(op) for op in ops)
    assert max(got.values()) == 1
