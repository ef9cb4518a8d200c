"""Event routes: `POST /events` and `POST /events/batch` (202, or 207 with per-event results),
with Brevo's checks beyond the schema (notes §6.1)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from sandbox.brevo import contacts as contacts_mod
from sandbox.brevo.errors import BrevoError, invalid, missing
from sandbox.brevo.identifiers import is_valid_email
from sandbox.brevo.routes.common import Call, Route, no_content
from sandbox.brevo.store import parse_time
from sandbox.brevo.validation import RequestInvalid, event_errors
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox

EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MAX_EVENT_PROPERTIES_BYTES = 50 * 1024


def event_rules(event: dict[str, Any]) -> None:
    """Brevo's checks beyond the schema (notes §6.1)."""
    if not EVENT_NAME_RE.match(event["event_name"]):
        raise invalid("event_name must be 1 to 255 characters among A-Z, a-z, 0-9, _ and -")
    identifiers = event["identifiers"]
    if not any(v not in (None, "") for v in identifiers.values()):
        raise missing("identifiers must hold at least one of email_id, ext_id, phone_id, "
                      "whatsapp_id, landline_number_id, contact_id")
    email = identifiers.get("email_id")
    if email not in (None, "") and not is_valid_email(email):
        raise invalid("identifiers.email_id: invalid email address")
    if event.get("event_date") and parse_time(event["event_date"]) is None:
        raise invalid("event_date should be an ISO 8601 date-time")
    props = event.get("event_properties")
    if props is not None and len(orjson.dumps(props)) > MAX_EVENT_PROPERTIES_BYTES:
        raise invalid("event_properties exceeds 50 KB")


def _record_events(sb: BrevoSandbox, events: list[dict[str, Any]], via_batch: bool) -> None:
    sb.store.insert_events(events, via_batch=via_batch)
    for event in events:
        contacts_mod.apply_event_properties(
            sb.store, event["identifiers"], event.get("contact_properties")
        )


async def create_event(sb: BrevoSandbox, call: Call) -> web.Response:
    event_rules(call.body)
    _record_events(sb, [call.body], via_batch=False)
    return no_content()


async def create_events_batch(sb: BrevoSandbox, call: Call) -> web.Response:
    events = call.body["events"]
    accepted: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        err: BrevoError | RequestInvalid | None = event_errors(event)
        if err is None:
            try:
                event_rules(event)
            except BrevoError as exc:
                err = exc
        if err is None:
            accepted.append(event)
            results.append({"index": index, "status": "accepted"})
        else:
            results.append({"index": index, "status": "failed", "code": err.code,
                            "message": err.message})
    if accepted:
        _record_events(sb, accepted, via_batch=True)
    if len(accepted) == len(events):
        return json_response(
            {"message": "Batch accepted for processing", "count": len(accepted)}, status=202
        )
    return json_response(
        {"message": "Batch partially accepted", "count": len(accepted), "results": results},
        status=207,
    )


ROUTES = [
    Route("POST", "/events", create_event),
    Route("POST", "/events/batch", create_events_batch),
]
