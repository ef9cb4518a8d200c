"""Cost of deletes: the tap's contacts id scan, Brevo requests per 1,000 deletions, diff memory.

    .venv/bin/python bench/bench_deletes.py [--contacts 20000] [--rps 5] [--latency-ms 50]
        [--simulate 1000000] [--deletions 1000]

1. Id scan against the ActiveCampaign sandbox (N contacts, RPS requests/s, latency): the tap's
   `contact_ids` stream as a subprocess; requests (from the sandbox log), wall time, and the
   ratios to the bounds ceil(N/100) requests and ceil(N/100)/RPS seconds.
2. Simulated scan of `--simulate` contacts (too many for the sandbox): the same stream in
   process against an in-memory id set with holes (every 7th id deleted), pacing off; requests
   and their ratio to ceil(N/100), the projected wall time at RPS (requests / RPS), and the
   tap's own CPU time per million ids (records written to /dev/null).
3. Brevo requests per 1,000 deletions: the target (delete_policy mark, then delete) on a Brevo
   sandbox holding 2 x `--deletions` contacts of ours, a version lacking `--deletions` of them;
   requests by bucket from the sandbox log.
4. Memory of the diff at `--simulate` keys: tracemalloc peak of building the version's key set
   and of one census pass over that many Brevo contacts (pages of 1,000 generated on the fly).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import typing as t
from pathlib import Path

from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
TAP = str(ROOT / ".venv" / "bin" / "tap-activecampaign")
TIMEZONE = "America/Chicago"


def id_scan_catalog(config: Path, workdir: Path) -> Path:
    out = subprocess.run([TAP, "--config", str(config), "--discover"], check=True,
                         capture_output=True, text=True).stdout
    catalog = json.loads(out)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == "contact_ids"
    path = workdir / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def real_scan(contacts: int, rps: float, latency_ms: int) -> dict[str, t.Any]:
    with (
        SandboxProcess("activecampaign", contacts=contacts, seed=42, rate_limit=rps,
                       latency_ms=latency_ms, timezone=TIMEZONE) as sb,
        tempfile.TemporaryDirectory() as tmp,
    ):
        workdir = Path(tmp)
        config = workdir / "config.json"
        config.write_text(json.dumps({
            "api_url": sb.base_url, "api_token": sb.token, "max_requests_per_second": rps,
            "account_timezone": TIMEZONE, "id_scan": True,
        }))
        catalog = id_scan_catalog(config, workdir)
        sb.control.reset_requests()
        start = time.monotonic()
        proc = subprocess.run([TAP, "--config", str(config), "--catalog", str(catalog)],
                              check=True, capture_output=True, text=True)
        wall = time.monotonic() - start
        ids = sum('"RECORD"' in line[:30] for line in proc.stdout.splitlines())
        activated = sum('"ACTIVATE_VERSION"' in line for line in proc.stdout.splitlines())
        log = sb.control.requests(log=False)
    requests_made = int(log["total"])
    bound_requests = math.ceil(contacts / 100)
    bound_wall = bound_requests / rps
    return {
        "contacts": contacts, "ids": ids, "activate_version": activated,
        "requests": requests_made, "by_status": log["by_status"],
        "bound_requests": bound_requests, "requests_ratio": round(requests_made / bound_requests,
                                                                  3),
        "wall_s": round(wall, 1), "bound_wall_s": round(bound_wall, 1),
        "wall_ratio": round(wall / bound_wall, 2),
    }


def simulated_scan(contacts: int, rps: float) -> dict[str, t.Any]:
    from tap_activecampaign.tap import TapActiveCampaign

    # ids 1..M with every 7th deleted, so that `contacts` remain
    max_id = math.ceil(contacts * 7 / 6)
    ids = [i for i in range(1, max_id + 1) if i % 7]
    ids = ids[:contacts]
    total = len(ids)
    calls = 0

    def fetch(params: t.Mapping[str, t.Any], path: str | None = None) -> dict[str, t.Any]:
        nonlocal calls
        calls += 1
        import bisect

        limit = int(params.get("limit", 100))
        if params.get("orders[id]") == "DESC":
            page = ids[-limit:][::-1]
        else:
            lo = int(params.get("id_greater", 0))
            hi = int(params.get("id_less", 2**62))
            start = bisect.bisect_right(ids, lo)
            page = [i for i in ids[start:start + limit] if i < hi]
        return {"contacts": [{"id": str(i)} for i in page], "meta": {"total": str(total)}}

    config = {"api_url": "http://127.0.0.1:9", "api_token": "x", "max_requests_per_second": 0,
              "account_timezone": TIMEZONE, "id_scan": True, "concurrency": 6}
    tap = TapActiveCampaign(config=config, parse_env_config=False)
    stream = tap.streams["contact_ids"]
    stream.fetch = fetch
    for name, other in tap.streams.items():
        other.selected = name == "contact_ids"
    start_cpu = time.process_time()
    start = time.monotonic()
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(io.StringIO()):
        tap.sync_all()
    wall = time.monotonic() - start
    cpu = time.process_time() - start_cpu
    bound = math.ceil(contacts / 100)
    return {
        "contacts": contacts, "requests": calls, "bound_requests": bound,
        "requests_ratio": round(calls / bound, 4),
        "projected_wall_at_rps_s": round(calls / rps, 1), "bound_wall_s": round(bound / rps, 1),
        "tap_cpu_s": round(cpu, 1), "tap_wall_unpaced_s": round(wall, 1),
    }


def brevo_deletions(deletions: int) -> dict[str, t.Any]:
    sys.path.insert(0, str(ROOT / "target-brevo" / "tests"))
    from target_brevo.target import TargetBrevo

    n = deletions * 2
    results: dict[str, t.Any] = {}
    for policy in ("mark", "delete"):
        with SandboxProcess("brevo", import_delay=0.2, rate_scale=0) as sb, \
                tempfile.TemporaryDirectory() as tmp:
            cfg = {"api_key": sb.token, "api_url": sb.api_url, "rejects_file": f"{tmp}/r.jsonl",
                   "poll_initial_seconds": 0.2, "delete_policy": policy,
                   "delete_guard_percent": 0}
            contact_schema = {"type": "SCHEMA", "stream": "contacts", "key_properties": ["id"],
                              "schema": {"type": "object", "properties": {
                                  "id": {"type": "integer"}, "email": {"type": "string"}}}}
            lines = [contact_schema] + [
                {"type": "RECORD", "stream": "contacts",
                 "record": {"id": i, "email": f"p{i}@example.com"}} for i in range(1, n + 1)]
            run(TargetBrevo, cfg, lines)
            sb.control.reset_requests()
            version: list[dict[str, t.Any]] = [
                {"type": "SCHEMA", "stream": "contact_ids", "key_properties": ["id"],
                 "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}]
            version += [{"type": "RECORD", "stream": "contact_ids", "record": {"id": i},
                         "version": 1} for i in range(1, n + 1) if i % 2 or i == n]
            version.append({"type": "ACTIVATE_VERSION", "stream": "contact_ids", "version": 1})
            start = time.monotonic()
            run(TargetBrevo, cfg, version)
            wall = time.monotonic() - start
            log = sb.control.requests(log=False)
            handled = n // 2 - 1
            results[policy] = {
                "handled": handled, "requests": log["total"], "by_bucket": log["by_bucket"],
                "requests_per_1000": round(log["total"] * 1000 / handled, 1),
                "wall_unthrottled_s": round(wall, 1),
                "at_10_per_s_s": round(log["total"] / 10, 1),
            }
    return results


def run(target_cls: t.Any, cfg: dict[str, t.Any], lines: list[dict[str, t.Any]]) -> None:
    text = "".join(json.dumps(m) + "\n" for m in lines)
    target = target_cls(config=cfg, validate_config=True)
    with contextlib.redirect_stdout(io.StringIO()):
        target.listen(file_input=io.StringIO(text))


def diff_memory(keys_n: int) -> dict[str, t.Any]:
    from target_brevo.delete_scans import Version
    from target_brevo.deletes import Reconciler

    class Syncer:
        config: t.ClassVar[dict[str, t.Any]] = {"delete_policy": "delete"}
        dry_run = False

    tracemalloc.start()
    version = Version("contact_ids", 1)
    for i in range(1, keys_n + 1):
        if i % 100:
            version.keys.add(i)
    version.keys.freeze()
    _, peak_keys = tracemalloc.get_traced_memory()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()

    def pages() -> t.Iterator[dict[str, t.Any]]:
        for start in range(1, keys_n + 1, 1000):
            page = [{"id": 10_000_000 + i, "attributes": {"EXT_ID": f"ac-{i}"}, "listIds": [7]}
                    for i in range(start, min(start + 1000, keys_n + 1))]
            yield from page

    census = Reconciler(Syncer()).contacts_census(
        version, "ac-", {7}, pages()
    )
    _, peak_census = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "keys": version.keys.count, "key_storage_bytes": version.keys.nbytes(),
        "peak_building_keys_mb": round(peak_keys / 1e6, 1),
        "held_after_freeze_mb": round(held / 1e6, 2),
        "peak_census_mb": round(peak_census / 1e6, 1), "candidates": len(census.candidates),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--rps", type=float, default=5)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--simulate", type=int, default=1_000_000)
    parser.add_argument("--deletions", type=int, default=1000)
    args = parser.parse_args()
    out = {
        "id_scan": real_scan(args.contacts, args.rps, args.latency_ms),
        "id_scan_simulated": simulated_scan(args.simulate, args.rps),
        "brevo_deletions": brevo_deletions(args.deletions),
        "diff_memory": diff_memory(args.simulate),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
