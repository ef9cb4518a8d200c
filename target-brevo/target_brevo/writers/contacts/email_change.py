"""Email changes: the source changed a contact's email, so the same Brevo contact (by
EXT_ID) is updated with one PUT, in an order (and retry rounds) that lets contacts trade
addresses within one batch, keeping the blocklist Brevo would otherwise clear."""

from __future__ import annotations

import typing as t
from urllib.parse import quote

from target_brevo.errors import BrevoConflict, BrevoInvalid, BrevoNotFound

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.writers.contacts.rows import ContactBatch, Row


class EmailChanges:
    """Writes the email changes of a flush."""

    def __init__(self, ctx: WriteContext, batch: ContactBatch) -> None:
        self.ctx = ctx
        self.batch = batch

    def order(self, rows: list[Row]) -> list[Row]:
        """A contact that gives up an address goes before the one taking it (pre-read)."""
        holder: dict[int, str | None] = {}
        for row in rows:
            contact = self.batch.existing.get(f"email:{row.email}") or {}
            attrs = contact.get("attributes") or {}
            holder[id(row)] = str(attrs.get("EXT_ID") or contact.get("ext_id") or "") or None
        ordered: list[Row] = []
        pending = list(rows)
        while pending:
            changing = {r.ext_id for r in pending}
            ready = [
                r for r in pending if holder[id(r)] not in changing or holder[id(r)] == r.ext_id
            ]
            if not ready:  # a cycle: the retry rounds report it
                ordered += pending
                break
            ordered += ready
            pending = [r for r in pending if r not in ready]
        return ordered

    def change_all(self, rows: list[Row], master: int) -> list[Row]:
        """Email changes, retried in rounds so that an address freed by one change (two
        contacts trading addresses in one batch) can be taken by the next."""
        done: list[Row] = []
        pending = self.order(rows)
        while pending:
            retry = [r for r in pending if self.change_one(r, master, last=False) == "retry"]
            done += [row for row in pending if row not in retry]
            if len(retry) == len(pending):
                for row in retry:
                    if self.change_one(row, master, last=True) == "ok":
                        done.append(row)
                break
            pending = retry
        return [row for row in done if row.email_changed]

    def change_one(self, row: Row, master: int, *, last: bool) -> str:
        """The source changed this contact's email: update the same Brevo contact.

        Brevo clears the blocklist on an email change unless the same body sets it, so a
        blocklisted contact keeps `emailBlacklisted: true` in that very request. Returns
        "ok", "retry" (the address is still another contact's) or "failed".
        """
        path = f"/contacts/{quote(str(row.ext_id), safe='')}"
        stream = row.stream or "contacts"
        # The pre-read may not have seen this contact (outside the master list): read it now
        # (email changes are rare) so its blocklist is carried over in the same request.
        try:
            current = self.ctx.client.get(path, {"identifierType": "ext_id"}) or {}
            self.ctx.count("email_change_reads")
        except BrevoNotFound:
            current = {}
        if not isinstance(current, dict):
            current = {}
        if current.get("emailBlacklisted"):
            row.blocklist = True
        body: dict[str, t.Any] = {"attributes": dict(row.attrs)}
        if row.email:
            body["attributes"]["EMAIL"] = row.email
        if row.sms:
            body["attributes"]["SMS"] = row.sms
        # never back onto a list the contact unsubscribed from (the master list included)
        unsubscribed = {int(x) for x in current.get("listUnsubscribed") or []}
        list_ids = sorted({master, *row.lists} - unsubscribed)
        if list_ids:
            body["listIds"] = list_ids
        if row.blocklist:
            body["emailBlacklisted"] = True
        for _ in range(2):
            try:
                self.ctx.client.request("PUT", path, params={"identifierType": "ext_id"}, body=body)
                self.ctx.count("email_changes")
                row.email_changed = True
                return "ok"
            except BrevoConflict as exc:
                dup = {d.lower() for d in exc.duplicate_identifiers}
                if "sms" in dup and "SMS" in body["attributes"]:
                    self.ctx.rejects.add(
                        stream,
                        row.key,
                        "duplicate_phone",
                        f"SMS {row.sms} belongs to another Brevo contact; written without it",
                        "SMS",
                        written=True,
                    )
                    del body["attributes"]["SMS"]
                    row.sms = None
                    continue
                if not last:
                    return "retry"
                self.ctx.rejects.add(
                    stream,
                    row.key,
                    "duplicate_email",
                    f"cannot change the email of {row.ext_id} to {row.email}: "
                    f"{exc.brevo_message or exc.code} ({', '.join(exc.duplicate_identifiers)})",
                    "email",
                )
                return "failed"
            except BrevoInvalid as exc:
                self.ctx.rejects.add(stream, row.key, exc.code or "invalid", str(exc), "email")
                return "failed"
        return "failed"

