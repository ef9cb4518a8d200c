"""BrevoClient: api-key auth and the one request loop (pacing, retries, error answers).

There is exactly one retry loop (here). Callers never retry around it. Error classes and
their classification: errors.py; rate-limit buckets: pacing.py; api_url checks: api_url.py.
"""

from __future__ import annotations

import json
import logging
import random
import time
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from target_brevo.api_url import (
    check_api_url,
    connection_refused,
    is_loopback,
    not_running_message,
    origin,
)
from target_brevo.errors import (
    BrevoSystemic,
    BrevoUncertain,
    error_for,
    may_have_been_applied,
    parse_error_body,
)
from target_brevo.pacing import Pacer, bucket_of
from target_brevo.serialize import dumps
from target_brevo.settings import DEFAULTS, Settings

LOGGER = logging.getLogger("target_brevo.client")

# The request may or may not have reached Brevo (timeouts, resets, truncated answers).
TRANSPORT_ERRORS = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
RETRY_STATUSES = {500, 502, 503, 504, 520, 521, 522, 523, 524, 425}


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
        timeout: float = DEFAULTS["request_timeout"],
        max_tries: int = DEFAULTS["max_tries"],
        retry_base_seconds: float = DEFAULTS["retry_base_seconds"],
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

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: t.Any) -> BrevoClient:
        """The client for the target's settings (api_url, api_key, request_timeout,
        max_tries, retry_base_seconds); `kwargs` as for the constructor."""
        return cls(
            settings.api_url,
            settings.api_key,
            timeout=settings.request_timeout,
            max_tries=settings.max_tries,
            retry_base_seconds=settings.retry_base_seconds,
            **kwargs,
        )

    # -- helpers -----------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        base = min(self.retry_max, self.retry_base * (2 ** (attempt - 1)))
        return base * (0.75 + random.random() * 0.5)

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
                if refused and is_loopback((urlsplit(url).hostname or "").lower()):
                    raise BrevoSystemic(not_running_message(url)) from None
                if refused:  # nothing was sent, so even a create may be tried again
                    kind = "connection refused"
                if not idempotent and not refused:
                    msg = f"Brevo {key}: {kind}; the request may have been applied"
                    raise BrevoUncertain(msg) from None
                if attempt >= self.max_tries:
                    msg = (
                        f"Brevo {key}: cannot reach {origin(url)} ({kind}) after {attempt} "
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
                    code, message, _ = parse_error_body(resp)
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
                raise error_for(method.upper(), path.split("?")[0], resp, self.api_url)

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
