"""The Brevo API v3 emulator: ``python -m sandbox brevo --port PORT [--db FILE] ...``.

``add_arguments(parser)`` adds the Brevo flags (the common ones come from the core);
``build_app(args)`` builds the aiohttp app on ``sandbox.server.create_app``. `BrevoSandbox` holds
the account (store, rate limiter, import worker), the core's hooks (auth, error bodies, reset)
and the control routes; each request is validated against the OpenAPI file (``validation.py``)
before its handler in ``routes/`` (one module per resource) applies Brevo's rules
(``contacts.py``, ``imports.py``, ``attributes.py``) to the SQLite store (``store.py``).

Choices where Brevo's docs are silent are listed in sandbox/README.md (Brevo section).
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
from aiohttp import web

from sandbox.brevo import imports as imports_mod
from sandbox.brevo.errors import BrevoError
from sandbox.brevo.ratelimit import BrevoRateLimit, bucket_for_path
from sandbox.brevo.routes import ROUTES, Call, Handler
from sandbox.brevo.routes.imports import REPORT_PATH, report_handler
from sandbox.brevo.store import Store
from sandbox.brevo.validation import RequestInvalid, validate_body, validate_parameters
from sandbox.server import CommonConfig, Service, create_app, json_response
from sandbox.server.app import STATE_KEY
from sandbox.server.faults import after_status

DEFAULT_API_KEY = "xkeysib-sandbox-key"
BASE = "/v3"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Brevo flags (docs/contracts.md §2)."""
    parser.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiplies every rate limit; 0 turns them off")
    parser.add_argument("--import-delay", type=float, default=1.0,
                        help="seconds from POST /contacts/import to completed")


def _error(exc: BrevoError | RequestInvalid) -> web.Response:
    if isinstance(exc, RequestInvalid):
        return json_response({"code": exc.code, "message": exc.message}, status=400)
    return json_response(exc.body(), status=exc.status)


class BrevoSandbox:
    """State and handlers of one emulated Brevo account."""

    def __init__(self, store: Store, api_key: str, rate_scale: float, import_delay: float) -> None:
        self.store = store
        self.api_key = api_key
        self.limiter = BrevoRateLimit(rate_scale)
        self.worker = imports_mod.ImportWorker(store, import_delay)
        self.routes: list[tuple[str, str, Handler]] = [(r.method, r.template, r.handler)
                                                       for r in ROUTES]
        self.validated = {f"{r.method} {r.template}" for r in ROUTES if r.validated}

    # -- core hooks -----------------------------------------------------------------------

    def authenticate(self, request: web.Request) -> web.StreamResponse | None:
        key = request.headers.get("api-key")
        if not key:
            return json_response(
                {"message": "authentication not found in headers", "code": "unauthorized"},
                status=401,
            )
        if key != self.api_key:
            return json_response({"code": "unauthorized", "message": "Key not found"}, status=401)
        return None

    @staticmethod
    def bucket_for(request: web.Request) -> str:
        return bucket_for_path(request.path)

    @staticmethod
    def error_response(kind: str, request: web.Request) -> web.Response:
        if kind == "429":
            return json_response(
                {"code": "too_many_requests",
                 "message": "The expected rate limit is exceeded. Please retry later."},
                status=429,
            )
        if kind in ("524", "502"):
            # Cloudflare's own pages (Brevo sits behind Cloudflare): not JSON.
            title = "A timeout occurred" if kind == "524" else "Bad gateway"
            return web.Response(
                status=int(kind), content_type="text/html",
                text=f"<html><head><title>{kind}: {title}</title></head>"
                f"<body>error code: {kind}</body></html>",
            )
        if kind == "425":
            return json_response(
                {"code": "account_in_process",
                 "message": "Your account is being processed, please retry later"},
                status=425,
            )
        if kind == "403":
            return json_response(
                {"code": "permission_denied", "message": "Permission denied"}, status=403
            )
        return json_response(
            {"code": "internal_error", "message": "Internal server error"}, status=int(kind)
        )

    def reset(self) -> None:
        self.worker.forget()
        self.store.reset()

    def dump(self) -> Any:
        return self.store.dump()

    def add_control_routes(self, app: web.Application) -> None:
        async def imports_ctl(request: web.Request) -> web.Response:
            raw = await request.read()
            body = orjson.loads(raw) if raw.strip() else {}
            if "fail_next" in body:
                self.worker.fail_next = int(body["fail_next"])
            if "delay" in body:
                self.worker.delay = max(0.0, float(body["delay"]))
            if "reports" in body:
                if body["reports"] not in imports_mod.REPORT_MODES:
                    return json_response(
                        {"error": f"reports must be one of {imports_mod.REPORT_MODES}"}, status=400
                    )
                self.worker.reports = str(body["reports"])
            return json_response({"fail_next": self.worker.fail_next, "delay": self.worker.delay,
                                  "reports": self.worker.reports})

        app.router.add_post("/__sandbox/imports", imports_ctl)

        async def unsubscribe_ctl(request: web.Request) -> web.Response:
            """A recipient unsubscribes from a list, as through a campaign's link: removed
            from the list, listed in its ``listUnsubscribed``, ``modifiedAt`` moves."""
            raw = await request.read()
            try:
                body = orjson.loads(raw) if raw.strip() else {}
                list_id = int(body["listId"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                return json_response(
                    {"error": 'expected {"email"|"ext_id": ..., "listId": n}'}, status=400
                )
            if "email" in body:
                contact = self.store.contact_by("email", str(body["email"]).lower())
            elif "ext_id" in body:
                contact = self.store.contact_by("ext_id", str(body["ext_id"]))
            else:
                return json_response({"error": "email or ext_id is required"}, status=400)
            if contact is None:
                return json_response({"error": "contact not found"}, status=404)
            if self.store.list_info(list_id) is None:
                return json_response({"error": "list not found"}, status=404)
            with self.store.transaction():
                stamp = self.store.now()
                self.store.unsubscribe(list_id, contact.id, stamp)
                self.store.touch_contacts([contact.id], stamp)
            updated = self.store.contact_by("id", contact.id)
            return json_response(updated.to_api() if updated else {})

        app.router.add_post("/__sandbox/unsubscribe", unsubscribe_ctl)

    def add_routes(self, app: web.Application) -> None:
        for method, template, handler in self.routes:
            app.router.add_route(method, BASE + template, self._wrap(method, template, handler))

        app.router.add_get(REPORT_PATH, report_handler(self))

        async def on_startup(app: web.Application) -> None:
            self.worker.resume_pending()

        async def on_cleanup(app: web.Application) -> None:
            await self.worker.stop()
            self.store.close()

        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)

    # -- plumbing -------------------------------------------------------------------------

    def _wrap(self, method: str, template: str, handler: Handler) -> Any:
        op_key = f"{method} {template}"

        async def run(request: web.Request) -> web.StreamResponse:
            # a post-handler status fault picked for this request (read before any await)
            state = request.app.get(STATE_KEY)
            fail_after = after_status(state.faults.last_picked) if state is not None else None
            resp = await handle(request)
            if fail_after is not None:
                return self.error_response(fail_after, request)  # processed, then a 5xx
            return resp

        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                query = {k: request.query.getall(k) for k in request.query}
                params = (
                    validate_parameters(op_key, query, dict(request.match_info))
                    if op_key in self.validated else {}
                )
                raw = await request.read() if request.can_read_body else b""
                body: Any = None
                if raw.strip():
                    try:
                        body = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise BrevoError(
                            400, "bad_request", "Input must be a valid JSON object"
                        ) from None
                if op_key in self.validated:
                    validate_body(op_key, body)
                return await handler(self, Call(request, params, body, len(raw)))
            except (BrevoError, RequestInvalid) as exc:
                return _error(exc)

        return run


def make_sandbox(args: argparse.Namespace) -> BrevoSandbox:
    return BrevoSandbox(
        Store(getattr(args, "db", None)),
        api_key=getattr(args, "api_key", DEFAULT_API_KEY) or DEFAULT_API_KEY,
        rate_scale=float(getattr(args, "rate_scale", 1.0)),
        import_delay=float(getattr(args, "import_delay", 1.0)),
    )


def build_app(args: argparse.Namespace) -> web.Application:
    """The Brevo app for the parsed CLI flags (called by ``python -m sandbox brevo``)."""
    sb = make_sandbox(args)
    service = Service(
        name="brevo",
        add_routes=sb.add_routes,
        base_path=BASE,
        api_prefixes=(BASE + "/",),
        authenticate=sb.authenticate,
        bucket_for=sb.bucket_for,
        rate_limit=sb.limiter,
        error_response=sb.error_response,
        reset=sb.reset,
        dump=sb.dump,
        add_control_routes=sb.add_control_routes,
        default_fault_kinds=("429", "500", "502", "503", "524", "reset"),
        extra={"brevo": sb},
    )
    return create_app(service, CommonConfig.from_args(args))
