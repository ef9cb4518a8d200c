"""The in-memory account: tables of typed records (dicts keyed by id, in id order), indexes by
contact, and the mutations behind `POST /__sandbox/mutate`.

Every change bumps `version`, which invalidates the row and query caches. Times set by mutations
come from the sandbox clock (UTC epoch seconds).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sandbox.activecampaign.model import (
    Account,
    AccountContact,
    Automation,
    Campaign,
    Contact,
    ContactAutomation,
    ContactList,
    ContactTag,
    Deal,
    DealGroup,
    DealStage,
    Field,
    FieldOption,
    FieldRel,
    FieldValue,
    MailingList,
    Message,
    Tag,
    User,
)

T = TypeVar("T")
#: ops that record an email activity for webhooks (`email_open`, ...) and change no data
ACTIVITY_OPS = ("email_open", "email_click", "email_sent", "email_reply", "email_forward")


class MutationError(ValueError):
    """A mutate op that cannot be applied (unknown id, duplicate email, bad field)."""


CONTACT_FIELD_NAMES = {
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
    "phone": "phone",
    "email": "email",
    "orgname": "orgname",
    "bounced_hard": "bounced_hard",
    "bounced_soft": "bounced_soft",
    "score": "score",
}
CAMPAIGN_FIELDS = {"name", "status", "type", "send_amt", "opens", "uniqueopens", "linkclicks"}
MESSAGE_FIELDS = {"name", "subject", "fromname", "fromemail", "reply2", "html", "text",
                  "preheader_text"}


class Store:
    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self.version = 0
        #: quirk (POST /__sandbox/quirks): child changes move the contact's udate
        self.udate_on_child_change = True
        self.users: dict[int, User] = {}
        self.contacts: dict[int, Contact] = {}
        self.lists: dict[int, MailingList] = {}
        self.contact_lists: dict[int, ContactList] = {}
        self.fields: dict[int, Field] = {}
        self.field_options: dict[int, FieldOption] = {}
        self.field_rels: dict[int, FieldRel] = {}
        self.field_values: dict[int, FieldValue] = {}
        self.tags: dict[int, Tag] = {}
        self.contact_tags: dict[int, ContactTag] = {}
        self.messages: dict[int, Message] = {}
        self.campaigns: dict[int, Campaign] = {}
        self.automations: dict[int, Automation] = {}
        self.contact_automations: dict[int, ContactAutomation] = {}
        self.deal_groups: dict[int, DealGroup] = {}
        self.deal_stages: dict[int, DealStage] = {}
        self.deals: dict[int, Deal] = {}
        self.accounts: dict[int, Account] = {}
        self.account_contacts: dict[int, AccountContact] = {}
        # indexes
        self.contact_ids: list[int] = []
        self.email_index: dict[str, int] = {}
        self.lists_by_contact: dict[int, list[int]] = {}
        self.tags_by_contact: dict[int, list[int]] = {}
        self.values_by_contact: dict[int, dict[int, int]] = {}
        self.automations_by_contact: dict[int, list[int]] = {}
        self.accounts_by_contact: dict[int, list[int]] = {}
        self.deals_by_contact: dict[int, list[int]] = {}
        self._next_id: dict[str, int] = {}
        self._rows: dict[str, tuple[int, list[Any]]] = {}
        #: the generic catalog resources (catalog.py): data key -> id -> row
        self.catalog: dict[str, dict[int, dict[str, Any]]] = {}

    # ----- indexes and caches -------------------------------------------------------------
    def build_indexes(self) -> None:
        self.contact_ids = sorted(self.contacts)
        self.email_index = {c.email.lower(): c.id for c in self.contacts.values()}
        self.lists_by_contact = {}
        for m in self.contact_lists.values():
            self.lists_by_contact.setdefault(m.contact, []).append(m.id)
        self.tags_by_contact = {}
        for ct in self.contact_tags.values():
            self.tags_by_contact.setdefault(ct.contact, []).append(ct.id)
        self.values_by_contact = {}
        for fv in self.field_values.values():
            self.values_by_contact.setdefault(fv.contact, {})[fv.field] = fv.id
        self.automations_by_contact = {}
        for ca in self.contact_automations.values():
            self.automations_by_contact.setdefault(ca.contact, []).append(ca.id)
        self.accounts_by_contact = {}
        for ac in self.account_contacts.values():
            self.accounts_by_contact.setdefault(ac.contact, []).append(ac.id)
        self.deals_by_contact = {}
        for d in self.deals.values():
            self.deals_by_contact.setdefault(d.contact, []).append(d.id)
        for name in (
            "users", "contacts", "lists", "contact_lists", "fields", "field_options",
            "field_rels", "field_values", "tags", "contact_tags", "messages", "campaigns",
            "automations", "contact_automations", "deal_groups", "deal_stages", "deals",
            "accounts", "account_contacts",
        ):
            table: dict[int, Any] = getattr(self, name)
            self._next_id[name] = (max(table) if table else 0) + 1
        self.version += 1

    def rows(self, table: str) -> list[Any]:
        """The records of a table in id order (cached until the next change)."""
        cached = self._rows.get(table)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        values = list(getattr(self, table).values())
        self._rows[table] = (self.version, values)
        return values

    def _new_id(self, table: str) -> int:
        nid = self._next_id[table]
        self._next_id[table] = nid + 1
        return nid

    def _changed(self) -> None:
        self.version += 1

    # ----- lookups -------------------------------------------------------------------------
    def contact(self, contact_id: int) -> Contact:
        c = self.contacts.get(int(contact_id))
        if c is None:
            raise MutationError(f"no contact with id {contact_id}")
        return c

    def memberships_of(self, contact_id: int) -> list[ContactList]:
        return [self.contact_lists[i] for i in self.lists_by_contact.get(contact_id, ())]

    def contact_tags_of(self, contact_id: int) -> list[ContactTag]:
        return [self.contact_tags[i] for i in self.tags_by_contact.get(contact_id, ())]

    def field_values_of(self, contact_id: int) -> list[FieldValue]:
        ids = sorted(self.values_by_contact.get(contact_id, {}).values())
        return [self.field_values[i] for i in ids]

    def automations_of(self, contact_id: int) -> list[ContactAutomation]:
        ids = self.automations_by_contact.get(contact_id, ())
        return [self.contact_automations[i] for i in ids]

    def deals_of(self, contact_id: int) -> list[Deal]:
        return [self.deals[i] for i in self.deals_by_contact.get(contact_id, ())]

    def tag_names_of(self, contact_id: int) -> list[str]:
        return sorted(self.tags[ct.tag].tag for ct in self.contact_tags_of(contact_id))

    def find_tag(self, tag: Any) -> Tag | None:
        if isinstance(tag, int) or (isinstance(tag, str) and tag.isdigit()):
            return self.tags.get(int(tag))
        name = str(tag).strip().lower()
        for t in self.tags.values():
            if t.tag.lower() == name:
                return t
        return None

    def find_field(self, field: Any) -> Field:
        if isinstance(field, int) or (isinstance(field, str) and field.isdigit()):
            f = self.fields.get(int(field))
        else:
            key = str(field).strip("%").upper()
            f = next((x for x in self.fields.values() if x.perstag.upper() == key), None)
        if f is None:
            raise MutationError(f"no custom field {field!r}")
        return f

    def local_date(self, ts: int) -> str:
        return datetime.fromtimestamp(ts, self.tz).strftime("%Y-%m-%d")

    # ----- mutations -----------------------------------------------------------------------
    def _touch_contact(self, c: Contact, now: int) -> None:
        c.udate = now

    def _touch_for_child(self, c: Contact, now: int) -> None:
        """A membership, tag or field-value change: moves the contact's udate unless the
        ``udate_on_child_change`` quirk is off (real AC does not document it for every kind)."""
        if self.udate_on_child_change:
            c.udate = now

    def update_contact(self, contact_id: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        for key, value in fields.items():
            attr = CONTACT_FIELD_NAMES.get(key)
            if attr is None:
                raise MutationError(f"unknown contact field {key!r}")
            if attr == "email":
                self._set_email(c, str(value))
            elif attr in ("bounced_hard", "bounced_soft", "score"):
                setattr(c, attr, int(value))
            else:
                setattr(c, attr, None if value is None and attr == "orgname" else str(value or ""))
        if "firstName" in fields or "first_name" in fields or "lastName" in fields \
                or "last_name" in fields:
            for m in self.memberships_of(c.id):
                m.first_name, m.last_name = c.first_name, c.last_name
        self._touch_contact(c, now)
        self._changed()
        return {"id": c.id}

    def _set_email(self, c: Contact, email: str) -> None:
        email = email.strip()
        if "@" not in email:
            raise MutationError(f"invalid email {email!r}")
        key = email.lower()
        owner = self.email_index.get(key)
        if owner is not None and owner != c.id:
            raise MutationError(f"email {email!r} already exists (contact {owner})")
        self.email_index.pop(c.email.lower(), None)
        c.email = email
        self.email_index[key] = c.id

    def change_email(self, contact_id: int, email: str, now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        self._set_email(c, email)
        self._touch_contact(c, now)
        self._changed()
        return {"id": c.id}

    def create_contact(self, fields: dict[str, Any], now: int) -> dict[str, Any]:
        email = str(fields.get("email") or "").strip()
        if "@" not in email:
            raise MutationError("create_contact needs an email")
        if email.lower() in self.email_index:
            raise MutationError(f"email {email!r} already exists")
        cid = self._new_id("contacts")
        c = Contact(
            id=cid,
            email=email,
            phone=str(fields.get("phone") or ""),
            first_name=str(fields.get("firstName") or fields.get("first_name") or ""),
            last_name=str(fields.get("lastName") or fields.get("last_name") or ""),
            cdate=now,
            udate=now,
            orgname=fields.get("orgname"),
            hash=f"{cid:032x}",
            created_by=1,
            updated_by=1,
        )
        self.contacts[cid] = c
        self.contact_ids.append(cid)  # ids only grow, so the list stays sorted
        self.email_index[email.lower()] = cid
        self._changed()
        return {"id": cid}

    def import_contact(self, op: dict[str, Any], now: int) -> dict[str, Any]:
        """A contact as an import leaves it: created now, its memberships (active), tags and
        field values set, and its ``udate`` null (never updated), as on real accounts."""
        out = self.create_contact(op.get("fields") or {}, now)
        cid = int(out["id"])
        for list_id in op.get("lists") or []:
            self.subscribe(cid, list_id, now)
        for tag in op.get("tags") or []:
            self.add_tag(cid, tag, now)
        for field_key, value in (op.get("field_values") or {}).items():
            self.set_field_value(cid, field_key, value, now)
        self.contacts[cid].udate = None
        self._changed()
        return out

    def delete_contact(self, contact_id: int, now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        cid = c.id
        del self.contacts[cid]
        i = bisect.bisect_left(self.contact_ids, cid)
        if i < len(self.contact_ids) and self.contact_ids[i] == cid:
            del self.contact_ids[i]
        self.email_index.pop(c.email.lower(), None)
        for mid in self.lists_by_contact.pop(cid, []):
            self.contact_lists.pop(mid, None)
        for tid in self.tags_by_contact.pop(cid, []):
            self.contact_tags.pop(tid, None)
        for fid in self.values_by_contact.pop(cid, {}).values():
            self.field_values.pop(fid, None)
        for aid in self.automations_by_contact.pop(cid, []):
            self.contact_automations.pop(aid, None)
        for acid in self.accounts_by_contact.pop(cid, []):
            self.account_contacts.pop(acid, None)
        self._changed()
        return {"id": cid, "deleted": True}

    def delete_list(self, list_id: int, now: int) -> dict[str, Any]:
        """The list and everything hanging off it: memberships, its custom-field relations,
        its place in campaigns. Members' ``udate`` does not move (undocumented: the unkind
        reading, so only a complete id scan can tell)."""
        lst = self._get(self.lists, list_id, "list")
        del self.lists[lst.id]
        gone = [m for m in self.contact_lists.values() if m.list == lst.id]
        for m in gone:
            del self.contact_lists[m.id]
            ids = self.lists_by_contact.get(m.contact)
            if ids is not None and m.id in ids:
                ids.remove(m.id)
        for rel in [r for r in self.field_rels.values() if r.relid == lst.id]:
            del self.field_rels[rel.id]
        for camp in self.campaigns.values():
            if lst.id in camp.list_ids:
                camp.list_ids = [i for i in camp.list_ids if i != lst.id]
        self._changed()
        return {"id": lst.id, "deleted": True, "memberships": len(gone)}

    def delete_tag(self, tag: Any, now: int) -> dict[str, Any]:
        """The tag and every contact's use of it; the contacts' ``udate`` does not move."""
        t = self.find_tag(tag)
        if t is None:
            raise MutationError(f"no tag {tag!r}")
        del self.tags[t.id]
        gone = [ct for ct in self.contact_tags.values() if ct.tag == t.id]
        for ct in gone:
            del self.contact_tags[ct.id]
            ids = self.tags_by_contact.get(ct.contact)
            if ids is not None and ct.id in ids:
                ids.remove(ct.id)
        self._changed()
        return {"id": t.id, "deleted": True, "contact_tags": len(gone)}

    def _membership(self, contact_id: int, list_id: int) -> ContactList | None:
        for m in self.memberships_of(contact_id):
            if m.list == list_id:
                return m
        return None

    def _set_membership(self, contact_id: int, list_id: int, status: int, now: int,
                        reason: str | None = None) -> dict[str, Any]:
        c = self.contact(contact_id)
        if int(list_id) not in self.lists:
            raise MutationError(f"no list with id {list_id}")
        list_id = int(list_id)
        m = self._membership(c.id, list_id)
        if m is None:
            m = ContactList(
                id=self._new_id("contact_lists"), contact=c.id, list=list_id, status=status,
                sdate=now, udate=now, cdate=now, first_name=c.first_name, last_name=c.last_name,
            )
            self.contact_lists[m.id] = m
            self.lists_by_contact.setdefault(c.id, []).append(m.id)
        else:
            m.status = status
            m.udate = now
            if status == 1:
                m.sdate = now
        m.unsubreason = reason if status == 2 else None
        self._touch_for_child(c, now)
        self._changed()
        return {"id": m.id, "contact": c.id, "list": list_id, "status": status}

    def subscribe(self, contact_id: int, list_id: int, now: int) -> dict[str, Any]:
        return self._set_membership(contact_id, list_id, 1, now)

    def unsubscribe(self, contact_id: int, list_id: int, now: int) -> dict[str, Any]:
        return self._set_membership(contact_id, list_id, 2, now, reason="Unsubscribed by sandbox")

    def bounce(self, contact_id: int, list_id: int, now: int) -> dict[str, Any]:
        out = self._set_membership(contact_id, list_id, 3, now)
        c = self.contact(contact_id)
        c.bounced_hard = 1
        c.bounced_date = self.local_date(now)
        self._touch_contact(c, now)  # the contact's own fields changed
        return out

    def add_tag(self, contact_id: int, tag: Any, now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        t = self.find_tag(tag)
        if t is None:
            if isinstance(tag, int) or str(tag).isdigit():
                raise MutationError(f"no tag with id {tag}")
            t = Tag(id=self._new_id("tags"), tag=str(tag), tag_type="contact", description="",
                    cdate=now, udate=now)
            self.tags[t.id] = t
        for ct in self.contact_tags_of(c.id):
            if ct.tag == t.id:
                return {"id": ct.id, "tag": t.id, "created": False}
        ct = ContactTag(id=self._new_id("contact_tags"), contact=c.id, tag=t.id, cdate=now)
        self.contact_tags[ct.id] = ct
        self.tags_by_contact.setdefault(c.id, []).append(ct.id)
        self._touch_for_child(c, now)
        self._changed()
        return {"id": ct.id, "tag": t.id, "created": True}

    def remove_tag(self, contact_id: int, tag: Any, now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        t = self.find_tag(tag)
        if t is None:
            raise MutationError(f"no tag {tag!r}")
        ids = self.tags_by_contact.get(c.id, [])
        for ctid in list(ids):
            if self.contact_tags[ctid].tag == t.id:
                ids.remove(ctid)
                del self.contact_tags[ctid]
                self._touch_for_child(c, now)
                self._changed()
                return {"id": ctid, "removed": True}
        return {"id": None, "removed": False}

    def set_field_value(self, contact_id: int, field: Any, value: Any, now: int) -> dict[str, Any]:
        c = self.contact(contact_id)
        f = self.find_field(field)
        if isinstance(value, list):
            value = "||" + "||".join(str(v) for v in value) + "||" if value else ""
        value = "" if value is None else str(value)
        by_field = self.values_by_contact.setdefault(c.id, {})
        fvid = by_field.get(f.id)
        if fvid is None:
            fv = FieldValue(id=self._new_id("field_values"), contact=c.id, field=f.id,
                            value=value, cdate=now, udate=now)
            self.field_values[fv.id] = fv
            by_field[f.id] = fv.id
        else:
            fv = self.field_values[fvid]
            fv.value = value
            fv.udate = now
        self._touch_for_child(c, now)
        self._changed()
        return {"id": fv.id}

    def set_user_zone(self, user_id: int, zone: Any) -> dict[str, Any]:
        """A user's personal ``localZoneid`` (not the account zone); null unsets it."""
        user = self._get(self.users, user_id, "user")
        user.local_zone_id = None if zone is None else str(zone)
        self._changed()
        return {"id": user.id, "localZoneid": user.local_zone_id}

    def rename_list(self, list_id: int, name: str, now: int) -> dict[str, Any]:
        lst = self._get(self.lists, list_id, "list")
        lst.name = str(name)
        lst.udate = now
        self._changed()
        return {"id": lst.id}

    def update_campaign(self, campaign_id: int, fields: dict[str, Any], now: int
                        ) -> dict[str, Any]:
        camp = self._get(self.campaigns, campaign_id, "campaign")
        self._apply(camp, fields, CAMPAIGN_FIELDS, {"status", "send_amt", "opens", "uniqueopens",
                                                    "linkclicks"})
        camp.mdate = now
        self._changed()
        return {"id": camp.id}

    def update_message(self, message_id: int, fields: dict[str, Any], now: int) -> dict[str, Any]:
        msg = self._get(self.messages, message_id, "message")
        self._apply(msg, fields, MESSAGE_FIELDS, set())
        msg.mdate = now
        self._changed()
        return {"id": msg.id}

    def email_activity(self, contact_id: int, campaign_id: Any) -> dict[str, Any]:
        """An open, click, send, reply or forward: nothing in the data changes (the API shows
        no per-contact activity here); only webhooks announce it."""
        c = self.contact(contact_id)
        if campaign_id is not None:
            self._get(self.campaigns, campaign_id, "campaign")
        return {"contact": c.id, "campaign": None if campaign_id is None else int(campaign_id)}

    @staticmethod
    def _get(table: dict[int, T], key: Any, what: str) -> T:
        try:
            return table[int(key)]
        except (KeyError, TypeError, ValueError):
            raise MutationError(f"no {what} with id {key}") from None

    @staticmethod
    def _apply(obj: Any, fields: dict[str, Any], allowed: set[str], ints: set[str]) -> None:
        for key, value in fields.items():
            if key not in allowed:
                raise MutationError(f"field {key!r} cannot be updated")
            setattr(obj, key, int(value) if key in ints else str(value))

    def apply_op(self, op: dict[str, Any], now: int) -> dict[str, Any]:
        """Apply one mutate op (contracts §2)."""
        name = op.get("op")
        handlers: dict[str, Callable[[], dict[str, Any]]] = {
            "update_contact": lambda: self.update_contact(op["id"], op.get("fields") or {}, now),
            "change_email": lambda: self.change_email(op["id"], op["email"], now),
            "create_contact": lambda: self.create_contact(op.get("fields") or {}, now),
            "import_contact": lambda: self.import_contact(op, now),
            "delete_contact": lambda: self.delete_contact(op["id"], now),
            "delete_list": lambda: self.delete_list(op["id"], now),
            "delete_tag": lambda: self.delete_tag(op["tag"], now),
            "subscribe": lambda: self.subscribe(op["contact"], op["list"], now),
            "unsubscribe": lambda: self.unsubscribe(op["contact"], op["list"], now),
            "bounce": lambda: self.bounce(op["contact"], op["list"], now),
            "add_tag": lambda: self.add_tag(op["contact"], op["tag"], now),
            "remove_tag": lambda: self.remove_tag(op["contact"], op["tag"], now),
            "set_field_value": lambda: self.set_field_value(
                op["contact"], op["field"], op.get("value"), now
            ),
            "rename_list": lambda: self.rename_list(op["id"], op["name"], now),
            "set_user_zone": lambda: self.set_user_zone(op["id"], op.get("zone")),
            "update_campaign": lambda: self.update_campaign(op["id"], op.get("fields") or {},
                                                            now),
            "update_message": lambda: self.update_message(op["id"], op.get("fields") or {}, now),
            **{name: (lambda: self.email_activity(op["contact"], op.get("campaign")))
               for name in ACTIVITY_OPS},
        }
        if name in {"catalog_touch", "catalog_add"}:
            from sandbox.activecampaign import catalog

            handlers[str(name)] = lambda: catalog.apply_op(self, op, now)
        handler = handlers.get(str(name))
        if handler is None:
            raise MutationError(f"unknown op {name!r}")
        try:
            return handler()
        except KeyError as exc:
            raise MutationError(f"op {name!r} needs {exc.args[0]!r}") from None
