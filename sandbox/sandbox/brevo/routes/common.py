"""What every Brevo route module shares: the validated `Call`, the `Route` it is declared as,
and the small answers (204, date parameters, paging) the handlers all give the same way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

from sandbox.brevo.errors import invalid
from sandbox.brevo.store import parse_time

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox


@dataclass
class Call:
    """One validated API call."""

    request: web.Request
    params: dict[str, Any]
    body: Any
    raw_size: int


Handler = Callable[["BrevoSandbox", Call], Awaitable[web.StreamResponse]]


class Route(NamedTuple):
    """`method template` (under /v3) → handler; `validated`: checked against the OpenAPI file."""

    method: str
    template: str
    handler: Handler
    validated: bool = True


def routes(handler: Handler, template: str, *methods: str) -> list[Route]:
    """One handler serving `template` under several methods."""
    return [Route(m, template, handler) for m in methods]


def no_content(status: int = 204) -> web.Response:
    return web.Response(status=status)


def paging(call: Call, default_limit: int) -> tuple[int, int, str]:
    """`limit`, `offset` and `sort` as Brevo defaults them on every listing."""
    p = call.params
    return p.get("limit", default_limit), p.get("offset", 0), p.get("sort", "desc")


def since(call: Call, name: str) -> str | None:
    """A `modifiedSince`/`createdSince` parameter, normalised; Brevo's 400 when malformed."""
    raw = call.params.get(name)
    if raw is None:
        return None
    stamp = parse_time(raw)
    if stamp is None:
        raise invalid(f"{name} should be a date-time like YYYY-MM-DDTHH:mm:ss.SSSZ")
    return stamp
