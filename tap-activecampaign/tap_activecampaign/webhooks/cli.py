"""`tap-activecampaign-webhooks`: serve the receiver; register, list and remove AC webhooks.

    tap-activecampaign-webhooks serve --bind 0.0.0.0:8080 --queue sqlite:///var/lib/ac/queue.db
    tap-activecampaign-webhooks register --url https://hooks.example.com/activecampaign/SECRET \\
        --events subscribe,unsubscribe,update,bounce,open,click --sources public,admin,api,system
    tap-activecampaign-webhooks list
    tap-activecampaign-webhooks remove --url https://hooks.example.com/activecampaign/SECRET

The receiver's secret comes from TAP_ACTIVECAMPAIGN_WEBHOOK_SECRET; the ActiveCampaign API URL and
token from TAP_ACTIVECAMPAIGN_API_URL and TAP_ACTIVECAMPAIGN_API_TOKEN (the tap's own settings),
never from the command line. Webhook URLs are printed with their last path segment masked.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web

from tap_activecampaign.webhooks.manage import ManageError, WebhookAdmin, mask_url
from tap_activecampaign.webhooks.queue import QueueError, open_queue
from tap_activecampaign.webhooks.receiver import SECRET_ENV, ReceiverConfig, build_app

LOG = logging.getLogger("tap_activecampaign.webhooks")
QUEUE_ENV = "WEBHOOK_QUEUE_URL"


def _bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tap-activecampaign-webhooks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the webhook receiver")
    s.add_argument("--bind", type=_bind, default=("127.0.0.1", 8080), help="HOST:PORT")
    s.add_argument("--queue", default=os.environ.get(QUEUE_ENV),
                   help=f"sqlite:///PATH or postgresql://... (default: ${QUEUE_ENV}, which keeps "
                        "a database password out of the process list)")
    s.add_argument("--max-body", type=int, default=256 * 1024, help="bytes (413 above)")
    s.add_argument("--replay-days", type=float, default=7.0,
                   help="refuse deliveries whose date_time is older (default 7)")
    s.add_argument("--replay-ahead-seconds", type=float, default=300.0,
                   help="refuse deliveries dated further in the future (default 300)")
    s.add_argument("--account-timezone", default=os.environ.get(
        "TAP_ACTIVECAMPAIGN_ACCOUNT_TIMEZONE", "UTC"),
        help="zone of naive date_time values (default: the tap's account_timezone or UTC)")
    r = sub.add_parser("register", help="register (or update) the webhook for a URL")
    r.add_argument("--url", required=True)
    r.add_argument("--events", type=_csv, required=True, help="comma-separated event types")
    r.add_argument("--sources", type=_csv, default=["public", "admin", "api", "system"])
    r.add_argument("--name", default="tap-activecampaign real time")
    r.add_argument("--list-id", type=int, default=0)
    sub.add_parser("list", help="list the account's webhooks")
    rm = sub.add_parser("remove", help="remove the webhook(s) of a URL, or one by id")
    g = rm.add_mutually_exclusive_group(required=True)
    g.add_argument("--url")
    g.add_argument("--id", type=int)
    return p


async def _serve(args: argparse.Namespace) -> int:
    secret = os.environ.get(SECRET_ENV, "")
    if not args.queue:
        print(f"cannot start: --queue or {QUEUE_ENV} is required", file=sys.stderr)
        return 2
    try:
        zone = ZoneInfo(args.account_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"unknown --account-timezone {args.account_timezone!r}", file=sys.stderr)
        return 2
    try:
        config = ReceiverConfig(secret=secret, max_body=args.max_body,
                                replay_back=args.replay_days * 86400.0,
                                replay_ahead=args.replay_ahead_seconds, account_tz=zone)
        queue = open_queue(args.queue)
    except (ValueError, QueueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    app = build_app(config, queue)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    host, port = args.bind
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    real_port = sockets[0].getsockname()[1] if sockets else port
    print(f"WEBHOOKS_READY http://{host}:{real_port}", flush=True)
    LOG.info("receiving on %s:%s, queue %s", host, real_port, type(queue).__name__)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()
    await asyncio.to_thread(queue.close)
    LOG.info("stopped: %s", app["metrics"].summary())
    return 0


def _admin() -> WebhookAdmin:
    url = os.environ.get("TAP_ACTIVECAMPAIGN_API_URL", "")
    token = os.environ.get("TAP_ACTIVECAMPAIGN_API_TOKEN", "")
    if not url or not token:
        raise ManageError("set TAP_ACTIVECAMPAIGN_API_URL and TAP_ACTIVECAMPAIGN_API_TOKEN")
    return WebhookAdmin(url, token)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, sort_keys=True))


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parser().parse_args(argv)
    if args.command == "serve":
        return asyncio.run(_serve(args))
    try:
        admin = _admin()
        if args.command == "register":
            result = admin.register(url=args.url, events=args.events, sources=args.sources,
                                    name=args.name, list_id=args.list_id)
            _print(result)
        elif args.command == "list":
            _print([{**w, "url": mask_url(str(w.get("url", "")))} for w in admin.all()])
        elif args.command == "remove":
            _print({"removed": admin.remove(url=args.url, webhook_id=args.id)})
    except ManageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
