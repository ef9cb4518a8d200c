"""From AC's payload to the record we emit: snake_case names, typed values, UTC times.

AC sends almost every scalar as a string (ids, counters, flags). Each value is converted to
the type its stream schema declares; date-times go through the account clock; ``links`` and
fields the schema does not know are dropped.
"""

from __future__ import annotations

import logging
import re
import typing as t
from decimal import Decimal, InvalidOperation

from tap_activecampaign.timestamps import AccountClock

LOGGER = logging.getLogger("tap_activecampaign")

_CAMEL_BOUNDARY = re.compile(r"(?<=[^\-_])(?=[A-Z])")
_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}


def decamelize(name: str) -> str:
    """``firstName`` -> ``first_name``, ``ip4Sub`` -> ``ip4_sub`` (as humps.decamelize)."""
    if name.isupper():
        return name.lower()
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _types(prop: t.Mapping[str, t.Any]) -> set[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    found: set[str] = set()
    for option in prop.get("anyOf", []):
        found |= _types(option)
    return found


def to_int(value: object) -> int | None:
    """AC's string integers; None for empty or non-numeric values."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        return int(value) if value == int(value) else None
    text = str(value).strip()
    if _INT.match(text):
        return int(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return int(number) if number == number.to_integral_value() else None


def to_bool(value: object) -> bool | None:
    """``"1"``/``"0"``, ``"true"``/``"false"``, 1/0 and booleans."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def to_number(value: object) -> Decimal | None:
    """Decimal numbers (exact: ``"1872151.50"`` stays exact)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return Decimal(int(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class RecordNormalizer:
    """Converts one AC object into a record of a given stream schema."""

    def __init__(
        self,
        schema: t.Mapping[str, t.Any],
        clock: AccountClock,
        stream: str,
        aliases: t.Mapping[str, str] | None = None,
        copies: t.Mapping[str, str] | None = None,
    ) -> None:
        self._properties: t.Mapping[str, t.Any] = schema.get("properties", {})
        #: {extra name: field}: the field emitted a second time (singer-io's spelling)
        self._copies = dict(copies or {})
        self._aliases = dict(aliases or {})
        self._clock = clock
        self._stream = stream
        self._unknown_logged: set[str] = set()

    def __call__(self, raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        """The typed record for ``raw``."""
        record: dict[str, t.Any] = {}
        for key, value in raw.items():
            if key == "links":
                continue
            name = decamelize(key)
            name = self._aliases.get(name, name)
            prop = self._properties.get(name)
            if prop is None:
                if name not in self._unknown_logged:
                    self._unknown_logged.add(name)
                    LOGGER.debug("%s: field %r is not in the schema, dropped", self._stream, name)
                continue
            record[name] = self.convert(prop, value)
        for extra, source in self._copies.items():
            if source in record:
                record[extra] = record[source]
        return record

    def convert(self, prop: t.Mapping[str, t.Any], value: object) -> object:
        """One value converted to the schema type of ``prop``."""
        types = _types(prop)
        fmt = prop.get("format")
        if value is None:
            return None
        if "array" in types:
            if not isinstance(value, list):
                return None
            items = prop.get("items", {})
            return [self.convert(items, item) for item in value]
        if "object" in types:
            if not isinstance(value, dict):
                return None
            nested = prop.get("properties")
            if not isinstance(nested, dict) or not nested:
                return value
            # an object with a declared shape is typed like a record (snake_case, AC strings
            # converted); keys it does not declare are dropped
            out: dict[str, object] = {}
            for key, item in value.items():
                name = decamelize(str(key))
                if name in nested:
                    out[name] = self.convert(nested[name], item)
            return out
        if "integer" in types:
            number = to_int(value)
            if number is None and "string" in types and value != "":
                return str(value)  # ["integer", "string"]: an integer when it is one
            return number
        if "number" in types:
            return to_number(value)
        if "boolean" in types:
            return to_bool(value)
        if fmt in {"date-time", "date"}:
            try:
                if fmt == "date":
                    return self._clock.to_date(value)
                return self._clock.to_utc_iso(value)
            except ValueError:
                LOGGER.warning("%s: unreadable time value dropped", self._stream)
                return None
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            return None
        return str(value)
