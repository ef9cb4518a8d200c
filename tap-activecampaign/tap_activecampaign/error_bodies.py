"""ActiveCampaign's error answers: the reason in an error body, and ``Retry-After``."""

from __future__ import annotations

import datetime as dt
import email.utils

import requests


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), or None if absent/invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max((when - current).total_seconds(), 0.0)


def ac_reason(response: requests.Response) -> str:
    """AC's own explanation from an error body (``message`` or ``errors[].title/detail``)."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "").strip() or "no reason given"
    parts: list[str] = []
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            parts.append(body["message"])
        for error in body.get("errors") or []:
            if isinstance(error, dict):
                text = " - ".join(
                    str(error[k]) for k in ("title", "detail") if error.get(k) not in (None, "")
                )
                if text:
                    parts.append(text)
    return "; ".join(parts) or (response.reason or "").strip() or "no reason given"
