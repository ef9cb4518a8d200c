"""`webhook_events` (the tap's real-time stream) -> Brevo events, and consent at once.

Only the real-time job sends this stream, so only ActiveCampaign activity that happened now fires
Brevo automations; the scheduled REST sync never sends an event.

- Event name `ac_<type>` (`ac_open`, `ac_click`, `ac_unsubscribe`, `ac_contact_tag_added`, ...),
  identified by `ext_id` = `ac-<contact id>` (the contacts' `EXT_ID`) and the email;
  `event_date` = ActiveCampaign's time (UTC); properties: `event_id`, `initiated_by`, `list_id`
  and `list_key` (`ac-list-<id>`, the key in the Brevo list name), `campaign_id`,
  `campaign_key`, `campaign_name`, `link_url`, `tags` (`|a|b|`, as the `AC_TAGS` attribute).
- An `unsubscribe` removes the contact from that list and a `bounce` also blocklists it, in the
  same flush, before the events (through the memberships machinery: never re-added later).
- Batches of `events_batch_size` in queue order; after each accepted batch the target emits a
  STATE whose `webhook_events` bookmark is that batch's last sequence number, so a crash can
  resend at most the one batch in flight (Brevo has no idempotency key and no way to read
  events back). Duplicate deliveries never get here: the receiver's queue holds each event once.
"""

from __future__ import annotations

import typing as t

from target_brevo.conversions import normalise_email, tags_value
from target_brevo.errors import BrevoInvalid
from target_brevo.mapping import stream_mapping
from target_brevo.staged import Staged
from target_brevo.writers.events import batch_failures

if t.TYPE_CHECKING:
    from target_brevo.sync import Syncer
    from target_brevo.writers.contacts.writer import ContactWriter

MEMBERSHIP_STATUS = {"unsubscribe": 2, "bounce": 3}


def _ordered(staged: Staged) -> list[dict[str, t.Any]]:
    seen: dict[str, dict[str, t.Any]] = {}
    for record in staged.records:
        seen.setdefault(str(record.get("event_id")), record)
    return sorted(seen.values(), key=lambda r: int(r.get("seq") or 0))


def add_consent(writer: ContactWriter, staged: Staged) -> None:
    """Unsubscribes and bounces as membership changes of this flush (status 2 / 3)."""
    rows: list[dict[str, t.Any]] = []
    blocklist: list[str] = []
    prefix = writer.prefix_for(staged.mapping)
    for record in _ordered(staged):
        status = MEMBERSHIP_STATUS.get(str(record.get("type")))
        contact = record.get("contact_id")
        if status is None or contact is None:
            continue
        if record.get("list_id"):
            rows.append({"id": f"webhook:{record.get('event_id')}", "contact": contact,
                         "list": record["list_id"], "status": status,
                         "udate": record.get("date_time")})
        elif status == 3:
            blocklist.append(f"{prefix}{contact}")
    if rows:
        mapping = stream_mapping(writer.ctx.settings, "contact_lists")
        mapping["ext_id_prefix"] = prefix
        writer.add_memberships(Staged(staged.stream, mapping, ["id"], {}, rows))
    for ext_id in blocklist:
        writer.add_blocklisted(ext_id)


def brevo_event(record: t.Mapping[str, t.Any], prefix: str) -> dict[str, t.Any] | None:
    identifiers: dict[str, str] = {}
    if record.get("contact_id") is not None:
        identifiers["ext_id"] = f"{prefix}{record['contact_id']}"
    email, _ = normalise_email(record.get("email"))
    if email:
        identifiers["email_id"] = email
    if not identifiers:
        return None
    props: dict[str, t.Any] = {"event_id": str(record.get("event_id")), "source": "webhook"}
    for key in ("initiated_by", "campaign_name", "link_url"):
        if record.get(key):
            props[key] = str(record[key])
    if record.get("list_id"):
        props["list_id"] = int(record["list_id"])
        props["list_key"] = f"{prefix}list-{record['list_id']}"
    if record.get("campaign_id"):
        props["campaign_id"] = int(record["campaign_id"])
        props["campaign_key"] = f"{prefix}campaign-{record['campaign_id']}"
    if record.get("tags"):
        props["tags"] = tags_value(record["tags"])
    when = record.get("date_time")
    event: dict[str, t.Any] = {
        "event_name": f"ac_{record.get('type')}",
        "identifiers": identifiers,
        "event_properties": props,
    }
    if when is not None:
        event["event_date"] = when.isoformat() if hasattr(when, "isoformat") else str(when)
    return event


def write_webhook_events(syncer: Syncer, staged: Staged) -> None:
    prefix = str(staged.mapping.get("ext_id_prefix") or syncer.settings.ext_id_prefix)
    batch: list[tuple[dict[str, t.Any], dict[str, t.Any]]] = []
    for record in _ordered(staged):
        event = brevo_event(record, prefix)
        if event is None:
            syncer.rejects.add(staged.stream, record.get("event_id"), "missing_identifier",
                               "webhook event names no contact id and no valid email")
            continue
        batch.append((record, event))
    size = max(1, syncer.settings.events_batch_size)
    for i in range(0, len(batch), size):
        chunk = batch[i:i + size]
        failures = _send(syncer, [e for _, e in chunk])
        for index, code, message in failures:
            if 0 <= index < len(chunk):
                syncer.rejects.add(staged.stream, chunk[index][0].get("event_id"), code,
                                   f"{chunk[index][1]['event_name']}: {message}")
        syncer.count("webhook_events", len(chunk) - len(failures))
        syncer.count("event_batches")
        if syncer.on_events_confirmed is not None:
            syncer.on_events_confirmed(int(chunk[-1][0].get("seq") or 0))


def _send(syncer: Syncer, events: list[dict[str, t.Any]]) -> list[tuple[int, str, str]]:
    """One batch; a 400 for the whole batch is retried event by event to find the bad ones."""
    try:
        resp = syncer.client.request(
            "POST", "/events/batch", body={"events": events},
            idempotent=True)  # a 5xx after Brevo processed it: this one batch twice
        return batch_failures(resp.body)
    except BrevoInvalid as exc:
        if len(events) == 1:
            return [(0, exc.code or "invalid", str(exc))]
    out: list[tuple[int, str, str]] = []
    for n, event in enumerate(events):
        out += [(n, code, msg) for _, code, msg in _send(syncer, [event])]
    return out
