"""Find Brevo objects again without local files (contracts §5), create them idempotently.

Folders, lists and campaign drafts carry their source key at the end of their name
(`Newsletter [ac-list-3]`), so listing them finds them again on any machine. A create
that may have been applied (reset/timeout) is followed by a lookup before any retry.
"""

from __future__ import annotations

import logging
import re
import typing as t
from dataclasses import dataclass, field

from target_brevo.client import (
    BrevoClient,
    BrevoConflict,
    BrevoInvalid,
    BrevoSystemic,
    BrevoUncertain,
)
from target_brevo.options import OPTION_TYPES, next_value

LOGGER = logging.getLogger("target_brevo.resolve")

KEY_RE = re.compile(r"\s*\[([^\[\]]+)\]\s*$")

T = t.TypeVar("T")


def key_of(name: str) -> str | None:
    """The `[key]` suffix of a Brevo name, if any."""
    match = KEY_RE.search(name or "")
    return match.group(1) if match else None


def draft_keys(name: str) -> tuple[str, tuple[str, ...]] | None:
    """The keys a campaign draft's name carries: (identity key, further keys).

    `Spring [ac-campaign-3 ac-message-7]` → `("ac-campaign-3", ("ac-message-7",))`; the
    older form `Spring [ac-campaign-3]` → `("ac-campaign-3", ())`. The identity key is the
    first one and never changes; the others (the linked message) let the draft be found
    from them too.
    """
    keys = (key_of(name) or "").split()
    return (keys[0], tuple(keys[1:])) if keys else None


def draft_label(key: str, *more: str | None) -> str:
    """The `[...]` content of a draft's name: its identity key, then the further keys."""
    return " ".join([key, *(k for k in more if k and k != key)])


def with_key(name: str, key: str, max_len: int = 190) -> str:
    """`name [key]`, the name part shortened so that the key always fits."""
    suffix = f" [{key}]"
    base = KEY_RE.sub("", str(name or "").strip()) or key
    base = base.replace("[", "(").replace("]", ")")
    return base[: max(1, max_len - len(suffix))] + suffix


def created_id(body: t.Any, what: str) -> int:
    """The id of a created object; an answer without one (an empty or cut 2xx body) means
    the create may have been applied: the caller looks it up instead of failing."""
    if isinstance(body, dict) and body.get("id") is not None:
        try:
            return int(body["id"])
        except (TypeError, ValueError):
            pass
    msg = f"Brevo {what}: the answer carries no id; the request may have been applied"
    raise BrevoUncertain(msg)


def create_then_lookup(
    create: t.Callable[[], T],
    lookup: t.Callable[[], T | None],
    what: str,
    tries: int = 3,
    pause: t.Callable[[int], None] | None = None,
) -> T:
    """Create; when the create may have been applied, look it up before creating again.

    Every 5xx of a create is uncertain, so `tries` should be the client's `max_tries` and
    `pause(attempt)` its backoff (a short outage must not end the run)."""
    for attempt in range(1, tries + 1):
        try:
            return create()
        except BrevoUncertain as exc:
            LOGGER.warning("%s: %s; looking it up before any retry", what, exc)
            found = lookup()
            if found is not None:
                LOGGER.info("%s: found after an uncertain create, not creating again", what)
                return found
            if pause is not None and attempt < tries:
                pause(attempt)
    msg = f"{what}: could not be created after {tries} uncertain tries"
    raise BrevoSystemic(msg)


@dataclass
class Attribute:
    """A Brevo contact attribute as the target needs it."""

    name: str
    type: str
    category: str = "normal"
    enumeration: dict[int, str] = field(default_factory=dict)  # value → label
    options: list[str] = field(default_factory=list)  # multiple-choice labels

    def enum_lookup(self) -> dict[str, int]:
        """Lower-cased label → value."""
        return {label.lower(): value for value, label in self.enumeration.items()}


class Resolver:
    """Caches what exists in Brevo for one run; creates what is missing."""

    def __init__(self, client: BrevoClient, folder_name: str, prefix: str) -> None:
        self.client = client
        self.folder_name = folder_name
        self.prefix = prefix
        self._folder_id: int | None = None
        self._lists: dict[str, tuple[int, str]] | None = None  # key → (id, full name)
        self.list_sizes: dict[int, int] = {}  # members when the lists were read
        self.created_lists: set[int] = set()  # created by this run: only we added members
        self._attributes: dict[str, Attribute] | None = None
        # options changed in memory, written by `write_attribute_updates`: name → (attribute,
        # the enumeration and options Brevo holds, whether it must be created)
        self._pending: dict[str, tuple[Attribute, dict[int, str], list[str], bool]] = {}
        self._campaigns: dict[str, dict[str, t.Any]] | None = None
        self._all_campaigns: dict[str, dict[str, t.Any]] | None = None
        self.created: dict[str, int] = {}

    @property
    def _retry(self) -> dict[str, t.Any]:
        """Uncertain creates get as many tries as any request, with the client's backoff."""
        client = self.client

        def pause(attempt: int) -> None:
            client.sleep(client._backoff(attempt))

        return {"tries": max(3, int(getattr(client, "max_tries", 3))), "pause": pause}

    # -- paging -----------------------------------------------------------------------
    def _paged(
        self, path: str, item_key: str, limit: int, **params: t.Any
    ) -> list[dict[str, t.Any]]:
        out: list[dict[str, t.Any]] = []
        offset = 0
        while True:
            body = self.client.get(path, {"limit": limit, "offset": offset, **params}) or {}
            items = body.get(item_key) or []
            out.extend(items)
            count = body.get("count")
            offset += len(items)
            if not items or len(items) < limit or (isinstance(count, int) and offset >= count):
                return out

    def _count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    # -- folder -----------------------------------------------------------------------
    def _find_folder(self) -> int | None:
        folders = self._paged("/contacts/folders", "folders", 50, sort="asc")
        ids = sorted(int(f["id"]) for f in folders if f.get("name") == self.folder_name)
        return ids[0] if ids else None

    def folder_id(self) -> int:
        if self._folder_id is None:
            found = self._find_folder()
            if found is None:

                def create() -> int:
                    body = self.client.request(
                        "POST", "/contacts/folders", body={"name": self.folder_name}
                    ).body
                    self._count("folders")
                    return created_id(body, "POST /contacts/folders")

                found = create_then_lookup(
                    create, self._find_folder, f"folder {self.folder_name!r}", **self._retry
                )
            self._folder_id = found
        return self._folder_id

    # -- lists ------------------------------------------------------------------------
    def _load_lists(self) -> dict[str, tuple[int, str]]:
        folder = self.folder_id()
        lists = self._paged(f"/contacts/folders/{folder}/lists", "lists", 50, sort="asc")
        found: dict[str, tuple[int, str]] = {}
        for item in sorted(lists, key=lambda x: int(x["id"])):
            key = key_of(str(item.get("name", "")))
            if key and key not in found:  # duplicates: the oldest one wins, always the same
                found[key] = (int(item["id"]), str(item["name"]))
                size = item.get("uniqueSubscribers", item.get("totalSubscribers"))
                self.list_sizes[int(item["id"])] = int(size) if size is not None else 10**9
        return found

    def lists(self) -> dict[str, tuple[int, str]]:
        if self._lists is None:
            self._lists = self._load_lists()
        return self._lists

    def list_key(self, source_id: t.Any) -> str:
        return f"{self.prefix}list-{source_id}"

    @property
    def master_key(self) -> str:
        return f"{self.prefix}all"

    def find_list(self, key: str) -> int | None:
        hit = self.lists().get(key)
        return hit[0] if hit else None

    def ensure_list(self, key: str, name: str) -> int:
        """The Brevo list for `key`, created in the folder or renamed when needed."""
        full = with_key(name, key)
        lists = self.lists()
        if key in lists:
            list_id, current = lists[key]
            if current != full:
                self.client.request("PUT", f"/contacts/lists/{list_id}", body={"name": full})
                lists[key] = (list_id, full)
                self._count("list_renames")
            return list_id
        folder = self.folder_id()

        def create() -> int:
            body = self.client.request(
                "POST", "/contacts/lists", body={"name": full, "folderId": folder}
            ).body
            self._count("lists")
            return created_id(body, "POST /contacts/lists")

        def lookup() -> int | None:
            self._lists = self._load_lists()
            hit = self._lists.get(key)
            return hit[0] if hit else None

        list_id = create_then_lookup(create, lookup, f"list {full!r}", **self._retry)
        self.lists()[key] = (list_id, full)
        self.list_sizes.setdefault(list_id, 0)
        self.created_lists.add(list_id)
        return list_id

    def master_list(self) -> int:
        return self.ensure_list(self.master_key, "All synced contacts")

    # -- attributes ---------------------------------------------------------------------
    def _load_attributes(self) -> dict[str, Attribute]:
        body = self.client.get("/contacts/attributes") or {}
        out: dict[str, Attribute] = {}
        for item in body.get("attributes") or []:
            name = str(item.get("name", "")).upper()
            category = str(item.get("category") or "normal")
            typ = item.get("type") or ("category" if category == "category" else "text")
            enumeration = {
                int(e["value"]): str(e.get("label", e["value"]))
                for e in item.get("enumeration") or []
                if "value" in e
            }
            options = [
                str(o.get("value", o.get("label")) if isinstance(o, dict) else o)
                for o in item.get("multiCategoryOptions") or []
            ]
            out[name] = Attribute(name, str(typ), category, enumeration, options)
        return out

    def attributes(self) -> dict[str, Attribute]:
        if self._attributes is None:
            self._attributes = self._load_attributes()
        return self._attributes

    def ensure_attribute(
        self,
        name: str,
        typ: str,
        enumeration: dict[int, str] | None = None,
        options: list[str] | None = None,
    ) -> Attribute:
        """The attribute `name`; its options kept up to date.

        An attribute that already exists keeps its type: values are converted to it. Options
        (category enumeration, multiple-choice options) are only changed in memory here; a
        category or multiple-choice attribute that does not exist yet is created later too:
        `write_attribute_updates` sends one request per attribute per flush, with the full
        set. Other types are created at once.
        """
        pending = self._pending.get(name)
        existing = pending[0] if pending else self.attributes().get(name)
        if existing is None and typ in OPTION_TYPES:
            existing = Attribute(name, typ, "category" if typ == "category" else "normal")
            self._pending[name] = (existing, {}, [], True)
        if existing is not None:
            if existing.type == "category" and enumeration:
                self._merge_enumeration(existing, enumeration)
            if existing.type == "multiple-choice" and options:
                self.add_options(existing, options)
            return existing
        return self._create_attribute(name, typ)

    def _touch(self, attr: Attribute) -> None:
        """`attr` is about to change in memory: remember what Brevo holds (to restore it)."""
        if attr.name not in self._pending:
            self._pending[attr.name] = (attr, dict(attr.enumeration), list(attr.options), False)

    def _merge_enumeration(self, attr: Attribute, incoming: dict[int, str]) -> None:
        """Source options (id → label): new ids are added, a changed label renames; a label
        the attribute holds already under another value is not added twice."""
        holders = {label.lower(): value for value, label in attr.enumeration.items()}
        for value, label in sorted(incoming.items()):
            holder = holders.get(label.lower())
            if attr.enumeration.get(value) == label or (holder is not None and holder != value):
                continue
            self._touch(attr)
            attr.enumeration[value] = label
            holders[label.lower()] = value

    def add_options(self, attr: Attribute, labels: t.Iterable[str]) -> list[str]:
        """Add the labels `attr` lacks (case-insensitive); returns those added."""
        added: list[str] = []
        if attr.type == "category":
            lookup = attr.enum_lookup()
            for label in labels:
                if label.lower() not in lookup:
                    self._touch(attr)
                    value = next_value(attr.enumeration)
                    attr.enumeration[value] = label
                    lookup[label.lower()] = value
                    added.append(label)
        elif attr.type == "multiple-choice":
            known = {o.lower() for o in attr.options}
            for label in labels:
                if label.lower() not in known:
                    self._touch(attr)
                    attr.options.append(label)
                    known.add(label.lower())
                    added.append(label)
        return added

    def write_attribute_updates(self) -> dict[str, str]:
        """Create or update the attributes whose options changed in memory: one request per
        attribute, carrying the full set (whether Brevo's update replaces the options or
        adds to them, the result is the same). Returns attribute name → Brevo's reason for
        the ones it refused (their in-memory options are restored)."""
        failed: dict[str, str] = {}
        for name in sorted(self._pending):
            attr, enumeration, options, new = self._pending[name]
            try:
                if new:
                    created = self._create_attribute(
                        name, attr.type, dict(attr.enumeration), list(attr.options)
                    )
                    lacking = set(attr.enumeration.values()) - set(created.enumeration.values())
                    lacking |= set(attr.options) - set(created.options)
                    if lacking:  # it existed already (created meanwhile): add ours to it
                        self.add_options(created, sorted(lacking))
                        self._put_options(created)
                    attr.type, attr.category = created.type, created.category
                    attr.enumeration, attr.options = created.enumeration, created.options
                else:
                    self._put_options(attr)
            except BrevoInvalid as exc:
                LOGGER.warning("Brevo refused the options of attribute %s: %s", name, exc)
                attr.enumeration, attr.options = enumeration, options
                failed[name] = str(exc.brevo_message or exc.code or exc)
                if new:
                    self.attributes().pop(name, None)
                continue
            self.attributes()[name] = attr
        self._pending.clear()
        return failed

    def _put_options(self, attr: Attribute) -> None:
        if attr.type == "category":
            path = f"/contacts/attributes/category/{attr.name}"
            entries = sorted(attr.enumeration.items())
            body: dict[str, t.Any] = {"enumeration": [{"value": k, "label": v} for k, v in entries]}
        else:
            path = f"/contacts/attributes/normal/{attr.name}"
            body = {"multiCategoryOptions": list(attr.options)}
        # the full set: sending it again changes nothing, so a retry is safe
        self.client.request("PUT", path, body=body, idempotent=True)
        self._count("attribute_updates")

    def _create_attribute(
        self,
        name: str,
        typ: str,
        enumeration: dict[int, str] | None = None,
        options: list[str] | None = None,
    ) -> Attribute:
        category = "category" if typ == "category" else "normal"
        body: dict[str, t.Any] = {"type": typ}
        if typ == "category":
            body["enumeration"] = [
                {"value": k, "label": v} for k, v in sorted((enumeration or {}).items())
            ] or [{"value": 1, "label": "-"}]
        if typ == "multiple-choice":
            body["multiCategoryOptions"] = list(options or []) or ["-"]

        def create() -> Attribute:
            try:
                self.client.request("POST", f"/contacts/attributes/{category}/{name}", body=body)
                self._count("attributes")
            except (BrevoConflict, BrevoInvalid) as exc:
                # Created meanwhile (or by an earlier uncertain try): use what exists.
                self._attributes = self._load_attributes()
                if name not in self._attributes:
                    raise
                LOGGER.info("Attribute %s already exists: %s", name, exc.code)
                return self._attributes[name]
            attr = Attribute(
                name,
                typ,
                category,
                dict(enumeration or {}) if typ == "category" else {},
                list(options or []) if typ == "multiple-choice" else [],
            )
            self.attributes()[name] = attr
            return attr

        def lookup() -> Attribute | None:
            self._attributes = self._load_attributes()
            return self._attributes.get(name)

        return create_then_lookup(create, lookup, f"attribute {name}", **self._retry)

    # -- campaigns ----------------------------------------------------------------------
    def _load_campaigns(self, status: str | None = "draft") -> dict[str, dict[str, t.Any]]:
        """Campaigns by identity key; drafts only by default (the ones the target may write:
        fewer pages of the 100-an-hour bucket)."""
        params: dict[str, t.Any] = {"sort": "asc"}
        if status is not None:
            params["status"] = status
        items = self._paged("/emailCampaigns", "campaigns", 100, **params)
        found: dict[str, dict[str, t.Any]] = {}
        for item in sorted(items, key=lambda x: int(x["id"])):
            keys = draft_keys(str(item.get("name", "")))
            if keys and keys[0].startswith(self.prefix) and keys[0] not in found:
                found[keys[0]] = item  # duplicates: the oldest one wins, always the same
        return found

    def campaigns(self) -> dict[str, dict[str, t.Any]]:
        if self._campaigns is None:
            self._campaigns = self._load_campaigns()
        return self._campaigns

    def campaign_any_status(self, key: str) -> dict[str, t.Any] | None:
        """A campaign that is no longer a draft (sent, scheduled…): read once per run, only
        when a draft is about to be created, so a sent campaign never gets a second draft."""
        if self._all_campaigns is None:
            self._all_campaigns = self._load_campaigns(status=None)
        return self._all_campaigns.get(key)

    def campaigns_carrying(self, key: str) -> dict[str, dict[str, t.Any]]:
        """Drafts (identity key → draft) whose name also carries `key` (a message key)."""
        out: dict[str, dict[str, t.Any]] = {}
        for identity, item in self.campaigns().items():
            keys = draft_keys(str(item.get("name", "")))
            if keys and key in keys[1]:
                out[identity] = item
        return out

    def create_campaign(self, key: str, body: dict[str, t.Any]) -> int:
        def create() -> int:
            resp = self.client.request("POST", "/emailCampaigns", body=body).body
            self._count("campaigns")
            return created_id(resp, "POST /emailCampaigns")

        def lookup() -> int | None:
            self._campaigns = self._load_campaigns()
            hit = self._campaigns.get(key)
            return int(hit["id"]) if hit else None

        campaign_id = create_then_lookup(
            create, lookup, f"campaign {body.get('name')!r}", **self._retry
        )
        self.campaigns()[key] = {**body, "id": campaign_id}
        return campaign_id
