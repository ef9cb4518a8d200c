"""Fault injection and latency as a client sees them (requests' exceptions and bodies)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox.testing import SandboxProcess

AC_SANDBOX = {"contacts": 30, "seed": 2}


@pytest.fixture(autouse=True)
def _clean(ac: SandboxProcess) -> Iterator[None]:
    ac.control.clear_faults()
    ac.control.set_latency(0, 0)
    ac.control.reset_requests()
    yield
    ac.control.clear_faults()
    ac.control.set_latency(0, 0)


def get(ac: SandboxProcess, path: str = "/contacts", timeout: float = 5.0) -> requests.Response:
    # a fresh connection per request, so a closed connection never leaks into the next test
    return requests.get(f"{ac.api_url}{path}", headers={"Api-Token": ac.token,
                                                       "Connection": "close"},
                        params={"limit": 100}, timeout=timeout)


def test_reset_is_a_connection_error(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["reset"])
    with pytest.raises(requests.ConnectionError):
        get(ac)
    assert get(ac).status_code == 200  # the script is consumed
    assert ac.control.requests()["by_status"] == {"reset": 1, "200": 1}


def test_reset_after_processes_then_closes(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["reset_after"])
    with pytest.raises(requests.ConnectionError):
        get(ac)
    log = ac.control.requests()["log"]
    assert [(e["status"], e["fault"]) for e in log] == [("reset_after", "reset_after")]


def test_truncated_body_is_a_chunked_encoding_error(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["truncated"])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(ac)
    # with streaming, the client sees the full Content-Length but half the bytes
    ac.control.set_faults(script=["truncated"])
    r = requests.get(f"{ac.api_url}/contacts", headers={"Api-Token": ac.token},
                     params={"limit": 100}, stream=True, timeout=5)
    declared = int(r.headers["Content-Length"])
    got = bytearray()

    def drain() -> None:
        for chunk in r.iter_content(4096):
            got.extend(chunk)

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        drain()
    assert 0 < len(got) < declared
    with pytest.raises(json.JSONDecodeError):
        json.loads(bytes(got))


def test_empty_200_body(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["empty"])
    r = get(ac)
    assert r.status_code == 200
    assert r.content == b""
    with pytest.raises(requests.exceptions.JSONDecodeError):
        r.json()


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502), ("503", 503)])
def test_server_errors(ac: SandboxProcess, kind: str, status: int) -> None:
    ac.control.set_faults(script=[kind])
    r = get(ac)
    assert r.status_code == status
    if status == 500:
        assert "message" in r.json()
    else:
        assert "<html>" in r.text  # a load balancer's page, not JSON


def test_429_and_intermittent_403(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["429", "403", "ok"])
    r = get(ac)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"
    r = get(ac)
    assert r.status_code == 403
    assert r.json() == {"message": "Forbidden"}
    assert get(ac).status_code == 200


def test_timeout_and_timeout_after(ac: SandboxProcess) -> None:
    ac.control.set_faults(script=["timeout", "timeout_after"], timeout_s=1.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(ac, timeout=0.4)
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(ac, timeout=0.4)
    log = ac.control.requests()["log"]
    assert [(e["status"], e["fault"]) for e in log] == [("timeout", "timeout"),
                                                        (200, "timeout_after")]
    # a client that waits longer than the delay gets the late response
    ac.control.set_faults(script=["timeout"], timeout_s=0.6)
    t = time.perf_counter()
    r = get(ac, timeout=5)
    assert r.status_code == 200
    assert len(r.json()["contacts"]) == 30
    assert time.perf_counter() - t >= 0.6


def test_fault_rate_is_seeded_and_path_filtered(ac: SandboxProcess) -> None:
    def run() -> list[int]:
        ac.control.set_faults(rate=0.5, kinds=["500", "503"], seed=9,
                              paths=["/api/3/contacts"])
        out = []
        for _ in range(30):
            out.append(get(ac).status_code)
            assert get(ac, "/lists").status_code == 200  # outside the paths filter
        return out

    first = run()
    assert run() == first
    assert 5 <= sum(1 for s in first if s != 200) <= 25
    assert {s for s in first if s != 200} == {500, 503}
    assert ac.control.health()["ok"]  # the control surface is never faulted


def test_faults_from_flags(sandbox_factory: Any) -> None:
    sb = sandbox_factory("activecampaign", contacts=10, rate_limit=0, fault_rate=1,
                         faults=["503"], fault_seed=3)
    r = requests.get(f"{sb.api_url}/contacts", headers={"Api-Token": sb.token}, timeout=5)
    assert r.status_code == 503


def test_unknown_fault_kind_is_400(ac: SandboxProcess) -> None:
    r = requests.post(f"{ac.base_url}/__sandbox/faults", json={"script": ["teapot"]}, timeout=5)
    assert r.status_code == 400


def test_fixed_and_jittered_latency(ac: SandboxProcess) -> None:
    def timed() -> float:
        t = time.perf_counter()
        assert get(ac, "/users/me").status_code == 200
        return time.perf_counter() - t

    base = min(timed() for _ in range(3))
    ac.control.set_latency(fixed_ms=150)
    fixed = [timed() for _ in range(3)]
    assert all(0.15 <= d < 0.15 + base + 0.5 for d in fixed)
    ac.control.set_latency(fixed_ms=0, jitter_ms=120)
    jittered = [timed() for _ in range(8)]
    assert all(d < 0.12 + base + 0.5 for d in jittered)
    assert max(jittered) - min(jittered) > 0.01  # it varies
    ac.control.set_latency(0, 0)
    t = time.perf_counter()
    ac.control.set_latency(fixed_ms=500)
    ac.control.health()  # control requests are never delayed
    assert time.perf_counter() - t < 0.4


def test_429_bursts(ac: SandboxProcess) -> None:
    ac.control.set_faults(rate=0.15, kinds=["429"], burst=3, seed=2)
    rs = [get(ac, "/users/me") for _ in range(40)]
    marks = "".join("x" if r.status_code == 429 else "." for r in rs)
    runs = [len(x) for x in marks.split(".") if x]
    assert runs, marks
    assert all(n >= 3 for n in runs), marks
    assert all(r.headers["Retry-After"] == "1" for r in rs if r.status_code == 429)
