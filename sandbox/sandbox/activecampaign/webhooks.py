"""ActiveCampaign webhooks: the registration API and deliveries on the sandbox's own changes.

API (behind the token, rate limited and faulted like every `/api/3` route):

- `POST /api/3/webhooks` `{"webhook": {"name", "url", "events", "sources", "listid"?}}` ->
  201 `{"webhook": {..., "id"}}`. `name`, `url`, `events`, `sources` required; unknown events or
  sources, a non-http(s) URL or an https URL on a port other than 443 ("for https endpoints, we
  only can send webhooks on port 443") -> 422 `{"errors": [...]}`.
- `GET /api/3/webhooks` (`filters[name|url|listid]`, `limit`, `offset`), `GET/PUT/DELETE
  /api/3/webhooks/{id}`, `GET /api/3/webhook/events`.

Deliveries: every applied `/__sandbox/mutate` op that ActiveCampaign would announce becomes one
event (`update_contact`, `change_email`, `set_field_value` -> `update`; `subscribe`,
`unsubscribe`, `bounce`; `add_tag`/`remove_tag` -> `contact_tag_added`/`_removed`; the
activity ops `email_open`, `email_click`, `email_sent`, `email_reply`, `email_forward` -> `open`,
`click`, `sent`, `reply`, `forward`). No event for `create_contact` without a list, and none for
`delete_contact` (AC has no delete event). An op's optional `"source"` (default `admin`) is the
event's `initiated_by`; a webhook receives the events it subscribed to from the sources it
subscribed to, and a webhook with a `listid` only list events of that list (account-level events
such as tags are not restricted).

Each delivery is an `application/x-www-form-urlencoded` POST with PHP-bracket keys, the body built
when the change happened (the contact as it was then), `date_time` account-local ISO 8601 with
the offset. At least once: with `duplicate_rate` a delivery is sent twice (same body). Never
retried: a refused or failed delivery is logged and dropped. A `410 Gone` answer deactivates the
webhook (it stays listed, nothing more is sent to it). Up to `concurrency` deliveries are in
flight at once, so they may arrive out of order.

Control (`/__sandbox/webhooks`): `GET` -> `{"deliveries": [{"webhook", "type", "change" (the
event's number: a duplicate repeats it), "duplicate", "t", "done", "status", "error"}, ...],
"pending": n, "changes": n, "webhooks", "settings"}`;
`POST` `{"duplicate_rate": 0.1, "seed": 1, "concurrency": 4, "timeout_s": 10}`;
`POST /__sandbox/webhooks/reset` clears the delivery log.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import orjson
from aiohttp import web

from sandbox.server import CONTROL_PREFIX, json_response

if TYPE_CHECKING:
    from sandbox.activecampaign.state import ACState

API = "/api/3"
EVENTS = (
    "forward", "open", "share", "sent", "subscribe", "subscriber_note", "contact_tag_added",
    "contact_tag_removed", "unsubscribe", "update", "deal_add", "deal_note_add",
    "deal_pipeline_add", "deal_stage_add", "deal_task_add", "deal_task_complete",
    "deal_tasktype_add", "deal_update", "bounce", "reply", "click", "list_add", "sms_reply",
    "sms_sent", "sms_unsub",
)
SOURCES = ("public", "admin", "api", "system")
LIST_EVENTS = frozenset({"subscribe", "unsubscribe", "bounce", "open", "click", "sent",
                         "reply", "forward", "share", "update"})
OP_EVENTS = {
    "update_contact": "update", "change_email": "update", "set_field_value": "update",
    "subscribe": "subscribe", "unsubscribe": "unsubscribe", "bounce": "bounce",
    "add_tag": "contact_tag_added", "remove_tag": "contact_tag_removed",
    "email_open": "open", "email_click": "click", "email_sent": "sent",
    "email_reply": "reply", "email_forward": "forward",
}


@dataclass
class Webhook:
    id: int
    name: str
    url: str
    events: list[str]
    sources: list[str]
    listid: int
    cdate: int
    active: bool = True


@dataclass
class Settings:
    duplicate_rate: float = 0.0
    seed: int = 1
    concurrency: int = 4
    timeout_s: float = 10.0


@dataclass
class WebhookHub:
    st: ACState
    hooks: dict[int, Webhook] = field(default_factory=dict)
    next_id: int = 1
    settings: Settings = field(default_factory=Settings)
    log: list[dict[str, Any]] = field(default_factory=list)
    pending: int = 0
    _rng: random.Random = field(default_factory=lambda: random.Random(1))
    changes: int = 0  # events generated so far; each delivery logs its event's number
    _queue: asyncio.Queue[tuple[Webhook, str, str, bool, int]] | None = None

    def reset(self) -> None:
        self.hooks.clear()
        self.next_id = 1
        self.settings = Settings()
        self._rng = random.Random(self.settings.seed)
        self.log.clear()
        self.changes = 0

    # ----- rendering ----------------------------------------------------------------------
    def render(self, hook: Webhook) -> dict[str, Any]:
        return {"cdate": datetime.fromtimestamp(hook.cdate, self.st.tz).isoformat(),
                "listid": str(hook.listid), "name": hook.name, "url": hook.url,
                "events": list(hook.events), "sources": list(hook.sources), "links": [],
                "id": str(hook.id)}

    def dump_rows(self) -> list[dict[str, Any]]:
        """The registered webhooks as `GET /__sandbox/dump` lists them (`catalog.webhooks`):
        typed ids, UTC times, as the tap's `webhooks` stream emits them."""
        return [{"id": w.id, "name": w.name, "url": w.url, "events": list(w.events),
                 "sources": list(w.sources), "listid": w.listid,
                 "cdate": datetime.fromtimestamp(w.cdate, UTC).isoformat()}
                for w in self.hooks.values()]

    def _contact_fields(self, contact_id: int) -> list[tuple[str, str]]:
        s = self.st.store
        c = s.contacts.get(int(contact_id))
        if c is None:
            return [("contact[id]", str(contact_id))]
        pairs = [("contact[id]", str(c.id)), ("contact[email]", c.email),
                 ("contact[first_name]", c.first_name), ("contact[last_name]", c.last_name),
                 ("contact[phone]", c.phone), ("contact[orgname]", c.orgname or ""),
                 ("contact[tags]", ", ".join(s.tag_names_of(c.id)))]
        for fv in s.field_values_of(c.id):
            f = s.fields.get(fv.field)
            if f is not None:
                pairs.append((f"contact[fields][{f.perstag.lower()}]", fv.value))
        return pairs

    def _body(self, etype: str, op: dict[str, Any], result: dict[str, Any], now: int
              ) -> tuple[str, int]:
        source = str(op.get("source") or "admin")
        contact = op["contact"] if "contact" in op else op["id"]
        list_id = int(op.get("list") or 0)
        pairs: list[tuple[str, str]] = [
            ("type", etype),
            ("date_time", datetime.fromtimestamp(now, self.st.tz).isoformat()),
            ("initiated_by", source), ("initiated_from", source),
            ("list", str(list_id)),
        ]
        pairs += self._contact_fields(int(contact))
        if etype in ("contact_tag_added", "contact_tag_removed"):
            tag = self.st.store.find_tag(op.get("tag"))
            pairs.append(("tag", tag.tag if tag else str(op.get("tag"))))
        if etype == "unsubscribe":
            pairs.append(("unsubscribe[reason]", str(op.get("reason") or "")))
        campaign_id = op.get("campaign")
        if campaign_id is not None:
            camp = self.st.store.campaigns.get(int(campaign_id))
            pairs += [("campaign[id]", str(campaign_id)),
                      ("campaign[name]", camp.name if camp else "")]
            if op.get("message") is not None:
                pairs.append(("message[id]", str(op["message"])))
        if etype == "click":
            pairs.append(("link[url]", str(op.get("link") or "")))
        return urlencode(pairs), list_id

    # ----- delivery -----------------------------------------------------------------------
    def on_op(self, op: dict[str, Any], result: dict[str, Any], now: int) -> None:
        """Called after each applied mutate op: build the event now, deliver it later."""
        etype = OP_EVENTS.get(str(op.get("op")))
        if etype is None or not self.hooks or self._queue is None:
            return
        if etype == "contact_tag_added" and result.get("created") is False:
            return  # the contact had the tag already: nothing happened
        if etype == "contact_tag_removed" and result.get("removed") is False:
            return
        source = str(op.get("source") or "admin")
        body, list_id = self._body(etype, op, result, now)
        self.changes += 1
        for hook in self.hooks.values():
            if not hook.active or etype not in hook.events or source not in hook.sources:
                continue
            if hook.listid and etype in LIST_EVENTS and list_id and list_id != hook.listid:
                continue
            twice = self._rng.random() < self.settings.duplicate_rate
            self.pending += 2 if twice else 1
            self._queue.put_nowait((hook, body, etype, False, self.changes))
            if twice:
                self._queue.put_nowait((hook, body, etype, True, self.changes))

    async def _worker(self, session: aiohttp.ClientSession) -> None:
        assert self._queue is not None
        while True:
            hook, body, etype, duplicate, change = await self._queue.get()
            entry: dict[str, Any] = {"webhook": hook.id, "type": etype, "duplicate": duplicate,
                                     "change": change, "t": time.time(), "status": None,
                                     "error": None}
            try:
                if hook.active:
                    async with session.post(
                        hook.url, data=body.encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded",
                                 "User-Agent": "ActiveCampaign/1.0"},
                        timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s),
                    ) as resp:
                        await resp.read()
                        entry["status"] = resp.status
                        if resp.status == 410:
                            hook.active = False  # never retried, and now deactivated
                else:
                    entry["error"] = "inactive"
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                entry["error"] = type(exc).__name__  # never retried
            finally:
                entry["done"] = time.time()
                self.log.append(entry)
                self.pending -= 1
                self._queue.task_done()

    async def run(self, app: web.Application) -> AsyncIterator[None]:
        self._queue = asyncio.Queue()
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        workers = [asyncio.create_task(self._worker(session))
                   for _ in range(max(1, self.settings.concurrency))]
        app["webhook_workers"] = workers
        yield
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await session.close()


def _validate(body: Any, partial: bool = False) -> tuple[dict[str, Any] | None, list[str]]:
    hook = body.get("webhook") if isinstance(body, dict) else None
    if not isinstance(hook, dict):
        return None, ["expected {\"webhook\": {...}}"]
    errors: list[str] = []
    for key in ("name", "url", "events", "sources"):
        if not partial and not hook.get(key):
            errors.append(f"{key} is required")
    url = hook.get("url")
    if url is not None:
        parts = urlsplit(str(url))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append("url must be an http or https URL")
        elif parts.scheme == "https" and parts.port not in (None, 443):
            errors.append("for https endpoints, we only can send webhooks on port 443")
    for key, allowed in (("events", EVENTS), ("sources", SOURCES)):
        value = hook.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors.append(f"{key} must be an array of strings")
        elif unknown := sorted(set(value) - set(allowed)):
            errors.append(f"unknown {key}: {', '.join(unknown)}")
    return hook, errors


def _errors(messages: list[str]) -> web.Response:
    return json_response({"errors": [{"title": m, "detail": m, "code": "field_invalid",
                                      "source": {"pointer": "/data/attributes/webhook"}}
                                     for m in messages]}, status=422)


def add_routes(app: web.Application, hub: WebhookHub) -> None:
    app.cleanup_ctx.append(hub.run)

    async def _json(request: web.Request) -> Any:
        try:
            return orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return None

    def _lookup(request: web.Request) -> Webhook | None:
        raw = request.match_info["id"]
        return hub.hooks.get(int(raw)) if raw.isdigit() else None

    def _not_found(request: web.Request) -> web.Response:
        return json_response({"message": f"No Result found for Webhook with id "
                                         f"{request.match_info['id']}"}, status=404)

    async def create(request: web.Request) -> web.Response:
        hook, errors = _validate(await _json(request))
        if errors or hook is None:
            return _errors(errors)
        w = Webhook(id=hub.next_id, name=str(hook["name"]), url=str(hook["url"]),
                    events=list(hook["events"]), sources=list(hook["sources"]),
                    listid=int(hook.get("listid") or 0), cdate=hub.st.clock.now_int())
        hub.next_id += 1
        hub.hooks[w.id] = w
        return json_response({"webhook": hub.render(w)}, status=201)

    async def list_all(request: web.Request) -> web.Response:
        q = request.query
        rows = list(hub.hooks.values())
        for key in ("name", "url", "listid"):
            value = q.get(f"filters[{key}]")
            if value is not None:
                rows = [w for w in rows if value.lower() in str(getattr(w, key)).lower()]
        offset = int(q.get("offset", "0") or 0)
        limit = min(int(q.get("limit", "20") or 20), 100)
        page = rows[offset:offset + limit]
        return json_response({"webhooks": [hub.render(w) for w in page],
                              "meta": {"total": str(len(rows))}})

    async def get_one(request: web.Request) -> web.Response:
        w = _lookup(request)
        return json_response({"webhook": hub.render(w)}) if w else _not_found(request)

    async def update(request: web.Request) -> web.Response:
        w = _lookup(request)
        if w is None:
            return _not_found(request)
        hook, errors = _validate(await _json(request), partial=True)
        if errors or hook is None:
            return _errors(errors)
        for key in ("name", "url", "events", "sources"):
            if key in hook:
                setattr(w, key, hook[key] if isinstance(hook[key], list) else str(hook[key]))
        if "listid" in hook:
            w.listid = int(hook.get("listid") or 0)
        w.active = True  # saving a webhook re-enables it
        return json_response({"webhook": hub.render(w)})

    async def delete(request: web.Request) -> web.Response:
        w = _lookup(request)
        if w is None:
            return _not_found(request)
        del hub.hooks[w.id]
        return json_response({})

    async def events(request: web.Request) -> web.Response:
        return json_response({"webhookEvents": list(EVENTS), "meta": {"total": len(EVENTS)}})

    app.router.add_post(API + "/webhooks", create)
    app.router.add_get(API + "/webhooks", list_all)
    app.router.add_get(API + "/webhooks/{id}", get_one)
    app.router.add_put(API + "/webhooks/{id}", update)
    app.router.add_delete(API + "/webhooks/{id}", delete)
    app.router.add_get(API + "/webhook/events", events)


def add_control_routes(app: web.Application, hub: WebhookHub) -> None:
    def _view() -> dict[str, Any]:
        s = hub.settings
        return {"deliveries": hub.log, "pending": hub.pending, "changes": hub.changes,
                "webhooks": [{**hub.render(w), "active": w.active} for w in hub.hooks.values()],
                "settings": {"duplicate_rate": s.duplicate_rate, "seed": s.seed,
                             "concurrency": s.concurrency, "timeout_s": s.timeout_s}}

    async def get(request: web.Request) -> web.Response:
        return json_response(_view())

    async def post(request: web.Request) -> web.Response:
        try:
            body = orjson.loads(await request.read() or b"{}")
            s = hub.settings
            if "duplicate_rate" in body:
                s.duplicate_rate = float(body["duplicate_rate"])
            if "seed" in body:
                s.seed = int(body["seed"])
                hub._rng = random.Random(s.seed)
            if "timeout_s" in body:
                s.timeout_s = float(body["timeout_s"])
            if "concurrency" in body:
                raise ValueError("concurrency is fixed at startup")
        except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(_view())

    async def reset(request: web.Request) -> web.Response:
        hub.log.clear()
        return json_response(_view())

    app.router.add_get(f"{CONTROL_PREFIX}/webhooks", get)
    app.router.add_post(f"{CONTROL_PREFIX}/webhooks", post)
    app.router.add_post(f"{CONTROL_PREFIX}/webhooks/reset", reset)
