"""ActiveCampaign-only control routes (contracts §2):

- `POST /__sandbox/mutate` `{"ops": [...]}`: applied in order, stamped with the sandbox clock;
  answers `{"results": [...]}`; a failing op stops the batch with 400
  `{"error", "op_index", "results"}` (the ops before it stay applied).
- `POST /__sandbox/clock` `{"advance_seconds": 3600}` or `{"set": "2026-03-08T07:30:00Z"}`;
  `GET /__sandbox/clock`. Answers `{"now": <UTC ISO>, "epoch": <float>}`.
- `POST /__sandbox/quirks` `{"stale_total": true, "udate_on_child_change": false}` (either key),
  `GET /__sandbox/quirks`; both answer the current quirks. `stale_total`: `GET /contacts`
  reports half the real `meta.total` (a count lagging behind the data). `udate_on_child_change`
  (default true): memberships, tags and field values changed by `/__sandbox/mutate` move the
  contact's `udate`; false leaves it alone. `POST /__sandbox/reset` restores the defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from sandbox.activecampaign.state import ACState
from sandbox.activecampaign.store import MutationError
from sandbox.server import CONTROL_PREFIX, json_response


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(reason=f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="expected a JSON object")
    return body


def _clock_body(st: ACState) -> dict[str, Any]:
    now = st.clock.now()
    return {"now": datetime.fromtimestamp(now, UTC).isoformat(), "epoch": now}


def add_control_routes(app: web.Application, st: ACState) -> None:
    async def mutate(request: web.Request) -> web.Response:
        body = await _body(request)
        ops = body.get("ops")
        if not isinstance(ops, list):
            return json_response({"error": "expected {\"ops\": [...]}"}, status=400)
        results: list[dict[str, Any]] = []
        for i, op in enumerate(ops):
            if not isinstance(op, dict):
                return json_response({"error": "an op must be an object", "op_index": i,
                                      "results": results}, status=400)
            now = st.clock.now_int()
            try:
                results.append(st.store.apply_op(op, now))
            except (MutationError, ValueError, TypeError) as exc:
                return json_response({"error": str(exc), "op_index": i, "results": results},
                                     status=400)
            for listener in st.mutation_listeners:
                listener(op, results[-1], now)
        return json_response({"results": results})

    async def clock_post(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            if "advance_seconds" in body:
                st.clock.advance(float(body["advance_seconds"]))
            if "set" in body:
                when = datetime.fromisoformat(str(body["set"]))
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                st.clock.set(when.timestamp())
        except (TypeError, ValueError) as exc:
            return json_response({"error": str(exc)}, status=400)
        return json_response(_clock_body(st))

    async def clock_get(request: web.Request) -> web.Response:
        return json_response(_clock_body(st))

    def _quirks_body() -> dict[str, Any]:
        return {"stale_total": st.stale_total,
                "udate_on_child_change": st.store.udate_on_child_change}

    async def quirks_post(request: web.Request) -> web.Response:
        body = await _body(request)
        unknown = set(body) - {"stale_total", "udate_on_child_change"}
        if unknown or not all(isinstance(v, bool) for v in body.values()):
            return json_response({"error": "expected booleans stale_total and/or "
                                           "udate_on_child_change"}, status=400)
        if "stale_total" in body:
            st.stale_total = body["stale_total"]
        if "udate_on_child_change" in body:
            st.store.udate_on_child_change = body["udate_on_child_change"]
        return json_response(_quirks_body())

    async def quirks_get(request: web.Request) -> web.Response:
        return json_response(_quirks_body())

    async def addons_post(request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body.get("available"), bool):
            return json_response({"error": "expected {\"available\": true|false}"}, status=400)
        st.addons = body["available"]
        return json_response({"available": st.addons})

    app.router.add_post(f"{CONTROL_PREFIX}/addons", addons_post)
    app.router.add_post(f"{CONTROL_PREFIX}/quirks", quirks_post)
    app.router.add_get(f"{CONTROL_PREFIX}/quirks", quirks_get)
    app.router.add_post(f"{CONTROL_PREFIX}/mutate", mutate)
    app.router.add_post(f"{CONTROL_PREFIX}/clock", clock_post)
    app.router.add_get(f"{CONTROL_PREFIX}/clock", clock_get)
