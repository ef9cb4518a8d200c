"""The account's API URL: the one place it is checked and put into its canonical form."""

from __future__ import annotations

from urllib.parse import urlparse, urlunparse

from tap_activecampaign.unreachable import is_loopback


class ConfigError(ValueError):
    """A setting that cannot work (bad URL, unknown time zone)."""


def normalize_api_url(value: str) -> str:
    """The account API URL as ``<scheme>://<host>[:port][/prefix]/api/3``.

    Accepts the URL from Settings -> Developer with or without ``/api/3`` and a trailing slash.
    ``https`` is required, except for loopback hosts (local sandboxes and tests).
    """
    text = (value or "").strip()
    if not text:
        msg = "api_url is empty: use the API URL shown under Settings -> Developer"
        raise ConfigError(msg)
    parsed = urlparse(text)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        msg = "api_url must look like https://<account>.api-us1.com"
        raise ConfigError(msg)
    if parsed.username or parsed.password:
        msg = "api_url must not carry credentials; put the key in api_token"
        raise ConfigError(msg)
    if parsed.scheme == "http" and not is_loopback(parsed.hostname):
        msg = "api_url must use https (http is accepted only for loopback hosts)"
        raise ConfigError(msg)
    path = parsed.path.rstrip("/")
    if path.lower().endswith("/api/3"):
        path = path[: -len("/api/3")]
    return urlunparse((parsed.scheme, parsed.netloc, f"{path}/api/3", "", "", ""))
