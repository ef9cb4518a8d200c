"""`ContactWriter`: one flush's contacts, values, memberships and blocklists, in order.

The staged records become rows (`rows`), Brevo's current contacts are read (`readback`),
rows go into imports (`imports`), email changes are PUT (`email_change`), values are read
back, and the remaining list changes are made (`memberships`). This module only orchestrates.
"""

from __future__ import annotations

import typing as t

from target_brevo.writers.contacts.email_change import EmailChanges
from target_brevo.writers.contacts.imports import Importer
from target_brevo.writers.contacts.memberships import Memberships
from target_brevo.writers.contacts.readback import ReadBack
from target_brevo.writers.contacts.rows import ContactBatch, Row, RowBuilder, prefix_for

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.staged import Staged
    from target_brevo.writers.attributes import FieldRegistry
    from target_brevo.writers.contacts.tags import TagSync


class ContactWriter:
    """Writes one flush's contacts, values, memberships and blocklists."""

    def __init__(self, ctx: WriteContext, fields: FieldRegistry, tags: TagSync) -> None:
        self.ctx = ctx
        self.tags = tags
        self.batch = ContactBatch()
        self.builder = RowBuilder(ctx, self.batch, fields, tags)
        self.memberships = Memberships(ctx, self.batch)
        self.importer = Importer(ctx, self.batch)
        self.emails = EmailChanges(ctx, self.batch)
        self.readback = ReadBack(ctx, self.batch, tags, self.emails)

    # -- staging ---------------------------------------------------------------------------
    def prefix_for(self, mapping: t.Mapping[str, t.Any]) -> str:
        return prefix_for(self.ctx.settings, mapping)

    def add_contacts(self, staged: Staged) -> None:
        self.builder.add_contacts(staged)

    def add_values(self, staged: Staged) -> None:
        self.builder.add_values(staged)

    def add_memberships(self, staged: Staged) -> None:
        self.memberships.add(staged)

    def add_blocklisted(self, ext_id: str) -> None:
        """A contact to blocklist that may have no row of its own in this flush."""
        if ext_id not in self.ctx.rejected_contacts:
            self.batch.blocklist_only.add(ext_id)

    def stage_tags(self) -> None:
        self.tags.stage(self.ctx, self.batch)

    def apply_attribute_updates(self) -> None:
        self.builder.apply_attribute_updates()

    # -- writing ---------------------------------------------------------------------------
    def write(self) -> None:
        batch, ctx = self.batch, self.ctx
        if not batch.rows and not batch.adds and not batch.removes and not batch.blocklist_only:
            return
        master = ctx.resolver.master_list()
        for ext_id in sorted(batch.blocklist_only):
            row = batch.rows.get(ext_id) or Row(ext_id=ext_id)
            row.blocklist = True
            batch.rows[ext_id] = row
        batch.blocklist_only.clear()
        self.readback.apply_existing(self.readback.preread(master), master)
        # Contacts that unsubscribed from the master list: an import (which always names the
        # master list) would put them back on it, so each is written with one PUT (rare).
        direct = [row for row in batch.rows.values() if row.no_master]
        for row_key in [k for k, row in batch.rows.items() if row.no_master]:
            del batch.rows[row_key]
        imports, since = self.importer.import_rows(master)
        failed, email_changes = self.importer.settle(imports, master)
        changed = self.emails.change_all(email_changes, master)
        # rows of imports whose report could not be read must be found by the read-back
        must_land = {id(r) for imp in imports if not imp.report_trusted for r in imp.rows}
        for row in direct:
            if self.emails.change_one(row, master, last=True) == "ok":
                ctx.count("contacts_put")
        written = [r for imp in imports for r in imp.rows if id(r) not in failed] + changed
        if ctx.settings.verify_values:
            self.readback.verify(written, master, since, must_land)
        elif must_land:
            self.readback.verify(
                [r for r in written if id(r) in must_land], master, since, must_land
            )
        self.memberships.write()
        ctx.rejects.check()
