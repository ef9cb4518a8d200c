"""Benchmark of the ActiveCampaign sandbox (not a test).

    .venv/bin/python bench/bench_ac_sandbox.py [--contacts 20000] [--pages 300] [--big 200000]

1. Serving: one sandbox (rate limit and latency off), one keep-alive client paging /contacts with
   limit=100 through `id_greater`, then with `offset`, then with `include=` sideloads. Prints
   requests, wall time and pages/s for each (target: >= 100 pages/s), and the server's own CPU
   time, i.e. pages per second of one busy core, which a shared or loaded machine (the client
   runs on it too) does not distort.
2. Loading: time from process start to `SANDBOX_READY` with `--big` contacts, and the server's
   resident memory (target: < 30 s and < 1 GiB for 200,000).
"""

from __future__ import annotations

import argparse
import time

import orjson
import psutil
import requests
from sandbox.testing import SandboxProcess


def page_through(
    api: str, token: str, mode: str, pages: int, include: str = ""
) -> tuple[int, float]:
    s = requests.Session()
    s.headers["Api-Token"] = token
    last_id = 0
    offset = 0
    n = 0
    t0 = time.perf_counter()
    while n < pages:
        params: dict[str, str | int] = {"limit": 100, "orders[id]": "ASC"}
        if mode == "id_greater":
            params["id_greater"] = last_id
        else:
            params["offset"] = offset
        if include:
            params["include"] = include
        r = s.get(f"{api}/contacts", params=params, timeout=30)
        r.raise_for_status()
        contacts = orjson.loads(r.content)["contacts"]  # orjson: keep the client cheap
        n += 1
        if not contacts:
            last_id = 0
            offset = 0
            continue
        last_id = int(contacts[-1]["id"])
        offset += 100
    return n, time.perf_counter() - t0


def cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def measure(sb: SandboxProcess, label: str, mode: str, pages: int, include: str = "") -> None:
    assert sb.proc is not None
    proc = psutil.Process(sb.proc.pid)
    c0 = cpu(proc)
    n, wall = page_through(sb.api_url, sb.token, mode, pages, include)
    busy = cpu(proc) - c0
    print(f"serve {label:<24} requests={n} wall={wall:.2f}s pages/s={n / wall:.1f} "
          f"server_cpu={busy:.2f}s pages/cpu-s={n / max(busy, 1e-9):.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--contacts", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--big", type=int, default=200000)
    args = ap.parse_args()

    with SandboxProcess("activecampaign", contacts=args.contacts, rate_limit=0) as sb:
        page_through(sb.api_url, sb.token, "id_greater", 5)  # warm up
        for mode, include in (("id_greater", ""), ("offset", ""),
                              ("id_greater", "contactTags.tag,contactLists.list,fieldValues")):
            label = mode + (" +include" if include else "")
            measure(sb, label, mode, args.pages, include)
        log = sb.control.requests(log=False)
        print(f"request log: total={log['total']} by_status={log['by_status']}")

    if args.big:
        t0 = time.perf_counter()
        with SandboxProcess("activecampaign", contacts=args.big, rate_limit=0,
                            ready_timeout=300) as big:
            ready = time.perf_counter() - t0
            assert big.proc is not None
            rss = psutil.Process(big.proc.pid).memory_info().rss
            print(f"load contacts={args.big} ready_in={ready:.1f}s rss={rss / 2**20:.0f} MiB")
            measure(big, "big id_greater", "id_greater", 100)
            measure(big, "big offset", "offset", 100)
            measure(big, "big id_greater +include", "id_greater", 100,
                    "contactTags.tag,contactLists.list,fieldValues")
            rss = psutil.Process(big.proc.pid).memory_info().rss
            print(f"rss after paging: {rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
