"""Print a short table of what the Brevo sandbox holds, and how it changed since a saved dump."""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from sandbox.control import SandboxControl


def summary(brevo: dict[str, Any], rejects: list[dict[str, Any]]) -> dict[str, int]:
    contacts = brevo["contacts"]
    return {
        "contacts": len(contacts),
        "  blocklisted (hard bounce)": sum(1 for c in contacts if c.get("emailBlacklisted")),
        "  with an SMS number": sum(1 for c in contacts if c.get("sms")),
        "lists": len(brevo["lists"]),
        "list memberships": sum(len(c.get("listIds") or []) for c in contacts),
        "attributes": len(brevo["attributes"]),
        "email campaign drafts": len(brevo["campaigns"]),
        "  scheduled or sent": sum(1 for c in brevo["campaigns"] if c.get("status") != "draft"),
        "events": len(brevo["events"]),
        # the target appends a problem once (a rerun meeting it again does not), so this is
        # the number of distinct problems so far, not a sum over runs
        "rejects (distinct problems)": len(rejects),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--brevo", default="http://127.0.0.1:18081")
    parser.add_argument("--ac", default="http://127.0.0.1:18080")
    parser.add_argument("--label", default="Brevo")
    parser.add_argument("--save", type=Path, help="write the dump here, for a later --compare")
    parser.add_argument("--compare", type=Path, help="a dump saved by an earlier --save")
    args = parser.parse_args()

    brevo_ctl, ac_ctl = SandboxControl(args.brevo), SandboxControl(args.ac)
    brevo = brevo_ctl.dump()
    rejects_path = Path(os.environ.get("TARGET_BREVO_REJECTS_FILE", "demo-data/rejects.jsonl"))
    rejects = [json.loads(x) for x in rejects_path.read_text().splitlines() if x.strip()] \
        if rejects_path.exists() else []

    print(f"\n    {args.label}")
    print(f"    {'what':<30}{'count':>8}")
    for name, n in summary(brevo, rejects).items():
        print(f"    {name:<30}{n:>8}")
    reasons = Counter(str(r.get("code") or r.get("reason", "?"))[:60] for r in rejects)
    for reason, n in reasons.most_common(5):
        print(f"      reject: {reason:<52}{n:>5}")

    ac_requests = ac_ctl.requests(log=False)
    brevo_requests = brevo_ctl.requests(log=False)
    if args.compare:
        before = json.loads(args.compare.read_text())
        old = {c["ext_id"]: c for c in before["brevo"]["contacts"]}
        new = {c["ext_id"]: c for c in brevo["contacts"]}
        created = [e for e in new if e not in old]
        changed = [e for e in new if e in old and new[e]["modifiedAt"] != old[e]["modifiedAt"]]
        print("\n    what the incremental run moved")
        print(f"    contacts created in Brevo     {len(created):>8}   {', '.join(created[:5])}")
        print(f"    contacts changed in Brevo     {len(changed):>8}   {', '.join(changed[:8])}")
        print(f"    contacts untouched            {len(new) - len(created) - len(changed):>8}")
        ac_delta = ac_requests["total"] - before["ac_requests"]
        br_delta = brevo_requests["total"] - before["brevo_requests"]
        print(f"    ActiveCampaign requests       {ac_delta:>8}   "
              f"(first run: {before['ac_requests']})")
        print(f"    Brevo requests                {br_delta:>8}   "
              f"(first run: {before['brevo_requests']})")
    if args.save:
        args.save.write_text(json.dumps({
            "brevo": brevo, "ac_requests": ac_requests["total"],
            "brevo_requests": brevo_requests["total"],
        }))


if __name__ == "__main__":
    main()
