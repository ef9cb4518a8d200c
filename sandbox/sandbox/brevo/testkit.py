"""A small test client for the Brevo sandbox that checks every request against the spec first.

    client = BrevoClient(sandbox)                 # a started SandboxProcess("brevo")
    r = client.post("/contacts", {"email": "a@example.com"})          # spec-checked, then sent
    r = client.post("/contacts/lists", {"name": 1}, invalid=True)     # must be spec-invalid

A request the effective spec (``validation.OPERATIONS``) refuses raises ``AssertionError``
before anything is sent, unless ``invalid=True``, which asserts the opposite; so a test can only
reach the server's business rules with valid requests, and its deliberately invalid requests
are known to be invalid. Every 2xx JSON answer is also checked against the spec's response
schema for that status (``check_response=False`` opts out).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

import requests

from sandbox.brevo.validation import (
    OPERATIONS,
    RequestInvalid,
    response_error,
    validate_body,
    validate_parameters,
)


def _templates() -> list[tuple[str, str, re.Pattern[str]]]:
    out = []
    for key in OPERATIONS:
        method, template = key.split(" ", 1)
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        out.append((method, template, re.compile(f"^{pattern}$")))
    # static paths first, as the server's router resolves them
    out.sort(key=lambda t: t[1].count("{"))
    return out


_TEMPLATES = _templates()


def operation_for(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """The operation key and path parameters of ``METHOD /path`` (path relative to /v3)."""
    for m, template, rx in _TEMPLATES:
        if m != method:
            continue
        match = rx.match(path)
        if match:
            return f"{m} {template}", {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def spec_error(method: str, path: str, params: dict[str, Any] | None, body: Any
               ) -> RequestInvalid | None:
    """The spec violation of a request, or None when the spec allows it."""
    found = operation_for(method, path)
    if found is None:
        raise AssertionError(f"{method} {path} is not an operation of the spec")
    op_key, path_params = found
    query: dict[str, list[str]] = {}
    for k, v in (params or {}).items():
        values = v if isinstance(v, list) else [v]
        query[k] = [str(x).lower() if isinstance(x, bool) else str(x) for x in values]
    try:
        validate_parameters(op_key, query, path_params)
        validate_body(op_key, body)
    except RequestInvalid as exc:
        return exc
    return None


class BrevoClient:
    """``requests`` against a Brevo sandbox with the api-key header and spec checks."""

    def __init__(self, sandbox: Any, api_key: str | None = None) -> None:
        self.base = sandbox.api_url
        self.session = requests.Session()
        self.session.headers["api-key"] = api_key or sandbox.token

    def request(self, method: str, path: str, body: Any = None, *,
                params: dict[str, Any] | None = None, invalid: bool = False,
                check: bool = True, check_response: bool = True,
                headers: dict[str, str] | None = None) -> requests.Response:
        if check:
            err = spec_error(method, path.split("?")[0], params, body)
            if invalid and err is None:
                raise AssertionError(f"{method} {path} {body!r} is valid under the spec")
            if not invalid and err is not None:
                raise AssertionError(f"{method} {path} breaks the spec: {err.message}")
        resp = self.session.request(
            method, self.base + path, json=body, params=params, headers=headers, timeout=30
        )
        if check_response and 200 <= resp.status_code < 300 and resp.content:
            found = operation_for(method, path.split("?")[0])
            if found is not None:
                problem = response_error(found[0], resp.status_code, resp.json())
                if problem is not None:
                    raise AssertionError(
                        f"{method} {path} -> {resp.status_code} breaks the spec's response "
                        f"schema: {problem}"
                    )
        return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.session.close()
