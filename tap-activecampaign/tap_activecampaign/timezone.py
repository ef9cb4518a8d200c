"""Inferring the account time zone when ``account_timezone`` is not set.

ActiveCampaign has no documented endpoint for the account time zone (Settings -> Account).
When the setting is unset, the tap looks, in order, at:

1. ``GET /users/me``: a zone name in the user object (``localZoneid``), if AC sends one, but
   only if it agrees with the offsets of the sampled dates (2.): it is the API user's personal
   setting, not necessarily the account's;
2. the offsets of offset-aware dates (``cdate``/``udate`` of the user and of one page of
   contacts, ``GET /contacts?limit=100``): AC writes them in the account zone, with the offset
   of their own date, so a sample spanning both sides of a DST change pins the zone down. The
   tap keeps the IANA zones whose offset matches every sample (preferring common zones) and
   uses the first; with only one offset seen it uses that fixed offset (no DST rules);
3. UTC.

Whatever it picks is logged as a warning: set ``account_timezone`` to be exact. Only naive
``*_timestamp`` values depend on it; offset-aware dates (cdate, udate, mdate: the replication
keys of most streams) are exact whatever the zone.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from tap_activecampaign.timestamps import is_offset_aware, is_zero_or_empty, parse_timezone

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_activecampaign.client import ActiveCampaignStream

LOGGER = logging.getLogger("tap_activecampaign")
_ZONE_KEYS = ("localZoneid", "localZoneId", "local_zone_id", "timezone", "timeZone", "tz")
_DATE_KEYS = ("cdate", "udate", "mdate")
#: Tried first, in this order, when several zones fit the samples.
PREFERRED_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Sao_Paulo",
    "America/Mexico_City",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Moscow",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Perth",
    "Pacific/Auckland",
    "UTC",
)

Sample = tuple[dt.datetime, dt.timedelta]


def zone_from_user(user: t.Mapping[str, t.Any]) -> dt.tzinfo | None:
    """An IANA zone named by the user object, if any."""
    for key in _ZONE_KEYS:
        value = user.get(key)
        if isinstance(value, str) and "/" in value:
            try:
                return parse_timezone(value)
            except ValueError:
                continue
    return None


def samples_from(objects: Iterable[t.Mapping[str, t.Any]]) -> list[Sample]:
    """(instant, offset) pairs of the offset-aware dates of AC objects."""
    found: list[Sample] = []
    for obj in objects:
        for key in _DATE_KEYS:
            value = obj.get(key)
            if not isinstance(value, str) or is_zero_or_empty(value):
                continue
            if not is_offset_aware(value):
                continue
            try:
                parsed = dt.datetime.fromisoformat(value.strip().replace("z", "Z"))
            except ValueError:
                continue
            offset = parsed.utcoffset()
            if offset is not None:
                found.append((parsed.astimezone(dt.UTC), offset))
    return found


def offset_from_user(user: t.Mapping[str, t.Any]) -> dt.tzinfo | None:
    """A fixed offset read from an offset-aware date of the user object, if any."""
    samples = samples_from([user])
    return dt.timezone(samples[0][1]) if samples else None


@cache
def _zone_names() -> tuple[str, ...]:
    rest = sorted(available_timezones() - set(PREFERRED_ZONES))
    return (*PREFERRED_ZONES, *rest)


def zones_matching(samples: list[Sample]) -> list[str]:
    """IANA zones whose offset at every sampled instant is the sampled offset."""
    distinct = sorted(set(samples))
    matches = []
    for name in _zone_names():
        try:
            zone = ZoneInfo(name)
        except (ValueError, OSError):  # pragma: no cover - broken tzdata entries
            continue
        if all(instant.astimezone(zone).utcoffset() == offset for instant, offset in distinct):
            matches.append(name)
    return matches


def zone_from_samples(samples: list[Sample]) -> tuple[dt.tzinfo, str] | None:
    """The zone the samples point to, with how it was found; None without samples."""
    if not samples:
        return None
    offsets = {offset for _, offset in samples}
    if len(offsets) > 1:
        matches = zones_matching(samples)
        if matches:
            return ZoneInfo(matches[0]), f"the DST offsets of {len(samples)} dates"
    latest = max(samples)[1]
    return dt.timezone(latest), "a fixed offset (no DST change seen in the sampled dates)"


def agrees_with(zone: dt.tzinfo, samples: list[Sample]) -> bool:
    """True if ``zone`` gives every sampled instant its sampled offset."""
    return all(instant.astimezone(zone).utcoffset() == offset for instant, offset in samples)


def infer_account_timezone(stream: ActiveCampaignStream) -> dt.tzinfo:
    """The account time zone from the API (see the module docstring). Costs 2 requests."""
    body = stream.fetch({}, path="/users/me")
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    assert isinstance(user, dict)
    zone = zone_from_user(user)
    samples = samples_from([user])
    contacts = stream.fetch({"limit": 100}, path="/contacts").get("contacts") or []
    samples += samples_from(c for c in contacts if isinstance(c, dict))
    if zone is not None:
        if agrees_with(zone, samples):
            LOGGER.warning(
                "account_timezone is not set: inferred %s, the zone of the API user "
                "(GET /users/me), which agrees with the offsets of %d account dates. Set "
                "account_timezone to be exact.",
                zone,
                len(samples),
            )
            return zone
        LOGGER.warning(
            "account_timezone is not set: the API user's zone %s (GET /users/me) disagrees "
            "with the offsets of the account's dates; it is a personal setting, so it is "
            "ignored.",
            zone,
        )
    found = zone_from_samples(samples)
    if found is not None:
        tz, how = found
        LOGGER.warning(
            "account_timezone is not set: inferred %s from %s. Naive *_timestamp values "
            "depend on it; set account_timezone (an IANA name such as America/Chicago).",
            tz,
            how,
        )
        return tz
    LOGGER.warning(
        "account_timezone is not set and could not be inferred: reading naive times as UTC"
    )
    return dt.UTC
