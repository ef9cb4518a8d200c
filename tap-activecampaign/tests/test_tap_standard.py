"""The SDK's standard tap tests, run against a sandbox (plus what they cannot check).

The SDK builds the test class at import time and calls ``new_tap().streams`` then, so the
config must exist before the sandbox does: a free port is reserved here and the sandbox is
started on it by a module-scoped autouse fixture, before the class-scoped runner syncs.
Discovery never calls the API, so building the class needs no server.
"""

from __future__ import annotations

import socket
import typing as t

import pytest
import requests
from sandbox.testing import SandboxProcess
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_activecampaign.tap import TapActiveCampaign
from tap_testkit import TIMEZONE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT = _free_port()
CONFIG: dict[str, t.Any] = {
    "api_url": f"http://127.0.0.1:{PORT}/",
    "api_token": "sandbox-ac-token",
    "max_requests_per_second": 0,
    "account_timezone": TIMEZONE,
}


@pytest.fixture(scope="module", autouse=True)
def _sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", port=PORT, contacts=150, seed=3, rate_limit=0) as sb:
        # the webhooks stream lists registered webhooks (none on a fresh account); closed
        # loopback URLs, so a delivery never leaves the host
        r = requests.post(f"{sb.api_url}/webhooks", headers={"Api-Token": sb.token}, json={
            "webhook": {"name": "standard", "url": "http://127.0.0.1:9/hook",
                        "events": ["update"], "sources": ["admin"]}}, timeout=10)
        assert r.status_code == 201, r.text
        yield sb


_StandardTests = get_tap_test_class(
    tap_class=TapActiveCampaign,
    config=CONFIG,
    parse_env_config=False,
    suite_config=SuiteConfig(max_records_limit=None),
)


class TestTapActiveCampaignStandard(_StandardTests):  # type: ignore[misc,valid-type]
    """The standard suite, plus the checks its own primary-key and final-state tests miss."""

    def test_primary_keys_are_unique_per_stream(self, runner: t.Any) -> None:
        for stream, records in runner.records.items():
            keys = [r["id"] for r in records]
            assert len(keys) == len(set(keys)), stream

    def test_final_state_has_no_progress_markers(self, runner: t.Any) -> None:
        final = runner.state_messages[-1]["value"]
        for stream, state in final["bookmarks"].items():
            assert "progress_markers" not in state, stream
            assert "contacts_sync" not in state, stream
            for partition in state.get("partitions", []):
                assert "progress_markers" not in partition, stream
