"""Throughput of tap-activecampaign against the ActiveCampaign sandbox.

    .venv/bin/python bench/bench_tap_activecampaign.py [--contacts 20000] [--rps 5]
        [--latency-ms 100 500] [--streams contacts|all]

For each latency, starts `python -m sandbox activecampaign --contacts N --rate-limit RPS
--latency-ms L`, runs a full sync of contacts with their memberships, tags and custom field
values (`--streams contacts`, the default) or of every stream (`--streams all`) as a
subprocess, and prints:

- requests made (read from the sandbox request log, 429s included) and their ratio to the lower
  bound ceil(N/100) (one request per 100 contacts);
- wall time of the tap process and its ratio to requests / RPS (the time those requests need at
  the rate limit), i.e. how close the run gets to the API's ceiling.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
TAP = str(ROOT / ".venv" / "bin" / "tap-activecampaign")
CONTACT_STREAMS = {"contacts", "contact_lists", "contact_tags", "contact_custom_field_values"}
TIMEZONE = "America/Chicago"


def catalog_for(config: Path, streams: str, workdir: Path) -> Path:
    out = subprocess.run(
        [TAP, "--config", str(config), "--discover"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    catalog = json.loads(out)
    for entry in catalog["streams"]:
        selected = streams == "all" or entry["tap_stream_id"] in CONTACT_STREAMS
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = selected
    path = workdir / f"catalog-{streams}.json"
    path.write_text(json.dumps(catalog))
    return path


def run_once(contacts: int, rps: float, latency_ms: int, streams: str) -> dict[str, Any]:
    with (
        SandboxProcess(
            "activecampaign",
            contacts=contacts,
            seed=42,
            rate_limit=rps,
            latency_ms=latency_ms,
            timezone=TIMEZONE,
        ) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        config = workdir / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_url": sb.base_url,
                    "api_token": sb.token,
                    "max_requests_per_second": rps,
                    "account_timezone": TIMEZONE,
                }
            )
        )
        catalog = catalog_for(config, streams, workdir)
        sb.control.reset_requests()
        started = time.monotonic()
        proc = subprocess.run(
            [TAP, "--config", str(config), "--catalog", str(catalog)],
            check=False,
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - started
        if proc.returncode != 0:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"tap failed with exit code {proc.returncode}")
        counts: dict[str, int] = {}
        for line in proc.stdout.splitlines():
            message = json.loads(line)
            if message.get("type") == "RECORD":
                counts[message["stream"]] = counts.get(message["stream"], 0) + 1
        log = sb.control.requests(log=False)
        requests_made = int(log["total"])
        lower_bound = math.ceil(contacts / 100)
        ideal_seconds = requests_made / rps
        return {
            "latency_ms": latency_ms,
            "contacts": counts.get("contacts", 0),
            "records": sum(counts.values()),
            "requests": requests_made,
            "by_status": log.get("by_status", {}),
            "lower_bound": lower_bound,
            "request_ratio": requests_made / lower_bound,
            "wall_s": wall,
            "ideal_s": ideal_seconds,
            "wall_ratio": wall / ideal_seconds,
            "share_of_ceiling": ideal_seconds / wall,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--rps", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--streams", choices=["contacts", "all"], default="contacts")
    args = parser.parse_args()
    print(
        f"tap-activecampaign, {args.contacts} contacts, {args.rps:g} requests/s, "
        f"streams: {args.streams}"
    )
    header = (
        f"{'latency':>8} {'contacts':>8} {'records':>8} {'requests':>8} {'bound':>6} "
        f"{'req/bound':>9} {'wall s':>8} {'req/rps s':>9} {'wall/ideal':>10} {'of ceiling':>10}"
    )
    print(header)
    for latency in args.latency_ms:
        r = run_once(args.contacts, args.rps, latency, args.streams)
        print(
            f"{r['latency_ms']:>6}ms {r['contacts']:>8} {r['records']:>8} {r['requests']:>8} "
            f"{r['lower_bound']:>6} {r['request_ratio']:>9.3f} {r['wall_s']:>8.1f} "
            f"{r['ideal_s']:>9.1f} {r['wall_ratio']:>10.3f} {r['share_of_ceiling']:>9.1%}"
        )
        print(f"          statuses: {r['by_status']}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
