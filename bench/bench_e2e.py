"""End to end: `meltano run tap-activecampaign target-brevo` over a whole account, limits on.

    .venv/bin/python bench/bench_e2e.py [--contacts 20000] [--ac-rps 5] [--brevo-scale 1]
        [--import-delay 2] [--latency-ms 50] [--log-dir DIR]

Starts an ActiveCampaign sandbox with N seeded contacts at its real rate limit (5 requests/s)
and an empty Brevo sandbox with Brevo's real per-bucket limits (contacts 10/s and 36,000/h,
events 10/s, everything else 100/h), runs a full sync through Meltano, then an incremental run
with nothing changed, and prints for each run:

- wall time;
- ActiveCampaign requests, and their ratio to the lower bound ceil(N/100) + the other streams'
  pages; the run's average request rate as a share of the 5/s ceiling;
- Brevo requests per bucket, per 1,000 contacts, and each bucket's use of its limit;
- the lower bound on wall time that the two APIs' limits impose on these requests, and the
  run's ratio to it.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.testing import SandboxProcess  # noqa: E402

from tests.e2e_support import Pipeline, dump, request_counts, request_log  # noqa: E402

BREVO_LIMITS = {"contacts": (10.0, 36000.0), "events": (10.0, 36000.0), "other": (None, 100.0)}


def bucket_bound_seconds(bucket: str, n: int, scale: float) -> float:
    per_s, per_h = BREVO_LIMITS.get(bucket, (None, 100.0))
    bounds = [0.0]
    if per_s:
        bounds.append(n / (per_s * scale))
    if per_h and n > per_h * scale:
        bounds.append((n - per_h * scale) / (per_h * scale) * 3600)
    return max(bounds)


def report(label: str, wall: float, ac: dict[str, Any], brevo: dict[str, Any], contacts: int,
           ac_rps: float, scale: float) -> None:
    ac_total = ac["total"]
    contact_pages = ac["by_path"].get("GET /api/3/contacts", 0)
    ac_bound = ac_total / ac_rps
    print(f"\n{label}")
    print(f"  wall time                         {wall:8.1f} s")
    print(f"  ActiveCampaign requests           {ac_total:8d}   (contacts pages {contact_pages}, "
          f"lower bound ceil(N/100) = {math.ceil(contacts / 100)})")
    print(f"  ActiveCampaign rate used          {ac_total / wall:8.2f} /s  "
          f"= {ac_total / wall / ac_rps:6.1%} of the {ac_rps:g}/s ceiling")
    bounds = [ac_bound]
    for bucket, n in sorted(brevo.get("by_bucket", {}).items()):
        per_1000 = n / contacts * 1000
        bound = bucket_bound_seconds(bucket, n, scale)
        bounds.append(bound)
        print(f"  Brevo {bucket:<10} requests        {n:8d}   ({per_1000:.2f} per 1,000 contacts; "
              f"its limits alone need {bound:.1f} s)")
    print(f"  Brevo requests in all             {brevo['total']:8d}   "
          f"({brevo['total'] / contacts * 1000:.2f} per 1,000 contacts)")
    bound = max(bounds)
    print(f"  lower bound from the API limits   {bound:8.1f} s   -> run/bound = {wall / bound:.2f}")


def breakdown(start: float, ac_log: list[dict[str, Any]], brevo_log: list[dict[str, Any]]) -> None:
    """Where the Brevo requests go (route and bucket) and when: the ActiveCampaign read's span
    against the Brevo calls, grouped into flushes (bursts separated by 5 s or more of quiet)."""
    by_route: dict[tuple[str, str], int] = {}
    for e in brevo_log:
        k = (e["bucket"], f"{e['method']} {e['route']}")
        by_route[k] = by_route.get(k, 0) + 1
    print("  Brevo requests by bucket and route:")
    for (bucket, route), n in sorted(by_route.items(), key=lambda kv: (kv[0][0], -kv[1])):
        print(f"    {bucket:<9} {route:<48} {n:6d}")
    if ac_log:
        ac_first, ac_last = ac_log[0]["t"] - start, ac_log[-1]["t"] - start
        print(f"  ActiveCampaign requests from {ac_first:6.1f} s to {ac_last:6.1f} s")
    else:
        ac_last = 0.0
    groups: list[list[dict[str, Any]]] = []
    for e in brevo_log:
        if groups and e["t"] - groups[-1][-1]["t"] < 5.0:
            groups[-1].append(e)
        else:
            groups.append([e])
    for group in groups:
        kinds: dict[str, int] = {}
        for e in group:
            route = e["route"].rsplit("/", 1)[-1] if "{" in e["route"] else e["route"]
            kinds[route] = kinds.get(route, 0) + 1
        top = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:5])
        print(f"  Brevo burst {group[0]['t'] - start:6.1f} s to {group[-1]['t'] - start:6.1f} s: "
              f"{len(group)} requests ({top})")
    during = sum(1 for e in brevo_log if e["t"] - start <= ac_last)
    print(f"  Brevo requests while the tap still read ActiveCampaign: {during} of {len(brevo_log)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--ac-rps", type=float, default=5)
    parser.add_argument("--brevo-scale", type=float, default=1.0)
    parser.add_argument("--import-delay", type=float, default=2.0)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--batch-rows", type=int, default=None,
                        help="target-brevo batch_size_rows (contacts per flush); default: its own")
    parser.add_argument("--log-dir", type=Path, default=None,
                        help="write each run's Meltano output (tap and target logs) here")
    args = parser.parse_args()

    with SandboxProcess("activecampaign", contacts=args.contacts, seed=42,
                        rate_limit=args.ac_rps, latency_ms=args.latency_ms) as ac, \
         SandboxProcess("brevo", rate_scale=args.brevo_scale, import_delay=args.import_delay,
                        latency_ms=args.latency_ms) as br:
        workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
        p = Pipeline(ac_url=ac.base_url, ac_token=ac.token, brevo_url=br.api_url,
                     brevo_key=br.token, workdir=workdir,
                     extra_env=({"TARGET_BREVO_BATCH_SIZE_ROWS": str(args.batch_rows)}
                                if args.batch_rows else {}))
        print(f"{args.contacts} contacts; ActiveCampaign {args.ac_rps:g} requests/s, latency "
              f"{args.latency_ms:g} ms; Brevo limits x{args.brevo_scale:g}, imports complete "
              f"after {args.import_delay:g} s")
        for n, label in enumerate(("full sync", "incremental run, nothing changed"), start=1):
            ac.control.reset_requests()
            br.control.reset_requests()
            start, started_at = time.monotonic(), time.time()
            result = p.run()
            wall = time.monotonic() - start
            if args.log_dir:  # a failed run's whole log included
                args.log_dir.mkdir(parents=True, exist_ok=True)
                log = args.log_dir / f"run{n}.log"
                log.write_text(result.output)
                print(f"\n(Meltano output of this run: {log})")
            if result.returncode != 0:
                print(result.output[-3000:])
                raise SystemExit(f"{label}: meltano run failed")
            report(label, wall, request_counts(ac.base_url), request_counts(br.api_url),
                   args.contacts, args.ac_rps, args.brevo_scale)
            breakdown(started_at, request_log(ac.base_url), request_log(br.api_url))
        landed = dump(br.api_url)
        print(f"\nBrevo holds {len(landed['contacts'])} contacts, {len(landed['lists'])} lists, "
              f"{len(landed['campaigns'])} campaign drafts; rejects: {len(p.rejects())}")
        by_code = Counter((str(r.get("stream")), str(r.get("code"))) for r in p.rejects())
        for (stream, code), n in sorted(by_code.items()):
            print(f"  rejects  {stream:24s} {code:24s} {n:6d}")


if __name__ == "__main__":
    main()
