"""Brevo requests per 1,000 contacts and wall time of target-brevo against the Brevo sandbox.

    .venv/bin/python bench/bench_target_brevo.py [--contacts 20000] [--fields 10] [--lists 5]
        [--rate-scale 1] [--import-delay 1.0] [--rerun]

Starts `python -m sandbox brevo --rate-scale S --import-delay D` (rate limits on: the
sandbox's Brevo limits, contacts 10 RPS, processes/campaigns 100 RPH), writes an
ActiveCampaign-shaped Singer input (custom field definitions and options, lists, then each
contact followed by its custom field values and its list membership, as the tap emits
children after their parent), runs `target-brevo --config` on it as a subprocess and prints:

- Brevo API requests (from the sandbox's `/__sandbox/requests`, polls included; the import
  report CSVs are plain storage URLs outside the API and its rate limits), per bucket and
  per route, and per 1,000 contacts (goal: at most 3; one request per contact is the naive
  figure, 1,000);
- wall time of the target process;
- a check that every contact, value and membership landed (from `/__sandbox/dump`).

With `--rerun` the same input is sent again and the second run's requests are printed too.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sandbox.testing import SandboxProcess

ROOT = Path(__file__).resolve().parents[1]
TARGET = str(ROOT / ".venv" / "bin" / "target-brevo")

FIELD_TYPES = [
    "text",
    "date",
    "dropdown",
    "text",
    "checkbox",
    "datetime",
    "radio",
    "textarea",
    "date",
    "hidden",
]
OPTIONS = ["alpha", "beta", "gamma", "delta"]


def build_input(path: Path, contacts: int, fields: int, lists: int, seed: int = 1) -> None:
    rnd = random.Random(seed)

    def schema(stream: str, props: dict[str, Any]) -> str:
        return json.dumps(
            {
                "type": "SCHEMA",
                "stream": stream,
                "key_properties": ["id"],
                "schema": {"type": "object", "properties": props},
            }
        )

    def rec(stream: str, record: dict[str, Any]) -> str:
        return json.dumps({"type": "RECORD", "stream": stream, "record": record})

    i = {"type": ["integer", "null"]}
    s = {"type": ["string", "null"]}
    dt = {"type": ["string", "null"], "format": "date-time"}
    lines = [schema("contact_custom_fields", {"id": i, "title": s, "type": s, "perstag": s})]
    types = {}
    for f in range(1, fields + 1):
        types[f] = FIELD_TYPES[(f - 1) % len(FIELD_TYPES)]
        lines.append(
            rec(
                "contact_custom_fields",
                {"id": f, "title": f"Field {f}", "type": types[f], "perstag": f"FIELD_{f}"},
            )
        )
    lines.append(
        schema(
            "contact_custom_field_options",
            {"id": i, "field": i, "label": s, "value": s, "orderid": i},
        )
    )
    oid = 0
    for f, typ in types.items():
        if typ in ("dropdown", "radio", "checkbox", "listbox"):
            for n, opt in enumerate(OPTIONS):
                oid += 1
                lines.append(
                    rec(
                        "contact_custom_field_options",
                        {
                            "id": 100 + oid,
                            "field": f,
                            "label": opt.title(),
                            "value": opt,
                            "orderid": n,
                        },
                    )
                )
    lines.append(schema("lists", {"id": i, "name": s, "stringid": s}))
    for n in range(1, lists + 1):
        lines.append(rec("lists", {"id": n, "name": f"List {n}", "stringid": f"list-{n}"}))
    lines.append(
        schema(
            "contacts",
            {
                "id": i,
                "email": s,
                "phone": s,
                "first_name": s,
                "last_name": s,
                "orgname": s,
                "bounced_hard": i,
                "udate": dt,
                "tags": {"type": ["array", "null"], "items": {"type": "string"}},
            },
        )
    )
    lines.append(
        schema(
            "contact_custom_field_values",
            {"id": i, "contact": i, "field": i, "value": s, "udate": dt},
        )
    )
    lines.append(
        schema("contact_lists", {"id": i, "contact": i, "list": i, "status": i, "udate": dt})
    )
    vid = 0
    for c in range(1, contacts + 1):
        lines.append(
            rec(
                "contacts",
                {
                    "id": c,
                    "email": f"bench.person{c}@example.com",
                    "phone": f"+1415{5550000 + c:07d}" if c % 3 == 0 else None,
                    "first_name": f"First{c}",
                    "last_name": f"Last{c}",
                    "orgname": f"Org {c % 97}",
                    "bounced_hard": 0,
                    "udate": "2026-03-08T13:30:00+00:00",
                    "tags": ["customer"] + (["vip"] if c % 10 == 0 else []),
                },
            )
        )
        for f, typ in types.items():
            vid += 1
            if typ in ("date",):
                value = f"19{50 + rnd.randrange(50)}-0{1 + rnd.randrange(9)}-1{rnd.randrange(9)}"
            elif typ == "datetime":
                value = f"2026-0{1 + rnd.randrange(9)}-1{rnd.randrange(9)}T10:00:00-05:00"
            elif typ in ("dropdown", "radio"):
                value = rnd.choice(OPTIONS)
            elif typ == "checkbox":
                value = "||" + "||".join(sorted(rnd.sample(OPTIONS, 2))) + "||"
            else:
                value = f"value {f} of contact {c}"
            lines.append(
                rec(
                    "contact_custom_field_values",
                    {"id": vid, "contact": c, "field": f, "value": value},
                )
            )
        lines.append(
            rec("contact_lists", {"id": c, "contact": c, "list": 1 + c % lists, "status": 1})
        )
    lines.append(
        json.dumps(
            {
                "type": "STATE",
                "value": {
                    "bookmarks": {
                        "contacts": {"replication_key_value": "2026-03-08T13:30:00+00:00"}
                    }
                },
            }
        )
    )
    path.write_text("\n".join(lines) + "\n")


def run_target(config: Path, data: Path) -> tuple[float, str, str, int]:
    started = time.monotonic()
    with data.open() as fh:
        done = subprocess.run(
            [TARGET, "--config", str(config)], stdin=fh, capture_output=True, text=True, check=False
        )
    return time.monotonic() - started, done.stdout, done.stderr, done.returncode


def report(label: str, sb: SandboxProcess, contacts: int, wall: float) -> dict[str, Any]:
    req = sb.control.requests(log=False)
    total = int(req["total"])
    print(f"\n== {label}")
    print(
        f"Brevo API requests: {total}  ->  {total * 1000 / contacts:.2f} per 1,000 contacts "
        f"(naive: 1,000)"
    )
    print(f"wall time: {wall:.1f} s")
    print("by bucket:", json.dumps(req.get("by_bucket", {}), sort_keys=True))
    print("by status:", json.dumps(req.get("by_status", {}), sort_keys=True))
    for path, n in sorted(req["by_path"].items(), key=lambda kv: -kv[1]):
        print(f"  {n:5d}  {path}")
    return {
        "label": label,
        "requests": total,
        "per_1000": round(total * 1000 / contacts, 2),
        "wall_s": round(wall, 1),
        "by_status": req.get("by_status", {}),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contacts", type=int, default=20000)
    ap.add_argument("--fields", type=int, default=10)
    ap.add_argument("--lists", type=int, default=5)
    ap.add_argument("--rate-scale", type=float, default=1.0)
    ap.add_argument("--import-delay", type=float, default=1.0)
    ap.add_argument("--rerun", action="store_true")
    args = ap.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess("brevo", rate_scale=args.rate_scale, import_delay=args.import_delay) as sb,
    ):
        work = Path(tmp)
        data = work / "input.singer"
        build_input(data, args.contacts, args.fields, args.lists)
        config = work / "config.json"
        config.write_text(
            json.dumps(
                {
                    "api_key": sb.token,
                    "api_url": sb.api_url,
                    "rejects_file": str(work / "rejects.jsonl"),
                    "max_rejects": 0,
                }
            )
        )
        print(
            f"{args.contacts} contacts, {args.fields} custom fields, {args.lists} lists; "
            f"sandbox rate scale {args.rate_scale}, import delay {args.import_delay}s"
        )
        sb.control.reset_requests()
        wall, out, err, rc = run_target(config, data)
        if rc != 0:
            print(err[-4000:], file=sys.stderr)
            return rc
        results = [report("first run (empty Brevo account)", sb, args.contacts, wall)]
        dump = sb.control.dump()
        landed = [c for c in dump["contacts"] if len(c["attributes"]) >= args.fields]
        members = sum(1 for c in dump["contacts"] if len(c["listIds"]) >= 2)
        print(
            f"check: {len(dump['contacts'])} contacts, {len(landed)} with all "
            f"{args.fields} custom values, {members} in their list; STATE lines: "
            f"{len([x for x in out.splitlines() if x.strip()])}"
        )
        if args.rerun:
            sb.control.reset_requests()
            wall, out, err, rc = run_target(config, data)
            if rc != 0:
                print(err[-4000:], file=sys.stderr)
                return rc
            results.append(report("rerun of the same input", sb, args.contacts, wall))
        print("\nRESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
