"""Brevo contact attributes: read once per run, created when missing, options kept current.

Category and multiple-choice options change in memory while records are staged;
`write_attribute_updates` sends one request per attribute per flush carrying the full set.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from target_brevo.errors import BrevoConflict, BrevoInvalid
from target_brevo.lookups import Lookups, create_then_lookup
from target_brevo.options import OPTION_TYPES, next_value

if t.TYPE_CHECKING:
    from target_brevo.client import BrevoClient

LOGGER = logging.getLogger("target_brevo.resolve")


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


class AttributeCatalog(Lookups):
    """The account's contact attributes, and the option changes not yet written."""

    def __init__(self, client: BrevoClient) -> None:
        super().__init__(client)
        self._attributes: dict[str, Attribute] | None = None
        # options changed in memory, written by `write_attribute_updates`: name → (attribute,
        # the enumeration and options Brevo holds, whether it must be created)
        self._pending: dict[str, tuple[Attribute, dict[int, str], list[str], bool]] = {}

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
