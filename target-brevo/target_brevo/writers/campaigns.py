"""Source campaigns and their messages → Brevo email campaign drafts (never scheduled).

Drafts are keyed by `[<prefix>campaign-<id> <prefix>message-<id>]` at the end of their
name and found again with `GET /emailCampaigns`: the campaign key is the identity, the
message key lets a run that carries a changed message without its campaign find the
draft (the older `[<prefix>campaign-<id>]` form still resolves). Unchanged drafts are
not rewritten: these endpoints allow only 100 requests an hour.
"""

from __future__ import annotations

import html
import logging
import typing as t
from dataclasses import dataclass

from target_brevo.conversions import normalise_email
from target_brevo.errors import BrevoInvalid
from target_brevo.name_keys import draft_label, with_key

if t.TYPE_CHECKING:
    from target_brevo.staged import Staged
    from target_brevo.sync import Syncer

LOGGER = logging.getLogger("target_brevo.campaigns")

MESSAGE_LINKS = ("message_id", "campaign_message_id", "messageid", "message")
CAMPAIGN_LINKS = ("campaign_id", "campaignid", "campaign")


@dataclass
class Draft:
    """One draft to write: its identity key, the message key its name also carries."""

    stream: str
    key: str
    message_key: str | None
    name: str
    message: t.Mapping[str, t.Any] | None


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

    def _message_key(self, cid: str, message: t.Mapping[str, t.Any] | None) -> str | None:
        """The key of the message campaign `cid` links to, even when it is not in the run."""
        link = _first(self.campaigns[cid], MESSAGE_LINKS)
        if link is None and message is not None:
            link = message.get("id")
        return None if link is None else f"{self.s.resolver.prefix}message-{link}"

    def _body(
        self,
        label: str,
        name: str,
        message: t.Mapping[str, t.Any] | None,
        keep_content: bool = False,
    ) -> dict[str, t.Any]:
        """The draft for `name [label]`; `keep_content`: name and sender only (message unknown)."""
        sender = dict(self.s.settings.campaign_sender or {})
        body: dict[str, t.Any] = {
            "name": with_key(name, label),
            "sender": {k: v for k, v in sender.items() if k in ("name", "email", "id") and v},
        }
        if keep_content:
            return body
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
        body["subject"] = subject
        body["htmlContent"] = content
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

    def _sender_missing(self, new_c: set[str], new_m: set[str]) -> bool:
        """Brevo refuses drafts whose sender is not one of the account's verified senders;
        there is no safe default, so without `campaign_sender` every campaign and message
        record is a reject and no request is made."""
        sender = self.s.settings.campaign_sender or {}
        if isinstance(sender, dict) and (sender.get("email") or sender.get("id") is not None):
            return False
        reason = (
            "campaign_sender is not set: set campaign_sender to a verified Brevo sender "
            "(`name` + `email`, or its `id`; see GET /senders); no draft was written"
        )
        for cid in sorted(new_c):
            self.s.rejects.add(self.campaign_streams[cid], cid, "missing_sender", reason)
        for mid in sorted(new_m):
            self.s.rejects.add(self.message_streams[mid], mid, "missing_sender", reason)
        if new_c or new_m:
            LOGGER.warning("target-brevo: %s", reason)
        return True

    def write(self, new_c: set[str], new_m: set[str]) -> None:
        if self._sender_missing(new_c, new_m):
            return
        resolver = self.s.resolver
        prefix = resolver.prefix
        todo: list[Draft] = []
        for cid, campaign in self.campaigns.items():
            message = self._message_for(cid)
            touched = cid in new_c or (message is not None and str(message.get("id")) in new_m)
            if touched:
                name = str(campaign.get("name") or f"Campaign {cid}")
                key, mkey = f"{prefix}campaign-{cid}", self._message_key(cid, message)
                todo.append(Draft(self.campaign_streams[cid], key, mkey, name, message))
        unlinked = sorted(new_m - self._linked_messages())
        if not todo and not unlinked:
            return
        existing = resolver.campaigns()
        run_keys = {f"{prefix}campaign-{cid}" for cid in self.campaigns}
        for mid in unlinked:
            # A message whose campaign is not in the run: its drafts carry its key in their name
            message = self.messages[mid]
            stream = self.message_streams[mid]
            mkey = f"{prefix}message-{mid}"
            found = dict(resolver.campaigns_carrying(mkey))
            link = _first(message, CAMPAIGN_LINKS)
            if link is not None and f"{prefix}campaign-{link}" in existing:
                found.setdefault(f"{prefix}campaign-{link}", existing[f"{prefix}campaign-{link}"])
            for key, item in sorted(found.items()):
                if key not in run_keys:  # those follow their campaign's record
                    todo.append(Draft(stream, key, mkey, str(item.get("name") or key), message))
            if self.s.settings.unlinked_messages_as_drafts and (
                not found or mkey in existing
            ):
                name = str(message.get("name") or message.get("subject") or f"Message {mid}")
                todo.append(Draft(stream, mkey, None, name, message))
            elif not found:
                LOGGER.info("Message %s: no campaign draft carries it yet; waiting for it", mkey)
                self.s.count("messages_waiting")
        for draft in todo:
            existing = resolver.campaigns()  # a lookup after an uncertain create reloads it
            current = existing.get(draft.key) or resolver.campaign_any_status(draft.key)
            # a campaign whose message is not in the run keeps the draft's subject and content
            keep = draft.message is None and draft.message_key is not None and current is not None
            body = self._body(
                draft_label(draft.key, draft.message_key), draft.name, draft.message, keep
            )
            try:
                if current is None:
                    resolver.create_campaign(draft.key, body)
                    self.s.count("campaigns_created")
                elif self._unchanged(current, body):
                    self.s.count("campaigns_unchanged")
                elif str(current.get("status", "draft")) != "draft":
                    LOGGER.info(
                        "Campaign %s is %s in Brevo: not rewritten", draft.key, current["status"]
                    )
                    self.s.count("campaigns_not_draft")
                else:
                    self.s.client.request("PUT", f"/emailCampaigns/{current['id']}", body=body)
                    existing[draft.key] = {**current, **body}
                    self.s.count("campaigns_updated")
            except BrevoInvalid as exc:
                self.s.rejects.add(draft.stream, draft.key, exc.code or "invalid", str(exc))
