"""Read-back: what Brevo holds already (the pre-read, which keeps its consent and drops
writes that change nothing) and, after the imports, the check that every value landed."""

from __future__ import annotations

import datetime as dt
import logging
import math
import typing as t
from urllib.parse import quote

from target_brevo.conversions import same_value
from target_brevo.errors import BrevoNotFound
from target_brevo.writers.contacts.tags import TagSync

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.writers.contacts.email_change import EmailChanges
    from target_brevo.writers.contacts.rows import ContactBatch, Row

LOGGER = logging.getLogger("target_brevo.contacts")


class ReadBack:
    """Reads the flush's contacts from Brevo before and after the imports."""

    def __init__(
        self, ctx: WriteContext, batch: ContactBatch, tags: TagSync, emails: EmailChanges
    ) -> None:
        self.ctx = ctx
        self.batch = batch
        self.tags = tags
        self.emails = emails

    def preread(self, master: int) -> dict[str, dict[str, t.Any]]:
        """The contacts this flush touches as Brevo holds them now (by EXT_ID and email).

        Reads the master list page by page (1 request per 1,000 contacts) or, when that
        costs more, one `GET /contacts/{ext_id}` per contact. Contacts the master list does
        not show (new ones, or ones that unsubscribed from it) are then looked up: one
        `GET /contacts?limit=1` learns the account's size, then the cheaper of reading the
        whole account or one `GET` per missing contact. List counters are never trusted to
        skip a read.
        """
        keys = {r.ext_id for r in self.batch.rows.values() if r.ext_id}
        changes = (*self.batch.adds.values(), *self.batch.removes.values())
        keys |= {e for ids in changes for e in ids}
        emails = {r.email for r in self.batch.rows.values() if not r.ext_id and r.email}
        size = self.ctx.resolver.list_sizes.get(master, 10**9) + self.ctx.imported_rows
        out: dict[str, dict[str, t.Any]] = {}
        if not (keys or emails):
            return out

        # Only what this flush can use is kept (memory flat in the account's size): the
        # contacts it touches by EXT_ID or email, and the holders of the SMS numbers it sends.
        wanted_emails = {r.email for r in self.batch.rows.values() if r.email}
        wanted_sms = {"+" + r.sms.lstrip("+") for r in self.batch.rows.values() if r.sms}

        def remember(contact: dict[str, t.Any]) -> None:
            attrs = contact.get("attributes") or {}
            ext = attrs.get("EXT_ID") or contact.get("ext_id")
            email = str(contact.get("email") or "").lower()
            sms = "+" + str(attrs.get("SMS") or "").lstrip("+")
            if not (
                (ext and str(ext) in keys) or (email and email in wanted_emails)
            ) and sms not in wanted_sms:
                return
            if ext:
                out[str(ext)] = contact
            if contact.get("email"):
                out["email:" + str(contact["email"]).lower()] = contact
            if attrs.get("SMS"):
                out["sms:+" + str(attrs["SMS"]).lstrip("+")] = contact

        def read_pages(list_id: int | None) -> int:
            offset = 0
            while True:
                params: dict[str, t.Any] = {"limit": 1000, "offset": offset, "sort": "asc"}
                if list_id is not None:
                    params["listIds"] = list_id
                body = self.ctx.client.get("/contacts", params) or {}
                self.ctx.count("preread_requests")
                contacts = body.get("contacts") or []
                for contact in contacts:
                    remember(contact)
                offset += len(contacts)
                count = body.get("count")
                if len(contacts) < 1000 or (isinstance(count, int) and offset >= count):
                    return offset

        def read_each(wanted_keys: t.Iterable[str], wanted_emails: t.Iterable[str]) -> None:
            wanted = [(k, "ext_id") for k in sorted(wanted_keys)]
            wanted += [(e, "email_id") for e in sorted(wanted_emails)]
            for ident, kind in wanted:
                self.ctx.count("preread_requests")
                try:
                    path = f"/contacts/{quote(ident, safe='')}"
                    contact = self.ctx.client.get(path, {"identifierType": kind})
                except BrevoNotFound:
                    continue
                if isinstance(contact, dict):
                    remember(contact)

        if math.ceil(size / 1000) > len(keys) + len(emails):
            read_each(keys, emails)
            return out
        in_master = read_pages(master)
        missing_keys = {k for k in keys if k not in out}
        missing_emails = {e for e in emails if f"email:{e}" not in out}
        missing = len(missing_keys) + len(missing_emails)
        if not missing:
            return out
        body = self.ctx.client.get("/contacts", {"limit": 1, "offset": 0}) or {}
        self.ctx.count("preread_requests")
        total = body.get("count")
        total = int(total) if isinstance(total, int) else 10**9
        if total <= in_master:
            return out  # the master list is the whole account: nobody else to find
        if math.ceil(total / 1000) <= missing:
            read_pages(None)
        else:
            read_each(missing_keys, missing_emails)
        return out

    def apply_existing(self, existing: dict[str, dict[str, t.Any]], master: int) -> None:
        """Keep consent Brevo holds, and drop writes that would change nothing."""
        self.batch.existing = existing
        self._phones_in_use(existing)
        for row_key, row in list(self.batch.rows.items()):
            contact = existing.get(row.ext_id or "") or existing.get(f"email:{row.email}")
            TagSync.apply(row, contact)
            if contact is None and not row.full and self.tags.wait_for(row):
                del self.batch.rows[row_key]
                continue
            if contact is None and not row.full:
                # values or a blocklist for a contact Brevo does not have (its contact record
                # was never written): an import would create an email-less contact
                del self.batch.rows[row_key]
                self.ctx.rejects.add(
                    row.stream or "contacts",
                    row.key,
                    "unknown_contact",
                    f"contact {row.ext_id} is not in Brevo; its values were not written",
                )
                continue
            if contact is None:
                continue
            unsubscribed = {int(x) for x in contact.get("listUnsubscribed") or []}
            row.lists -= unsubscribed
            row.no_master = master in unsubscribed
            current_email = str(contact.get("email") or "").lower()
            if contact.get("emailBlacklisted") and row.email and current_email != row.email:
                row.blocklist = True  # an email change clears Brevo's blocklist: keep it
            if self._unchanged(row, contact, master):
                del self.batch.rows[row_key]
                self.ctx.count("contacts_unchanged")
            else:  # lists it is in already need no add
                row.lists -= {int(x) for x in contact.get("listIds") or []}
        for list_id, ext_ids in self.batch.adds.items():
            for ext in list(ext_ids):
                contact = existing.get(ext)
                if contact is None:
                    continue
                skip = {int(x) for x in contact.get("listUnsubscribed") or []}
                skip |= {int(x) for x in contact.get("listIds") or []}
                if list_id in skip:
                    ext_ids.discard(ext)
        for list_id, ext_ids in self.batch.removes.items():
            if list_id in self.ctx.resolver.created_lists:
                ext_ids.clear()  # a list this run created holds only what it added
            for ext in list(ext_ids):
                contact = existing.get(ext)
                members = {int(x) for x in (contact or {}).get("listIds") or []}
                if contact is not None and list_id not in members:
                    ext_ids.discard(ext)

    def _phones_in_use(self, existing: dict[str, dict[str, t.Any]]) -> None:
        """An SMS number another contact holds (in Brevo or earlier in this batch) is left
        out up front, with a note, instead of costing a refused import row."""
        seen: dict[str, str | None] = {}
        for sms_key, holder in existing.items():  # Brevo's holder keeps its number
            if sms_key.startswith("sms:"):
                attrs = holder.get("attributes") or {}
                seen[sms_key[4:]] = attrs.get("EXT_ID") or holder.get("ext_id")
        for row in self.batch.rows.values():
            if not row.sms:
                continue
            sms_holder = existing.get(f"sms:{row.sms}")
            taken: bool
            if sms_holder is not None and not row.ext_id:
                taken = str(sms_holder.get("email") or "").lower() != row.email
            else:
                taken = row.sms in seen and seen[row.sms] != row.ext_id
            if taken:
                self.ctx.rejects.add(
                    row.stream or "contacts",
                    row.key,
                    "duplicate_phone",
                    f"SMS {row.sms} belongs to another Brevo contact; written without it",
                    "SMS",
                    written=True,
                )
                row.sms = None
            else:
                seen[row.sms] = row.ext_id

    @staticmethod
    def _unchanged(row: Row, contact: dict[str, t.Any], master: int) -> bool:
        attrs = {str(k).upper(): v for k, v in (contact.get("attributes") or {}).items()}
        if row.email and str(contact.get("email") or "").lower() != row.email:
            return False
        if row.sms and str(attrs.get("SMS") or "").lstrip("+") != row.sms.lstrip("+"):
            return False
        if row.ext_id and str(attrs.get("EXT_ID") or contact.get("ext_id") or "") != row.ext_id:
            return False
        for name, value in row.attrs.items():
            if not same_value(value, attrs.get(name), row.types.get(name, "text")):
                return False
        lists = {int(x) for x in contact.get("listIds") or []}
        unsubscribed = {int(x) for x in contact.get("listUnsubscribed") or []}
        if not (({master} | row.lists) - unsubscribed) <= lists:
            return False
        return not (row.blocklist and not contact.get("emailBlacklisted"))

    def verify(
        self,
        rows: list[Row],
        master: int,
        since: dt.datetime,
        must_land: set[int] | None = None,
    ) -> None:
        """Read the written contacts back and check every converted value landed; a row of
        an import whose report was unreadable and that the read-back does not find was not
        written (a reject), never "unchanged"."""
        must_land = must_land or set()
        # Text values are always sent as strings, which Brevo stores; typed ones may be dropped.
        checked = [
            r
            for r in rows
            if id(r) in must_land or any(typ != "text" for typ in r.types.values())
        ]
        if not checked:
            return
        stored: dict[str, dict[str, t.Any]] = {}
        offset = 0
        stamp = since.strftime("%Y-%m-%dT%H:%M:%S.") + f"{since.microsecond // 1000:03d}Z"
        while True:
            body = (
                self.ctx.client.get(
                    "/contacts",
                    {"listIds": master, "modifiedSince": stamp, "limit": 1000, "offset": offset},
                )
                or {}
            )
            self.ctx.count("verify_reads")
            contacts = body.get("contacts") or []
            for contact in contacts:
                attrs = contact.get("attributes") or {}
                ext = attrs.get("EXT_ID") or contact.get("ext_id") or contact.get("extId")
                if ext:
                    stored[str(ext)] = contact
                if contact.get("email"):
                    stored["email:" + str(contact["email"]).lower()] = contact
            offset += len(contacts)
            count = body.get("count")
            if len(contacts) < 1000 or (isinstance(count, int) and offset >= count):
                break
        missing = 0
        for row in checked:
            if id(row) in must_land and row.ext_id:  # its own EXT_ID, not a namesake's email
                contact = stored.get(row.ext_id)
            else:
                contact = stored.get(row.ext_id or "") or stored.get(f"email:{row.email}")
            if contact is None:
                if id(row) in must_land:
                    self.ctx.rejects.add(
                        row.stream or "contacts",
                        row.key if row.key is not None else row.ext_id,
                        "not_landed",
                        f"the import's report could not be read and contact "
                        f"{row.ext_id or row.email} was not found changed after it: not written",
                    )
                    if row.ext_id:
                        self.ctx.rejected_contacts.add(row.ext_id)
                    continue
                missing += 1  # not modified by the import: Brevo already held these values
                continue
            attrs = {str(k).upper(): v for k, v in (contact.get("attributes") or {}).items()}
            for name, value in row.attrs.items():
                typ = row.types.get(name, "text")
                if not same_value(value, attrs.get(name), typ):
                    self.ctx.count("values_not_stored")
                    self.ctx.rejects.add(
                        row.stream or "contacts",
                        row.key if row.key is not None else row.ext_id,
                        "value_not_stored",
                        f"Brevo did not store {name} (type {typ}) value {value!r}",
                        name,
                        written=True,
                    )
            if row.email and contact.get("email") and str(contact["email"]).lower() != row.email:
                self.emails.change_one(row, master, last=True)
        if missing:
            LOGGER.info("%d written contacts were unchanged in Brevo (not re-read)", missing)
