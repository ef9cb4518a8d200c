"""A run killed (SIGKILL) at any point and resumed from its last STATE loses nothing."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
from sandbox.testing import SandboxProcess
from tap_testkit import TapOutput, run_tap_process, tap_config

CONTACTS = 1200


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess(
        "activecampaign", contacts=CONTACTS, seed=9, rate_limit=0, latency_ms=5
    ) as sb:
        yield sb


@pytest.fixture(scope="module")
def clean(sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> TapOutput:
    out, code = run_tap_process(tmp_path_factory.mktemp("clean"), _config(sandbox))
    assert code == 0, out.stderr[-2000:]
    return out


def _config(sb: SandboxProcess) -> dict[str, t.Any]:
    return tap_config(sb, concurrency=3)


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.5, 0.7, 0.95])
def test_kill_then_resume_yields_the_same_records(
    sandbox: SandboxProcess, clean: TapOutput, tmp_path: Path, fraction: float
) -> None:
    kill_at = max(2, int(len(clean.states) * fraction))
    (tmp_path / "a").mkdir()
    first, code = run_tap_process(tmp_path / "a", _config(sandbox), kill_after_states=kill_at)
    assert code != 0, "the tap finished before it could be killed"
    assert len(first.states) == kill_at
    (tmp_path / "b").mkdir()
    second, code = run_tap_process(tmp_path / "b", _config(sandbox), state=first.final_state)
    assert code == 0, second.stderr[-2000:]

    for stream, records in clean.records.items():
        expected = {int(r["id"]): r for r in records}
        merged = first.by_id(stream) | second.by_id(stream)
        assert set(merged) == set(expected), stream
        assert merged == expected, stream

    bookmarks = second.final_state["bookmarks"]
    assert "contacts_sync" not in bookmarks["contacts"]
    assert all("progress_markers" not in s for s in bookmarks.values())

    before, after = len(first.ids("contacts")), len(second.ids("contacts"))
    if 0 < before < CONTACTS:
        # killed during the contacts backfill: resumed near where it stopped, not from zero
        assert after <= CONTACTS - before + 200
        overlap = set(first.ids("contacts")) & set(second.ids("contacts"))
        assert len(overlap) <= 200
