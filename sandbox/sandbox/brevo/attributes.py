"""Brevo contact attributes: categories, types, and which values an attribute accepts.

Rules (notes §3, docs/contracts.md §4):

- Categories ``normal``, ``transactional``, ``category``, ``calculated``, ``global``.
- ``type`` is for normal, transactional and category attributes; ``user`` and
  ``multiple-choice`` only for normal, ``id`` only for transactional, ``category`` only for
  category (and a category attribute without ``type`` is of type ``category``). A normal or
  transactional attribute without ``type`` is ``text``.
- ``enumeration`` ``[{value:int, label}]`` is required for, and only for, category attributes;
  ``multiCategoryOptions`` (labels of at most 200 characters) for, and only for, normal
  ``multiple-choice`` attributes. ``value`` (a formula) is required for, and only for, calculated
  and global attributes.
- Names are upper-cased when created (Brevo wants attribute names in capitals); they must start
  with a letter and hold only ``A-Z``, ``0-9`` and ``_`` (at most 64 characters; this limit is
  the sandbox's choice). Contact writes must use the stored (capital) name exactly.
- A fresh account has FIRSTNAME and LASTNAME (normal, text) and the identifier attributes SMS and
  EXT_ID (shown as normal text attributes; they cannot be changed or deleted).
- Values: ``text`` and ``user`` take strings; ``float`` numbers (not booleans); ``boolean``
  booleans; ``date`` only ``YYYY-MM-DD`` strings of real dates; ``id`` integers; ``category`` the
  integer ``value`` of an enumeration entry (a label is not accepted); ``multiple-choice`` a list
  of existing option labels. Calculated and global attributes cannot be written on a contact.
  A value that does not fit is **silently not stored** (the rest of the write goes on).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("normal", "transactional", "category", "calculated", "global")
TYPES = ("text", "date", "float", "boolean", "id", "category", "multiple-choice", "user")

NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# Attribute names that exist in every account and can't be deleted.
IDENTIFIER_ATTRIBUTE_NAMES = ("SMS", "EXT_ID")
DEFAULT_ATTRIBUTES: tuple[tuple[str, str, str], ...] = (
    ("FIRSTNAME", "normal", "text"),
    ("LASTNAME", "normal", "text"),
    ("SMS", "normal", "text"),
    ("EXT_ID", "normal", "text"),
)

_SKIP = object()


class AttributeDefinitionError(ValueError):
    """A create/update attribute request that breaks the category rules (400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class AttributeDef:
    """One attribute of the account."""

    name: str
    category: str
    type: str | None
    enumeration: list[dict[str, Any]] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    calculated_value: str | None = None
    is_recurring: bool | None = None

    def to_api(self) -> dict[str, Any]:
        """The attribute as ``GET /contacts/attributes`` lists it: an enumeration item carries
        ``valueStr``, the stored value as a string, besides the integer ``value``."""
        out = self.to_dump()
        if "enumeration" in out:
            out["enumeration"] = [{**e, "valueStr": str(e["value"])} for e in out["enumeration"]]
        return out

    def to_dump(self) -> dict[str, Any]:
        """The attribute as ``GET /__sandbox/dump`` lists it (enumeration items as written)."""
        out: dict[str, Any] = {"name": self.name, "category": self.category}
        if self.type is not None:
            out["type"] = self.type
        if self.category == "category":
            out["enumeration"] = [dict(e) for e in self.enumeration]
        if self.type == "multiple-choice":
            out["multiCategoryOptions"] = list(self.options)
        if self.calculated_value is not None:
            out["calculatedValue"] = self.calculated_value
        return out

    @property
    def writable(self) -> bool:
        """Whether a contact write can set this attribute."""
        return self.category in ("normal", "transactional", "category") and (
            self.name not in IDENTIFIER_ATTRIBUTE_NAMES
        )


def normalize_name(name: str) -> str:
    """The stored form of a new attribute's name."""
    return name.strip().upper()


def build_definition(category: str, name: str, body: dict[str, Any]) -> AttributeDef:
    """Check a ``POST /contacts/attributes/{category}/{name}`` body against the category rules."""
    upper = normalize_name(name)
    if not NAME_RE.match(upper):
        raise AttributeDefinitionError(
            "invalid_parameter",
            f"Invalid attribute name {name!r}: use letters, digits and underscores, "
            "starting with a letter",
        )
    type_ = body.get("type")
    enumeration = body.get("enumeration")
    options = body.get("multiCategoryOptions")
    value = body.get("value")
    if category in ("calculated", "global"):
        if type_ is not None or enumeration is not None or options is not None:
            raise AttributeDefinitionError(
                "invalid_parameter",
                f"type, enumeration and multiCategoryOptions are not allowed for {category} "
                "attributes",
            )
        if not value:
            raise AttributeDefinitionError(
                "missing_parameter", f"value is required for {category} attributes"
            )
        return AttributeDef(
            upper, category, None, calculated_value=str(value),
            is_recurring=body.get("isRecurring"),
        )
    if value is not None or body.get("isRecurring") is not None:
        raise AttributeDefinitionError(
            "invalid_parameter",
            "value and isRecurring are only for calculated or global attributes",
        )
    if category == "category":
        type_ = type_ or "category"
        if type_ != "category":
            raise AttributeDefinitionError(
                "invalid_parameter", f"type {type_} is not available for category attributes"
            )
        if not enumeration:
            raise AttributeDefinitionError(
                "missing_parameter", "enumeration is required for category attributes"
            )
        values = [e["value"] for e in enumeration]
        if len(set(values)) != len(values):
            raise AttributeDefinitionError(
                "invalid_parameter", "enumeration values must be unique"
            )
        if options is not None:
            raise AttributeDefinitionError(
                "invalid_parameter", "multiCategoryOptions is only for multiple-choice attributes"
            )
        return AttributeDef(
            upper, category, "category",
            enumeration=[{"value": e["value"], "label": e["label"]} for e in enumeration],
        )
    # normal / transactional
    if enumeration is not None:
        raise AttributeDefinitionError(
            "invalid_parameter", "enumeration is only for category attributes"
        )
    type_ = type_ or "text"
    if type_ == "category":
        raise AttributeDefinitionError(
            "invalid_parameter", "type category is only available for category attributes"
        )
    if type_ in ("user", "multiple-choice") and category != "normal":
        raise AttributeDefinitionError(
            "invalid_parameter", f"type {type_} is only available for normal attributes"
        )
    if type_ == "id" and category != "transactional":
        raise AttributeDefinitionError(
            "invalid_parameter", "type id is only available for transactional attributes"
        )
    if type_ == "multiple-choice":
        if not options:
            raise AttributeDefinitionError(
                "missing_parameter", "multiCategoryOptions is required for multiple-choice"
            )
        _check_options(options)
        return AttributeDef(upper, category, type_, options=list(dict.fromkeys(options)))
    if options is not None:
        raise AttributeDefinitionError(
            "invalid_parameter", "multiCategoryOptions is only for multiple-choice attributes"
        )
    return AttributeDef(upper, category, type_)


def _check_options(options: list[str]) -> None:
    for opt in options:
        if not opt or len(opt) > 200:
            raise AttributeDefinitionError(
                "invalid_parameter",
                "multiCategoryOptions labels must be 1 to 200 characters long",
            )


def apply_update(attr: AttributeDef, body: dict[str, Any]) -> AttributeDef:
    """A ``PUT /contacts/attributes/{category}/{name}`` applied to an existing attribute.

    category: ``enumeration`` replaces the list; calculated/global: ``value`` replaces the
    formula; normal multiple-choice: ``multiCategoryOptions`` **replaces** the options too.
    Brevo's spec says the field is "to add multiple-choice attributes options" without saying
    whether options left out survive: the sandbox takes the unkind reading (they are gone, and a
    later write of such a value is silently dropped), so a client must always send the full set
    (which is also right under the additive reading).
    """
    if attr.name in IDENTIFIER_ATTRIBUTE_NAMES:
        raise AttributeDefinitionError(
            "invalid_parameter", f"Attribute {attr.name} is an identifier and can't be updated"
        )
    enumeration = body.get("enumeration")
    options = body.get("multiCategoryOptions")
    value = body.get("value")
    if attr.category == "category":
        if not enumeration or options is not None or value is not None:
            raise AttributeDefinitionError(
                "invalid_parameter", "Only enumeration can be updated on a category attribute"
            )
        values = [e["value"] for e in enumeration]
        if len(set(values)) != len(values):
            raise AttributeDefinitionError(
                "invalid_parameter", "enumeration values must be unique"
            )
        attr.enumeration = [{"value": e["value"], "label": e["label"]} for e in enumeration]
        return attr
    if attr.category in ("calculated", "global"):
        if not value or options is not None or enumeration is not None:
            raise AttributeDefinitionError(
                "invalid_parameter", f"Only value can be updated on a {attr.category} attribute"
            )
        attr.calculated_value = str(value)
        return attr
    if attr.type == "multiple-choice":
        if not options or enumeration is not None or value is not None:
            raise AttributeDefinitionError(
                "invalid_parameter",
                "Only multiCategoryOptions can be updated on a multiple-choice attribute",
            )
        _check_options(options)
        attr.options = list(dict.fromkeys(options))
        return attr
    raise AttributeDefinitionError(
        "invalid_parameter", f"Attribute {attr.name} of type {attr.type} has nothing to update"
    )


def coerce_value(attr: AttributeDef, value: Any) -> Any:
    """The value to store for ``attr``, or ``_SKIP`` when Brevo silently ignores it."""
    if not attr.writable:
        return _SKIP
    t = attr.type
    if t in ("text", "user"):
        return value if isinstance(value, str) else _SKIP
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _SKIP
        return value
    if t == "boolean":
        return value if isinstance(value, bool) else _SKIP
    if t == "id":
        return value if isinstance(value, int) and not isinstance(value, bool) else _SKIP
    if t == "date":
        if not isinstance(value, str) or not DATE_RE.match(value):
            return _SKIP
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return _SKIP
        return value
    if t == "category":
        if isinstance(value, bool) or not isinstance(value, int):
            return _SKIP
        if value not in {e["value"] for e in attr.enumeration}:
            return _SKIP
        return value
    if t == "multiple-choice":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _SKIP
        if not set(value) <= set(attr.options):
            return _SKIP
        return list(dict.fromkeys(value))
    return _SKIP


def is_skip(value: Any) -> bool:
    """Whether ``coerce_value`` rejected the value."""
    return value is _SKIP


def is_empty(value: Any) -> bool:
    """An import value that erases with ``emptyContactsAttributes``."""
    return value is None or value == ""
