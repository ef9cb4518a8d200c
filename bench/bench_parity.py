"""singer-io's tap-activecampaign 1.3.1 against ours, every stream, one sandbox, the same data.

    .venv/bin/python bench/bench_parity.py [--contacts 20000] [--rps 5] [--latency-ms 0]
        [--singer-io-venv /tmp/sio]

Starts one ActiveCampaign sandbox (`--contacts N`, seed 42) and runs, in order:

1. singer-io 1.3.1, every stream selected, a full sync (no state);
2. ours, every stream, a full sync;
3. singer-io again with the state of run 1 (nothing changed in between);
4. ours again with the state of run 2.

Requests are read from the sandbox request log per path (429s included). singer-io runs from a
scratch virtualenv (`--singer-io-venv`, created with `pip install tap-activecampaign==1.3.1` if
missing). Two things are patched in that process, nothing else: its URL check
(`is_api_url_valid`: https only and no private address, which a local sandbox cannot pass) and
its hard-coded `@utils.ratelimit(5, 1)` (to count its requests in minutes instead of a quarter
of an hour; pacing changes when requests are sent, not how many). singer-io's runs therefore go
to the sandbox with its rate limit off and their wall time is unpaced; "at 5/s" is the time its
requests would need at ActiveCampaign's limit. Ours run paced at `--rps` against the sandbox
enforcing `--rps`, so their wall time is real, and "wall / ideal" is wall time over
requests / rps (the API's theoretical limit).

Acceptance (issue 13): ours' full sync costs at most a third of singer-io's requests, and ours'
no-change rerun at most one request per stream. The rerun is printed per stream ("<= 1 per
stream": each stream's requests from its `stream ... done:` line on the tap's stderr, whose sum
must equal the sandbox's count), with PASS or FAIL per stream and overall; the exit status is 1
when either acceptance fails.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
TAP = str(ROOT / ".venv" / "bin" / "tap-activecampaign")
TIMEZONE = "America/Chicago"

#: run inside singer-io's virtualenv: its URL check and its 5/s decorator patched, then its main
SINGER_IO_RUNNER = """
import sys
import singer.utils
singer.utils.ratelimit = lambda limit, every: (lambda fn: fn)  # before the tap is imported
import tap_activecampaign
import tap_activecampaign.client
tap_activecampaign.client.is_api_url_valid = lambda url: True  # http://127.0.0.1 sandbox
sys.argv = ["tap-activecampaign", *sys.argv[1:]]
tap_activecampaign.main()
"""


def singer_io_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "tap-activecampaign==1.3.1"],
                       check=True)
    return str(python)


def select_all(catalog: dict[str, Any]) -> dict[str, Any]:
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = True
    return catalog


def read_output(path: Path) -> tuple[Counter[str], dict[str, Any] | None]:
    """Records per stream and the last STATE of a Singer output file."""
    records: Counter[str] = Counter()
    state: dict[str, Any] | None = None
    with path.open() as lines:
        for line in lines:
            if '"RECORD"' in line[:40]:
                records[json.loads(line)["stream"]] += 1
            elif '"STATE"' in line[:40]:
                state = json.loads(line)["value"]
    return records, state


def run(args: list[str], out: Path, err: Path) -> float:
    start = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run(args, stdout=stdout, stderr=stderr, check=False).returncode
    if code != 0:
        tail = "\n".join(err.read_text().splitlines()[-15:])
        raise SystemExit(f"{args[0]} failed ({code}):\n{tail}")
    return time.monotonic() - start


#: the tap's per-stream summary line (progress.py)
DONE_LINE = re.compile(r"stream (\w+) done: [\d,]+ records, ([\d,]+) requests")


def requests_per_stream(err: Path) -> Counter[str]:
    """Requests of each stream of one of our runs, from its ``stream ... done:`` lines."""
    counts: Counter[str] = Counter()
    for match in DONE_LINE.finditer(err.read_text()):
        counts[match.group(1)] = int(match.group(2).replace(",", ""))
    return counts


def measure(sb: SandboxProcess, label: str, args: list[str], work: Path) -> dict[str, Any]:
    sb.control.reset_requests()
    wall = run(args, work / f"{label}.out", work / f"{label}.err")
    log = sb.control.requests(log=False)
    records, state = read_output(work / f"{label}.out")
    by_path = Counter({k: v for k, v in log["by_path"].items()})
    print(f"  {label}: {log['total']} requests, {sum(records.values())} records, {wall:.1f} s",
          flush=True)
    return {"wall": wall, "requests": int(log["total"]), "by_path": by_path,
            "records": records, "state": state, "status": log["by_status"],
            "by_stream": requests_per_stream(work / f"{label}.err")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--rps", type=float, default=5.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--singer-io-venv", type=Path, default=Path("/tmp/sio"))  # noqa: S108 - a scratch venv
    opts = parser.parse_args()
    sio = singer_io_python(opts.singer_io_venv)
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(
        "activecampaign", contacts=opts.contacts, seed=42, rate_limit=0,
        latency_ms=opts.latency_ms, timezone=TIMEZONE, ready_timeout=600,
    ) as sb:
        work = Path(tmp)
        runner = work / "singer_io_runner.py"
        runner.write_text(SINGER_IO_RUNNER)
        sio_config = work / "sio-config.json"
        sio_config.write_text(json.dumps({
            "api_url": sb.base_url, "api_token": sb.token, "start_date": "2000-01-01T00:00:00Z",
            "user_agent": "bench-parity",
        }))
        discovered = subprocess.run([sio, str(runner), "--config", str(sio_config), "--discover"],
                                    check=True, capture_output=True, text=True).stdout
        sio_catalog = work / "sio-catalog.json"
        sio_catalog.write_text(json.dumps(select_all(json.loads(discovered))))
        our_config = work / "our-config.json"
        our_config.write_text(json.dumps({
            "api_url": sb.base_url, "api_token": sb.token, "account_timezone": TIMEZONE,
            "max_requests_per_second": opts.rps,
        }))
        print(f"sandbox: {opts.contacts} contacts, latency {opts.latency_ms} ms", flush=True)

        sio_base = [sio, str(runner), "--config", str(sio_config), "--catalog", str(sio_catalog)]
        sio_full = measure(sb, "singer-io-full", sio_base, work)
        sb.control.set_rate_limit(rps=opts.rps)
        ours_full = measure(sb, "ours-full", [TAP, "--config", str(our_config)], work)
        sb.control.set_rate_limit(rps=0)
        sio_state = work / "sio-state.json"
        sio_state.write_text(json.dumps(sio_full["state"] or {}))
        sio_again = measure(sb, "singer-io-rerun", [*sio_base, "--state", str(sio_state)], work)
        sb.control.set_rate_limit(rps=opts.rps)
        our_state = work / "our-state.json"
        our_state.write_text(json.dumps(ours_full["state"] or {}))
        ours_again = measure(
            sb, "ours-rerun", [TAP, "--config", str(our_config), "--state", str(our_state)], work
        )
        streams = [entry["tap_stream_id"] for entry in json.loads(discovered)["streams"]]
        passed = report(opts, sio_full, ours_full, sio_again, ours_again)
        passed = report_rerun_per_stream(streams, ours_again) and passed
    if not passed:
        raise SystemExit(1)


def report_rerun_per_stream(streams: list[str], ours_again: dict[str, Any]) -> bool:
    """The no-change rerun, stream by stream: at most one request each."""
    by_stream: Counter[str] = ours_again["by_stream"]
    print()
    print("| stream (ours, no-change rerun) | requests | <= 1 per stream |")
    print("|---|---|---|")
    over = []
    for stream in sorted(set(streams) | set(by_stream)):
        n = by_stream.get(stream, 0)
        if n > 1:
            over.append(f"{stream} {n}")
        print(f"| `{stream}` | {n} | {'PASS' if n <= 1 else 'FAIL'} |")
    counted = sum(by_stream.values())
    print()
    print(f"per-stream requests add up to the sandbox's count: {counted} / "
          f"{ours_again['requests']}: {'yes' if counted == ours_again['requests'] else 'NO'}")
    print(f"no-change rerun, <= 1 request per stream: {len(streams) - len(over)} of "
          f"{len(streams)} streams: {'PASS' if not over else 'FAIL'}"
          + (f" (above: {', '.join(over)})" if over else ""))
    return not over and counted == ours_again["requests"]


def report(opts: argparse.Namespace, sio_full: dict[str, Any], ours_full: dict[str, Any],
           sio_again: dict[str, Any], ours_again: dict[str, Any]) -> bool:
    """The run table, the full-sync ratio (returned: whether it passes) and the per-path table."""
    rps = opts.rps
    print()
    print(f"| run ({opts.contacts:,} contacts, every stream) | requests | records | wall s | "
          f"requests / {rps:g} s (ideal) | wall / ideal |")
    print("|---|---|---|---|---|---|")
    for label, res, paced in (
        ("singer-io 1.3.1, full sync", sio_full, False),
        ("ours, full sync", ours_full, True),
        ("singer-io 1.3.1, no-change rerun", sio_again, False),
        ("ours, no-change rerun", ours_again, True),
    ):
        ideal = res["requests"] / rps
        ratio = f"{res['wall'] / ideal:.2f}" if paced and ideal else "unpaced"
        print(f"| {label} | {res['requests']} | {sum(res['records'].values())} | "
              f"{res['wall']:.1f} | {ideal:.1f} | {ratio} |")
    print()
    full_ratio = ours_full["requests"] / sio_full["requests"]
    print(f"full sync: ours / singer-io = {ours_full['requests']} / {sio_full['requests']} = "
          f"{full_ratio:.3f} (target <= 0.333): {'PASS' if full_ratio <= 1 / 3 else 'FAIL'}")
    streams = len(ours_full["records"]) or 1
    over = {p: n for p, n in ours_again["by_path"].items() if n > 1}
    print(f"no-change rerun: ours {ours_again['requests']} requests for {streams} streams with "
          f"records; paths above one request: {len(over)}")
    print()
    print("| path | singer-io full | ours full | singer-io rerun | ours rerun |")
    print("|---|---|---|---|---|")
    paths = sorted(set(sio_full["by_path"]) | set(ours_full["by_path"]),
                   key=lambda p: -sio_full["by_path"].get(p, 0))
    for path in paths:
        print(f"| `{path}` | {sio_full['by_path'].get(path, 0)} | "
              f"{ours_full['by_path'].get(path, 0)} | {sio_again['by_path'].get(path, 0)} | "
              f"{ours_again['by_path'].get(path, 0)} |")
    print()
    print("status codes:", {k: v["status"] for k, v in (("singer-io full", sio_full),
                                                        ("ours full", ours_full))})
    return full_ratio <= 1 / 3


if __name__ == "__main__":
    main()
