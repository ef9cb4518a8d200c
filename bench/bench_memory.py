"""Peak memory of the tap and the target as the account grows (issue 14: flat in N).

    .venv/bin/python bench/bench_memory.py [--sizes 20000,100000,200000] [--limit-mb 300]

For each size N: an ActiveCampaign sandbox seeded with N contacts and an empty Brevo sandbox,
both with their rate limits off and no latency (the limits only stretch the run; what is
measured here is what each process holds), then one full `meltano run tap-activecampaign
target-brevo`. While it runs, every process whose command is the tap's or the target's
executable is sampled every 0.2 s for its peak resident set (`VmHWM` in /proc/PID/status,
the kernel's own high-water mark, so the sampling interval cannot miss a peak, only the last
0.2 s of a process's life).

Prints per size: wall time, requests to each sandbox, the tap's and the target's peak RSS,
and the growth per 100k contacts; PASS/FAIL against the limit (300 MB each at the largest
size). Exit status 1 when a run fails or a peak is over the limit.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.testing import SandboxProcess  # noqa: E402

from tests.e2e_support import Pipeline, request_counts  # noqa: E402

PROGRAMS = ("tap-activecampaign", "target-brevo")


def program_of(pid: str) -> str | None:
    """Which of PROGRAMS process `pid` runs (its argv[0] or, for a script, argv[1])."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    for arg in argv[:2]:
        name = Path(arg.decode(errors="replace")).name
        if name in PROGRAMS:
            return name
    return None


def peak_kib(pid: str) -> int | None:
    """The process's peak resident set so far (VmHWM), in KiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class PeakSampler(threading.Thread):
    """Samples the peak RSS of every tap and target process until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peaks: dict[str, int] = dict.fromkeys(PROGRAMS, 0)
        self.seen: dict[str, set[str]] = {p: set() for p in PROGRAMS}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                program = program_of(entry.name)
                if program is None:
                    continue
                peak = peak_kib(entry.name)
                if peak is not None:
                    self.seen[program].add(entry.name)
                    self.peaks[program] = max(self.peaks[program], peak)
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def measure(n: int, import_delay: float) -> dict[str, float]:
    with SandboxProcess("activecampaign", contacts=n, seed=42, rate_limit=0,
                        latency_ms=0) as ac, \
         SandboxProcess("brevo", rate_scale=0, import_delay=import_delay, latency_ms=0) as br:
        workdir = Path(tempfile.mkdtemp(prefix=f"bench-memory-{n}-"))
        pipeline = Pipeline(ac_url=ac.base_url, ac_token=ac.token, brevo_url=br.api_url,
                            brevo_key=br.token, workdir=workdir)
        sampler = PeakSampler()
        sampler.start()
        start = time.monotonic()
        result = pipeline.run(timeout=3600)
        wall = time.monotonic() - start
        sampler.stop()
        if result.returncode != 0:
            print(result.output[-3000:])
            raise SystemExit(f"{n} contacts: meltano run failed")
        missing = [p for p in PROGRAMS if not sampler.seen[p]]
        if missing:
            raise SystemExit(f"{n} contacts: never saw a process of {missing} to sample")
        return {
            "wall": wall,
            "ac_requests": request_counts(ac.base_url)["total"],
            "brevo_requests": request_counts(br.api_url)["total"],
            "tap_mb": sampler.peaks["tap-activecampaign"] / 1024,
            "target_mb": sampler.peaks["target-brevo"] / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="20000,100000,200000",
                        help="comma-separated contact counts")
    parser.add_argument("--limit-mb", type=float, default=300.0)
    parser.add_argument("--import-delay", type=float, default=0.5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    for n in sizes:
        row = measure(n, args.import_delay)
        rows.append((n, row))
        print(f"{n:>8,} contacts: wall {row['wall']:7.1f} s, ActiveCampaign "
              f"{row['ac_requests']:.0f} requests, Brevo {row['brevo_requests']:.0f}; peak RSS "
              f"tap {row['tap_mb']:6.1f} MB, target {row['target_mb']:6.1f} MB", flush=True)
    print("\n| contacts | wall s | AC requests | Brevo requests | tap peak MB | target peak MB |")
    print("|---|---|---|---|---|---|")
    for n, row in rows:
        print(f"| {n:,} | {row['wall']:.1f} | {row['ac_requests']:.0f} | "
              f"{row['brevo_requests']:.0f} | {row['tap_mb']:.1f} | {row['target_mb']:.1f} |")
    ok = True
    if len(rows) > 1:
        (n0, first), (n1, last) = rows[0], rows[-1]
        per_100k = 100_000 / (n1 - n0)
        for who in ("tap", "target"):
            growth = (last[f"{who}_mb"] - first[f"{who}_mb"]) * per_100k
            print(f"{who}: {growth:+.1f} MB per 100k contacts between {n0:,} and {n1:,}")
    for who in ("tap", "target"):
        peak = rows[-1][1][f"{who}_mb"]
        verdict = "PASS" if peak <= args.limit_mb else "FAIL"
        ok = ok and peak <= args.limit_mb
        print(f"{verdict}: {who} peak {peak:.1f} MB at {rows[-1][0]:,} contacts "
              f"(limit {args.limit_mb:g} MB)")
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
