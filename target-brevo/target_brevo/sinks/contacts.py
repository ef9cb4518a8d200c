"""Contacts, their attribute values, list memberships and blocklisting through imports.

One flush turns the staged contacts, custom-field values and memberships into
`POST /contacts/import` jsonBody rows keyed by `attributes.EXT_ID` (+ email), partitioned
by the lists the rows join, in chunks under the byte limit. A batch counts as written only
when its import has completed and its report has been read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import time
import typing as t
from dataclasses import dataclass, field
from urllib.parse import quote

from target_brevo.conversions import (
    ConversionError,
    attribute_name,
    brevo_type_for_schema,
    convert,
    normalise_email,
    normalise_phone,
    same_value,
    split_multi,
    tags_value,
)
from target_brevo.errors import BrevoConflict, BrevoInvalid, BrevoNotFound, BrevoSystemic
from target_brevo.options import missing_labels, unrepresentable
from target_brevo.serialize import dumps, to_jsonable
from target_brevo.tags import TagSync

if t.TYPE_CHECKING:
    from target_brevo.sync import Staged, Syncer
    from target_brevo.tags import TagChange

LOGGER = logging.getLogger("target_brevo.contacts")

ADD, REMOVE, BOUNCE, NOTHING = "add", "remove", "bounce", "nothing"
_REJECTED = object()  # a value that could not be converted (and was reported)
DEFAULT_STATUS_MAP = {"1": ADD, "2": REMOVE, "3": BOUNCE, "0": NOTHING}


@dataclass
class Row:
    """One contact as it goes into an import."""

    ext_id: str | None
    email: str | None = None
    sms: str | None = None
    attrs: dict[str, t.Any] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    lists: set[int] = field(default_factory=set)
    blocklist: bool = False
    stream: str = ""
    key: t.Any = None
    full: bool = False  # built from a contacts record (not only values/memberships)
    email_changed: bool = False
    # the contact unsubscribed from the master list: never in an import (which would add it
    # back), written with one PUT instead
    no_master: bool = False
    # tags from contact_tags rows, applied to what Brevo holds once the pre-read is in
    tag_change: TagChange | None = None

    def body(self, *, with_sms: bool = True) -> dict[str, t.Any]:
        attributes: dict[str, t.Any] = {}
        if self.ext_id:
            attributes["EXT_ID"] = self.ext_id
        if self.sms and with_sms:
            attributes["SMS"] = self.sms
        attributes.update(self.attrs)
        out: dict[str, t.Any] = {"attributes": attributes}
        if self.email:
            out["email"] = self.email
        return out


@dataclass
class Import:
    """One submitted import and the rows it carries, in jsonBody order."""

    rows: list[Row]
    list_ids: list[int]
    blocklist: bool
    process_id: int | None = None
    submitted_at: float = 0.0
    status: str = "queued"
    info: dict[str, t.Any] = field(default_factory=dict)
    # False when the report could not be read as documented (no URLs, no CSV header): its
    # rows count as written only when the read-back finds them
    report_trusted: bool = True


def _key_value(record: t.Mapping[str, t.Any], keys: list[str]) -> t.Any:
    values = [record.get(k) for k in keys]
    if any(v is None for v in values):
        return None
    return values[0] if len(values) == 1 else tuple(values)


def _key_text(value: t.Any) -> str:
    if isinstance(value, tuple):
        return ":".join(str(v) for v in value)
    return str(value)


class ContactWriter:
    """Writes one flush's contacts, values, memberships and blocklists."""

    def __init__(self, syncer: Syncer) -> None:
        self.s = syncer
        self.cfg = syncer.config
        self.client = syncer.client
        self.resolver = syncer.resolver
        self.rejects = syncer.rejects
        self.rows: dict[str, Row] = {}  # by ext_id (or "email:<email>")
        self.adds: dict[int, set[str]] = {}
        self.removes: dict[int, set[str]] = {}
        self.blocklist_only: set[str] = set()
        self.existing: dict[str, dict[str, t.Any]] = {}
        # (list id, ext_id) → (stream, source key) of the membership, for rejects
        self.add_origin: dict[tuple[int, str], tuple[str, t.Any]] = {}
        # values that need an option added to their attribute: (row key, attribute, labels,
        # stream, source key, field, rest of the record written), for rejects if Brevo refuses
        self.option_uses: list[tuple[str, str, list[str], str, t.Any, str, bool]] = []

    # -- building rows ---------------------------------------------------------------------
    def prefix_for(self, mapping: t.Mapping[str, t.Any]) -> str:
        return str(mapping.get("ext_id_prefix") or self.cfg.get("ext_id_prefix") or "ac-")

    def _contact_fields(self, staged: Staged) -> dict[str, tuple[str, str | None]]:
        """source field → (attribute name, declared type or None)."""
        mapping = staged.mapping
        fields = mapping.get("fields")
        out: dict[str, tuple[str, str | None]] = {}
        if fields is None:  # any tap: every other scalar property becomes an attribute
            skip = {
                mapping.get("email", "email"),
                mapping.get("phone", "phone"),
                mapping.get("tags"),
                mapping.get("blocklist_when"),
                *staged.key_properties,
            }
            for name, prop in (staged.schema.get("properties") or {}).items():
                if name in skip or name.startswith("_sdc_"):
                    continue
                out[name] = (attribute_name(name), brevo_type_for_schema(prop))
            return out
        for src, spec in fields.items():
            if isinstance(spec, str):
                out[src] = (attribute_name(spec), None)
            else:
                out[src] = (attribute_name(spec.get("attribute", src)), spec.get("type"))
        return out

    def _typed_attribute(
        self, name: str, declared: str | None, prop: t.Mapping[str, t.Any]
    ) -> t.Any:
        typ = declared or brevo_type_for_schema(prop)
        return self.resolver.ensure_attribute(name, typ)

    def add_contacts(self, staged: Staged) -> None:
        mapping = staged.mapping
        prefix = self.prefix_for(mapping)
        email_field = mapping.get("email", "email")
        phone_field = mapping.get("phone", "phone")
        tags_field = mapping.get("tags")
        block_field = mapping.get("blocklist_when")
        region = self.cfg.get("default_phone_region")
        fields = self._contact_fields(staged)
        props = staged.schema.get("properties") or {}
        attrs = {
            src: self._typed_attribute(name, declared, props.get(src, {}))
            for src, (name, declared) in fields.items()
        }
        tags_attr = None
        if tags_field:
            tags_attr = self.resolver.ensure_attribute(
                attribute_name(mapping.get("tags_attribute", "AC_TAGS")), "text"
            )
        for record in staged.deduped():
            key = _key_value(record, staged.key_properties) if staged.key_properties else None
            key_text = _key_text(key) if key is not None else None
            ext_id = f"{prefix}{key_text}" if key_text is not None else None
            email, reason = normalise_email(record.get(email_field))
            sms, phone_reason = (None, None)
            if phone_field and phone_field in record:
                sms, phone_reason = normalise_phone(record.get(phone_field), region)
            if email is None:
                self.rejects.add(staged.stream, key, "invalid_email", str(reason), email_field)
                if ext_id:
                    self.s.rejected_contacts.add(ext_id)
                continue
            row_key = ext_id or f"email:{email}"
            row = self.rows.get(row_key) or Row(ext_id=ext_id)
            row.email, row.full, row.stream, row.key = email, True, staged.stream, key
            if phone_reason:
                self.rejects.add(
                    staged.stream, key, "invalid_phone", phone_reason, phone_field, written=True
                )
            elif sms:
                row.sms = sms
            for src, attr in attrs.items():
                if src not in record:
                    continue  # only fields the source actually sent
                value = self._converted(
                    staged, key, attr, record[src], src, written=True, row_key=row_key
                )
                if value is _REJECTED:
                    continue
                row.attrs[attr.name] = value
                row.types[attr.name] = attr.type
            if tags_attr is not None and tags_field in record:
                row.attrs[tags_attr.name] = tags_value(record.get(tags_field))
                row.types[tags_attr.name] = "text"
            if tags_attr is not None and ext_id:
                self.s.tags.note_contact(
                    ext_id, tags_attr.name, carries_tags=tags_field in record
                )
            if block_field and record.get(block_field):
                try:
                    row.blocklist = bool(float(record[block_field]))
                except (TypeError, ValueError):
                    row.blocklist = bool(record[block_field])
            self.rows[row_key] = row

    def _converted(
        self,
        staged: Staged,
        key: t.Any,
        attr: t.Any,
        raw: t.Any,
        field: str,
        *,
        written: bool,
        row_key: str,
    ) -> t.Any:
        """`raw` converted to the attribute's type, or `_REJECTED` after an `invalid_value`
        reject naming the field (`written`: whether the rest of the record is still written).

        Options the value names that the attribute lacks are added to it (in memory; written
        once per attribute by `apply_attribute_updates`), unless Brevo cannot hold them."""
        missing = missing_labels(raw, attr)
        if missing:
            why = next((w for label in missing if (w := unrepresentable(label))), None)
            if why is not None:
                self.rejects.add(
                    staged.stream,
                    key,
                    "invalid_value",
                    f"{attr.name} ({attr.type}): {why}",
                    field,
                    written=written,
                )
                return _REJECTED
            self.resolver.add_options(attr, missing)
            self.option_uses.append(
                (row_key, attr.name, missing, staged.stream, key, field, written)
            )
        try:
            return convert(
                raw, attr.type, enumeration=attr.enum_lookup(), options=attr.options or None
            )
        except ConversionError as exc:
            self.rejects.add(
                staged.stream,
                key,
                "invalid_value",
                f"{attr.name} ({attr.type}): {exc}",
                field,
                written=written,
            )
            return _REJECTED

    def add_values(self, staged: Staged) -> None:
        """contact_attribute_values: one record = one (contact, field, value)."""
        mapping = staged.mapping
        prefix = self.prefix_for(mapping)
        registry = self.s.fields
        for record in staged.deduped(key_fields=[mapping["contact"], mapping["field"]]):
            contact = record.get(mapping["contact"])
            field_id = str(record.get(mapping["field"]))
            key = _key_value(record, staged.key_properties) or (contact, field_id)
            ext_id = f"{prefix}{contact}"
            if ext_id in self.s.rejected_contacts:
                self.rejects.add(
                    staged.stream, key, "contact_rejected", f"contact {ext_id} was rejected"
                )
                continue
            fdef = registry.fields.get(field_id)
            if fdef is None:
                self.rejects.add(
                    staged.stream,
                    key,
                    "unknown_field",
                    f"custom field {field_id} was not defined in this run",
                    field_id,
                )
                continue
            attr = self.resolver.ensure_attribute(fdef.name, fdef.brevo_type)
            raw = record.get(mapping.get("value", "value"))
            to_label = fdef.value_to_label()
            if attr.type == "multiple-choice":
                raw = [to_label.get(v.lower(), v) for v in split_multi(raw or "")]
            elif attr.type == "category" and raw not in (None, ""):
                raw = to_label.get(str(raw).lower(), raw)
            value = self._converted(
                staged, key, attr, raw, attr.name, written=False, row_key=ext_id
            )
            if value is _REJECTED:
                continue
            row = self.rows.get(ext_id)
            if row is None:
                row = self.rows[ext_id] = Row(ext_id=ext_id, stream=staged.stream, key=contact)
            row.attrs[attr.name] = value
            row.types[attr.name] = attr.type

    def add_memberships(self, staged: Staged) -> None:
        mapping = staged.mapping
        prefix = self.prefix_for(mapping)
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
            if ext_id in self.s.rejected_contacts:
                continue
            list_id = self.resolver.find_list(self.resolver.list_key(src_list))
            if list_id is None:
                self.rejects.add(
                    staged.stream, key, "unknown_list", f"list {src_list} is not in Brevo", "list"
                )
                continue
            row = self.rows.get(ext_id)
            if action == ADD:
                self.add_origin[(list_id, ext_id)] = (staged.stream, key)
                if row is not None:
                    row.lists.add(list_id)
                else:
                    self.adds.setdefault(list_id, set()).add(ext_id)
            else:
                self.removes.setdefault(list_id, set()).add(ext_id)
                self.adds.get(list_id, set()).discard(ext_id)
                if row is not None:
                    row.lists.discard(list_id)
                if action == BOUNCE:
                    if row is not None:
                        row.blocklist = True
                    else:
                        self.blocklist_only.add(ext_id)

    # -- writing -------------------------------------------------------------------------
    def _partition(
        self,
    ) -> tuple[list[tuple[frozenset[int], bool, list[Row]]], list[tuple[int, list[Row]]]]:
        """Plan the imports: (contact imports, membership-only imports run after them).

        Two plans, the one with fewer imports wins: (A) one import per set of lists the
        rows join, carrying attributes and memberships together; (B) one import of all rows
        (per blocklist flag) then one EXT_ID-only import per big list. Groups too small for
        an import of their own join their lists with 150-per-call adds instead.
        """
        min_rows = int(self.cfg.get("membership_import_min_rows", 300))
        groups: dict[tuple[frozenset[int], bool], list[Row]] = {}
        for row in self.rows.values():
            groups.setdefault((frozenset(row.lists), row.blocklist), []).append(row)
        flags = {bl for (_lists, bl) in groups}
        big = [k for k, rows in groups.items() if k[0] and len(rows) >= min_rows]
        plan_a = len(big) + len(flags)
        members: dict[int, list[Row]] = {}
        for row in self.rows.values():
            for list_id in row.lists:
                members.setdefault(list_id, []).append(row)
        big_lists = [lid for lid, rows in members.items() if len(rows) >= min_rows]
        plan_b = len(flags) + len(big_lists)
        if plan_b < plan_a:
            base: dict[tuple[frozenset[int], bool], list[Row]] = {}
            for row in self.rows.values():
                base.setdefault((frozenset(), row.blocklist), []).append(row)
            later: list[tuple[int, list[Row]]] = []
            for list_id, rows in sorted(members.items()):
                if list_id in big_lists:
                    later.append(
                        (
                            list_id,
                            [
                                Row(
                                    ext_id=r.ext_id,
                                    email=None if r.ext_id else r.email,
                                    stream=r.stream,
                                    key=r.key,
                                )
                                for r in rows
                            ],
                        )
                    )
                else:
                    for row in rows:
                        if row.ext_id:
                            self.adds.setdefault(list_id, set()).add(row.ext_id)
            for row in self.rows.values():
                row.lists = set()
            return [(lists, bl, rows) for (lists, bl), rows in base.items()], later
        out: dict[tuple[frozenset[int], bool], list[Row]] = {}
        for (lists, blocklist), rows in groups.items():
            if lists and len(rows) < min_rows:
                for row in rows:
                    for list_id in lists:
                        if row.ext_id:
                            self.adds.setdefault(list_id, set()).add(row.ext_id)
                out.setdefault((frozenset(), blocklist), []).extend(rows)
            else:
                out.setdefault((lists, blocklist), []).extend(rows)
        return [(lists, bl, rows) for (lists, bl), rows in out.items() if rows], []

    def _chunks(self, rows: list[Row]) -> list[list[Row]]:
        limit = int(self.cfg.get("import_max_bytes", 7_500_000))
        chunks: list[list[Row]] = []
        current: list[Row] = []
        size = 2
        for row in rows:
            row_size = len(dumps(row.body()).encode()) + 1
            if current and size + row_size > limit:
                chunks.append(current)
                current, size = [], 2
            current.append(row)
            size += row_size
        if current:
            chunks.append(current)
        return chunks

    def _submit(self, imp: Import, master: int) -> None:
        body: dict[str, t.Any] = {
            "jsonBody": [r.body() for r in imp.rows],
            "listIds": sorted({master, *imp.list_ids}),
            "updateExistingContacts": True,
            "emptyContactsAttributes": True,
            "disableNotification": True,
        }
        if imp.blocklist:
            body["emailBlacklist"] = True  # never send a false blocklist flag
        # An import is an idempotent upsert: retrying one that may have run is safe.
        resp = self.client.request("POST", "/contacts/import", body=body, idempotent=True)
        imp.process_id = int(resp.body["processId"])
        imp.submitted_at = time.monotonic()
        self.s.imported_rows += len(imp.rows)
        self.s.count("imports")
        self.s.count("import_rows", len(imp.rows))

    def _wait(self, imports: list[Import]) -> None:
        """Poll `/processes/{id}` sparingly (that bucket allows 100 requests an hour).

        Imports are polled in the order they were submitted: the first after an estimate
        proportional to its rows, then with a doubling wait; once one has completed the next
        is polled at once (imports run one after another, so it is usually done too).
        """
        initial = float(self.cfg.get("poll_initial_seconds", 1.0))
        per_1000 = float(self.cfg.get("poll_seconds_per_1000_rows", 0.5))
        max_wait = float(self.cfg.get("poll_max_seconds", 120.0))
        timeout = float(self.cfg.get("import_timeout_seconds", 3600.0))
        started = time.monotonic()
        first = True
        for imp in imports:
            estimate = initial + per_1000 * len(imp.rows) / 1000.0
            delay = estimate
            if first:
                self.client.sleep(max(0.0, imp.submitted_at + estimate - time.monotonic()))
                first = False
            while True:
                body = self.client.get(f"/processes/{imp.process_id}") or {}
                self.s.count("polls")
                imp.status = str(body.get("status", "queued"))
                imp.info = body.get("info") or {}
                if imp.status in ("failed", "cancelled"):
                    msg = f"import process {imp.process_id} ended {imp.status}"
                    raise BrevoSystemic(msg)
                if imp.status == "completed":
                    break
                if time.monotonic() - started > timeout:
                    msg = f"import {imp.process_id} not completed after {timeout:.0f}s"
                    raise BrevoSystemic(msg)
                self.client.sleep(delay)
                delay = min(max_wait, delay * 2)

    def _report(self, imp: Import) -> dict[str, list[tuple[Row, str]]]:
        """Read the completed import's report CSVs: kind → [(row, reason)]."""
        out: dict[str, list[tuple[Row, str]]] = {}
        reports = imp.info.get("import") if isinstance(imp.info, dict) else None
        if not isinstance(reports, dict):
            LOGGER.warning("import %s: no report in the process answer", imp.process_id)
            imp.report_trusted = False
            reports = {}
        for kind, url in reports.items():
            if url in (None, "", 0):
                continue
            if not isinstance(url, str) or not url.lower().startswith(("http://", "https://")):
                LOGGER.warning(
                    "import %s: report %s is %r, not a URL; its rows are checked by reading "
                    "them back",
                    imp.process_id,
                    kind,
                    url,
                )
                imp.report_trusted = False
                continue
            text = self.client.get_report(url)
            self.s.count("report_reads")
            reader = csv.DictReader(io.StringIO(text), delimiter=";")
            names = {str(n).strip().lower() for n in (reader.fieldnames or [])}
            if "row" not in names and not names & {"email", "ext_id"}:
                LOGGER.warning(
                    "import %s: report %s has no row;email;ext_id header; its rows are "
                    "checked by reading them back",
                    imp.process_id,
                    kind,
                )
                imp.report_trusted = False
                continue
            for line in reader:
                try:
                    index = int(line.get("row") or -1)
                except ValueError:
                    index = -1
                if 0 <= index < len(imp.rows):
                    row = imp.rows[index]
                else:  # fall back to the identifiers in the line
                    row = next(
                        (
                            r
                            for r in imp.rows
                            if (line.get("ext_id") and r.ext_id == line.get("ext_id"))
                            or (line.get("email") and r.email == line.get("email"))
                        ),
                        Row(ext_id=line.get("ext_id") or None, email=line.get("email") or None),
                    )
                out.setdefault(kind, []).append((row, str(line.get("reason") or kind)))
        return out

    # -- what Brevo holds already ----------------------------------------------------------
    def _preread(self, master: int) -> dict[str, dict[str, t.Any]]:
        """The contacts this flush touches as Brevo holds them now (by EXT_ID and email).

        Reads the master list page by page (1 request per 1,000 contacts) or, when that
        costs more, one `GET /contacts/{ext_id}` per contact. Contacts the master list does
        not show (new ones, or ones that unsubscribed from it) are then looked up: one
        `GET /contacts?limit=1` learns the account's size, then the cheaper of reading the
        whole account or one `GET` per missing contact. List counters are never trusted to
        skip a read.
        """
        keys = {r.ext_id for r in self.rows.values() if r.ext_id}
        keys |= {e for ids in (*self.adds.values(), *self.removes.values()) for e in ids}
        emails = {r.email for r in self.rows.values() if not r.ext_id and r.email}
        size = self.resolver.list_sizes.get(master, 10**9) + self.s.imported_rows
        out: dict[str, dict[str, t.Any]] = {}
        if not (keys or emails):
            return out

        def remember(contact: dict[str, t.Any]) -> None:
            attrs = contact.get("attributes") or {}
            ext = attrs.get("EXT_ID") or contact.get("ext_id")
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
                body = self.client.get("/contacts", params) or {}
                self.s.count("preread_requests")
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
                self.s.count("preread_requests")
                try:
                    path = f"/contacts/{quote(ident, safe='')}"
                    contact = self.client.get(path, {"identifierType": kind})
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
        body = self.client.get("/contacts", {"limit": 1, "offset": 0}) or {}
        self.s.count("preread_requests")
        total = body.get("count")
        total = int(total) if isinstance(total, int) else 10**9
        if total <= in_master:
            return out  # the master list is the whole account: nobody else to find
        if math.ceil(total / 1000) <= missing:
            read_pages(None)
        else:
            read_each(missing_keys, missing_emails)
        return out

    def _apply_existing(self, existing: dict[str, dict[str, t.Any]], master: int) -> None:
        """Keep consent Brevo holds, and drop writes that would change nothing."""
        self.existing = existing
        self._phones_in_use(existing)
        for row_key, row in list(self.rows.items()):
            contact = existing.get(row.ext_id or "") or existing.get(f"email:{row.email}")
            TagSync.apply(row, contact)
            if contact is None and not row.full and self.s.tags.wait_for(row):
                del self.rows[row_key]
                continue
            if contact is None and not row.full:
                # values or a blocklist for a contact Brevo does not have (its contact record
                # was never written): an import would create an email-less contact
                del self.rows[row_key]
                self.rejects.add(
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
                del self.rows[row_key]
                self.s.count("contacts_unchanged")
            else:  # lists it is in already need no add
                row.lists -= {int(x) for x in contact.get("listIds") or []}
        for list_id, ext_ids in self.adds.items():
            for ext in list(ext_ids):
                contact = existing.get(ext)
                if contact is None:
                    continue
                skip = {int(x) for x in contact.get("listUnsubscribed") or []}
                skip |= {int(x) for x in contact.get("listIds") or []}
                if list_id in skip:
                    ext_ids.discard(ext)
        for list_id, ext_ids in self.removes.items():
            if list_id in self.resolver.created_lists:
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
        for row in self.rows.values():
            if not row.sms:
                continue
            sms_holder = existing.get(f"sms:{row.sms}")
            taken: bool
            if sms_holder is not None and not row.ext_id:
                taken = str(sms_holder.get("email") or "").lower() != row.email
            else:
                taken = row.sms in seen and seen[row.sms] != row.ext_id
            if taken:
                self.rejects.add(
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

    def apply_attribute_updates(self) -> None:
        """Write the attribute options this flush needs (one request per attribute); the
        values that needed an option Brevo refused are left out, each an `invalid_value`."""
        failed = self.resolver.write_attribute_updates()
        for row_key, name, labels, stream, key, field_name, written in self.option_uses:
            row = self.rows.get(row_key)
            if name not in failed or row is None or name not in row.attrs:
                continue
            del row.attrs[name]
            row.types.pop(name, None)
            self.rejects.add(
                stream,
                key,
                "invalid_value",
                f"{name}: Brevo refused the new option(s) {labels}: {failed[name]}",
                field_name,
                written=written,
            )
        self.option_uses.clear()

    def write(self) -> None:
        if not self.rows and not self.adds and not self.removes and not self.blocklist_only:
            return
        master = self.resolver.master_list()
        for ext_id in sorted(self.blocklist_only):
            row = self.rows.get(ext_id) or Row(ext_id=ext_id)
            row.blocklist = True
            self.rows[ext_id] = row
        self.blocklist_only.clear()
        self._apply_existing(self._preread(master), master)
        # Contacts that unsubscribed from the master list: an import (which always names the
        # master list) would put them back on it, so each is written with one PUT (rare).
        direct = [row for row in self.rows.values() if row.no_master]
        for row_key in [k for k, row in self.rows.items() if row.no_master]:
            del self.rows[row_key]
        imports: list[Import] = []
        planned, membership_imports = self._partition()
        for lists, blocklist, rows in planned:
            for chunk in self._chunks(rows):
                imports.append(Import(rows=chunk, list_ids=sorted(lists), blocklist=blocklist))
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=15)  # allow for clock skew
        for imp in imports:
            self._submit(imp, master)
        if imports:
            self._wait(imports)
        if membership_imports:  # after the contacts exist: EXT_ID-only rows join big lists
            later = [
                Import(rows=chunk, list_ids=[list_id], blocklist=False)
                for list_id, rows in membership_imports
                for chunk in self._chunks(rows)
            ]
            for imp in later:
                self._submit(imp, master)
            self._wait(later)
            for imp in later:
                for kind, entries in self._report(imp).items():
                    for row, reason in entries:
                        self.rejects.add(row.stream or "contacts", row.key, kind, reason, "list")
        failed: set[int] = set()
        fixups: list[Row] = []
        email_changes: list[Row] = []
        problems: dict[int, tuple[Row, dict[str, str]]] = {}
        for imp in imports:
            for kind, entries in self._report(imp).items():
                for row, reason in entries:
                    problems.setdefault(id(row), (row, {}))[1][kind] = reason
        for row, kinds in problems.values():
            stream = row.stream or "contacts"
            key = row.key if row.key is not None else row.ext_id
            if "invalid_sms" in kinds:
                self.rejects.add(
                    stream, key, "invalid_sms", kinds.pop("invalid_sms"), "SMS", written=True
                )
            if not kinds:
                continue  # imported, without the SMS
            failed.add(id(row))
            if "invalid_emails" in kinds:
                self.rejects.add(stream, key, "invalid_email", kinds["invalid_emails"], "email")
                if row.ext_id:
                    self.s.rejected_contacts.add(row.ext_id)
            elif "duplicate_ext_id" in kinds and row.email and row.ext_id:
                email_changes.append(row)  # the source changed the email of this EXT_ID
            elif set(kinds) == {"duplicate_phone_id"}:
                self.rejects.add(
                    stream,
                    key,
                    "duplicate_phone",
                    f"SMS {row.sms} belongs to another Brevo contact; written without it",
                    "SMS",
                    written=True,
                )
                row.sms = None
                fixups.append(row)
            else:
                for kind, reason in kinds.items():
                    self.rejects.add(stream, key, kind, reason)
        if fixups:  # rows refused for their phone number: again, without it
            by_flags: dict[tuple[frozenset[int], bool], list[Row]] = {}
            for row in fixups:
                by_flags.setdefault((frozenset(row.lists), row.blocklist), []).append(row)
            fix_imports = [
                Import(rows=chunk, list_ids=sorted(lists), blocklist=bl)
                for (lists, bl), rows in by_flags.items()
                for chunk in self._chunks(rows)
            ]
            for imp in fix_imports:
                self._submit(imp, master)
            self._wait(fix_imports)
            fix_failed: set[int] = set()
            for imp in fix_imports:
                for kind, entries in self._report(imp).items():
                    for row, reason in entries:
                        self.rejects.add(row.stream or "contacts", row.key, kind, reason)
                        fix_failed.add(id(row))
            for row in fixups:
                if id(row) not in fix_failed:
                    failed.discard(id(row))
        changed = self._change_emails(email_changes, master)
        # rows of imports whose report could not be read must be found by the read-back
        must_land = {id(r) for imp in imports if not imp.report_trusted for r in imp.rows}
        for row in direct:
            if self._change_email(row, master, last=True) == "ok":
                self.s.count("contacts_put")
        written = [r for imp in imports for r in imp.rows if id(r) not in failed] + changed
        if self.cfg.get("verify_values", True):
            self._verify(written, master, since, must_land)
        elif must_land:
            self._verify([r for r in written if id(r) in must_land], master, since, must_land)
        self._memberships()
        self.rejects.check()

    def _order_email_changes(self, rows: list[Row]) -> list[Row]:
        """A contact that gives up an address goes before the one taking it (pre-read)."""
        holder: dict[int, str | None] = {}
        for row in rows:
            contact = self.existing.get(f"email:{row.email}") or {}
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

    def _change_emails(self, rows: list[Row], master: int) -> list[Row]:
        """Email changes, retried in rounds so that an address freed by one change (two
        contacts trading addresses in one batch) can be taken by the next."""
        done: list[Row] = []
        pending = self._order_email_changes(rows)
        while pending:
            retry = [r for r in pending if self._change_email(r, master, last=False) == "retry"]
            done += [row for row in pending if row not in retry]
            if len(retry) == len(pending):
                for row in retry:
                    if self._change_email(row, master, last=True) == "ok":
                        done.append(row)
                break
            pending = retry
        return [row for row in done if row.email_changed]

    def _change_email(self, row: Row, master: int, *, last: bool) -> str:
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
            current = self.client.get(path, {"identifierType": "ext_id"}) or {}
            self.s.count("email_change_reads")
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
                self.client.request("PUT", path, params={"identifierType": "ext_id"}, body=body)
                self.s.count("email_changes")
                row.email_changed = True
                return "ok"
            except BrevoConflict as exc:
                dup = {d.lower() for d in exc.duplicate_identifiers}
                if "sms" in dup and "SMS" in body["attributes"]:
                    self.rejects.add(
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
                self.rejects.add(
                    stream,
                    row.key,
                    "duplicate_email",
                    f"cannot change the email of {row.ext_id} to {row.email}: "
                    f"{exc.brevo_message or exc.code} ({', '.join(exc.duplicate_identifiers)})",
                    "email",
                )
                return "failed"
            except BrevoInvalid as exc:
                self.rejects.add(stream, row.key, exc.code or "invalid", str(exc), "email")
                return "failed"
        return "failed"

    def _verify(
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
                self.client.get(
                    "/contacts",
                    {"listIds": master, "modifiedSince": stamp, "limit": 1000, "offset": offset},
                )
                or {}
            )
            self.s.count("verify_reads")
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
                    self.rejects.add(
                        row.stream or "contacts",
                        row.key if row.key is not None else row.ext_id,
                        "not_landed",
                        f"the import's report could not be read and contact "
                        f"{row.ext_id or row.email} was not found changed after it: not written",
                    )
                    if row.ext_id:
                        self.s.rejected_contacts.add(row.ext_id)
                    continue
                missing += 1  # not modified by the import: Brevo already held these values
                continue
            attrs = {str(k).upper(): v for k, v in (contact.get("attributes") or {}).items()}
            for name, value in row.attrs.items():
                typ = row.types.get(name, "text")
                if not same_value(value, attrs.get(name), typ):
                    self.s.count("values_not_stored")
                    self.rejects.add(
                        row.stream or "contacts",
                        row.key if row.key is not None else row.ext_id,
                        "value_not_stored",
                        f"Brevo did not store {name} (type {typ}) value {value!r}",
                        name,
                        written=True,
                    )
            if row.email and contact.get("email") and str(contact["email"]).lower() != row.email:
                self._change_email(row, master, last=True)
        if missing:
            LOGGER.info("%d written contacts were unchanged in Brevo (not re-read)", missing)

    def _memberships(self) -> None:
        """Remaining adds and all removals: 150 EXT_IDs per call."""
        for list_id, ext_ids in sorted(self.adds.items()):
            ids = sorted(e for e in ext_ids if e not in self.s.rejected_contacts)
            for i in range(0, len(ids), 150):
                self._list_call(list_id, "add", ids[i : i + 150])
        for list_id, ext_ids in sorted(self.removes.items()):
            ids = sorted(ext_ids)
            for i in range(0, len(ids), 150):
                self._list_call(list_id, "remove", ids[i : i + 150])

    def _list_call(self, list_id: int, op: str, ext_ids: list[str]) -> None:
        try:
            resp = self.client.request(
                "POST",
                f"/contacts/lists/{list_id}/contacts/{op}",
                body={"extIds": ext_ids},
                idempotent=True,  # adding/removing the same ids again changes nothing
            )
            self.s.count(f"list_{op}_calls")
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
                contact = self.client.get(path, {"identifierType": "ext_id"}) or {}
            except BrevoNotFound:
                contact = None
            stream, key = self.add_origin.get((list_id, ext)) or self._origin_of(ext)
            if contact is None:
                self.rejects.add(
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
                self.rejects.add(
                    stream,
                    key,
                    "list_add_failed",
                    f"Brevo did not add {ext} to list {list_id}: {reason or 'listed in failure'}",
                    "list",
                )

    def _origin_of(self, ext_id: str) -> tuple[str, t.Any]:
        row = self.rows.get(ext_id)
        if row is not None:
            return row.stream or "contacts", row.key if row.key is not None else ext_id
        return "contacts", ext_id
