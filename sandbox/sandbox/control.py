"""`SandboxControl`: a small `requests` client of the control surface `/__sandbox/...`.

The control surface lives at the root of the sandbox's port whatever the API base path
(`http://127.0.0.1:PORT/v3` for Brevo → control at `http://127.0.0.1:PORT/__sandbox/`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests


class SandboxControl:
    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout
        self.session = requests.Session()

    def _url(self, path: str) -> str:
        return f"{self.origin}/__sandbox/{path.lstrip('/')}"

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        resp = self.session.request(
            method, self._url(path), json=body, params=params or None, timeout=self.timeout
        )
        if resp.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {resp.status_code}: {resp.text[:500]}")
        return resp.json() if resp.content else None

    # common
    def health(self) -> dict[str, Any]:
        return dict(self._call("GET", "health"))

    def requests(self, log: bool = True) -> dict[str, Any]:
        return dict(self._call("GET", "requests", log="1" if log else "0"))

    def reset_requests(self) -> None:
        self._call("POST", "requests/reset")

    def set_faults(
        self,
        rate: float | None = None,
        kinds: list[str] | None = None,
        seed: int | None = None,
        script: list[str] | None = None,
        paths: list[str] | None = None,
        timeout_s: float | None = None,
        burst: int | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, value in (
            ("rate", rate),
            ("kinds", kinds),
            ("seed", seed),
            ("script", script),
            ("paths", paths),
            ("timeout_s", timeout_s),
            ("burst", burst),
        ):
            if value is not None:
                body[key] = value
        return dict(self._call("POST", "faults", body))

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def set_latency(self, fixed_ms: float = 0.0, jitter_ms: float = 0.0) -> dict[str, Any]:
        return dict(self._call("POST", "latency", {"fixed_ms": fixed_ms, "jitter_ms": jitter_ms}))

    def set_rate_limit(self, **body: Any) -> dict[str, Any]:
        """AC: `set_rate_limit(rps=5)`; Brevo: `scale=...`, `buckets=...`, `enabled=False`."""
        return dict(self._call("POST", "ratelimit", body))

    def reset(self) -> None:
        self._call("POST", "reset")

    def dump(self) -> dict[str, Any]:
        return dict(self._call("GET", "dump"))

    # ActiveCampaign only
    def mutate(self, *ops: dict[str, Any]) -> list[Any]:
        return list(self._call("POST", "mutate", {"ops": list(ops)})["results"])

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", "clock", {"advance_seconds": seconds}))

    def set_clock(self, iso: str) -> dict[str, Any]:
        return dict(self._call("POST", "clock", {"set": iso}))

    def close(self) -> None:
        self.session.close()
