"""Source values → Brevo attribute values: attribute names, types, and conversion per type.

Emails and phone numbers are normalised (E.164 with the default region), dates become UTC
ISO dates, numbers floats, booleans booleans, multiple-choice values lists of labels; a value
that does not fit its type raises `ConversionError` (the record's value becomes a reject).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import typing as t

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# ActiveCampaign custom field type → Brevo attribute type.
AC_FIELD_TYPES = {
    "text": "text",
    "textarea": "text",
    "hidden": "text",
    "date": "date",
    "datetime": "date",
    "dropdown": "category",
    "radio": "category",
    "listbox": "multiple-choice",
    "checkbox": "multiple-choice",
}

BREVO_TYPES = ("text", "date", "float", "boolean", "category", "multiple-choice")
RESERVED_ATTRIBUTES = {"EMAIL", "SMS", "EXT_ID", "WHATSAPP", "LANDLINE_NUMBER"}


_NAME_RE = re.compile(r"[^A-Z0-9_]+")


def attribute_name(raw: str) -> str:
    """A Brevo attribute name: capitals, digits and underscores, not starting with a digit."""
    name = _NAME_RE.sub("_", str(raw).upper()).strip("_")
    name = re.sub("_+", "_", name) or "FIELD"
    if name[0].isdigit():
        name = "F_" + name
    if name in RESERVED_ATTRIBUTES:
        name = "SRC_" + name
    return name[:64]


def brevo_type_for_schema(prop: t.Mapping[str, t.Any]) -> str:
    """Infer a Brevo attribute type from a JSON-schema property (any tap)."""
    types = prop.get("type", "string")
    if isinstance(types, str):
        types = [types]
    types = [x for x in types if x != "null"]
    fmt = prop.get("format")
    if "boolean" in types and len(types) == 1:
        return "boolean"
    if types and all(x in ("integer", "number") for x in types):
        return "float"
    if "string" in types and fmt in ("date", "date-time"):
        return "date"
    return "text"


# --- identifiers -----------------------------------------------------------------------


def normalise_email(value: t.Any) -> tuple[str | None, str | None]:
    """(email, None) when valid, (None, reason) otherwise."""
    if value is None or str(value).strip() == "":
        return None, "missing email"
    text = str(value).strip()
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        return None, f"invalid email: {exc}"
    return info.normalized.lower(), None


def normalise_phone(value: t.Any, region: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) when valid, (None, reason) otherwise."""
    if value is None or str(value).strip() == "":
        return None, None
    text = str(value).strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (region or None) if not text.startswith("+") else None)
    except phonenumbers.NumberParseException as exc:
        return None, f"invalid phone number {value!r}: {exc}"
    region_of = phonenumbers.region_code_for_country_code(number.country_code or 0)
    # The shape Brevo accepts (a known country code, a possible length): stricter checks on
    # number allocation would drop numbers Brevo takes (e.g. the 555 range).
    if region_of == "ZZ" or not phonenumbers.is_possible_number(number):
        return None, f"invalid phone number {value!r}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


# --- values ------------------------------------------------------------------------------


class ConversionError(ValueError):
    """A value cannot be converted to its Brevo attribute's type."""


def _parse_datetime(text: str) -> dt.datetime | dt.date:
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return dt.date.fromisoformat(text)
    candidate = text.replace("Z", "+00:00").replace(" ", "T", 1)
    return dt.datetime.fromisoformat(candidate)


def to_date(value: t.Any) -> str:
    """YYYY-MM-DD; date-times are taken in UTC."""
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | dt.date = value
    elif isinstance(value, dt.date):
        parsed = value
    else:
        try:
            parsed = _parse_datetime(str(value))
        except ValueError:
            raise ConversionError(f"{value!r} is not a date") from None
    if isinstance(parsed, dt.datetime):
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC)
        return parsed.date().isoformat()
    return parsed.isoformat()


def to_float(value: t.Any) -> int | float:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        number = float(value)
    else:
        text = str(value).strip().replace(",", "")
        try:
            number = float(decimal.Decimal(text))
        except (decimal.InvalidOperation, ValueError):
            raise ConversionError(f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ConversionError(f"{value!r} is not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


_TRUE = {"true", "t", "yes", "y", "1", "on", "checked"}
_FALSE = {"false", "f", "no", "n", "0", "off", "unchecked"}


def to_bool(value: t.Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, decimal.Decimal)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConversionError(f"{value!r} is not a boolean")


def split_multi(value: t.Any) -> list[str]:
    """ActiveCampaign multi-select values look like `||a||b||`; arrays pass through."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v) != ""]
    text = str(value)
    if "||" in text:
        return [p for p in text.split("||") if p != ""]
    return [p.strip() for p in text.split(",") if p.strip() != ""] if text else []


def to_text(value: t.Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        from target_brevo.serialize import dumps

        return dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def convert(
    value: t.Any,
    brevo_type: str,
    *,
    enumeration: t.Mapping[str, int] | None = None,
    options: t.Iterable[str] | None = None,
) -> t.Any:
    """Convert a source value to what Brevo stores for `brevo_type`.

    `None` and "" become "" (which erases the value with `emptyContactsAttributes`).
    `enumeration` maps a source value or label (lower-cased) to a category's integer;
    `options` are a multiple-choice attribute's labels.
    """
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return ""
    if brevo_type == "date" and isinstance(value, str) and value.strip().startswith("0000-00-00"):
        return ""  # ActiveCampaign's zero date: no date
    if brevo_type == "text":
        return to_text(value)
    if brevo_type == "date":
        return to_date(value)
    if brevo_type == "float":
        return to_float(value)
    if brevo_type == "boolean":
        return to_bool(value)
    if brevo_type == "category":
        is_int = isinstance(value, int) and not isinstance(value, bool)
        if is_int and (enumeration is None or value in enumeration.values()):
            return value
        key = str(value).strip().lower()
        if enumeration and key in enumeration:
            return enumeration[key]
        raise ConversionError(f"{value!r} is not one of the category's options")
    if brevo_type == "multiple-choice":
        labels = split_multi(value)
        if options is None:
            return labels
        by_lower = {o.lower(): o for o in options}
        out = []
        for label in labels:
            if label.lower() not in by_lower:
                raise ConversionError(f"{label!r} is not one of the multiple-choice options")
            out.append(by_lower[label.lower()])
        return out
    return to_text(value)


def same_value(sent: t.Any, stored: t.Any, brevo_type: str) -> bool:
    """Did Brevo store what was sent? (Brevo silently drops mistyped values.)"""
    if sent == "" or sent is None:
        return stored in (None, "", [])
    if stored is None or stored == "":
        return False
    if brevo_type == "date":
        return str(stored)[:10] == str(sent)[:10]
    if brevo_type == "float":
        try:
            return abs(float(stored) - float(sent)) < 1e-9 * max(1.0, abs(float(sent)))
        except (TypeError, ValueError):
            return False
    if brevo_type == "boolean":
        try:
            return to_bool(stored) == bool(sent)
        except ConversionError:
            return False
    if brevo_type == "category":
        try:
            return int(stored) == int(sent)
        except (TypeError, ValueError):
            return str(stored) == str(sent)
    if brevo_type == "multiple-choice":
        stored_list = stored if isinstance(stored, list) else split_multi(stored)
        return sorted(map(str, stored_list)) == sorted(map(str, sent))
    return str(stored) == str(sent)


def tags_value(tags: t.Any) -> str:
    """Sorted tag names as `|customer|vip|` ("" when none): segment with 'contains |vip|'."""
    if tags is None:
        return ""
    if isinstance(tags, str):
        try:
            parsed = json.loads(tags)
            tags = parsed if isinstance(parsed, list) else [tags]
        except ValueError:
            tags = [p for p in re.split(r"[,|]", tags) if p.strip()]
    names = sorted({str(x).strip().replace("|", "/") for x in tags if str(x).strip()})
    return "|" + "|".join(names) + "|" if names else ""
