"""Brevo contact identifiers: email, SMS, EXT_ID and contact id.

Every rule about how Brevo recognises a contact lives here:

- **Email** is compared case-insensitively and stored lower-cased (docs/contracts.md §4). An
  address must have one ``@``, a non-empty local part and a dotted domain; anything else is
  "Invalid email address".
- **SMS** must carry its country code. Brevo accepts ``91xxxxxxxxxx``, ``+91xxxxxxxxxx`` and
  ``0091xxxxxxxxxx``; all three name the same number. The sandbox stores the E.164 form with the
  plus sign (``+919876543210``) and compares numbers in that form, so any accepted spelling finds
  the contact. A number is valid when ``phonenumbers`` knows its country code and finds the
  length possible for that country (``is_possible_number``).
- **EXT_ID** is an opaque string, compared exactly.
- **Contact id** is a positive integer.

``identifierType`` (``email_id``, ``contact_id``, ``ext_id``, ``phone_id``, ``whatsapp_id``,
``landline_number_id``) names which one a path identifier is; without it, Brevo accepts an email
or an id on every endpoint, and also an SMS number on ``GET`` (§2.3 of the notes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import phonenumbers

IdentifierKind = Literal["email", "id", "ext_id", "sms", "whatsapp", "landline"]

IDENTIFIER_TYPES: dict[str, IdentifierKind] = {
    "email_id": "email",
    "contact_id": "id",
    "ext_id": "ext_id",
    "phone_id": "sms",
    "whatsapp_id": "whatsapp",
    "landline_number_id": "landline",
}

# The attributes that are identifiers rather than data. They appear in `attributes` on read.
IDENTIFIER_ATTRIBUTES = ("SMS", "EXT_ID")

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)

SMS_FORMAT_MESSAGE = (
    "Invalid phone number, SMS phone number should be in format: 91xxxxxxxxxx or +91xxxxxxxxxx."
)


def normalize_email(value: str) -> str:
    """The stored form of an email: trimmed and lower-cased."""
    return value.strip().lower()


def is_valid_email(value: str) -> bool:
    """Whether Brevo would accept ``value`` as a contact email."""
    if not isinstance(value, str) or len(value) > 254:
        return False
    local, _, _domain = value.strip().rpartition("@")
    if not local or len(local) > 64 or ".." in value:
        return False
    return bool(_EMAIL_RE.match(value.strip()))


def normalize_sms(value: object) -> str | None:
    """The E.164 form (``+<digits>``) of an SMS number, or None when Brevo would reject it.

    Accepted spellings: ``+CC…``, ``00CC…`` and ``CC…`` (digits with the country code first);
    spaces, dots, dashes and parentheses are ignored. Integers are accepted as digits.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return None
    raw = re.sub(r"[\s.\-()]", "", value)
    if raw.startswith("+"):
        digits = raw[1:]
    elif raw.startswith("00"):
        digits = raw[2:]
    else:
        digits = raw
    if not digits.isdigit() or not 6 <= len(digits) <= 17 or digits.startswith("0"):
        return None
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None
    if (
        number.country_code is None
        or phonenumbers.region_code_for_country_code(number.country_code) == "ZZ"
    ):
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class Identifier:
    """A resolved path identifier: which kind it is and its normalised value."""

    kind: IdentifierKind
    value: str | int


class IdentifierError(ValueError):
    """The identifier cannot name any contact (mapped to 400 invalid_parameter)."""


def parse_identifier(raw: str, identifier_type: str | None, *, allow_sms: bool) -> list[Identifier]:
    """The candidate identifiers a path segment stands for, in the order Brevo tries them.

    With ``identifierType`` the answer is exactly one candidate. Without it: an ``@`` means an
    email; digits mean a contact id (and, on ``GET``, an SMS number when no id matches); a
    ``+``-prefixed number means an SMS (``GET`` only). Anything else matches nothing.
    """
    if identifier_type is not None:
        kind = IDENTIFIER_TYPES[identifier_type]
        if kind == "email":
            return [Identifier("email", normalize_email(raw))]
        if kind == "id":
            if not raw.isdigit():
                raise IdentifierError(f"Invalid contact id: {raw}")
            return [Identifier("id", int(raw))]
        if kind == "sms":
            sms = normalize_sms(raw)
            return [Identifier("sms", sms)] if sms else []
        if kind == "ext_id":
            return [Identifier("ext_id", raw)]
        return [Identifier(kind, raw)]
    if "@" in raw:
        return [Identifier("email", normalize_email(raw))]
    out: list[Identifier] = []
    if raw.isdigit():
        out.append(Identifier("id", int(raw)))
    if allow_sms and (raw.isdigit() or raw.startswith("+")):
        sms = normalize_sms(raw)
        if sms:
            out.append(Identifier("sms", sms))
    return out
