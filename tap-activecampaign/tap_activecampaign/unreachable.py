"""An API that cannot be reached: one line naming the URL and the likely fix, no traceback.

A refused connection to a loopback host means a local sandbox that is not running: it is not
transient, so it stops the run at once (retrying it for minutes helps nobody). On any other host
a refused connection or a name that does not resolve may be a passing outage: the client's
retries run as for any transport error, and only when they are spent does the run stop, with a
one-line message instead of the ``requests`` traceback.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

#: The repository's command that starts both local sandboxes.
START_SANDBOX = "./scripts/sandbox.sh start"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


class ServiceUnreachable(FatalAPIError):
    """Nothing listens at the API URL (a loopback host): not worth a retry."""


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP literal (never a name such as ``127.evil.example``)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL: no path, no query string, no credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, its causes and what it wraps (urllib3 keeps the socket error in
    ``args``/``reason``)."""
    seen: list[BaseException] = []
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if any(current is s for s in seen) or len(seen) > 20:
            continue
        seen.append(current)
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += [a for a in current.args if isinstance(a, BaseException)]
        todo.extend(x for x in linked if isinstance(x, BaseException))
    return seen


def is_refused(exc: BaseException) -> bool:
    """The connection was refused: nothing listens there, the request never left."""
    return any(isinstance(e, ConnectionRefusedError) for e in _chain(exc))


def cause_of(exc: BaseException) -> str:
    """A few words for what went wrong at the transport level."""
    if is_refused(exc):
        return "connection refused"
    text = " ".join(str(e) for e in _chain(exc))
    if "Name or service not known" in text or "NameResolutionError" in text or (
        "nodename nor servname" in text
    ) or "Temporary failure in name resolution" in text:
        return "the host name does not resolve"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    return type(exc).__name__


def raise_if_not_running(exc: BaseException, url: str, setting: str = "api_url") -> None:
    """Turn a refused connection to a loopback URL into :class:`ServiceUnreachable`."""
    host = urlsplit(url).hostname or ""
    if is_refused(exc) and is_loopback(host):
        msg = (
            f"nothing answers at {origin(url)} (connection refused; setting {setting}): "
            f"is the sandbox running? Start it with {START_SANDBOX}"
        )
        raise ServiceUnreachable(msg) from None


def give_up_message(exc: BaseException, url: str, setting: str = "api_url") -> str:
    """The one line for a host that stayed unreachable through every retry."""
    return (
        f"cannot reach {origin(url)} ({cause_of(exc)}, after retries): check the {setting} "
        "setting and the network"
    )
