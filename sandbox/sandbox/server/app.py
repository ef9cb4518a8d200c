"""The app factory shared by every sandbox: `create_app(service, config)`.

Request pipeline for API requests (paths under `Service.api_prefixes`), in this order:

0. with `Service.authenticate_first` (ActiveCampaign): auth first; a denied request gets the
   latency and its denial (with the rate-limit headers as they stand), consumes no capacity,
   picks no fault and skips steps 1-6;
1. rate limit: `service.rate_limit.check(service.bucket_for(request), now)`; over the limit the
   answer is `service.error_response("429", request)` plus the decision's headers;
2. latency (`Latency`, fixed + seeded jitter);
3. fault picked by `FaultInjector` (status faults use `service.error_response(kind, request)`);
4. auth: `service.authenticate(request)` returns a denial response or None (unless done in 0);
5. the service's handler (registered by `service.add_routes(app)`); a request no route serves
   (no path match, or not that method) is *unimplemented*: instead of the router's bare 404/405
   it gets 404 `{"message": "unimplemented: GET /api/3/foo ..."}` with the header
   `X-Sandbox-Unimplemented: true`, a warning `unimplemented: GET /api/3/foo` on stderr and
   `"unimplemented": true` in its request-log entry, so a missing emulator route never passes
   for a missing object (a handler's own 404);
6. post-handler faults (`empty`, `truncated`, `reset_after`, `timeout_after`);
7. the rate-limit decision's headers are added to whatever response goes out, and the request is
   recorded in the `RequestLog`.

Requests under `/__sandbox/` skip all of that (no auth, no limits, no faults, no log). The common
control routes are registered here; a service adds its own with `service.add_control_routes(app)`
and reaches the shared state through `request.app[STATE_KEY]` (a `SandboxState`).

Handlers should build JSON with `json_response()` (orjson). Raising `web.HTTPException` works too:
it is turned into `{"message": reason}` JSON with that status.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sandbox.server.faults import (
    API_FAULT_KINDS,
    STATUS_FAULTS,
    FaultConfigError,
    FaultInjector,
)
from sandbox.server.latency import Latency
from sandbox.server.ratelimit import NoRateLimit, RateLimitPolicy
from sandbox.server.requestlog import LogEntry, RequestLog

CONTROL_PREFIX = "/__sandbox"
JSON_TYPE = "application/json"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("sandbox")


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response serialised with orjson."""
    return web.Response(
        body=orjson.dumps(data), status=status, headers=headers, content_type=JSON_TYPE
    )


def _default_error_response(kind: str, request: web.Request) -> web.Response:
    status = int(kind)
    return json_response({"message": f"HTTP {status}"}, status=status)


def _no_auth(request: web.Request) -> web.StreamResponse | None:
    return None


def _one_bucket(request: web.Request) -> str:
    return "default"


def _nothing() -> None:
    return None


def _empty_dump() -> Any:
    return {}


@dataclass
class Service:
    """What a sandboxed service plugs into the core. Only `name` and `add_routes` are required."""

    name: str
    add_routes: Callable[[web.Application], None]
    base_path: str = ""
    api_prefixes: tuple[str, ...] = ("/",)
    authenticate: Callable[[web.Request], web.StreamResponse | None] = _no_auth
    bucket_for: Callable[[web.Request], str] = _one_bucket
    rate_limit: RateLimitPolicy = field(default_factory=NoRateLimit)
    error_response: Callable[[str, web.Request], web.Response] = _default_error_response
    reset: Callable[[], None] = _nothing
    dump: Callable[[], Any] = _empty_dump
    add_control_routes: Callable[[web.Application], None] | None = None
    # authenticate before the rate limit: a bad credential is refused whatever the load, and
    # (never attributed to the account) consumes none of its capacity
    authenticate_first: bool = False
    fault_kinds: frozenset[str] = API_FAULT_KINDS
    default_fault_kinds: tuple[str, ...] = (
        "429", "500", "502", "503", "empty", "truncated", "reset",
    )
    # free for the service's own use
    extra: dict[str, Any] = field(default_factory=dict)

    def is_api(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.api_prefixes)


@dataclass
class CommonConfig:
    """The flags every sandbox accepts (see `add_common_arguments`)."""

    host: str = "127.0.0.1"
    port: int = 0
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    fault_rate: float = 0.0
    faults: list[str] = field(default_factory=list)
    fault_seed: int = 1

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CommonConfig:
        faults = getattr(args, "faults", None) or ""
        return cls(
            host=getattr(args, "host", "127.0.0.1"),
            port=int(getattr(args, "port", 0)),
            latency_ms=float(getattr(args, "latency_ms", 0.0) or 0.0),
            jitter_ms=float(getattr(args, "jitter_ms", 0.0) or 0.0),
            fault_rate=float(getattr(args, "fault_rate", 0.0) or 0.0),
            faults=[f.strip() for f in faults.split(",") if f.strip()],
            fault_seed=int(getattr(args, "fault_seed", 1)),
        )


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--jitter-ms", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default="", help="comma-separated fault kinds")
    parser.add_argument("--fault-seed", type=int, default=1)


@dataclass
class SandboxState:
    """Everything the core keeps per app; `request.app[STATE_KEY]`."""

    service: Service
    config: CommonConfig
    faults: FaultInjector
    latency: Latency
    log: RequestLog


STATE_KEY: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)


def _route_template(request: web.Request) -> str:
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None) if route is not None else None
    canonical = getattr(resource, "canonical", None) if resource is not None else None
    if isinstance(canonical, str) and canonical and getattr(info, "http_exception", None) is None:
        return canonical
    return request.path


UNIMPLEMENTED_HEADER = "X-Sandbox-Unimplemented"


def _is_unimplemented(request: web.Request) -> bool:
    """No route of the service serves this request: the router found no path, or not for this
    method (its match is an error carrying a 404 or 405)."""
    exc = getattr(request.match_info, "http_exception", None)
    return isinstance(exc, (web.HTTPNotFound, web.HTTPMethodNotAllowed))


def _unimplemented_response(request: web.Request) -> web.Response:
    what = f"{request.method} {request.path}"
    resp = json_response(
        {"message": f"unimplemented: {what} is not served by this sandbox (the real API may "
                    "serve it; see GET /__sandbox/requests, key \"unimplemented\")"},
        status=404,
    )
    resp.headers[UNIMPLEMENTED_HEADER] = "true"
    return resp


def _apply_headers(resp: web.StreamResponse, headers: dict[str, str]) -> None:
    for k, v in headers.items():
        resp.headers[k] = v


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


class _Aborted(Exception):
    """Raised after the connection was closed on purpose; the protocol drops it quietly."""


async def _send_truncated(request: web.Request, resp: web.Response) -> web.StreamResponse:
    body = resp.body if isinstance(resp.body, bytes) else b""
    out = web.StreamResponse(status=resp.status)
    for k, v in resp.headers.items():
        if k.lower() not in ("content-length", "transfer-encoding"):
            out.headers[k] = v
    out.content_length = len(body)
    await out.prepare(request)
    await out.write(body[: len(body) // 2])
    transport = request.transport
    if transport is not None:
        transport.close()
    return out


def _http_exception_response(exc: web.HTTPException) -> web.Response:
    resp = json_response({"message": exc.reason}, status=exc.status)
    for k, v in exc.headers.items():
        if k.lower() not in ("content-type", "content-length"):
            resp.headers[k] = v
    return resp


def _make_middleware(state: SandboxState) -> Any:
    service = state.service

    @web.middleware
    async def sandbox_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(CONTROL_PREFIX) or not service.is_api(path):
            try:
                return await handler(request)
            except web.HTTPException as exc:
                return _http_exception_response(exc)

        now = time.time()
        bucket = service.bucket_for(request)
        logged = False
        status: int | str = 0
        fault: str | None = None
        unimplemented = _is_unimplemented(request)
        if unimplemented:
            log.warning("unimplemented: %s %s", request.method, path)

        def record(st: int | str) -> None:
            nonlocal logged
            if logged:
                return
            logged = True
            state.log.record(
                LogEntry(
                    t=now,
                    method=request.method,
                    path=path,
                    route=_route_template(request),
                    query=request.query_string,
                    status=st,
                    bucket=bucket,
                    fault=fault,
                    unimplemented=unimplemented,
                )
            )

        resp: web.StreamResponse
        if service.authenticate_first:
            denied_first = service.authenticate(request)
            if denied_first is not None:
                try:
                    delay = state.latency.next_delay()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    _apply_headers(denied_first, service.rate_limit.peek_headers(bucket, now))
                    status = denied_first.status
                    return denied_first
                finally:
                    record(status)

        decision = service.rate_limit.check(bucket, now)
        try:
            if not decision.allowed:
                resp = service.error_response("429", request)
                _apply_headers(resp, decision.headers)
                status = resp.status
                return resp

            delay = state.latency.next_delay()
            if delay > 0:
                await asyncio.sleep(delay)

            fault = state.faults.pick(path)
            if fault in STATUS_FAULTS:
                err = service.error_response(fault, request)
                if fault == "429":
                    _apply_headers(err, service.rate_limit.peek_headers(bucket, now))
                    err.headers.setdefault("Retry-After", "1")
                else:
                    _apply_headers(err, decision.headers)
                status = err.status
                return err
            if fault == "reset":
                status = "reset"
                record(status)
                _abort(request)
                raise _Aborted
            if fault == "timeout":
                # nothing happens for timeout_s; a client that gave up meanwhile leaves no trace
                # (the handler never runs), one that is still waiting gets a late response
                status = "timeout"
                record(status)
                await asyncio.sleep(state.faults.timeout_s)
                transport = request.transport
                if transport is None or transport.is_closing():
                    raise _Aborted

            denied = None if service.authenticate_first else service.authenticate(request)
            if denied is not None:
                resp = denied
            elif unimplemented:
                resp = _unimplemented_response(request)
            else:
                try:
                    resp = await handler(request)
                except web.HTTPException as exc:
                    resp = _http_exception_response(exc)
                except Exception:  # a sandbox bug: say so loudly, answer a plain 500
                    log.exception("sandbox handler failed: %s %s", request.method, path)
                    resp = json_response({"message": "sandbox handler error"}, status=500)
            _apply_headers(resp, decision.headers)
            status = resp.status

            if fault == "reset_after":
                status = "reset_after"
                record(status)
                _abort(request)
                raise _Aborted
            if fault == "timeout_after":
                record(status)
                await asyncio.sleep(state.faults.timeout_s)
                return resp
            if fault == "empty" and isinstance(resp, web.Response):
                empty = web.Response(status=resp.status, body=b"", content_type=JSON_TYPE)
                for k, v in resp.headers.items():
                    if k.lower() not in ("content-type", "content-length"):
                        empty.headers[k] = v
                return empty
            if fault == "truncated" and isinstance(resp, web.Response):
                record(status)
                return await _send_truncated(request, resp)
            return resp
        finally:
            record(status)

    return sandbox_middleware


async def _configure(
    request: web.Request,
    configure: Callable[[dict[str, Any]], Mapping[str, Any]],
    *errors: type[Exception],
) -> web.Response:
    """Apply a control-surface JSON body; a body the setting refuses is a 400 saying why."""
    refused: tuple[type[Exception], ...] = (ValueError, TypeError, *errors)
    body = await _read_json(request)
    try:
        return json_response(configure(body))
    except refused as exc:
        return json_response({"error": str(exc)}, status=400)


async def _read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise web.HTTPBadRequest(reason=f"invalid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="expected a JSON object")
    return body


def _add_common_control_routes(app: web.Application, state: SandboxState) -> None:
    service = state.service

    async def health(request: web.Request) -> web.Response:
        return json_response({"ok": True, "service": service.name})

    async def requests_get(request: web.Request) -> web.Response:
        include = request.query.get("log", "1") not in ("0", "false", "no")
        return json_response(state.log.as_dict(include_log=include))

    async def requests_reset(request: web.Request) -> web.Response:
        state.log.reset()
        return json_response({"ok": True})

    async def faults_post(request: web.Request) -> web.Response:
        return await _configure(request, state.faults.configure, FaultConfigError)

    async def faults_get(request: web.Request) -> web.Response:
        return json_response(state.faults.as_dict())

    async def faults_delete(request: web.Request) -> web.Response:
        state.faults.clear()
        return json_response(state.faults.as_dict())

    async def latency_post(request: web.Request) -> web.Response:
        return await _configure(request, state.latency.configure)

    async def latency_get(request: web.Request) -> web.Response:
        return json_response(state.latency.as_dict())

    async def ratelimit_post(request: web.Request) -> web.Response:
        return await _configure(request, service.rate_limit.configure, KeyError)

    async def ratelimit_get(request: web.Request) -> web.Response:
        return json_response(service.rate_limit.as_dict())

    async def reset(request: web.Request) -> web.Response:
        service.reset()
        return json_response({"ok": True})

    async def dump(request: web.Request) -> web.Response:
        return json_response(service.dump())

    p = CONTROL_PREFIX
    app.router.add_get(f"{p}/health", health)
    app.router.add_get(f"{p}/requests", requests_get)
    app.router.add_post(f"{p}/requests/reset", requests_reset)
    app.router.add_post(f"{p}/faults", faults_post)
    app.router.add_get(f"{p}/faults", faults_get)
    app.router.add_delete(f"{p}/faults", faults_delete)
    app.router.add_post(f"{p}/latency", latency_post)
    app.router.add_get(f"{p}/latency", latency_get)
    app.router.add_post(f"{p}/ratelimit", ratelimit_post)
    app.router.add_get(f"{p}/ratelimit", ratelimit_get)
    app.router.add_post(f"{p}/reset", reset)
    app.router.add_get(f"{p}/dump", dump)


def create_app(service: Service, config: CommonConfig | None = None) -> web.Application:
    """Build the aiohttp application for `service` (routes, control surface, middleware)."""
    config = config or CommonConfig()
    faults = FaultInjector(
        allowed_kinds=service.fault_kinds,
        default_kinds=service.default_fault_kinds,
        rate=config.fault_rate,
        kinds=config.faults or None,
        seed=config.fault_seed,
    )
    state = SandboxState(
        service=service,
        config=config,
        faults=faults,
        latency=Latency(config.latency_ms, config.jitter_ms, seed=config.fault_seed),
        log=RequestLog(),
    )
    app = web.Application(middlewares=[_make_middleware(state)], client_max_size=64 * 1024**2)
    app[STATE_KEY] = state
    _add_common_control_routes(app, state)
    if service.add_control_routes is not None:
        service.add_control_routes(app)
    service.add_routes(app)
    return app


class _QuietAborts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (_Aborted, ConnectionResetError)):
            return False
        msg = record.getMessage()
        return "_Aborted" not in msg


async def _serve(app: web.Application, host: str, port: int, out: Any) -> None:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port, shutdown_timeout=0.5)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound_port = sockets[0].getsockname()[1] if sockets else port
    service = app[STATE_KEY].service
    out.write(f"SANDBOX_READY http://{host}:{bound_port}{service.base_path}\n")
    out.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def run_app(app: web.Application, host: str, port: int, out: Any = None) -> None:
    """Serve until SIGTERM/SIGINT; the first stdout line is `SANDBOX_READY <base_url>`."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    quiet = _QuietAborts()
    for name in ("aiohttp.server", "aiohttp.web", "asyncio"):
        logging.getLogger(name).addFilter(quiet)
    asyncio.run(_serve(app, host, port, out or sys.stdout))
