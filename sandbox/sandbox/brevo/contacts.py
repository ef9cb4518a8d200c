"""Brevo's rules for writing one contact: ``POST /contacts``, ``PUT /contacts/{identifier}`` and
list membership (docs/contracts.md §4, notes §2 and §4).

- Unknown attribute names → 400 ``invalid_parameter`` "Attribute X does not exist"; values of the
  wrong type are silently not stored (``attributes.coerce_value``).
- ``EMAIL``, ``SMS`` and ``EXT_ID`` may be given as attributes (``ext_id`` and ``email`` at the
  top level win). An invalid SMS → 400 ``invalid_parameter`` (the SMS format message); an
  invalid email → 400 ``invalid_parameter`` "Invalid email address".
- A clash of any identifier with **another** contact → 400 ``duplicate_parameter`` with
  ``metadata.duplicate_identifiers`` (names ``email``, ``ext_id``, ``SMS``), also with
  ``updateEnabled`` and on ``PUT``; unless ``forceMerge`` is true, which merges: the contact
  modified last survives, the others are deleted and their list memberships move to it.
- ``updateEnabled``: the first identifier given (email, else ``ext_id``, else SMS) names the
  contact (a new one when nobody holds it); any other identifier held by a different contact is
  a clash (so a new email with a taken ``ext_id`` is a 400, not a rename). 204 when it updated.
- ``listIds`` adds (the lists must exist: 400 otherwise), ``unlinkListIds`` removes.
- Changing the email of a blocklisted contact clears ``emailBlacklisted`` unless the same body
  sets ``emailBlacklisted`` explicitly.
- Every write (list membership included) moves ``modifiedAt``.
- An event's ``contact_properties`` update an existing contact (``apply_event_properties``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.brevo import attributes as attrs_mod
from sandbox.brevo.errors import BrevoError, invalid, missing, not_found
from sandbox.brevo.identifiers import (
    SMS_FORMAT_MESSAGE,
    Identifier,
    IdentifierKind,
    is_valid_email,
    normalize_email,
    normalize_sms,
    parse_identifier,
)
from sandbox.brevo.store import Contact, Store

IDENTIFIER_LABELS = {"email": "email", "ext_id": "ext_id", "sms": "SMS"}


@dataclass
class Identifiers:
    """The identifiers a write names (None = not given; "" for sms/ext_id = clear it)."""

    email: str | None = None
    ext_id: str | None = None
    sms: str | None = None


def _duplicate(kinds: list[str], verb: str) -> BrevoError:
    labels = [IDENTIFIER_LABELS[k] for k in kinds]
    what = f"{labels[0]} is" if len(labels) == 1 else " or ".join(labels) + " are"
    return BrevoError(
        400,
        "duplicate_parameter",
        f"Unable to {verb} contact, {what} already associated with another Contact",
        {"duplicate_identifiers": labels},
    )


def _identifiers_from(body: dict[str, Any], attributes: dict[str, Any]) -> Identifiers:
    ids = Identifiers()
    email = body.get("email", attributes.get("EMAIL"))
    if email is not None:
        if not isinstance(email, str) or not is_valid_email(email):
            raise invalid("Invalid email address")
        ids.email = normalize_email(email)
    ext = body.get("ext_id", attributes.get("EXT_ID"))
    if ext is not None:
        if isinstance(ext, bool) or not isinstance(ext, str | int | float):
            raise invalid("ext_id should be a string")
        ids.ext_id = str(ext)
    if "SMS" in attributes:
        raw = attributes["SMS"]
        if raw in ("", None):
            ids.sms = ""
        else:
            sms = normalize_sms(raw)
            if sms is None:
                raise invalid(SMS_FORMAT_MESSAGE)
            ids.sms = sms
    return ids


def _check_attributes(store: Store, attributes: dict[str, Any]) -> dict[str, Any]:
    """The data-attribute values to store (identifiers removed, wrong types dropped)."""
    defs = store.attributes()
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in ("EMAIL", "SMS", "EXT_ID"):
            continue
        attr = defs.get(name)
        if attr is None:
            raise invalid(f"Attribute {name} does not exist")
        coerced = attrs_mod.coerce_value(attr, value)
        if not attrs_mod.is_skip(coerced):
            out[name] = coerced
    return out


def _check_lists(store: Store, ids: list[int], field: str) -> None:
    if not ids:
        return
    unknown = sorted(set(ids) - store.existing_list_ids(ids))
    if unknown:
        raise invalid(f"{field}: list(s) {', '.join(map(str, unknown))} do not exist")


def _owners(store: Store, ids: Identifiers) -> dict[str, Contact]:
    found: dict[str, Contact] = {}
    for kind in ("email", "ext_id", "sms"):
        value = getattr(ids, kind)
        if value:
            c = store.contact_by(kind, value)
            if c is not None:
                found[kind] = c
    return found


def _merge_into(store: Store, survivor: Contact, others: list[Contact]) -> None:
    stamp = store.now()
    for other in others:
        if other.id == survivor.id:
            continue
        pairs = [(lid, survivor.id) for lid in other.list_ids]
        store.delete_contact(other.id)
        store.add_to_lists(pairs, stamp)
        for lid in other.list_ids:
            if lid not in survivor.list_ids:
                survivor.list_ids.append(lid)


def _apply(
    c: Contact,
    ids: Identifiers,
    values: dict[str, Any],
    body: dict[str, Any],
    stamp: str,
) -> None:
    if ids.email is not None and ids.email != c.email:
        if c.email is not None and c.email_blacklisted and "emailBlacklisted" not in body:
            c.email_blacklisted = False
        c.email = ids.email
    if ids.ext_id is not None:
        c.ext_id = ids.ext_id or None
    if ids.sms is not None:
        c.sms = ids.sms or None
    c.attributes.update(values)
    if "emailBlacklisted" in body:
        c.email_blacklisted = bool(body["emailBlacklisted"])
    if "smsBlacklisted" in body:
        c.sms_blacklisted = bool(body["smsBlacklisted"])
    c.modified_at = stamp


def create_contact(store: Store, body: dict[str, Any]) -> tuple[int, int | None]:
    """``POST /contacts``: (status, id) — 201 with the new id, or 204 (None) when it updated."""
    attributes: dict[str, Any] = dict(body.get("attributes") or {})
    values = _check_attributes(store, attributes)
    ids = _identifiers_from(body, attributes)
    if not (ids.email or ids.ext_id or ids.sms):
        raise missing("An email, ext_id or SMS phone number is mandatory to create a new contact")
    list_ids = list(body.get("listIds") or [])
    _check_lists(store, list_ids, "listIds")
    owners = _owners(store, ids)
    update_enabled = bool(body.get("updateEnabled"))
    force = bool(body.get("forceMerge"))
    with store.transaction():
        stamp = store.now()
        target: Contact | None = None
        if owners:
            distinct = {c.id: c for c in owners.values()}
            if force:
                target = max(distinct.values(), key=lambda c: (c.modified_at, c.id))
                _merge_into(store, target, list(distinct.values()))
            elif not update_enabled:
                raise _duplicate([k for k in ("email", "ext_id", "sms") if k in owners], "create")
            else:
                # The first identifier given (email, else ext_id, else SMS) decides which
                # contact this is; a new email with a taken ext_id or SMS is a clash, not a
                # rename (change an email with PUT and attributes.EMAIL).
                primary = next(k for k in ("email", "ext_id", "sms") if getattr(ids, k))
                target = owners.get(primary)
                clashes = [k for k, c in owners.items() if target is None or c.id != target.id]
                if clashes:
                    raise _duplicate(clashes, "create" if target is None else "update")
        if target is None:
            c = Contact(
                id=0, email=None, ext_id=None, sms=None, attributes={},
                email_blacklisted=False, sms_blacklisted=False,
                created_at=stamp, modified_at=stamp,
            )
            _apply(c, ids, values, body, stamp)
            new_id = store.insert_contact(c)
            store.add_to_lists([(lid, new_id) for lid in list_ids], stamp)
            return 201, new_id
        _apply(target, ids, values, body, stamp)
        store.update_contact(target)
        store.add_to_lists([(lid, target.id) for lid in list_ids], stamp)
        return 204, target.id


def find_contact(store: Store, raw: str, identifier_type: str | None, *, allow_sms: bool
                 ) -> Contact:
    """The contact a path identifier names, or 404 ``document_not_found``."""
    try:
        candidates = parse_identifier(raw, identifier_type, allow_sms=allow_sms)
    except ValueError as exc:
        raise invalid(str(exc)) from None
    for cand in candidates:
        c = store.contact_by(cand.kind, cand.value)
        if c is not None:
            return c
    raise not_found("Contact does not exist")


def update_contact(store: Store, contact: Contact, body: dict[str, Any]) -> None:
    """``PUT /contacts/{identifier}`` (204)."""
    attributes: dict[str, Any] = dict(body.get("attributes") or {})
    values = _check_attributes(store, attributes)
    ids = _identifiers_from(body, attributes)
    link = list(body.get("listIds") or [])
    unlink = list(body.get("unlinkListIds") or [])
    _check_lists(store, link + unlink, "listIds")
    owners = {k: c for k, c in _owners(store, ids).items() if c.id != contact.id}
    with store.transaction():
        stamp = store.now()
        if owners:
            if not body.get("forceMerge"):
                raise _duplicate(list(owners), "update")
            everyone = {contact.id: contact, **{c.id: c for c in owners.values()}}
            survivor = max(everyone.values(), key=lambda c: (c.modified_at, c.id))
            _merge_into(store, survivor, list(everyone.values()))
            contact = survivor
        _apply(contact, ids, values, body, stamp)
        store.update_contact(contact)
        store.add_to_lists([(lid, contact.id) for lid in link], stamp)
        store.remove_from_lists([(lid, contact.id) for lid in unlink])


def change_membership(
    store: Store, list_id: int, body: dict[str, Any], *, add: bool
) -> dict[str, Any]:
    """``POST /contacts/lists/{id}/contacts/add|remove``: the ``contacts`` result object.

    Exactly one of ``emails``, ``ids``, ``extIds`` (or ``all: true`` on remove). A failure means
    "already in/out of the list, or no such contact"; when nothing succeeds the answer is 400
    ``invalid_parameter`` (Brevo's "Contact is already present in the selected list or contact
    does not exist in account"; on remove "...not present in the selected list...").
    """
    given = [k for k in ("emails", "ids", "extIds") if body.get(k) is not None]
    if not add and body.get("all") is True:
        if given:
            raise invalid("Pass only one of emails, ids, extIds or all")
        with store.transaction():
            members, _ = store.list_contacts(list_id, 10**9, 0, "asc", None)
            store.remove_from_lists([(list_id, c.id) for c in members])
            store.touch_contacts([c.id for c in members], store.now())
        return {"success": [], "failure": [], "total": len(members)}
    if len(given) != 1:
        if not given:
            raise missing("One of emails, ids or extIds is required")
        raise invalid("Pass only one of emails, ids or extIds")
    key = given[0]
    kind: IdentifierKind = {"emails": "email", "ids": "id", "extIds": "ext_id"}[key]  # type: ignore[assignment]
    success: list[Any] = []
    failure: list[Any] = []
    changed: list[int] = []
    with store.transaction():
        stamp = store.now()
        for raw in body[key]:
            ident = Identifier(kind, normalize_email(raw) if kind == "email" else raw)
            c = store.contact_by(ident.kind, ident.value)
            if c is None:
                failure.append(raw)
                continue
            member = store.is_member(list_id, c.id)
            if add and not member:
                store.add_to_lists([(list_id, c.id)], stamp)
            elif not add and member:
                store.remove_from_lists([(list_id, c.id)])
            else:
                failure.append(raw)
                continue
            success.append(raw)
            changed.append(c.id)
        store.touch_contacts(changed, stamp)
    if not success:
        if add:
            raise invalid(
                "Contact is already present in the selected list or contact does not exist "
                "in account"
            )
        raise invalid(
            "Contact is not present in the selected list or contact does not exist in account"
        )
    return {"success": success, "failure": failure}


EVENT_IDENTIFIERS: tuple[tuple[str, IdentifierKind], ...] = (
    ("contact_id", "id"), ("email_id", "email"), ("ext_id", "ext_id"), ("phone_id", "sms"),
)


def apply_event_properties(store: Store, identifiers: dict[str, Any],
                           properties: dict[str, Any] | None) -> int | None:
    """An event's ``contact_properties`` update the contact it names, if that contact exists.

    The contact is looked up by ``contact_id`` (which takes priority, 2026), else ``email_id``,
    ``ext_id``, ``phone_id``; events never create contacts. Unknown attributes and wrong-typed
    values are ignored (as on import); identifier attributes are not changed. Returns the id of
    the contact updated, or None.
    """
    if not properties:
        return None
    contact: Contact | None = None
    for key, kind in EVENT_IDENTIFIERS:
        raw = identifiers.get(key)
        if raw in (None, ""):
            continue
        value: str | int | None = raw
        if kind == "email":
            value = normalize_email(str(raw))
        elif kind == "sms":
            value = normalize_sms(raw)
        elif kind == "ext_id":
            value = str(raw)
        if value is None:
            continue
        contact = store.contact_by(kind, value)
        if contact is not None:
            break
    if contact is None:
        return None
    defs = store.attributes()
    values: dict[str, Any] = {}
    for name, raw_value in properties.items():
        attr = defs.get(name)
        if attr is None:
            continue
        coerced = attrs_mod.coerce_value(attr, raw_value)
        if not attrs_mod.is_skip(coerced):
            values[name] = coerced
    if not values:
        return None
    with store.transaction():
        contact.attributes.update(values)
        contact.modified_at = store.now()
        store.update_contact(contact)
    return contact.id
