"""What the AC route modules share: the API prefix and base URL, the 422 for a bad filter
value, and the builders of `filters[...]` predicates the collections are declared with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.activecampaign.query import InvalidFilter, date_matches, parse_filter_time, parse_int
from sandbox.activecampaign.state import ACState
from sandbox.server import json_response

API = "/api/3"
Predicate = Callable[[Any], bool]
FilterBuilder = Callable[[str, str, ACState], Predicate]


def api_base(request: web.Request) -> str:
    """The account API URL as the client reached it (links in payloads point there)."""
    return f"{request.scheme}://{request.host}{API}"


def invalid_filter(exc: InvalidFilter) -> web.Response:
    return json_response({"errors": [{
        "title": "The filter value is invalid",
        "detail": str(exc),
        "code": "field_invalid",
        "source": {"pointer": f"/filters/{exc.name}"},
    }]}, status=422)


# ----- filter builders ------------------------------------------------------------------------
def eq_int(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        want = parse_int(value, -(10**9))
        return lambda r: getattr(r, attr) == want

    return build


def contains(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        needle = value.lower()
        return lambda r: needle in (getattr(r, attr) or "").lower()

    return build


def eq_text(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        return lambda r: getattr(r, attr) == value

    return build


def time_after(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        t = parse_filter_time(name, value, st.tz)
        return lambda r: date_matches(getattr(r, attr), t, after=True)

    return build


def time_before(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        t = parse_filter_time(name, value, st.tz)
        return lambda r: date_matches(getattr(r, attr), t, after=False)

    return build
