"""HTTP concerns of every stream: base URL, auth, the paced session, one GET, error
classification and the retry policy (``Retry-After`` exactly on 429, backoff otherwise).

`HttpStream` is the lower half of the one base stream class; `client.ActiveCampaignStream`
adds paging, completeness and per-record handling on top of it.
"""

from __future__ import annotations

import logging
import typing as t
from functools import cached_property
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from singer_sdk import RESTStream
from singer_sdk.authenticators import APIKeyAuthenticator
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_activecampaign.api_url import normalize_api_url
from tap_activecampaign.error_bodies import ac_reason, parse_retry_after
from tap_activecampaign.progress import Progress, progress_of
from tap_activecampaign.unreachable import raise_if_not_running

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_activecampaign.pacing import RequestPacer
    from tap_activecampaign.tap import TapActiveCampaign

LOGGER = logging.getLogger("tap_activecampaign")

#: A 403 can be one of AC's intermittent authentication hiccups: retried this many times.
MAX_AUTH_RETRIES = 2
#: Total tries for 429, 5xx, timeouts, resets, empty and truncated bodies.
MAX_TRIES = 8
RETRY_BASE_SECONDS = 1.0
#: Transient 4xx statuses (request timeout, too early) retried like 5xx.
RETRIABLE_4XX = frozenset({408, 425})
RETRY_MAX_SECONDS = 30.0



class PacedSession(requests.Session):
    """A ``requests`` session whose every send waits for the process-wide pacer."""

    def __init__(self, pacer: RequestPacer, pool_size: int = 32) -> None:
        super().__init__()
        self.pacer = pacer
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        """Send once the pacer grants a slot; a refused loopback URL fails at once."""
        self.pacer.acquire()
        try:
            return super().send(request, **kwargs)
        except requests.ConnectionError as exc:
            raise_if_not_running(exc, request.url or "")
            raise


class HttpStream(RESTStream[int]):
    """A stream's HTTP side: where, how authenticated, paced, retried and classified."""

    # --- wiring to the tap ------------------------------------------------------------

    @property
    def ac_tap(self) -> TapActiveCampaign:
        """The tap, typed."""
        return t.cast("TapActiveCampaign", self._tap)

    @property
    def url_base(self) -> str:
        """``https://<account>.api-us1.com/api/3`` from ``api_url``."""
        return normalize_api_url(str(self.config.get("api_url", "")))

    @property
    def requests_session(self) -> requests.Session:
        """The tap's one paced session (shared connection pool and request budget)."""
        return self.ac_tap.session

    @cached_property
    def authenticator(self) -> APIKeyAuthenticator:
        """``Api-Token`` header."""
        return APIKeyAuthenticator(
            key="Api-Token", value=str(self.config.get("api_token", "")), location="header"
        )

    @property
    def http_headers(self) -> dict[str, str]:
        """JSON, and the configured User-Agent."""
        return {"Accept": "application/json", "User-Agent": self.user_agent}

    @property
    def user_agent(self) -> str:
        """``user_agent`` setting, or ``tap-activecampaign``."""
        return str(self.config.get("user_agent") or "tap-activecampaign (singer-sdk)")

    @property
    def timeout(self) -> int:
        """``request_timeout`` setting (seconds, default 60)."""
        return int(self.config.get("request_timeout") or 60)

    @staticmethod
    def response_body(response: requests.Response) -> dict[str, t.Any]:
        """The JSON body parsed once by :meth:`validate_response`."""
        body = getattr(response, "_ac_body", None)
        if body is None:
            body = response.json()
        return t.cast("dict[str, t.Any]", body)

    def fetch(self, params: t.Mapping[str, t.Any], path: str | None = None) -> dict[str, t.Any]:
        """One GET with the stream's retry policy, returning the JSON body (thread-safe)."""
        url = f"{self.url_base}{path or self.path}"
        prepared = self.build_prepared_request(
            method="GET", url=url, params=dict(params), headers=self.http_headers
        )

        def send(request: requests.PreparedRequest, context: Context | None) -> t.Any:
            self.progress.request(self.name)  # every try, retries included
            return self._request(request, context)

        response = self.request_decorator(send)(prepared, None)
        return self.response_body(response)

    @property
    def progress(self) -> Progress:
        """The tap's per-stream progress log (records, requests, rates)."""
        return progress_of(self._tap, LOGGER)

    # --- errors and retries ---------------------------------------------------------------

    def validate_response(self, response: requests.Response) -> None:
        """Classify every outcome in one place.

        - 429: retried after exactly ``Retry-After`` (the whole process pauses for it);
        - 5xx, 408, 425: retried with exponential backoff;
        - 401/403: retried at most twice (AC has intermittent 403s), then "check api_token";
        - other 4xx (402, 404, 422, ...): fatal, naming stream, path and AC's reason;
        - 200 with an empty, truncated or non-JSON body: retried.
        """
        self.ac_tap.note_server_date(response.headers.get("Date"))
        status = response.status_code
        if status == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            self.ac_tap.pacer.defer(wait if wait is not None else RETRY_BASE_SECONDS)
            self.ac_tap.pacer.slow_down()
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 500 or status in RETRIABLE_4XX:
            raise RetriableAPIError(self.response_error_message(response), response)
        if status in {401, 403}:
            request = response.request
            tries = int(getattr(request, "_ac_auth_failures", 0)) + 1
            setattr(request, "_ac_auth_failures", tries)  # noqa: B010 - counted per request
            if tries > MAX_AUTH_RETRIES:
                msg = (
                    f"{self.response_error_message(response)}. ActiveCampaign refused the "
                    f"credentials {tries} times in a row: check api_token (Settings -> "
                    "Developer) and that its user may read this resource."
                )
                raise FatalAPIError(msg)
            raise RetriableAPIError(self.response_error_message(response), response)
        if status >= 400:
            raise FatalAPIError(self.response_error_message(response))
        if not response.content or not response.content.strip():
            msg = (
                f"stream {self.name}: empty body with HTTP {status} for {self._safe_path(response)}"
            )
            raise RetriableAPIError(msg, response)
        try:
            body = response.json()
        except ValueError as exc:
            msg = (
                f"stream {self.name}: unreadable JSON (truncated?) with HTTP {status} for "
                f"{self._safe_path(response)}"
            )
            raise RetriableAPIError(msg, response) from exc
        if not isinstance(body, dict):
            msg = f"stream {self.name}: unexpected JSON shape for {self._safe_path(response)}"
            raise RetriableAPIError(msg, response)
        setattr(response, "_ac_body", body)  # noqa: B010 - parsed once, read by parse_response

    def _safe_path(self, response: requests.Response) -> str:
        """The URL path only: no host, no query string (which can carry data), no token."""
        url = response.request.url if response.request is not None else response.url
        return urlparse(url or "").path or self.path

    def response_error_message(self, response: requests.Response) -> str:
        """``stream contacts: HTTP 404 for GET /api/3/contacts: <AC's reason>``."""
        method = response.request.method if response.request is not None else "GET"
        return (
            f"stream {self.name}: HTTP {response.status_code} for {method} "
            f"{self._safe_path(response)}: {ac_reason(response)}"
        )

    def backoff_max_tries(self) -> int:
        """Tries per request (403s stop earlier, see :meth:`validate_response`)."""
        return MAX_TRIES

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """``Retry-After`` exactly on 429; otherwise 1, 2, 4, ... 30 seconds."""
        attempt = 0
        exc = yield 0.0
        while True:
            attempt += 1
            exc = yield self.retry_wait(exc, attempt)

    @staticmethod
    def retry_wait(exc: BaseException | None, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (1-based) after ``exc``."""
        response = getattr(exc, "response", None)
        if response is not None and getattr(response, "status_code", None) == 429:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None:
                return wait
        return float(min(RETRY_BASE_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS))

    def backoff_jitter(self, value: float) -> float:
        """No jitter: the pacer already spreads retries, and Retry-After must be exact."""
        return value

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        """One warning per retry, without URLs' query strings or headers."""
        exc = details.get("exception")
        response = getattr(exc, "response", None)
        cause = (
            f"HTTP {response.status_code}"
            if isinstance(response, requests.Response)
            else type(exc).__name__
        )
        self.logger.warning(
            "stream %s: %s on %s, retry %d in %.2f s",
            self.name,
            cause,
            self.path,
            details.get("tries", 0),
            details.get("wait", 0.0),
        )
