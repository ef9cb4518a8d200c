"""The ordered flush: definitions → lists → contacts (+values, memberships) → campaigns → events.

SDK sinks drain in arbitrary order and a full sink drains alone. Here every drain stages all
sinks and then writes everything in dependency order, so a membership never reaches Brevo
before its list and its contact.
"""

from __future__ import annotations

import logging
import typing as t

from target_brevo.client import BrevoClient
from target_brevo.context import WriteContext
from target_brevo.rejects import Rejects
from target_brevo.resolve import Resolver
from target_brevo.serialize import dumps
from target_brevo.settings import Settings
from target_brevo.staged import Staged
from target_brevo.writers.attributes import FieldRegistry
from target_brevo.writers.campaigns import CampaignWriter
from target_brevo.writers.contacts.tags import TagSync
from target_brevo.writers.contacts.writer import ContactWriter
from target_brevo.writers.events import write_events
from target_brevo.writers.lists import write_lists
from target_brevo.writers.webhook_events import add_consent, write_webhook_events

LOGGER = logging.getLogger("target_brevo.sync")


class Syncer:
    """Holds the run's client, caches and staged batches; writes on `flush()`."""

    def __init__(self, config: Settings | t.Mapping[str, t.Any]) -> None:
        #: the validated settings (each default declared once, in settings.py)
        self.settings = Settings.of(config)
        self.config = self.settings
        self.dry_run = self.settings.dry_run
        self.client = BrevoClient.from_settings(self.settings)
        self.resolver = Resolver(
            self.client, self.settings.list_folder, self.settings.ext_id_prefix
        )
        self.rejects = Rejects(self.settings.rejects_file or None, self.settings.max_rejects)
        self.counts: dict[str, int] = {}
        #: what the writers are handed (the same client, resolver, rejects and counters)
        self.ctx = WriteContext(
            self.settings, self.client, self.resolver, self.rejects, self.counts
        )
        self.fields = FieldRegistry()
        self.campaigns = CampaignWriter(self)
        self.tags = TagSync()
        self.pending: list[Staged] = []
        #: called with the last queue sequence of each accepted webhook events batch
        self.on_events_confirmed: t.Callable[[int], None] | None = None

    def count(self, what: str, n: int = 1) -> None:
        self.ctx.count(what, n)

    def stage(
        self,
        *,
        stream: str,
        mapping: dict[str, t.Any],
        key_properties: list[str],
        schema: dict[str, t.Any],
        records: list[dict[str, t.Any]],
    ) -> None:
        self.pending.append(Staged(stream, mapping, key_properties, schema, list(records)))

    def flush(self) -> None:
        staged, self.pending = self.pending, []
        if not staged and not (self.tags.final and (self.tags.untagged or self.tags.waiting)):
            return
        by_kind: dict[str, list[Staged]] = {}
        for item in staged:
            by_kind.setdefault(item.kind, []).append(item)
        if self.dry_run:
            self._plan(by_kind)
            return
        # 1. attribute definitions
        for item in by_kind.get("attributes", []):
            for record in item.deduped():
                self.fields.add_definition(record, item.mapping)
        for item in by_kind.get("attribute_options", []):
            for record in item.deduped():
                self.fields.add_option(record, item.mapping)
        self.fields.ensure(self.resolver)
        # 2. lists (folder first)
        for item in by_kind.get("lists", []):
            write_lists(self, item)
        # 3. contacts with their values, memberships and blocklists
        writer = ContactWriter(self.ctx, self.fields, self.tags)
        for item in by_kind.get("contacts", []):
            writer.add_contacts(item)
        for item in by_kind.get("contact_attribute_values", []):
            writer.add_values(item)
        for item in by_kind.get("list_memberships", []):
            writer.add_memberships(item)
        for item in by_kind.get("webhook_events", []):  # unsubscribes and bounces at once
            add_consent(writer, item)
        for item in by_kind.get("tag_names", []):
            self.tags.add_names(item)
        for item in by_kind.get("contact_tags", []):
            self.tags.add_contact_tags(item)
        writer.stage_tags()
        writer.apply_attribute_updates()
        writer.write()
        if self.tags.final:
            self.tags.report_waiting(self.rejects)
        # 4. campaign drafts
        if by_kind.get("campaigns") or by_kind.get("campaign_messages"):
            new_c, new_m = self.campaigns.add(
                by_kind.get("campaigns", []), by_kind.get("campaign_messages", [])
            )
            self.campaigns.write(new_c, new_m)
        # 5. events
        for item in by_kind.get("events", []):
            write_events(self, item)
        for item in by_kind.get("webhook_events", []):
            write_webhook_events(self, item)
        self.rejects.check()
        LOGGER.info(
            "Flushed %d staged batches; requests by bucket %s; %s",
            len(staged),
            self.client.stats,
            {**self.counts, **{f"created_{k}": v for k, v in self.resolver.created.items()}},
        )

    def _plan(self, by_kind: dict[str, list[Staged]]) -> None:
        """Dry run: log the planned writes, make no request at all."""
        for kind, items in sorted(by_kind.items()):
            records = [
                r for item in items for r in (item.deduped() if kind != "events" else item.records)
            ]
            self.count(f"planned_{kind}", len(records))
            # Primary keys and field names only: values (emails, phone numbers) never reach
            # the log. A stream without key properties shows no sample key.
            sample = [
                ":".join(dumps(r.get(k)) for k in item.key_properties)
                for item in items
                if item.key_properties
                for r in item.records[:3]
            ][:3]
            fields = sorted({k for item in items for r in item.records[:3] for k in r})
            LOGGER.info(
                "DRY RUN: would write %d %s from %s; sample keys %s; fields %s",
                len(records),
                kind,
                sorted({i.stream for i in items}),
                sample,
                fields,
            )

    def close(self) -> None:
        if self.rejects.count:
            LOGGER.warning("target-brevo: %s", self.rejects.summary())
        LOGGER.info(
            "target-brevo done: %d rejects %s; requests by bucket %s; %s",
            self.rejects.count,
            self.rejects.by_code,
            self.client.stats,
            self.counts,
        )
        self.client.close()
