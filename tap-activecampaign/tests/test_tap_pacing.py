"""One request budget per process: never more than max_requests_per_second, in any window."""

from __future__ import annotations

import io
import threading
import time
import typing as t
from contextlib import redirect_stdout

import pytest
from sandbox.testing import SandboxProcess
from tap_activecampaign.tap import TapActiveCampaign
from tap_testkit import catalog_selecting, run_tap, tap_config

RPS = 5


@pytest.fixture(scope="module")
def limited() -> t.Iterator[SandboxProcess]:
    with SandboxProcess(
        "activecampaign", contacts=600, seed=6, rate_limit=RPS, latency_ms=100
    ) as sb:
        yield sb


def _max_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t_end in enumerate(times):
        while t_end - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _check_log(sb: SandboxProcess) -> dict[str, t.Any]:
    log = sb.control.requests()
    assert "429" not in log["by_status"], log["by_status"]
    assert _max_in_one_second([entry["t"] for entry in log["log"]]) <= RPS
    return log


def test_a_full_sync_stays_under_the_limit_and_close_to_it(limited: SandboxProcess) -> None:
    limited.control.reset_requests()
    started = time.monotonic()
    out = run_tap(tap_config(limited, max_requests_per_second=RPS))
    wall = time.monotonic() - started
    log = _check_log(limited)
    assert len(out.records["contacts"]) == 600
    # concurrent contact ranges keep the budget busy despite 100 ms per request
    assert log["total"] / wall >= 0.75 * RPS


def test_two_taps_in_one_process_share_one_budget(limited: SandboxProcess) -> None:
    limited.control.reset_requests()
    config = tap_config(limited, max_requests_per_second=RPS)
    catalog = catalog_selecting(config, ["contacts", "lists", "tags"])
    errors: list[BaseException] = []

    def sync() -> None:
        tap = TapActiveCampaign(config=config, catalog=catalog, parse_env_config=False)
        try:
            tap.sync_all()
        except BaseException as exc:
            errors.append(exc)

    sink = io.StringIO()  # both taps write here; only the request log is checked
    with redirect_stdout(sink):
        threads = [threading.Thread(target=sync) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    assert not errors, errors
    log = _check_log(limited)
    assert log["by_path"]["GET /api/3/contacts"] == 2 * 6
