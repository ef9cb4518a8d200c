"""What an operator reads from the tap: progress per stream, a true word on resumability, and
one line naming the URL and the start command when nothing listens at a loopback api_url."""

from __future__ import annotations

import logging
import re
import socket
import time
from pathlib import Path

import pytest
import requests
from sandbox.testing import SandboxProcess
from tap_activecampaign.http_stream import PacedSession
from tap_activecampaign.pacing import RequestPacer
from tap_activecampaign.progress import Progress
from tap_activecampaign.unreachable import (
    ServiceUnreachable,
    give_up_message,
    is_refused,
    raise_if_not_running,
)
from tap_testkit import run_tap_process, tap_config


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- progress ---------------------------------------------------------------------------------


def test_progress_lines_come_per_interval_for_the_streams_that_moved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    progress = Progress(logging.getLogger("test.progress"), interval=10.0, clock=clock)
    with caplog.at_level(logging.INFO, logger="test.progress"):
        progress.start("contacts")
        for _ in range(50):  # 6.25 s: 50 requests of 100 contacts, no line yet
            progress.request("contacts")
            progress.record("contacts", 100)
            clock.now += 0.125
        assert caplog.messages == []
        clock.now += 3.75
        progress.request("contacts")  # 10 s after the first event: one line
        progress.record("contact_lists", 7)
        assert caplog.messages == [
            "progress: stream contacts: 5,000 records so far (500/s), 51 requests (5.1/s) "
            "in 10 s"
        ]
        clock.now += 10.0
        progress.record("contact_lists", 3)  # only the stream that moved gets a line
        assert caplog.messages[-1] == (
            "progress: stream contact_lists: 10 records so far (1/s), 0 requests (0.0/s) in 10 s"
        )
        assert len(caplog.messages) == 2
        progress.summarize(["contacts", "contact_lists", "never_ran"])
        progress.summarize(["contacts"])  # once per stream
    assert caplog.messages[2:] == [
        "stream contacts done: 5,000 records, 51 requests in 10.0 s (500 records/s)",
        "stream contact_lists done: 10 records, 0 requests in 10.0 s (1 records/s)",
    ]


@pytest.fixture(scope="module")
def ac() -> SandboxProcess:
    with SandboxProcess("activecampaign", contacts=250, seed=5, rate_limit=0) as sb:
        yield sb


def test_a_run_ends_each_stream_with_a_summary_and_a_true_resume_note(
    ac: SandboxProcess, tmp_path: Path
) -> None:
    out, code = run_tap_process(tmp_path, tap_config(ac))
    assert code == 0
    log = out.stderr
    assert "assumed to be unsorted" not in log
    assert "stream contacts: resumable: each id range's position is saved" in log
    assert "stream lists: pages come in id order, not by the replication key" in log
    done = dict(re.findall(r"stream (\w+) done: ([\d,]+) records", log))
    for stream, records in out.records.items():
        assert done.get(stream) == f"{len(records):,}", stream
    contacts_line = next(x for x in log.splitlines() if "stream contacts done:" in x)
    assert " 3 requests in " in contacts_line  # 250 contacts: 3 pages of 100


# --- the sandbox is not running ---------------------------------------------------------------


def test_a_stopped_sandbox_is_one_line_naming_url_and_command(tmp_path: Path) -> None:
    port = closed_port()
    config = {"api_url": f"http://127.0.0.1:{port}", "api_token": "t",
              "account_timezone": "UTC"}
    started = time.monotonic()
    out, code = run_tap_process(tmp_path, config, timeout=60)
    assert time.monotonic() - started < 15  # no retries: it used to take 95 s
    assert code == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"tap-activecampaign: stream users: nothing answers at http://127.0.0.1:{port} "
        "(connection refused; setting api_url): is the sandbox running? Start it with "
        "./scripts/sandbox.sh start"
    )


def test_only_loopback_refusals_skip_the_retries() -> None:
    port = closed_port()
    session = PacedSession(RequestPacer(0))
    with pytest.raises(ServiceUnreachable, match=f"http://127.0.0.1:{port} "):
        session.get(f"http://127.0.0.1:{port}/api/3/users?secret=x", timeout=5)
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    assert is_refused(refused)
    # a real host: left to the retries (the SDK's backoff retries a ConnectionError) ...
    raise_if_not_running(refused, "https://acme.api-us1.com/api/3/contacts")
    # ... and named in one line once they are spent
    assert give_up_message(refused, "https://acme.api-us1.com/api/3/contacts?x=1") == (
        "cannot reach https://acme.api-us1.com (connection refused, after retries): check the "
        "api_url setting and the network"
    )
    assert not is_refused(requests.ConnectionError("Connection reset by peer"))
