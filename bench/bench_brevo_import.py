"""Throughput of the Brevo sandbox's bulk import: `POST /contacts/import` to `completed`.

    .venv/bin/python bench/bench_brevo_import.py [--contacts 20000] [--batch 5000] [--db FILE]

Starts `python -m sandbox brevo --rate-scale 0 --import-delay 0` (rate limits off), creates the
attributes and a list, then sends the contacts as `jsonBody` imports of `--batch` rows (new
contacts; then the same rows again as updates) and polls `GET /processes/{id}` until each is
completed. Prints contacts, wall time from the first POST to the last completion, contacts/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import requests
from sandbox.testing import SandboxProcess


def rows(start: int, count: int, generation: int) -> list[dict[str, Any]]:
    return [
        {
            "email": f"bench.{i}@example.com",
            "attributes": {
                "EXT_ID": f"ac-{i}",
                "FIRSTNAME": f"First{i}-{generation}",
                "LASTNAME": f"Last{i}",
                "SCORE": i % 100,
                "SIGNUP": "2026-03-08",
                "SMS": f"+3361{i:07d}",
            },
        }
        for i in range(start, start + count)
    ]


def run_pass(session: requests.Session, api: str, total: int, batch: int, list_id: int,
             generation: int) -> float:
    t0 = time.perf_counter()
    pids = []
    for start in range(0, total, batch):
        body = {"jsonBody": rows(start, min(batch, total - start), generation),
                "listIds": [list_id], "updateExistingContacts": True}
        r = session.post(f"{api}/contacts/import", json=body, timeout=120)
        r.raise_for_status()
        pids.append(r.json()["processId"])
    for pid in pids:
        while True:
            status = session.get(f"{api}/processes/{pid}", timeout=60).json()["status"]
            if status in ("completed", "failed"):
                if status == "failed":
                    raise SystemExit(f"import {pid} failed")
                break
            time.sleep(0.02)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    args = parser.parse_args()
    with SandboxProcess("brevo", rate_scale=0, import_delay=0, db=args.db) as sb:
        s = requests.Session()
        s.headers["api-key"] = sb.token
        api = sb.api_url
        s.post(f"{api}/contacts/attributes/normal/SCORE", json={"type": "float"}).raise_for_status()
        s.post(f"{api}/contacts/attributes/normal/SIGNUP", json={"type": "date"}).raise_for_status()
        folder = s.post(f"{api}/contacts/folders", json={"name": "Bench"}).json()["id"]
        created = s.post(f"{api}/contacts/lists", json={"name": "All", "folderId": folder})
        list_id = created.json()["id"]
        for label, generation in (("create", 1), ("update", 2)):
            wall = run_pass(s, api, args.contacts, args.batch, list_id, generation)
            print(f"{label}: contacts={args.contacts} wall={wall:.2f}s "
                  f"rate={args.contacts / wall:,.0f} contacts/s")
        dump = sb.control.dump()
        assert len(dump["contacts"]) == args.contacts, len(dump["contacts"])
        assert dump["contacts"][-1]["attributes"]["FIRSTNAME"].endswith("-2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
