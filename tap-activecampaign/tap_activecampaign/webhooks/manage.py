"""Register, list and remove ActiveCampaign webhooks (`/api/3/webhooks`), idempotently.

One webhook per URL: `register` finds the account's webhooks with that exact URL (listing all of
them, as `filters[url]` may match substrings), leaves one that already has the events, sources
and list, updates one that differs (PUT) and deletes any extra; else it creates one. So running
it twice leaves one webhook.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests

from tap_activecampaign.webhooks.decode import EVENT_TYPES

SOURCES = frozenset({"public", "admin", "api", "system"})
_SECRET_SEGMENT = re.compile(r"(/activecampaign/)[^/?#]+")


class ManageError(RuntimeError):
    pass


def mask_url(url: str) -> str:
    """A webhook URL with its secret path segment masked (and any userinfo dropped)."""
    masked = _SECRET_SEGMENT.sub(r"\1***", url)
    parts = urlsplit(masked)
    if parts.username or parts.password:
        masked = masked.replace(parts.netloc, parts.hostname or "", 1)
    return masked


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ManageError(f"webhook URL {mask_url(url)!r} must be http(s)://host/...")
    if parts.scheme == "https" and parts.port not in (None, 443):
        raise ManageError("ActiveCampaign only delivers https webhooks on port 443, "
                          f"not {parts.port}")


class WebhookAdmin:
    def __init__(self, api_url: str, token: str, timeout: float = 30.0) -> None:
        self._base = api_url.rstrip("/").removesuffix("/api/3") + "/api/3"
        self._session = requests.Session()
        self._session.headers.update({"Api-Token": token, "Accept": "application/json"})
        self._timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self._session.request(method, self._base + path, timeout=self._timeout,
                                         **kwargs)
        except requests.RequestException as exc:
            raise ManageError(f"{method} /api/3{path}: {type(exc).__name__}") from None
        if resp.status_code == 404 and method == "DELETE":
            return {}
        if resp.status_code >= 400:
            raise ManageError(f"{method} /api/3{path} answered {resp.status_code}: "
                              f"{resp.text[:300]}")
        if not resp.content.strip():
            return {}
        body = resp.json()
        return body if isinstance(body, dict) else {}

    def all(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._call("GET", "/webhooks", params={"limit": 100, "offset": offset})
            hooks = page.get("webhooks") or []
            out.extend(h for h in hooks if isinstance(h, dict))
            offset += len(hooks)
            total = int((page.get("meta") or {}).get("total") or 0)
            if not hooks or offset >= total:
                return out

    def _same_url(self, url: str) -> list[dict[str, Any]]:
        return sorted((h for h in self.all() if h.get("url") == url),
                      key=lambda h: int(h.get("id") or 0))

    def register(self, *, url: str, events: list[str], sources: list[str], name: str,
                 list_id: int = 0) -> dict[str, Any]:
        check_url(url)
        unknown = sorted(set(events) - EVENT_TYPES)
        if unknown or not events:
            raise ManageError(f"unknown event types {unknown}" if unknown else "no events")
        bad = sorted(set(sources) - SOURCES)
        if bad or not sources:
            raise ManageError(f"unknown sources {bad}" if bad else "no sources")
        want = {"name": name, "url": url, "events": sorted(set(events)),
                "sources": sorted(set(sources)), "listid": str(list_id)}
        existing = self._same_url(url)
        for extra in existing[1:]:
            self._call("DELETE", f"/webhooks/{extra['id']}")
        if existing:
            hook = existing[0]
            have = {"name": hook.get("name"), "url": hook.get("url"),
                    "events": sorted(hook.get("events") or []),
                    "sources": sorted(hook.get("sources") or []),
                    "listid": str(hook.get("listid") or "0")}
            if have == want:
                return {"action": "unchanged", "id": int(hook["id"]), "url": mask_url(url)}
            self._call("PUT", f"/webhooks/{hook['id']}", json={"webhook": want})
            return {"action": "updated", "id": int(hook["id"]), "url": mask_url(url)}
        created = self._call("POST", "/webhooks", json={"webhook": want})
        hook_id = int((created.get("webhook") or {}).get("id") or 0)
        return {"action": "created", "id": hook_id, "url": mask_url(url)}

    def remove(self, *, url: str | None = None, webhook_id: int | None = None) -> list[int]:
        ids = [webhook_id] if webhook_id else [int(h["id"]) for h in self._same_url(url or "")]
        for hook_id in ids:
            self._call("DELETE", f"/webhooks/{hook_id}")
        return ids
