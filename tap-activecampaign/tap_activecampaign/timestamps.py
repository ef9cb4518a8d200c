"""The account clock: every ActiveCampaign time value turned into a UTC ISO-8601 string.

ActiveCampaign writes times in the account's own time zone:

- offset-aware ISO-8601 (``cdate``, ``udate``, ``mdate``: ``2026-03-08T07:30:00-06:00``) are exact
  and only converted to UTC;
- naive ``YYYY-MM-DD HH:MM:SS`` values (``*_timestamp``, ``*_utc_timestamp``, ``edate``) carry
  the same wall-clock time as the offset-aware ones, so they are read in the account time zone
  (DST aware with an IANA zone), then converted to UTC;
- zero-date sentinels (``0000-00-00``, ``0000-00-00 00:00:00``) and empty strings become null.

Every output uses one format, ``YYYY-MM-DDTHH:MM:SS+00:00``, so that bookmarks compared as
strings (as the SDK does) compare in time order.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC

_ZERO_DATE = re.compile(r"^0000-00-00")
_NAIVE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def parse_timezone(name: str) -> dt.tzinfo:
    """An IANA zone name (``America/Chicago``), ``UTC``, or a fixed offset (``-05:00``)."""
    text = name.strip()
    if text.upper() in {"UTC", "Z", "GMT"}:
        return UTC
    match = _OFFSET.match(text)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return dt.timezone(sign * delta)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"unknown time zone {name!r}: use an IANA name such as America/Chicago"
        raise ValueError(msg) from exc


def format_utc(value: dt.datetime) -> str:
    """The one output format: UTC, whole seconds, ``+00:00``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def is_zero_or_empty(value: object) -> bool:
    """True for null, empty strings and AC's zero-date sentinels."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or bool(_ZERO_DATE.match(text))
    return False


def is_offset_aware(value: str) -> bool:
    """True if an ISO-8601 string carries its own offset (``Z`` or ``±HH:MM``)."""
    text = value.strip()
    return text.endswith(("Z", "z")) or bool(re.search(r"[+-]\d{2}:?\d{2}$", text[10:]))


class AccountClock:
    """Converts AC times to UTC, reading naive values in the account time zone."""

    def __init__(self, tz: dt.tzinfo | None = None) -> None:
        self._tz = tz

    @property
    def tz(self) -> dt.tzinfo:
        """The account time zone (UTC until one is known)."""
        return self._tz or UTC

    @property
    def is_known(self) -> bool:
        """Whether a time zone was configured or inferred."""
        return self._tz is not None

    def set_timezone(self, tz: dt.tzinfo) -> None:
        """Fix the account time zone (configured or inferred)."""
        self._tz = tz

    def parse(self, value: object) -> dt.datetime | None:
        """Any AC time value as an aware UTC datetime, or None for null/zero/empty."""
        if isinstance(value, dt.datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=self.tz)
            return aware.astimezone(UTC)
        if is_zero_or_empty(value):
            return None
        if not isinstance(value, str):
            msg = f"not a time value: {value!r}"
            raise ValueError(msg)
        text = value.strip()
        if _DATE_ONLY.match(text):
            naive = dt.datetime.fromisoformat(text)
            return naive.replace(tzinfo=self.tz).astimezone(UTC)
        if _NAIVE.match(text):
            naive = dt.datetime.fromisoformat(text.replace(" ", "T"))
            # fold=0: an ambiguous wall-clock time (the repeated hour when DST ends) is read
            # as its first occurrence.
            return naive.replace(tzinfo=self.tz).astimezone(UTC)
        parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
        if parsed.tzinfo is None:  # pragma: no cover - covered by _NAIVE above
            parsed = parsed.replace(tzinfo=self.tz)
        return parsed.astimezone(UTC)

    def to_utc_iso(self, value: object) -> str | None:
        """Any AC time value as ``YYYY-MM-DDTHH:MM:SS+00:00``, or None."""
        parsed = self.parse(value)
        return None if parsed is None else format_utc(parsed)

    def to_date(self, value: object) -> str | None:
        """A date-only value (``bounced_date``) as ``YYYY-MM-DD``, or None for sentinels."""
        if is_zero_or_empty(value):
            return None
        text = str(value).strip()
        if _DATE_ONLY.match(text):
            return text
        parsed = self.parse(text)
        return None if parsed is None else parsed.astimezone(self.tz).date().isoformat()


def offset_of(value: str) -> dt.timedelta | None:
    """The UTC offset an offset-aware AC timestamp carries, or None."""
    if is_zero_or_empty(value) or not is_offset_aware(value):
        return None
    parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
    return parsed.utcoffset()
