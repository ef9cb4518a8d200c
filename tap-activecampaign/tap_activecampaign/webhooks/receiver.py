"""The webhook receiver: an aiohttp service that stores ActiveCampaign deliveries durably.

- `POST /activecampaign/<secret>` only; any other path, method or a wrong secret gets 404 (the
  secret compared with `hmac.compare_digest`). ActiveCampaign signs nothing, so the unguessable
  URL (behind HTTPS) is the credential; it never appears in a log line (no access log: our own
  lines name the route, not the path).
- Refusals, checked in this order, each counted: 415 (not `application/x-www-form-urlencoded`),
  413 (body over `max_body` bytes), 400 (not a form, missing `type`, unknown type, missing or
  unreadable `date_time`), 400 `replayed` (`date_time` more than `replay_back` in the past or
  `replay_ahead` in the future).
- 200 only after the queue committed the event (SQLite: fsynced WAL; PostgreSQL: committed), so
  an acknowledged delivery survives a SIGKILL. A duplicate (same synthesized id) is 200 and is
  stored once. A queue failure answers 503: ActiveCampaign will not retry, and saying so is
  better than a 200 for an event that is not stored.
- `GET /healthz` (200 while the queue answers), `GET /metrics` (Prometheus text counters).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from aiohttp import web

from tap_activecampaign.webhooks.decode import DecodeError, decode_delivery
from tap_activecampaign.webhooks.queue import QueueError, WebhookQueue

LOG = logging.getLogger("tap_activecampaign.webhooks")
FORM_TYPE = "application/x-www-form-urlencoded"
SECRET_ENV = "TAP_ACTIVECAMPAIGN_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
MIN_SECRET_LENGTH = 16


@dataclass
class ReceiverConfig:
    secret: str
    max_body: int = 256 * 1024
    replay_back: float = 7 * 86400.0
    replay_ahead: float = 300.0
    account_tz: tzinfo = UTC
    prune_every: float = 3600.0

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_SECRET_LENGTH:
            raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters "
                             "(it is the only credential of the webhook URL)")

    def __repr__(self) -> str:  # never show the secret
        return (f"ReceiverConfig(max_body={self.max_body}, replay_back={self.replay_back}, "
                f"replay_ahead={self.replay_ahead})")


@dataclass
class Metrics:
    counts: Counter[str] = field(default_factory=Counter)

    def inc(self, name: str) -> None:
        self.counts[name] += 1

    def summary(self) -> str:
        c = self.counts
        refused = sum(v for k, v in c.items() if k.startswith("refused_"))
        return f"accepted={c['accepted']} duplicate={c['duplicate']} refused={refused}"

    def prometheus(self) -> str:
        lines = ["# TYPE webhook_deliveries_total counter"]
        for outcome in ("accepted", "duplicate"):
            lines.append(f'webhook_deliveries_total{{outcome="{outcome}"}} '
                         f"{self.counts[outcome]}")
        for key in sorted(k for k in self.counts if k.startswith("refused_")):
            lines.append(f'webhook_deliveries_total{{outcome="refused",'
                         f'reason="{key[len("refused_"):]}"}} {self.counts[key]}')
        lines.append("# TYPE webhook_store_errors_total counter")
        lines.append(f"webhook_store_errors_total {self.counts['store_error']}")
        return "\n".join(lines) + "\n"


def build_app(config: ReceiverConfig, queue: WebhookQueue) -> web.Application:
    metrics = Metrics()
    secret = config.secret.encode()
    app = web.Application(client_max_size=config.max_body)
    app["metrics"] = metrics
    app["queue"] = queue
    write_lock = asyncio.Lock()

    def refuse(status: int, reason: str, detail: str) -> web.Response:
        metrics.inc(f"refused_{reason}")
        LOG.warning("webhook refused status=%s reason=%s detail=%s %s", status, reason,
                    detail, metrics.summary())
        return web.json_response({"error": reason, "detail": detail}, status=status)

    async def not_found(request: web.Request) -> web.Response:
        metrics.inc("refused_not_found")
        return web.json_response({"error": "not_found"}, status=404)

    async def receive(request: web.Request) -> web.Response:
        given = request.match_info.get("secret", "").encode()
        if request.method != "POST" or not hmac.compare_digest(given, secret):
            LOG.warning("webhook refused status=404 reason=not_found %s", metrics.summary())
            return await not_found(request)
        if request.content_type != FORM_TYPE:
            return refuse(415, "content_type", f"expected {FORM_TYPE}")
        if request.content_length is not None and request.content_length > config.max_body:
            return refuse(413, "too_large", f"over {config.max_body} bytes")
        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := await request.content.read(65536):
                size += len(chunk)
                if size > config.max_body:
                    return refuse(413, "too_large", f"over {config.max_body} bytes")
                chunks.append(chunk)
        except (ConnectionError, asyncio.IncompleteReadError):
            return refuse(400, "incomplete", "body cut short")
        data = b"".join(chunks)
        try:
            body = data.decode("utf-8")
            event = decode_delivery(body, config.account_tz)
        except UnicodeDecodeError:
            return refuse(400, "malformed", "body is not UTF-8")
        except DecodeError as exc:
            reason = "unknown_type" if "unknown event type" in str(exc) else "malformed"
            return refuse(400, reason, str(exc))
        now = time.time()
        age = now - event.date_time.timestamp()
        if age > config.replay_back or -age > config.replay_ahead:
            return refuse(400, "replayed", f"date_time {event.date_time.isoformat()} outside "
                                           "the replay window")
        try:
            async with write_lock:
                inserted, seq = await asyncio.to_thread(queue.put, event, now)
        except (QueueError, OSError, RuntimeError) as exc:
            metrics.inc("store_error")
            LOG.error("webhook not stored: %s %s", exc, metrics.summary())
            return web.json_response({"error": "store_failed"}, status=503)
        metrics.inc("accepted" if inserted else "duplicate")
        LOG.info("webhook %s type=%s seq=%s %s", "stored" if inserted else "duplicate",
                 event.type, seq, metrics.summary())
        return web.json_response({"ok": True, "duplicate": not inserted, "seq": seq})

    async def healthz(request: web.Request) -> web.Response:
        try:
            await asyncio.to_thread(queue.count)
        except Exception as exc:  # any failure makes this receiver unhealthy
            return web.json_response({"ok": False, "error": type(exc).__name__}, status=503)
        return web.json_response({"ok": True})

    async def metrics_view(request: web.Request) -> web.Response:
        return web.Response(text=metrics.prometheus(), content_type="text/plain")

    async def pruner(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    n = await asyncio.to_thread(queue.prune, time.time() - config.replay_back)
                    if n:
                        LOG.info("pruned %s events older than the replay window", n)
                except Exception as exc:  # keep serving; the next round tries again
                    LOG.error("prune failed: %s", type(exc).__name__)
                await asyncio.sleep(config.prune_every)

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app.cleanup_ctx.append(pruner)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    app.router.add_route("*", "/activecampaign/{secret}", receive)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app
