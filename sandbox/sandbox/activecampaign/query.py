"""Paging, ordering and filtering semantics of AC collections (one place for all of them).

- `limit`: default 20, at most 100 (a larger value is clamped to 100; 0, negative or non-numeric
  → 20). `offset`: zero-based, default 0 (negative → 0).
- `orders[<field>]=ASC|DESC`: applied in query-string order; unknown fields are ignored; ties
  (and no order at all) fall back to `id` ascending, which is AC's default for contacts.
- `filters[<name>]`: resource-specific; unknown filters are ignored, as AC does.
- Date filters (`filters[created_after|created_before|updated_after|updated_before]` on contacts
  and deals): a value without an offset is read as ACCOUNT-LOCAL wall time; a date-only value is
  account-local midnight; an explicit offset (`Z`, `+02:00`) is honoured. `*_after` is `>=`,
  `*_before` is `<`. An unparseable value is a 422 (`InvalidFilter`). A row whose date is null
  matches NO date filter, `*_after` and `*_before` alike (AC documents nothing for null dates;
  a real account's filter never matched them): see :func:`date_matches`.
- `id_greater` / `id_less` (contacts): strict comparisons on the id, combined with any filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

_ORDER_RE = re.compile(r"^orders\[([^\]]+)\]$")
_FILTER_RE = re.compile(r"^filters\[([^\]]+)\](?:\[([^\]]+)\])?$")


class InvalidFilter(ValueError):
    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"invalid value {value!r} for filters[{name}]")
        self.name = name
        self.value = value


def parse_int(value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        return int(str(value).strip())
    except ValueError:
        return default


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """(limit, offset) as AC applies them."""
    limit = parse_int(query.get("limit"), DEFAULT_LIMIT)
    if limit <= 0:
        limit = DEFAULT_LIMIT
    limit = min(limit, MAX_LIMIT)
    offset = max(0, parse_int(query.get("offset"), 0))
    return limit, offset


def parse_orders(items: Iterable[tuple[str, str]]) -> list[tuple[str, bool]]:
    """[(field, descending)] in query-string order."""
    out: list[tuple[str, bool]] = []
    for key, value in items:
        m = _ORDER_RE.match(key)
        if m:
            out.append((m.group(1), str(value).strip().upper() == "DESC"))
    return out


def parse_filters(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`filters[name]` → {"name": value}; `filters[name][op]` → {"name:op": value}."""
    out: dict[str, str] = {}
    for key, value in items:
        m = _FILTER_RE.match(key)
        if m:
            name = m.group(1) if m.group(2) is None else f"{m.group(1)}:{m.group(2)}"
            out[name] = value
    return out


def parse_filter_time(name: str, value: str, tz: ZoneInfo) -> float:
    """Epoch seconds of a date filter value (see the module docstring for the rules)."""
    raw = value.strip()
    if not raw:
        raise InvalidFilter(name, value)
    try:
        if len(raw) == 10:
            d = date.fromisoformat(raw)
            return datetime.combine(d, time(0, 0), tzinfo=tz).timestamp()
        dt = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
    except ValueError:
        raise InvalidFilter(name, value) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt.timestamp()


def date_matches(value: int | None, bound: float, *, after: bool) -> bool:
    """One date filter on one row: `>= bound` (`*_after`) or `< bound` (`*_before`).

    The unkind reading of an undocumented case: a null date never matches either filter, so a
    client that relies on a date filter alone loses the rows that have none.
    """
    if value is None:
        return False
    return value >= bound if after else value < bound


SortKey = Callable[[Any], Any]


def apply_orders(rows: Sequence[Any], orders: list[tuple[str, bool]],
                 keys: Mapping[str, SortKey]) -> list[Any]:
    """Stable multi-key sort; the first `orders[...]` is the primary key; id ASC breaks ties."""
    known = [(keys[f], desc) for f, desc in orders if f in keys]
    if not known:
        return list(rows)
    out = list(rows)  # already in id order
    for key, desc in reversed(known):
        out.sort(key=key, reverse=desc)
    return out


def is_id_order(orders: list[tuple[str, bool]], keys: Mapping[str, SortKey]) -> bool:
    """True when the effective order is id ascending (no known order, or orders[id]=ASC first)."""
    known = [(f, desc) for f, desc in orders if f in keys]
    return not known or (known[0] == ("id", False))


def text_key(attr: str) -> SortKey:
    def key(rec: Any) -> Any:
        v = getattr(rec, attr)
        return (v or "").lower()

    return key


def attr_key(attr: str) -> SortKey:
    def key(rec: Any) -> Any:
        v = getattr(rec, attr)
        return (v is not None, v if v is not None else 0)

    return key


@dataclass
class Page:
    rows: list[Any]
    total: int
    limit: int
    offset: int
