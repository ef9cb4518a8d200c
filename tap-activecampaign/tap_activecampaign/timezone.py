"""Inferring the account time zone when ``account_timezone`` is not set.

ActiveCampaign has no documented endpoint for the account time zone (Settings -> Account).
The tap asks ``GET /users/me`` (one request, the documented token check) and uses, in order:

1. the user's ``localZoneid`` / ``timezone`` when it names an IANA zone (DST rules included;
   the account zone is normally the admin's zone, but this is a guess, logged as such);
2. the UTC offset of an offset-aware date of that user (``udate``, ``cdate``): a fixed offset
   with no DST rules, so naive values on the other side of a DST change are off by an hour;
3. UTC, with a warning.

Only naive ``*_timestamp`` values depend on this: offset-aware dates (cdate, udate, mdate,
the replication keys of most streams) are exact whatever the zone.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from tap_activecampaign.timestamps import offset_of, parse_timezone

if t.TYPE_CHECKING:
    from tap_activecampaign.client import ActiveCampaignStream

LOGGER = logging.getLogger("tap_activecampaign")
_ZONE_KEYS = ("localZoneid", "localZoneId", "local_zone_id", "timezone", "timeZone", "tz")
_DATE_KEYS = ("udate", "cdate", "mdate")


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


def offset_from_user(user: t.Mapping[str, t.Any]) -> dt.tzinfo | None:
    """A fixed offset read from an offset-aware date of the user object, if any."""
    for key in _DATE_KEYS:
        value = user.get(key)
        if isinstance(value, str):
            try:
                offset = offset_of(value)
            except ValueError:
                continue
            if offset is not None:
                return dt.timezone(offset)
    return None


def infer_account_timezone(stream: ActiveCampaignStream) -> dt.tzinfo:
    """The account time zone from ``GET /users/me`` (see the module docstring)."""
    body = stream.fetch({}, path="/users/me")
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    assert isinstance(user, dict)
    zone = zone_from_user(user)
    if zone is not None:
        LOGGER.warning(
            "account_timezone is not set: using %s, the zone of the API user (GET /users/me). "
            "Set account_timezone if the account uses another zone.",
            zone,
        )
        return zone
    fixed = offset_from_user(user)
    if fixed is not None:
        LOGGER.warning(
            "account_timezone is not set: using the fixed offset %s read from the API user's "
            "dates. Naive *_timestamp values across a DST change will be off by an hour; set "
            "account_timezone (an IANA name such as America/Chicago).",
            fixed,
        )
        return fixed
    LOGGER.warning(
        "account_timezone is not set and could not be inferred: reading naive times as UTC"
    )
    return dt.UTC
