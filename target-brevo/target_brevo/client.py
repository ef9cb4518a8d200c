"""BrevoClient: api-key auth, per-bucket pacing, retries and Brevo's error model.

There is exactly one retry loop (here). Callers never retry around it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import socket
import threading
import time
import typing as t
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

from target_brevo.serialize import dumps
from target_brevo.settings import DEFAULTS

LOGGER = logging.getLogger("target_brevo.client")

# The request may or may not have reached Brevo (timeouts, resets, truncated answers).
TRANSPORT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
RETRY_STATUSES = {500, 502, 503, 504, 520, 521, 522, 523, 524, 425}
#: The repository's command that starts both local sandboxes (named when a loopback api_url
#: refuses the connection).
START_SANDBOX = "./scripts/sandbox.sh start"
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


def bucket_of(path: str) -> str:
    """Brevo's rate bucket for an API path relative to /v3 (contracts §4)."""
    if path.startswith("/contacts"):
        return "contacts"
    if path.startswith("/events"):
        return "events"
    return "other"


@dataclass
class Pacer:
    """Paces one rate bucket from the last `x-sib-ratelimit-*` headers seen."""

    name: str
    remaining: int | None = None
    reset_at: float = 0.0
    requests: int = 0
    waited: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    last_at: float = 0.0

    # Spacing starts when this few requests are left and each would have to last longer
    # than MIN_SPACING seconds on average (the 100-an-hour bucket, never a 10-per-second one).
    LOW_REMAINING: t.ClassVar[int] = 20
    MIN_SPACING: t.ClassVar[float] = 1.0

    def before(self, sleep: t.Callable[[float], None]) -> None:
        """Wait when the bucket is known to be empty until its window resets; when it runs
        low relative to its reset, space the requests (reset / remaining apart) so that a
        burst does not drain it and leave the next request waiting up to an hour."""
        with self.lock:
            now = time.monotonic()
            if self.remaining is not None and self.remaining <= 0 and now < self.reset_at:
                delay = self.reset_at - now
                LOGGER.info("Bucket %s exhausted, waiting %.2fs for its reset", self.name, delay)
                self.waited += delay
                sleep(delay)
                self.remaining = None
            elif self.remaining is not None:
                left = self.reset_at - now
                if 0 < self.remaining <= self.LOW_REMAINING and left > 0:
                    spacing = left / self.remaining
                    delay = self.last_at + spacing - now
                    if spacing >= self.MIN_SPACING and delay > 0:
                        LOGGER.info(
                            "Bucket %s: %d requests left for %.0fs, spacing them %.1fs apart",
                            self.name,
                            self.remaining,
                            left,
                            spacing,
                        )
                        self.waited += delay
                        sleep(delay)
                self.remaining -= 1
            self.requests += 1
            self.last_at = time.monotonic()

    def update(self, headers: t.Mapping[str, str]) -> float | None:
        """Read the headers; returns the reset delay in seconds when present."""
        remaining = headers.get("x-sib-ratelimit-remaining")
        reset = headers.get("x-sib-ratelimit-reset")
        delay: float | None = None
        with self.lock:
            if reset is not None:
                try:
                    delay = max(0.0, float(reset))
                    self.reset_at = time.monotonic() + delay
                except ValueError:
                    delay = None
            if remaining is not None:
                try:
                    self.remaining = int(float(remaining))
                except ValueError:
                    self.remaining = None
        return delay


@dataclass
class Response:
    """What the callers need from a Brevo response."""

    status: int
    body: t.Any
    headers: t.Mapping[str, str]


class BrevoClient:
    """A small synchronous Brevo API v3 client."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_tries: int = 5,
        retry_base_seconds: float = 1.0,
        retry_max_seconds: float = 60.0,
        max_rate_limit_waits: int = 50,
        sleep: t.Callable[[float], None] = time.sleep,
        user_agent: str = "target-brevo",
    ) -> None:
        check_api_url(api_url)
        self.api_url = api_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update(
            {
                "api-key": api_key,
                "accept": "application/json",
                "content-type": "application/json",
                "user-agent": user_agent,
            }
        )
        # Report CSVs live on pre-signed storage URLs: never send the api key there.
        self._plain = requests.Session()
        self._plain.headers.update({"user-agent": user_agent})
        self.timeout = timeout
        self.max_tries = max(1, max_tries)
        self.retry_base = retry_base_seconds
        self.retry_max = retry_max_seconds
        self.max_rate_limit_waits = max_rate_limit_waits
        self.sleep = sleep
        self.pacers = {name: Pacer(name) for name in ("contacts", "events", "other")}
        self.stats: dict[str, int] = {}

    # -- helpers -----------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        base = min(self.retry_max, self.retry_base * (2 ** (attempt - 1)))
        return base * (0.75 + random.random() * 0.5)

    @staticmethod
    def _parse_error(resp: requests.Response) -> tuple[str | None, str | None, dict[str, t.Any]]:
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

    def _error_for(self, method: str, path: str, resp: requests.Response) -> BrevoError:
        code, message, metadata = self._parse_error(resp)
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
                f"no such endpoint at {self.api_url}{path}: the api_url setting must be "
                f"Brevo's API base ending in /v3, e.g. {DEFAULTS['api_url']}"
            )
            return BrevoSystemic(f"{text}: {hint}", **kwargs)
        if status == 404:
            return BrevoNotFound(text, **kwargs)
        if metadata.get("duplicate_identifiers"):
            return BrevoConflict(text, **kwargs)
        return BrevoInvalid(text, **kwargs)

    # -- the one request loop ----------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: t.Mapping[str, t.Any] | None = None,
        body: t.Any = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one API request with pacing and retries.

        `idempotent=False` (default for POST) means: if the request may have been
        applied (reset/timeout/truncated answer after sending) raise BrevoUncertain
        instead of sending it again.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "PUT", "DELETE")
        url = self.api_url + path
        pacer = self.pacers[bucket_of(path)]
        data = dumps(body) if body is not None else None
        attempt = 0
        rate_waits = 0
        key = f"{method.upper()} {path.split('?')[0]}"
        while True:
            attempt += 1
            pacer.before(self.sleep)
            self.stats[pacer.name] = self.stats.get(pacer.name, 0) + 1
            try:
                resp = self._session.request(
                    method, url, params=params, data=data, timeout=self.timeout
                )
            except TRANSPORT_ERRORS as exc:
                kind = type(exc).__name__
                refused = connection_refused(exc)
                if refused and _is_loopback((urlsplit(url).hostname or "").lower()):
                    raise BrevoSystemic(not_running_message(url)) from None
                if refused:  # nothing was sent, so even a create may be tried again
                    kind = "connection refused"
                if not idempotent and not refused:
                    msg = f"Brevo {key}: {kind}; the request may have been applied"
                    raise BrevoUncertain(msg) from None
                if attempt >= self.max_tries:
                    msg = (
                        f"Brevo {key}: cannot reach {_origin(url)} ({kind}) after {attempt} "
                        "tries: check the api_url setting and the network"
                    )
                    raise BrevoSystemic(msg) from None
                delay = self._backoff(attempt)
                LOGGER.warning("Brevo %s: %s, retry %d in %.2fs", key, kind, attempt, delay)
                self.sleep(delay)
                continue

            reset = pacer.update(resp.headers)
            status = resp.status_code
            if status == 429:
                rate_waits += 1
                attempt -= 1  # a 429 was not processed: it does not use up a try
                if rate_waits > self.max_rate_limit_waits:
                    msg = f"Brevo {key}: still rate limited after {rate_waits} waits"
                    raise BrevoSystemic(msg, status=429)
                delay = (reset if reset is not None else 1.0) + 0.05
                LOGGER.info("Brevo %s: 429, waiting %.2fs for the bucket reset", key, delay)
                pacer.waited += delay
                self.sleep(delay)
                continue
            if status in RETRY_STATUSES:
                if not idempotent and may_have_been_applied(status):
                    msg = f"Brevo {key}: {status}; the request may have been applied"
                    raise BrevoUncertain(msg, status=status)
                if attempt >= self.max_tries:
                    code, message, _ = self._parse_error(resp)
                    msg = f"Brevo {key} -> {status} {code or ''} {message or ''}"
                    msg += f" after {attempt} tries"
                    raise BrevoSystemic(msg.strip(), status=status, code=code)
                delay = self._backoff(attempt)
                LOGGER.warning("Brevo %s: %d, retry %d in %.2fs", key, status, attempt, delay)
                self.sleep(delay)
                continue
            if status >= 500 and not idempotent:  # an unknown 5xx (e.g. 501, 530)
                msg = f"Brevo {key}: {status}; the request may have been applied"
                raise BrevoUncertain(msg, status=status)
            if status >= 400:
                raise self._error_for(method.upper(), path.split("?")[0], resp)

            parsed: t.Any = None
            if resp.content:
                try:
                    parsed = json.loads(resp.content)
                except ValueError:
                    parsed = _BAD_BODY
            elif status == 200 and method.upper() == "GET":
                parsed = _BAD_BODY  # a GET always answers with a body
            if parsed is _BAD_BODY:
                if not idempotent:
                    msg = f"Brevo {key}: unreadable response; the request may have been applied"
                    raise BrevoUncertain(msg, status=status)
                if attempt >= self.max_tries:
                    msg = f"Brevo {key}: unreadable response after {attempt} tries"
                    raise BrevoSystemic(msg, status=status)
                delay = self._backoff(attempt)
                LOGGER.warning("Brevo %s: unreadable body, retry %d in %.2fs", key, attempt, delay)
                self.sleep(delay)
                continue
            return Response(status=status, body=parsed, headers=resp.headers)

    def get(self, path: str, params: t.Mapping[str, t.Any] | None = None) -> t.Any:
        """GET and return the JSON body."""
        return self.request("GET", path, params=params).body

    def get_report(self, url: str) -> str:
        """Fetch an import report CSV (a plain URL: no api key, not an API bucket)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self._plain.get(url, timeout=self.timeout)
                if resp.status_code < 500:
                    resp.raise_for_status()
                    return resp.text
                problem = f"status {resp.status_code}"
            except TRANSPORT_ERRORS as exc:
                problem = type(exc).__name__
            except requests.HTTPError as exc:
                msg = f"import report {urlsplit(url).path}: {exc.response.status_code}"
                raise BrevoSystemic(msg) from None
            if attempt >= self.max_tries:
                msg = f"import report {urlsplit(url).path}: {problem} after {attempt} tries"
                raise BrevoSystemic(msg)
            self.sleep(self._backoff(attempt))

    def close(self) -> None:
        self._session.close()
        self._plain.close()


_BAD_BODY = object()


def _is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1); never a name like
    `127.evil.example.com`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin(url: str) -> str:
    """`scheme://host[:port]`: no path, no query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def not_running_message(url: str) -> str:
    """The one line for a loopback api_url where nothing listens: a sandbox not started."""
    return (
        f"nothing answers at {_origin(url)} (connection refused; setting api_url): is the "
        f"sandbox running? Start it with {START_SANDBOX}"
    )


def probe_loopback(api_url: str, timeout: float = 2.0) -> None:
    """For a loopback api_url, a TCP connect (no request, no rate-limit bucket): a sandbox that
    is not running is reported at the first record, not at the first flush minutes later.
    Other hosts are left to the request loop and its retries."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if not _is_loopback(host):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionRefusedError:
        raise BrevoSystemic(not_running_message(api_url)) from None
    except OSError:
        return  # anything else: the request loop decides


def connection_refused(exc: BaseException) -> bool:
    """Nothing listens at the address: the request never left (requests wraps the socket
    error in urllib3 errors, kept in `args` and `reason`)."""
    todo: list[BaseException] = [exc]
    seen = 0
    while todo and seen < 20:
        current = todo.pop()
        seen += 1
        if isinstance(current, ConnectionRefusedError):
            return True
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        todo.extend(x for x in linked if isinstance(x, BaseException))
    return False


def check_api_url(api_url: str) -> None:
    """`https` always; `http` only for loopback hosts (tests and the sandbox)."""
    parts = urlsplit(api_url)
    if parts.scheme == "https":
        return
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and _is_loopback(host):
        return
    msg = f"api_url must use https (http only for loopback hosts), got {parts.scheme}://{host}"
    raise ValueError(msg)
