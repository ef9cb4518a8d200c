"""Shared core of the sandboxes: one aiohttp app factory that every emulated service plugs into.

How a service plugs in (see `app.Service` for the full contract):

    from sandbox.server import Service, CommonConfig, create_app

    service = Service(
        name="brevo",                   # reported by GET /__sandbox/health
        base_path="/v3",                # SANDBOX_READY prints http://host:port + base_path
        api_prefixes=("/v3",),          # requests under these are API requests: rate limited,
                                        # faulted, delayed, authenticated and logged
        add_routes=my_add_routes,       # (app: web.Application) -> None, registers API routes
        authenticate=my_auth,           # (request) -> web.Response | None (None = allowed)
        bucket_for=my_bucket,           # (request) -> bucket name, for rate limits and the log
        rate_limit=my_policy,           # a RateLimitPolicy (see ratelimit.py)
        error_response=my_errors,       # (kind, request) -> web.Response for fault kinds
                                        # "403", "429", "500", "502", "503", "524", "425"
        reset=store.reset,              # POST /__sandbox/reset
        dump=store.dump,                # GET /__sandbox/dump (returns JSON-able data)
        add_control_routes=extra,       # optional: (app) -> None, extra /__sandbox/... routes
    )
    app = create_app(service, CommonConfig.from_args(args))

`__main__` adds the common CLI flags (`add_common_arguments`) and runs the app (`run_app`).
"""

from sandbox.server.app import (
    CONTROL_PREFIX,
    STATE_KEY,
    CommonConfig,
    SandboxState,
    Service,
    add_common_arguments,
    create_app,
    json_response,
    run_app,
)
from sandbox.server.clock import Clock
from sandbox.server.faults import API_FAULT_KINDS, FaultInjector
from sandbox.server.latency import Latency
from sandbox.server.ratelimit import (
    NoRateLimit,
    RateDecision,
    RateLimitPolicy,
    SlidingWindow,
    SlidingWindowPolicy,
)
from sandbox.server.requestlog import RequestLog

__all__ = [
    "API_FAULT_KINDS",
    "CONTROL_PREFIX",
    "STATE_KEY",
    "Clock",
    "CommonConfig",
    "FaultInjector",
    "Latency",
    "NoRateLimit",
    "RateDecision",
    "RateLimitPolicy",
    "RequestLog",
    "SandboxState",
    "Service",
    "SlidingWindow",
    "SlidingWindowPolicy",
    "add_common_arguments",
    "create_app",
    "json_response",
    "run_app",
]
