"""The real-time path end to end, shared by tests/test_e2e_webhooks.py and bench/bench_webhooks.py:
a burst of distinct changes in the AC sandbox, delivered as webhooks to a real receiver, drained
by `meltano run tap-activecampaign--realtime target-brevo`."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.e2e_support import Pipeline, control

EXE = str(Path(sys.executable).parent / "tap-activecampaign-webhooks")
EVENTS = "update,subscribe,unsubscribe,contact_tag_added,contact_tag_removed,bounce,open,click"


def burst_ops(contact_ids: list[int]) -> list[dict[str, Any]]:
    """One change per contact (so each change is one (event, contact) pair), types mixed:
    60% field updates, 20% opens, 10% new tags, 10% unsubscribes."""
    ops: list[dict[str, Any]] = []
    for i, cid in enumerate(contact_ids):
        kind = i % 10
        if kind < 6:
            ops.append({"op": "update_contact", "id": cid, "fields": {"firstName": f"Burst{i}"}})
        elif kind < 8:
            ops.append({"op": "email_open", "contact": cid, "campaign": 1, "source": "public"})
        elif kind == 8:
            ops.append({"op": "add_tag", "contact": cid, "tag": f"burst-{i}"})
        else:
            ops.append({"op": "unsubscribe", "contact": cid, "list": 1, "source": "public"})
    return ops


EVENT_OF = {"update_contact": "update", "email_open": "open", "add_tag": "contact_tag_added",
            "unsubscribe": "unsubscribe"}


def change_key(op: dict[str, Any]) -> tuple[str, str]:
    """(Brevo event name, ext_id) of the event one burst op fires."""
    contact = op.get("contact", op.get("id"))
    return f"ac_{EVENT_OF[op['op']]}", f"ac-{contact}"


def register(ac_url: str, ac_token: str, hook_url: str) -> None:
    env = {**os.environ, "TAP_ACTIVECAMPAIGN_API_URL": ac_url,
           "TAP_ACTIVECAMPAIGN_API_TOKEN": ac_token}
    done = subprocess.run([EXE, "register", "--url", hook_url, "--events", EVENTS],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"register failed: {done.stderr[-500:]}")


def webhooks_view(ac_url: str) -> dict[str, Any]:
    resp = requests.get(control(ac_url) + "/webhooks", timeout=30)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def set_duplicate_rate(ac_url: str, rate: float, seed: int = 7) -> None:
    requests.post(control(ac_url) + "/webhooks", json={"duplicate_rate": rate, "seed": seed},
                  timeout=30).raise_for_status()


def wait_delivered(ac_url: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view = webhooks_view(ac_url)
        if view["pending"] == 0 or time.monotonic() > deadline:
            return view
        time.sleep(0.1)


@dataclass
class Burst:
    ops: list[dict[str, Any]]
    first_change: int  # the hub's change counter before the burst
    applied_at: dict[int, float] = field(default_factory=dict)  # change number -> epoch

    def op_of(self, change: int) -> dict[str, Any]:
        return self.ops[change - self.first_change - 1]


def send_burst(ac_url: str, ops: list[dict[str, Any]], rate: float, chunk: int = 10,
               on_progress: Callable[[int], None] | None = None) -> Burst:
    """Apply the ops through the control surface at about `rate` changes per second."""
    burst = Burst(ops=ops, first_change=int(webhooks_view(ac_url)["changes"]))
    started = time.monotonic()
    with requests.Session() as session:
        for i in range(0, len(ops), chunk):
            part = ops[i:i + chunk]
            due = started + i / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            session.post(control(ac_url) + "/mutate", json={"ops": part},
                         timeout=60).raise_for_status()
            now = time.time()
            for j in range(len(part)):
                burst.applied_at[burst.first_change + i + j + 1] = now
            if on_progress is not None:
                on_progress(i + len(part))
    return burst


def delivery_outcomes(view: dict[str, Any], burst: Burst) -> tuple[set[int], set[int]]:
    """(changes with a delivery answered 2xx, changes with any delivery attempt)."""
    acked: set[int] = set()
    tried: set[int] = set()
    for d in view["deliveries"]:
        change = int(d["change"])
        if change <= burst.first_change:
            continue
        tried.add(change)
        if d["status"] is not None and 200 <= int(d["status"]) < 300:
            acked.add(change)
    return acked, tried


def realtime_env(p: Pipeline, queue_url: str, follow: bool,
                 max_run: float = 3300) -> dict[str, str]:
    return {
        "TAP_ACTIVECAMPAIGN__REALTIME_API_URL": p.ac_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_API_TOKEN": p.ac_token,
        "WEBHOOK_QUEUE_URL": queue_url,
        "TAP_ACTIVECAMPAIGN__REALTIME_WEBHOOK_FOLLOW": "true" if follow else "false",
        # integers: Meltano 4.4 cannot serialise a `decimal` setting given in the environment
        "TAP_ACTIVECAMPAIGN__REALTIME_WEBHOOK_MAX_RUN_SECONDS": str(int(max_run)),
    }


def start_realtime(p: Pipeline, log_path: Path) -> subprocess.Popen[bytes]:
    """`meltano run tap-activecampaign--realtime target-brevo` in the background."""
    meltano = str(Path(sys.executable).parent / "meltano")
    log = log_path.open("w")
    return subprocess.Popen([meltano, "run", "tap-activecampaign--realtime", "target-brevo"],
                            cwd=Path(__file__).resolve().parents[1], env=p.env(), stdout=log,
                            stderr=subprocess.STDOUT)


def brevo_events(brevo_url: str) -> list[dict[str, Any]]:
    resp = requests.get(control(brevo_url) + "/dump", timeout=60)
    resp.raise_for_status()
    return list(resp.json()["events"])


def in_thread(fn: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread
