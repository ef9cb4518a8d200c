"""The api_url setting: https only (http for loopback hosts), and the one clear line when a
loopback Brevo (the local sandbox) is not running."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from target_brevo.errors import BrevoSystemic

#: The repository's command that starts both local sandboxes (named when a loopback api_url
#: refuses the connection).
START_SANDBOX = "./scripts/sandbox.sh start"


def is_loopback(host: str) -> bool:
    """`localhost` or a loopback IP literal (127.0.0.0/8, ::1); never a name like
    `127.evil.example.com`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(url: str) -> str:
    """`scheme://host[:port]`: no path, no query string."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def not_running_message(url: str) -> str:
    """The one line for a loopback api_url where nothing listens: a sandbox not started."""
    return (
        f"nothing answers at {origin(url)} (connection refused; setting api_url): is the "
        f"sandbox running? Start it with {START_SANDBOX}"
    )


def probe_loopback(api_url: str, timeout: float = 2.0) -> None:
    """For a loopback api_url, a TCP connect (no request, no rate-limit bucket): a sandbox that
    is not running is reported at the first record, not at the first flush minutes later.
    Other hosts are left to the request loop and its retries."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if not is_loopback(host):
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
    if parts.scheme == "http" and is_loopback(host):
        return
    msg = f"api_url must use https (http only for loopback hosts), got {parts.scheme}://{host}"
    raise ValueError(msg)
