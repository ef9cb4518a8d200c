"""JSON serialisation of record values (sinks receive datetime and Decimal values)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import typing as t


def _default(value: t.Any) -> t.Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        if value == value.to_integral_value() and abs(value) < 2**53:
            return int(value)
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    msg = f"not JSON serialisable: {type(value).__name__}"
    raise TypeError(msg)


def dumps(value: t.Any, *, compact: bool = True) -> str:
    """Serialise to JSON, converting datetime/date/Decimal."""
    if compact:
        return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value, default=_default, ensure_ascii=False)


def to_jsonable(value: t.Any) -> t.Any:
    """Return a structure made only of JSON types."""
    return json.loads(dumps(value))
