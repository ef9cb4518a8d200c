"""Source campaigns and their messages → Brevo email campaign drafts (never scheduled).

Drafts are keyed by `[<prefix>campaign-<id>]` at the end of their name and found again
with `GET /emailCampaigns`. Unchanged drafts are not rewritten: these endpoints allow only
100 requests an hour.
"""

from __future__ import annotations

import html
import logging
import typing as t

from target_brevo.client import BrevoInvalid
from target_brevo.mapping import normalise_email
from target_brevo.resolve import with_key

if t.TYPE_CHECKING:
    from target_brevo.sync import Staged, Syncer

LOGGER = logging.getLogger("target_brevo.campaigns")

MESSAGE_LINKS = ("message_id", "campaign_message_id", "messageid", "message")
CAMPAIGN_LINKS = ("campaign_id", "campaignid", "campaign")


def _first(record: t.Mapping[str, t.Any], names: t.Iterable[str]) -> t.Any:
    for name in names:
        value = record.get(name)
        if value not in (None, "", 0, "0"):
            return value
    return None


class CampaignWriter:
    """Keeps the run's campaigns and messages so that either may arrive first."""

    def __init__(self, syncer: Syncer) -> None:
        self.s = syncer
        self.campaigns: dict[str, dict[str, t.Any]] = {}
        self.messages: dict[str, dict[str, t.Any]] = {}
        self.campaign_streams: dict[str, str] = {}
        self.message_streams: dict[str, str] = {}

    def add(self, campaigns: list[Staged], messages: list[Staged]) -> tuple[set[str], set[str]]:
        new_c: set[str] = set()
        new_m: set[str] = set()
        for staged in campaigns:
            for record in staged.deduped():
                cid = str(record.get("id"))
                self.campaigns[cid] = record
                self.campaign_streams[cid] = staged.stream
                new_c.add(cid)
        for staged in messages:
            for record in staged.deduped():
                mid = str(record.get("id"))
                self.messages[mid] = record
                self.message_streams[mid] = staged.stream
                new_m.add(mid)
        return new_c, new_m

    def _message_for(self, cid: str) -> dict[str, t.Any] | None:
        link = _first(self.campaigns[cid], MESSAGE_LINKS)
        if link is not None and str(link) in self.messages:
            return self.messages[str(link)]
        for message in self.messages.values():
            if str(_first(message, CAMPAIGN_LINKS)) == cid:
                return message
        return None

    def _linked_messages(self) -> set[str]:
        linked = {str(_first(c, MESSAGE_LINKS)) for c in self.campaigns.values()}
        linked |= {
            mid
            for mid, m in self.messages.items()
            if str(_first(m, CAMPAIGN_LINKS)) in self.campaigns
        }
        return linked

    def _body(self, key: str, name: str, message: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
        cfg = self.s.config
        sender = dict(cfg.get("campaign_sender") or {"name": "Demo", "email": "demo@example.com"})
        subject = name
        content = ""
        reply_to = None
        if message is not None:
            subject = str(message.get("subject") or name)
            content = str(message.get("html") or "")
            if not content.strip() and message.get("text"):
                content = "<pre>" + html.escape(str(message["text"])) + "</pre>"
            reply, _ = normalise_email(message.get("reply2"))
            reply_to = reply
        if not content.strip():
            content = f"<html><body><p>{html.escape(name)}</p></body></html>"
        body: dict[str, t.Any] = {
            "name": with_key(name, key),
            "subject": subject,
            "sender": {k: v for k, v in sender.items() if k in ("name", "email", "id") and v},
            "htmlContent": content,
        }
        if reply_to:
            body["replyTo"] = reply_to
        return body  # never "scheduledAt": drafts only

    @staticmethod
    def _unchanged(existing: t.Mapping[str, t.Any], body: t.Mapping[str, t.Any]) -> bool:
        for field in ("name", "subject", "htmlContent", "replyTo"):
            if field in body and existing.get(field) != body[field]:
                return False
        sender = existing.get("sender") or {}
        return all(sender.get(k) == v for k, v in body["sender"].items())

    def write(self, new_c: set[str], new_m: set[str]) -> None:
        resolver = self.s.resolver
        prefix = resolver.prefix
        todo: list[tuple[str, str, str, dict[str, t.Any] | None]] = []
        for cid, campaign in self.campaigns.items():
            message = self._message_for(cid)
            touched = cid in new_c or (message is not None and str(message.get("id")) in new_m)
            if touched:
                name = str(campaign.get("name") or f"Campaign {cid}")
                todo.append((self.campaign_streams[cid], name, f"{prefix}campaign-{cid}", message))
        if self.s.config.get("unlinked_messages_as_drafts", False):
            linked = self._linked_messages()
            for mid in sorted(new_m - linked):
                message = self.messages[mid]
                name = str(message.get("name") or message.get("subject") or f"Message {mid}")
                todo.append((self.message_streams[mid], name, f"{prefix}message-{mid}", message))
        if not todo:
            return
        existing = resolver.campaigns()
        for stream, name, key, message in todo:
            body = self._body(key, name, message)
            current = existing.get(key)
            try:
                if current is None:
                    resolver.create_campaign(key, body)
                    self.s.count("campaigns_created")
                elif self._unchanged(current, body):
                    self.s.count("campaigns_unchanged")
                elif str(current.get("status", "draft")) != "draft":
                    LOGGER.info("Campaign %s is %s in Brevo: not rewritten", key, current["status"])
                    self.s.count("campaigns_not_draft")
                else:
                    self.s.client.request("PUT", f"/emailCampaigns/{current['id']}", body=body)
                    existing[key] = {**current, **body}
                    self.s.count("campaigns_updated")
            except BrevoInvalid as exc:
                self.s.rejects.add(stream, key, exc.code or "invalid", str(exc))
