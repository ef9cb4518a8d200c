"""List memberships: staged membership rows into list changes, and the 150-per-call adds
and removals that no import carried (a failed add is read back before it is a reject)."""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import quote

from target_brevo.errors import BrevoInvalid, BrevoNotFound
from target_brevo.serialize import to_jsonable
from target_brevo.writers.contacts.rows import prefix_for

if t.TYPE_CHECKING:
    from target_brevo.context import WriteContext
    from target_brevo.staged import Staged
    from target_brevo.writers.contacts.rows import ContactBatch

LOGGER = logging.getLogger("target_brevo.contacts")

ADD, REMOVE, BOUNCE, NOTHING = "add", "remove", "bounce", "nothing"
LIST_CALL_IDS = 150  # EXT_IDs per `POST /contacts/lists/{id}/contacts/add` (or remove)
DEFAULT_STATUS_MAP = {"1": ADD, "2": REMOVE, "3": BOUNCE, "0": NOTHING}


class Memberships:
    """A flush's list memberships: read from the staged rows, then written."""

    def __init__(self, ctx: WriteContext, batch: ContactBatch) -> None:
        self.ctx = ctx
        self.batch = batch

    def add(self, staged: Staged) -> None:
        mapping = staged.mapping
        prefix = prefix_for(self.ctx.settings, mapping)
        status_map = {
            **DEFAULT_STATUS_MAP,
            **{str(k): v for k, v in (mapping.get("status_map") or {}).items()},
        }
        status_field = mapping.get("status", "status")
        order_field = mapping.get("order_by", "udate")
        latest: dict[tuple[str, str], tuple[t.Any, str, t.Any]] = {}
        for record in staged.records:  # keep the latest; on a tie consent (remove) wins
            contact, src_list = record.get(mapping["contact"]), record.get(mapping["list"])
            if contact is None or src_list is None:
                continue
            action = (
                status_map.get(str(record.get(status_field, 1)), NOTHING) if status_field else ADD
            )
            k = (str(contact), str(src_list))
            order = record.get(order_field)
            order_key = to_jsonable(order) if order is not None else ""
            prev = latest.get(k)
            if prev is not None:
                prev_order = prev[0]
                if str(order_key) < str(prev_order):
                    continue
                if (
                    str(order_key) == str(prev_order)
                    and prev[1] in (REMOVE, BOUNCE)
                    and action == ADD
                ):
                    continue
            latest[k] = (order_key, action, record.get("id", k))
        for (contact, src_list), (_o, action, key) in latest.items():
            if action == NOTHING:
                continue
            ext_id = f"{prefix}{contact}"
            if ext_id in self.ctx.rejected_contacts:
                continue
            list_id = self.ctx.resolver.find_list(self.ctx.resolver.list_key(src_list))
            if list_id is None:
                self.ctx.rejects.add(
                    staged.stream, key, "unknown_list", f"list {src_list} is not in Brevo", "list"
                )
                continue
            row = self.batch.rows.get(ext_id)
            if action == ADD:
                self.batch.add_origin[(list_id, ext_id)] = (staged.stream, key)
                if row is not None:
                    row.lists.add(list_id)
                else:
                    self.batch.adds.setdefault(list_id, set()).add(ext_id)
            else:
                self.batch.removes.setdefault(list_id, set()).add(ext_id)
                self.batch.adds.get(list_id, set()).discard(ext_id)
                if row is not None:
                    row.lists.discard(list_id)
                if action == BOUNCE:
                    if row is not None:
                        row.blocklist = True
                    else:
                        self.batch.blocklist_only.add(ext_id)

    def write(self) -> None:
        """Remaining adds and all removals: `LIST_CALL_IDS` EXT_IDs per call."""
        for list_id, ext_ids in sorted(self.batch.adds.items()):
            ids = sorted(e for e in ext_ids if e not in self.ctx.rejected_contacts)
            for i in range(0, len(ids), LIST_CALL_IDS):
                self._list_call(list_id, "add", ids[i : i + LIST_CALL_IDS])
        for list_id, ext_ids in sorted(self.batch.removes.items()):
            ids = sorted(ext_ids)
            for i in range(0, len(ids), LIST_CALL_IDS):
                self._list_call(list_id, "remove", ids[i : i + LIST_CALL_IDS])

    def _list_call(self, list_id: int, op: str, ext_ids: list[str]) -> None:
        try:
            resp = self.ctx.client.request(
                "POST",
                f"/contacts/lists/{list_id}/contacts/{op}",
                body={"extIds": ext_ids},
                idempotent=True,  # adding/removing the same ids again changes nothing
            )
            self.ctx.count(f"list_{op}_calls")
            contacts = resp.body.get("contacts") if isinstance(resp.body, dict) else None
            failed = [str(x) for x in ((contacts or {}).get("failure") or [])]
            reason = None
        except BrevoInvalid as exc:
            # Brevo answers 400 when no id succeeded: every id failed
            failed, reason = list(ext_ids), exc.brevo_message or exc.code
        if not failed:
            return
        if op == "remove":
            # "not in the list or no such contact": either way it is not on the list
            LOGGER.info("list %s remove: %d ids were not on it", list_id, len(failed))
            return
        self._failed_adds(list_id, failed, reason)

    def _failed_adds(self, list_id: int, ext_ids: list[str], reason: str | None) -> None:
        """Brevo did not add these contacts: each is read back (failures are rare); one that
        is on the list (or unsubscribed from it) is fine, any other is a reject."""
        for ext in ext_ids:
            try:
                path = f"/contacts/{quote(ext, safe='')}"
                contact = self.ctx.client.get(path, {"identifierType": "ext_id"}) or {}
            except BrevoNotFound:
                contact = None
            stream, key = self.batch.add_origin.get((list_id, ext)) or self._origin_of(ext)
            if contact is None:
                self.ctx.rejects.add(
                    stream,
                    key,
                    "unknown_contact",
                    f"contact {ext} is not in Brevo; not added to list {list_id}",
                    "list",
                )
                continue
            on = {int(x) for x in contact.get("listIds") or []}
            on |= {int(x) for x in contact.get("listUnsubscribed") or []}
            if list_id not in on:
                self.ctx.rejects.add(
                    stream,
                    key,
                    "list_add_failed",
                    f"Brevo did not add {ext} to list {list_id}: {reason or 'listed in failure'}",
                    "list",
                )

    def _origin_of(self, ext_id: str) -> tuple[str, t.Any]:
        row = self.batch.rows.get(ext_id)
        if row is not None:
            return row.stream or "contacts", row.key if row.key is not None else ext_id
        return "contacts", ext_id
