"""Every fault mode of the sandbox is survived with identical output; real errors are clear."""

from __future__ import annotations

import typing as t

import pytest
import requests
import tap_activecampaign.http_stream
from sandbox.testing import SandboxProcess
from singer_sdk.exceptions import FatalAPIError
from tap_activecampaign.tap import TapActiveCampaign
from tap_testkit import TapOutput, run_tap, tap_config

AC_FAULTS = [
    "429",
    "500",
    "502",
    "503",
    "403",
    "empty",
    "truncated",
    "reset",
    "reset_after",
    "timeout",
    "timeout_after",
]


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # 1, 2, 4 ... s in production; 429s still wait their exact Retry-After (1 s here)
    monkeypatch.setattr(tap_activecampaign.http_stream, "RETRY_BASE_SECONDS", 0.05)


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=700, seed=5, rate_limit=0) as sb:
        yield sb


def _config(sb: SandboxProcess) -> dict[str, t.Any]:
    return tap_config(sb, request_timeout=1, concurrency=3)


def _content(out: TapOutput) -> dict[str, dict[int, t.Any]]:
    return {stream: out.by_id(stream) for stream in out.records}


@pytest.fixture(scope="module")
def baseline(sandbox: SandboxProcess) -> dict[str, dict[int, t.Any]]:
    sandbox.control.clear_faults()
    out = run_tap(_config(sandbox))
    assert sum(len(v) for v in out.records.values()) > 1000
    return _content(out)


@pytest.mark.parametrize("kind", AC_FAULTS)
def test_each_fault_kind_is_survived_with_identical_output(
    sandbox: SandboxProcess, baseline: dict[str, t.Any], kind: str
) -> None:
    sandbox.control.reset_requests()
    # 403 is capped at two retries per request, so it is injected at a rate that a third
    # consecutive 403 on one request does not happen with this seed
    rate = 0.15 if kind == "403" else 0.25
    sandbox.control.set_faults(rate=rate, kinds=[kind], seed=11, timeout_s=3)
    try:
        out = run_tap(_config(sandbox))
    finally:
        sandbox.control.clear_faults()
    statuses = sandbox.control.requests(log=False)["by_status"]
    assert _content(out) == baseline
    for stream, records in out.records.items():
        ids = [r["id"] for r in records]
        assert len(ids) == len(set(ids)), stream
    if kind.isdigit():
        assert statuses.get(kind, 0) > 0, statuses  # the fault really happened


def test_all_faults_mixed(sandbox: SandboxProcess, baseline: dict[str, t.Any]) -> None:
    kinds = [k for k in AC_FAULTS if k != "403"]
    sandbox.control.set_faults(rate=0.3, kinds=kinds, seed=2, timeout_s=3)
    try:
        out = run_tap(_config(sandbox))
    finally:
        sandbox.control.clear_faults()
    assert _content(out) == baseline


def test_intermittent_403_is_retried_twice_then_fails_with_a_clear_message(
    sandbox: SandboxProcess,
) -> None:
    config = _config(sandbox)
    sandbox.control.set_faults(script=["403", "403", "ok"])
    try:
        out = run_tap(config, streams=["users"])
    finally:
        sandbox.control.clear_faults()
    assert len(out.records["users"]) > 0

    sandbox.control.reset_requests()
    sandbox.control.set_faults(script=["403", "403", "403", "403"])
    try:
        with pytest.raises(FatalAPIError, match="check api_token") as failure:
            run_tap(config, streams=["users"])
    finally:
        sandbox.control.clear_faults()
    assert sandbox.control.requests(log=False)["total"] == 3
    assert "users" in str(failure.value)
    assert "/api/3/users" in str(failure.value)


def test_bad_token_fails_without_leaking_it(sandbox: SandboxProcess) -> None:
    config = _config(sandbox) | {"api_token": "wrong-token-value-123"}
    with pytest.raises(FatalAPIError, match="check api_token") as failure:
        run_tap(config, streams=["lists"])
    assert "wrong-token-value-123" not in str(failure.value)


def test_not_found_names_stream_path_and_reason(sandbox: SandboxProcess) -> None:
    config = _config(sandbox) | {"api_url": sandbox.base_url + "/elsewhere"}
    with pytest.raises(FatalAPIError) as failure:
        run_tap(config, streams=["lists"])
    message = str(failure.value)
    assert "stream lists" in message
    assert "404" in message
    assert "/elsewhere/api/3/lists" in message
    assert "offset" not in message  # no query string
    assert sandbox.token not in message


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (402, b'{"message": "Payment required"}', "Payment required"),
        (404, b'{"message": "No Result found for Subscriber with id 100"}', "No Result found"),
        (
            422,
            b'{"errors": [{"title": "Invalid filter", "detail": "bad date", "code": "x"}]}',
            "Invalid filter - bad date",
        ),
    ],
)
def test_fatal_statuses_name_stream_path_and_ac_reason(
    status: int, body: bytes, reason: str
) -> None:
    tap = TapActiveCampaign(
        config={"api_url": "https://acme.api-us1.com", "api_token": "secret-token"},
        parse_env_config=False,
    )
    stream = tap.streams["deals"]
    request = requests.Request(
        "GET",
        "https://acme.api-us1.com/api/3/deals?filters%5Btitle%5D=private&limit=100",
        headers={"Api-Token": "secret-token"},
    ).prepare()
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.request = request
    response.url = request.url or ""
    with pytest.raises(FatalAPIError) as failure:
        stream.validate_response(response)
    message = str(failure.value)
    assert f"stream deals: HTTP {status} for GET /api/3/deals: {reason}" in message
    assert "secret-token" not in message
    assert "private" not in message
