"""`python -m sandbox activecampaign`: flags, auth, rate limit and error bodies of the emulator.

Auth: `Api-Token` header; missing or wrong → 403 `{"message": "Forbidden"}` (never 401), checked
before the rate limit (`Service.authenticate_first`).
Rate limit: one sliding window of `--rate-limit` requests per second for the whole account
(bucket "account"), headers `RateLimit-Limit`/`RateLimit-Remaining` on every API response and
`Retry-After` on a 429.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from sandbox.activecampaign import control, routes, webhooks
from sandbox.activecampaign.catalog import dump_catalog
from sandbox.activecampaign.dump import dump_store
from sandbox.activecampaign.state import ACState
from sandbox.server import CommonConfig, Service, SlidingWindowPolicy, create_app, json_response

DEFAULT_TOKEN = "sandbox-ac-token"  # noqa: S105 (a fake, public sandbox credential)

NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--timezone", default="America/Chicago")
    parser.add_argument("--rate-limit", type=float, default=5.0,
                        help="requests per second for the account (0 = off)")
    parser.add_argument("--without-addons", action="store_true",
                        help="an account without sms, conversions, site messages, e-commerce")


def error_response(kind: str, request: web.Request) -> web.Response:
    if kind == "403":
        return json_response({"message": "Forbidden"}, status=403)
    if kind == "429":
        return json_response({"message": "Too Many Requests"}, status=429,
                             headers={"Retry-After": "1"})
    if kind == "500":
        return json_response({"message": "An unexpected error occurred"}, status=500)
    code = int(kind)
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable",
              524: "A Timeout Occurred", 425: "Too Early"}.get(code, "Error")
    return web.Response(text=NGINX_PAGE.format(code=code, reason=reason), status=code,
                        content_type="text/html")


def build_service(st: ACState, rate_limit: float) -> Service:
    def authenticate(request: web.Request) -> web.Response | None:
        if request.headers.get("Api-Token") == st.token:
            return None
        return json_response({"message": "Forbidden"}, status=403)

    def dump() -> dict[str, object]:
        meta = {
            "service": "activecampaign",
            "contacts_flag": st.contacts,
            "seed": st.seed,
            "timezone": str(st.tz),
            "clock": datetime.fromtimestamp(st.clock.now(), UTC).isoformat(),
        }
        catalog = dump_catalog(st.store)
        # /webhooks is the webhook registry (webhooks.py), not a seeded catalog resource
        catalog["catalog"]["webhooks"] = hub.dump_rows()
        return {**dump_store(st.store, meta), **catalog}

    hub = webhooks.WebhookHub(st)
    st.mutation_listeners.append(hub.on_op)

    def add_routes(app: web.Application) -> None:
        routes.add_routes(app, st)
        webhooks.add_routes(app, hub)

    def add_control_routes(app: web.Application) -> None:
        control.add_control_routes(app, st)
        webhooks.add_control_routes(app, hub)

    def reset() -> None:
        st.reset()
        hub.reset()

    return Service(
        name="activecampaign",
        base_path="",
        api_prefixes=("/api/",),
        add_routes=add_routes,
        authenticate=authenticate,
        authenticate_first=True,  # a bad token gets 403 even in a burst (sandbox README)
        bucket_for=lambda request: "account",
        rate_limit=SlidingWindowPolicy(rate_limit),
        error_response=error_response,
        reset=reset,
        dump=dump,
        add_control_routes=add_control_routes,
        fault_kinds=frozenset({"403", "429", "500", "502", "503", "empty", "truncated",
                               "reset", "reset_after", "timeout", "timeout_after"}),
        default_fault_kinds=("429", "500", "502", "503", "403", "empty", "truncated", "reset"),
    )


def build_state(contacts: int = 1000, seed: int = 42, timezone: str = "America/Chicago",
                token: str = DEFAULT_TOKEN) -> ACState:
    return ACState(contacts=contacts, seed=seed, tz=ZoneInfo(timezone), token=token)


def build_app(args: argparse.Namespace) -> web.Application:
    st = build_state(args.contacts, args.seed, args.timezone, args.token)
    st.addons = st.addons_default = not args.without_addons
    return create_app(build_service(st, args.rate_limit), CommonConfig.from_args(args))
