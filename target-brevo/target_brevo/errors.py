"""Brevo's error model: the exception classes and how an error answer is classified.

Which status stops the run (401/402/403, a bare 404 = a wrong api_url), which is a per-record
rejection (other 4xx, duplicate identifiers), and which may have been applied already (5xx
after a create) is decided here and only here.
"""

from __future__ import annotations

import typing as t

from target_brevo.settings import DEFAULTS

if t.TYPE_CHECKING:
    import requests

#: What to do about a status that stops the run, named after the setting to fix.
AUTH_HINTS = {
    401: "check the api_key setting (TARGET_BREVO_API_KEY): a v3 key from Brevo's SMTP & API "
    "-> API keys, starting xkeysib-",
    402: "the Brevo account's plan or credits do not allow this call",
    403: "the api_key setting's key may not make this call, or this machine's IP is not "
    "authorised (Brevo: Security -> Authorised IPs)",
}


def may_have_been_applied(status: int) -> bool:
    """After any 5xx a non-idempotent create may have been applied by Brevo (a 500 or 503
    can come after the write, behind Cloudflare or from Brevo itself): look before retrying.
    A 425 (account in process) and a 429 were not processed."""
    return status >= 500



class BrevoError(Exception):
    """Base class. Messages hold the method, path, status, Brevo code and message only."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        brevo_message: str | None = None,
        metadata: dict[str, t.Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.brevo_message = brevo_message
        self.metadata = metadata or {}


class BrevoInvalid(BrevoError):
    """A per-record 4xx: the record goes to the rejects file, the run goes on."""


class BrevoConflict(BrevoInvalid):
    """An identifier already belongs to another contact (`metadata.duplicate_identifiers`)."""

    @property
    def duplicate_identifiers(self) -> list[str]:
        value = self.metadata.get("duplicate_identifiers") or []
        return [str(v) for v in value]


class BrevoNotFound(BrevoInvalid):
    """404 document_not_found."""


class BrevoSystemic(BrevoError):
    """The API keeps failing (retries exhausted): stop the run before STATE moves."""


class BrevoAuthError(BrevoSystemic):
    """401, 402 or 403: stop the run before STATE moves."""


class BrevoUncertain(BrevoError):
    """A non-idempotent request may have been applied (reset/timeout after sending).

    The caller must look the object up before creating it again.
    """



def parse_error_body(
    resp: requests.Response,
) -> tuple[str | None, str | None, dict[str, t.Any]]:
    """(code, message, metadata) of a Brevo error body; Nones and {} when it has none."""
    try:
        body = resp.json()
    except ValueError:
        return None, None, {}
    if not isinstance(body, dict):
        return None, None, {}
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    return (
        str(body.get("code")) if body.get("code") is not None else None,
        str(body.get("message")) if body.get("message") is not None else None,
        metadata or {},
    )

def error_for(method: str, path: str, resp: requests.Response, api_url: str) -> BrevoError:
    """The exception for a 4xx answer: auth (stops the run), a wrong api_url (a bare 404),
    a missing object, a duplicate identifier, or any other per-record rejection."""
    code, message, metadata = parse_error_body(resp)
    status = resp.status_code
    said = ": ".join(x for x in (code, message or (resp.reason or "").strip()) if x)
    text = f"Brevo {method} {path} -> {status}" + (f" {said}" if said else "")
    kwargs: dict[str, t.Any] = {
        "status": resp.status_code,
        "code": code,
        "brevo_message": message,
        "metadata": metadata,
    }
    if status in AUTH_HINTS:
        return BrevoAuthError(f"{text}: {AUTH_HINTS[status]}", **kwargs)
    if status == 404 and code is None:
        # Brevo names every missing object (document_not_found); a bare 404 is a path
        # that does not exist: the API URL is wrong, not the record
        hint = (
            f"no such endpoint at {api_url}{path}: the api_url setting must be "
            f"Brevo's API base ending in /v3, e.g. {DEFAULTS['api_url']}"
        )
        return BrevoSystemic(f"{text}: {hint}", **kwargs)
    if status == 404:
        return BrevoNotFound(text, **kwargs)
    if metadata.get("duplicate_identifiers"):
        return BrevoConflict(text, **kwargs)
    return BrevoInvalid(text, **kwargs)
