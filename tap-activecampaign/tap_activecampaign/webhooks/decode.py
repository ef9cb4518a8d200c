"""ActiveCampaign webhook deliveries: a PHP-bracket form body -> one typed event.

ActiveCampaign posts `application/x-www-form-urlencoded` bodies with PHP-style keys
(`contact[id]=5&contact[fields][favorite_color]=blue&type=update`), sends no signature and no
event id, and may deliver the same event twice. The id here is therefore synthesized: the
SHA-256 of the canonical body (the decoded key/value pairs sorted and re-encoded), so a repeated
delivery has the same id whatever order its keys came in, and two different changes never share
one unless every field, `date_time` included, is equal.

`date_time`'s exact format is undocumented: ISO 8601 with an offset is taken as is; a naive value
(`2026-03-08 07:30:00`, `2026-03-08T07:30:00`) is read in the account's time zone, as every
other naive ActiveCampaign time is.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qsl, urlencode

# AC's documented event names (GET /webhook/events lists 25; the listid description names the
# account_* and contact_task_add ones).
EVENT_TYPES = frozenset({
    "forward", "open", "share", "sent", "subscribe", "subscriber_note", "contact_tag_added",
    "contact_tag_removed", "unsubscribe", "update", "deal_add", "deal_note_add",
    "deal_pipeline_add", "deal_stage_add", "deal_task_add", "deal_task_complete",
    "deal_tasktype_add", "deal_update", "bounce", "reply", "click", "list_add", "sms_reply",
    "sms_sent", "sms_unsub", "account_add", "account_update", "account_contact_add",
    "account_contact_update", "contact_task_add",
})

# Events whose contact the tap re-reads from the REST API (the webhook is the trigger).
CONTACT_EVENTS = frozenset({
    "subscribe", "update", "unsubscribe", "contact_tag_added", "contact_tag_removed", "bounce",
})

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class DecodeError(ValueError):
    """A body that is not an ActiveCampaign webhook delivery; the message says why."""


@dataclass(frozen=True)
class WebhookEvent:
    """One decoded delivery. `payload` is the whole nested form; `raw` the body as received."""

    event_id: str
    type: str
    date_time: datetime
    initiated_by: str | None
    initiated_from: str | None
    contact_id: int | None
    email: str | None
    list_id: int | None
    campaign_id: int | None
    campaign_name: str | None
    link_url: str | None
    tags: list[str] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)
    raw: str = ""

    def as_record(self) -> dict[str, Any]:
        """The JSON form the queue stores and the tap emits (UTC ISO time)."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "date_time": self.date_time.isoformat(),
            "initiated_by": self.initiated_by,
            "initiated_from": self.initiated_from,
            "contact_id": self.contact_id,
            "email": self.email,
            "list_id": self.list_id,
            "campaign_id": self.campaign_id,
            "campaign_name": self.campaign_name,
            "link_url": self.link_url,
            "tags": list(self.tags),
            "payload": self.payload,
        }


def parse_php_form(body: str) -> dict[str, Any]:
    """`a[b][c]=1&a[d][]=x` -> {"a": {"b": {"c": "1"}, "d": ["x"]}}; a repeated plain key keeps
    the last value, as PHP does."""
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body),
                          errors="strict", max_num_fields=2000)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DecodeError(f"not a form body: {exc}") from exc
    out: dict[str, Any] = {}
    for key, value in pairs:
        m = _KEY.match(key)
        if not m:
            raise DecodeError(f"malformed form key {key[:60]!r}")
        path = [m.group(1), *_PART.findall(m.group(2))]
        node: dict[str, Any] = out
        for part in path[:-1]:
            child = node.get(part) if part else None
            if not isinstance(child, dict):
                child = {}
                _set(node, part, child)
            node = child
        _set(node, path[-1], value)
    return _lists(out)


def _set(node: dict[str, Any], part: str, value: Any) -> None:
    if part == "":  # `x[]=a`: append, indexed by position
        part = str(sum(1 for k in node if k.isdigit()))
    node[part] = value


def _lists(node: Any) -> Any:
    """Dicts whose keys are exactly 0..n-1 become lists (PHP arrays)."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted) and \
            sorted(int(k) for k in converted) == list(range(len(converted))):
        return [converted[str(i)] for i in range(len(converted))]
    return converted


def canonical_body(body: str) -> str:
    """The decoded pairs sorted and re-encoded: equal for deliveries that differ only in order
    or percent-encoding."""
    pairs = parse_qsl(body, keep_blank_values=True)
    return urlencode(sorted(pairs))


def event_id_of(body: str) -> str:
    return hashlib.sha256(canonical_body(body).encode()).hexdigest()


def parse_event_time(value: str, account_tz: tzinfo) -> datetime:
    text = value.strip()
    if not text:
        raise DecodeError("empty date_time")
    if text.isdigit():  # epoch seconds
        return datetime.fromtimestamp(int(text), UTC)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DecodeError(f"unreadable date_time {text[:40]!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=account_tz)
    return when.astimezone(UTC)


def _int(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value != "" else None


def _tags(value: Any) -> list[str]:
    """`contact[tags]` is a comma-separated string (or a PHP array)."""
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, dict):
        return [str(v).strip() for v in value.values() if str(v).strip()]
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    return []


def _section(form: dict[str, Any], key: str) -> dict[str, Any]:
    value = form.get(key)
    return value if isinstance(value, dict) else {}


def decode_delivery(body: str, account_tz: tzinfo = UTC) -> WebhookEvent:
    """Decode one delivery or raise DecodeError naming the reason."""
    form = parse_php_form(body)
    etype = form.get("type")
    if not isinstance(etype, str) or not etype:
        raise DecodeError("missing type")
    if etype not in EVENT_TYPES:
        raise DecodeError(f"unknown event type {etype[:40]!r}")
    raw_time = form.get("date_time")
    if not isinstance(raw_time, str):
        raise DecodeError("missing date_time")
    when = parse_event_time(raw_time, account_tz)
    contact = _section(form, "contact")
    campaign = _section(form, "campaign")
    link = _section(form, "link")
    list_value = form.get("list")
    list_id = _int(list_value) if not isinstance(list_value, dict) else _int(list_value.get("id"))
    tags = _tags(contact.get("tags"))
    if etype in ("contact_tag_added", "contact_tag_removed") and _str(form.get("tag")):
        tags = [str(form["tag"])]
    email = _str(contact.get("email"))
    return WebhookEvent(
        event_id=event_id_of(body),
        type=etype,
        date_time=when,
        initiated_by=_str(form.get("initiated_by")),
        initiated_from=_str(form.get("initiated_from")),
        contact_id=_int(contact.get("id")),
        email=email.lower() if email else None,
        list_id=list_id if list_id else None,
        campaign_id=_int(campaign.get("id")),
        campaign_name=_str(campaign.get("name")),
        link_url=_str(link.get("url")),
        tags=tags,
        payload=form,
        raw=body,
    )
