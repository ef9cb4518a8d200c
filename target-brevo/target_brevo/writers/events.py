"""Streams mapped to events → `POST /events/batch`.

Brevo has no idempotency key for events: a rerun after a crash may send an event again
(at-least-once). Every event carries its source key in `event_properties._source_key`
so that duplicates can be removed downstream.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t

from target_brevo.conversions import normalise_email, to_text
from target_brevo.errors import BrevoInvalid
from target_brevo.serialize import dumps, to_jsonable

if t.TYPE_CHECKING:
    from target_brevo.staged import Staged
    from target_brevo.sync import Syncer

MAX_PROPERTIES_BYTES = 50_000


def event_properties(record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The record as event properties, in the value types Brevo's schema accepts.

    Top-level values may be strings, integers, objects or arrays of objects: nulls are left
    out, booleans and non-integral numbers become strings, other arrays JSON text.
    """
    out: dict[str, t.Any] = {}
    for key, value in to_jsonable(dict(record)).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, float):
            out[key] = int(value) if value.is_integer() else repr(value)
        elif isinstance(value, list) and not all(isinstance(v, dict) for v in value):
            out[key] = dumps(value)
        else:
            out[key] = value
    return out


def _event_name(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", raw).strip("_")[:255] or "event"


def write_events(syncer: Syncer, staged: Staged) -> None:
    mapping = staged.mapping
    name_field = mapping.get("event_name_field")
    default_name = _event_name(str(mapping.get("event_name") or staged.stream))
    contact_field = mapping.get("contact_field")
    email_field = mapping.get("email_field", "email" if not contact_field else None)
    date_field = mapping.get("date_field")
    prefix = str(mapping.get("ext_id_prefix") or syncer.settings.ext_id_prefix)
    events: list[tuple[t.Any, dict[str, t.Any]]] = []
    for record in staged.records:  # events are not deduplicated: each one happened
        key_values = [record.get(k) for k in staged.key_properties]
        key: t.Any = (key_values[0] if len(key_values) == 1 else key_values) or None
        identifiers: dict[str, str] = {}
        if contact_field and record.get(contact_field) not in (None, ""):
            identifiers["ext_id"] = f"{prefix}{record[contact_field]}"
        if email_field and record.get(email_field):
            email, _ = normalise_email(record.get(email_field))
            if email:
                identifiers["email_id"] = email
        if not identifiers:
            syncer.rejects.add(
                staged.stream, key, "missing_identifier", "no contact identifier for the event"
            )
            continue
        props = event_properties(record)
        props["_source_stream"] = staged.stream
        if key is not None:
            props["_source_key"] = to_jsonable(key)
        if len(dumps(props).encode()) > MAX_PROPERTIES_BYTES:
            syncer.rejects.add(staged.stream, key, "too_large", "event_properties over 50 KB", None)
            continue
        event: dict[str, t.Any] = {
            "event_name": _event_name(to_text(record.get(name_field)))
            if name_field and record.get(name_field)
            else default_name,
            "identifiers": identifiers,
            "event_properties": props,
        }
        if date_field and record.get(date_field):
            value = record[date_field]
            if isinstance(value, dt.datetime):
                if value.tzinfo is None:
                    value = value.replace(tzinfo=dt.UTC)
                event["event_date"] = value.isoformat()
            else:
                event["event_date"] = to_text(value)
        events.append((key, event))
    size = syncer.settings.events_batch_size
    for i in range(0, len(events), size):
        chunk = events[i : i + size]
        try:
            # Retried on failure: at-least-once (Brevo offers no idempotency key).
            resp = syncer.client.request(
                "POST", "/events/batch", body={"events": [e for _, e in chunk]}, idempotent=True
            )
        except BrevoInvalid as exc:
            if len(chunk) == 1:
                syncer.rejects.add(staged.stream, chunk[0][0], exc.code or "invalid", str(exc))
                continue
            for key, event in chunk:  # find the bad ones one by one
                try:
                    syncer.client.request(
                        "POST", "/events/batch", body={"events": [event]}, idempotent=True
                    )
                    syncer.count("events")
                except BrevoInvalid as one:
                    syncer.rejects.add(staged.stream, key, one.code or "invalid", str(one))
            continue
        syncer.count("event_batches")
        failures = batch_failures(resp.body)
        for index, code, message in failures:
            key = chunk[index][0] if 0 <= index < len(chunk) else None
            syncer.rejects.add(staged.stream, key, code, message)
        syncer.count("events", len(chunk) - len(failures))


def batch_failures(body: t.Any) -> list[tuple[int, str, str]]:
    """Per-event failures of a 207 answer (shape tolerant)."""
    if not isinstance(body, dict):
        return []
    items = body.get("failures") or body.get("errors") or body.get("failed") or []
    if isinstance(body.get("results"), list):
        items = [
            r
            for r in body["results"]
            if str(r.get("status", "")).lower() in ("failed", "error") or r.get("error")
        ]
    out: list[tuple[int, str, str]] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        index = item.get("index", item.get("position", -1))
        nested = item.get("error")
        err: dict[str, t.Any] = nested if isinstance(nested, dict) else item
        out.append(
            (
                int(str(index)) if str(index).lstrip("-").isdigit() else -1,
                str(err.get("code") or "event_failed"),
                str(err.get("message") or err.get("reason") or "event not accepted"),
            )
        )
    return out
