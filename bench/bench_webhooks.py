"""The real-time path: receiver throughput, and latency from an ActiveCampaign change to Brevo.

    .venv/bin/python bench/bench_webhooks.py [--changes 1000] [--rate 20] [--deliveries 2000]
        [--skip-postgres]

1. Receiver throughput: `--deliveries` distinct deliveries POSTed by 8 client threads to one
   `tap-activecampaign-webhooks serve`, each acknowledged only after the queue committed it
   (SQLite WAL + synchronous=FULL; PostgreSQL with synchronous_commit on), per backend. Reported:
   acknowledged deliveries/s and the client-side p50/p95 of one delivery.
2. Follow mode: `meltano run tap-activecampaign--realtime target-brevo` with `webhook_follow`
   running while `--changes` changes are made in the AC sandbox at `--rate` per second (10% of
   the deliveries duplicated). Latency = Brevo's `received_at` of the event minus the time the
   change was applied, p50/p95/max (goal: p95 under 5 s at 20 changes/s).
3. Drain mode with a crash: the same number of changes as a burst (100/s), the receiver
   SIGKILLed and restarted at 40% of it, then one drain run. Exactly one Brevo event per
   acknowledged change is checked; latency here is dominated by when the job runs.

Both sandboxes run at their real limits (AC 5 requests/s; Brevo contacts 10/s, events 10/s,
everything else 100/h; imports complete after 1 s). Requests made are reported with the bound
the limits put on them.
"""

from __future__ import annotations

import argparse
import math
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from sandbox.pgserver import PostgresServer  # noqa: E402
from sandbox.receiver_process import ReceiverProcess  # noqa: E402
from sandbox.testing import SandboxProcess  # noqa: E402

from tests.e2e_support import Pipeline, dump, request_counts  # noqa: E402
from tests.webhook_support import (  # noqa: E402
    Burst,
    burst_ops,
    change_key,
    delivery_outcomes,
    realtime_env,
    register,
    send_burst,
    set_duplicate_rate,
    start_realtime,
    wait_delivered,
)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def throughput(label: str, queue_url: str, n: int, threads: int = 8) -> None:
    secret = secrets.token_urlsafe(24)
    now = datetime.now(UTC).isoformat()
    bodies = [urlencode({"type": "update", "date_time": now, "contact[id]": str(i),
                         "contact[email]": f"p{i}@example.com", "list": "1"})
              for i in range(n)]
    times: list[float] = []
    with ReceiverProcess(queue_url, secret) as rx:
        def send(part: list[str]) -> None:
            with requests.Session() as s:
                for body in part:
                    t0 = time.perf_counter()
                    r = s.post(rx.hook_url, data=body, timeout=30,
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
                    r.raise_for_status()
                    times.append(time.perf_counter() - t0)

        started = time.perf_counter()
        workers = [threading.Thread(target=send, args=(bodies[i::threads],))
                   for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - started
    print(f"  {label:<11} {n} deliveries in {wall:6.2f} s = {n / wall:7.1f} acknowledged/s; "
          f"one delivery p50 {pct(times, 0.5) * 1000:5.1f} ms, "
          f"p95 {pct(times, 0.95) * 1000:5.1f} ms")


def latencies(burst: Burst, acked: set[int], events: list[dict[str, Any]]) -> list[float]:
    by_key = {change_key(burst.op_of(c)): c for c in acked}
    out = []
    for e in events:
        change = by_key.get((e["event_name"], e["identifiers"].get("ext_id")))
        if change is not None:
            got = datetime.fromisoformat(str(e["received_at"]).replace("Z", "+00:00"))
            out.append(got.timestamp() - burst.applied_at[change])
    return out


def exactness(burst: Burst, acked: set[int], tried: set[int], events: list[dict[str, Any]]
              ) -> str:
    got = Counter((e["event_name"], e["identifiers"].get("ext_id")) for e in events)
    want = {change_key(burst.op_of(c)) for c in acked}
    possible = {change_key(burst.op_of(c)) for c in tried}
    dupes = sum(v - 1 for v in got.values())
    missing = len(want - set(got))
    extra = len(set(got) - possible)
    unacked_stored = len((set(got) & possible) - want)
    ok = dupes == 0 and missing == 0 and extra == 0
    return (f"{'OK' if ok else 'FAILED'}: {len(got)} events for {len(want)} acknowledged changes, "
            f"{dupes} duplicates, {missing} missing, {extra} never delivered, "
            f"{unacked_stored} stored without the answer reaching AC (the kill)")


def report_requests(ac_url: str, brevo_url: str, distinct_contacts: int, events: int) -> None:
    ac = request_counts(ac_url)
    br = request_counts(brevo_url)
    reads = ac["by_path"].get("GET /api/3/contacts", 0)
    batches = br["by_path"].get("POST /v3/events/batch", 0)
    print(f"  AC requests {ac['total']} (contact re-reads {reads}; lower bound "
          f"ceil({distinct_contacts}/100) = {math.ceil(distinct_contacts / 100)}); "
          f"Brevo requests {br['total']} by bucket {br.get('by_bucket')}; "
          f"/events/batch {batches} (lower bound ceil({events}/100) = {math.ceil(events / 100)})")


def scenario(args: argparse.Namespace, follow: bool) -> None:
    title = (f"follow mode, {args.changes} changes at {args.rate:g}/s" if follow else
             f"drain mode, {args.changes} changes as a burst, receiver SIGKILLed at 40%")
    print(f"\n{title}")
    with SandboxProcess("activecampaign", contacts=args.changes + 50, seed=42,
                        rate_limit=5) as ac, \
         SandboxProcess("brevo", rate_scale=1.0, import_delay=1.0) as br:
        workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
        p = Pipeline(ac_url=ac.base_url, ac_token=ac.token, brevo_url=br.api_url,
                     brevo_key=br.token, workdir=workdir)
        t0 = time.monotonic()
        backfill = p.run(timeout=1800)
        if backfill.returncode != 0:
            raise SystemExit(backfill.output[-3000:])
        print(f"  backfill (REST, scheduled job): {time.monotonic() - t0:.1f} s, "
              f"{len(dump(br.api_url)['events'])} Brevo events")
        queue_url = f"sqlite:///{workdir / 'queue.sqlite3'}"
        rx = ReceiverProcess(queue_url, secrets.token_urlsafe(24)).start()
        try:
            run_scenario(args, follow, p, ac, br, rx, queue_url, workdir)
        finally:
            rx.stop()


def run_scenario(args: argparse.Namespace, follow: bool, p: Pipeline, ac: SandboxProcess,
                 br: SandboxProcess, rx: ReceiverProcess, queue_url: str, workdir: Path
                 ) -> None:
    register(ac.base_url, ac.token, rx.hook_url)
    set_duplicate_rate(ac.base_url, 0.1)
    ids = sorted(int(c["id"]) for c in dump(ac.base_url)["contacts"])[:args.changes]
    ops = burst_ops(ids)
    p.extra_env.update(realtime_env(p, queue_url, follow=follow,
                                    max_run=args.changes / args.rate + 90))
    ac.control.reset_requests()
    br.control.reset_requests()
    proc = None
    if follow:
        proc = start_realtime(p, workdir / "realtime.log")
        time.sleep(15)  # the job's start-up: discovery, the definitions streams
        if proc.poll() is not None:
            raise SystemExit((workdir / "realtime.log").read_text()[-3000:])
        try:
            burst = send_burst(ac.base_url, ops, rate=args.rate, chunk=1)
        except BaseException:
            proc.kill()
            raise
    else:
        killed: list[bool] = []

        def crash(done: int) -> None:
            if not killed and done >= len(ops) * 2 // 5:
                rx.kill()
                killed.append(True)
                time.sleep(0.5)
                rx.start()

        burst = send_burst(ac.base_url, ops, rate=100, on_progress=crash)
    view = wait_delivered(ac.base_url)
    acked, tried = delivery_outcomes(view, burst)
    dup = sum(1 for d in view["deliveries"] if d["duplicate"])
    print(f"  deliveries {len(view['deliveries'])} ({dup} duplicates), "
          f"{len(acked)} changes acknowledged, {len(burst.applied_at) - len(acked)} lost")
    if follow:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            have = {(e["event_name"], e["identifiers"].get("ext_id"))
                    for e in dump(br.api_url)["events"]}
            if {change_key(burst.op_of(c)) for c in acked} <= have:
                break
            time.sleep(1)
        assert proc is not None
        proc.terminate()
        proc.wait(120)
        if len(dump(br.api_url)["events"]) == 0:
            print((workdir / "realtime.log").read_text()[-3000:])
    else:
        t0 = time.monotonic()
        run = p.run(tap="tap-activecampaign--realtime", timeout=1800)
        if run.returncode != 0:
            raise SystemExit(run.output[-3000:])
        print(f"  drain run: {time.monotonic() - t0:.1f} s wall")
    rx.stop()
    events = dump(br.api_url)["events"]
    lat = latencies(burst, acked, events)
    print(f"  exactness: {exactness(burst, acked, tried, events)}")
    print(f"  latency AC change -> Brevo event: p50 {pct(lat, 0.5):.2f} s, "
          f"p95 {pct(lat, 0.95):.2f} s, max {max(lat) if lat else float('nan'):.2f} s, "
          f"mean {statistics.fmean(lat) if lat else float('nan'):.2f} s")
    if follow:
        span = max(burst.applied_at.values()) - min(burst.applied_at.values())
        print(f"  changes applied over {span:.1f} s = {len(ops) / max(span, 1e-9):.1f}/s")
    reread = sum(1 for op in ops if op["op"] != "email_open")
    report_requests(ac.base_url, br.api_url, reread, len(acked))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--only", choices=["throughput", "follow", "drain"])
    args = parser.parse_args()
    if args.only in (None, "throughput"):
        print("receiver throughput (durable acknowledgements, 8 client threads)")
        with tempfile.TemporaryDirectory() as tmp:
            throughput("SQLite", f"sqlite:///{tmp}/q.sqlite3", args.deliveries)
        if not args.skip_postgres:
            with PostgresServer() as pg:
                throughput("PostgreSQL", pg.url, args.deliveries)
    if args.only in (None, "follow"):
        scenario(args, follow=True)
    if args.only in (None, "drain"):
        scenario(args, follow=False)


if __name__ == "__main__":
    main()
