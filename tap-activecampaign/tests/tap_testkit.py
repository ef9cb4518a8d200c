"""Helpers for the tap's sandbox tests: run the tap in-process or as a subprocess, read output.

Imported by the test modules as ``tap_testkit`` (this directory is put on ``sys.path`` by
``conftest.py``)."""

from __future__ import annotations

import io
import json
import subprocess
import typing as t
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

from tap_activecampaign.tap import TapActiveCampaign

ROOT = Path(__file__).resolve().parents[2]
TAP_EXE = str(ROOT / ".venv" / "bin" / "tap-activecampaign")
TIMEZONE = "America/Chicago"


@dataclass
class TapOutput:
    """Messages of one run, grouped."""

    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    states: list[dict[str, t.Any]] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    sequence: list[tuple[str, dict[str, t.Any]]] = field(default_factory=list)
    stderr: str = ""

    @classmethod
    def parse(cls, stdout: str, stderr: str = "") -> TapOutput:
        out = cls(stderr=stderr)
        for line in stdout.splitlines():
            if not line.strip():
                continue
            message = json.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                stream = message["stream"]
                out.records.setdefault(stream, []).append(message["record"])
                out.sequence.append((stream, message["record"]))
                if not out.order or out.order[-1] != stream:
                    out.order.append(stream)
            elif kind == "STATE":
                out.states.append(message["value"])
            elif kind == "SCHEMA":
                out.schemas.append(message["stream"])
        return out

    def ids(self, stream: str) -> list[int]:
        return [int(r["id"]) for r in self.records.get(stream, [])]

    def by_id(self, stream: str) -> dict[int, dict[str, t.Any]]:
        return {int(r["id"]): r for r in self.records.get(stream, [])}

    @property
    def final_state(self) -> dict[str, t.Any]:
        return self.states[-1] if self.states else {}


def tap_config(sb: t.Any, **extra: t.Any) -> dict[str, t.Any]:
    """A config pointing at a sandbox, pacing off unless asked."""
    config: dict[str, t.Any] = {
        "api_url": sb.base_url,
        "api_token": sb.token,
        "max_requests_per_second": 0,
        "account_timezone": TIMEZONE,
        "request_timeout": 5,
    }
    config.update(extra)
    return config


def catalog_selecting(
    config: dict[str, t.Any], streams: t.Iterable[str] | None
) -> dict[str, t.Any]:
    """The discovered catalog with only ``streams`` selected (all if None)."""
    tap = TapActiveCampaign(config=config, parse_env_config=False, validate_config=True)
    catalog = tap.catalog_dict
    wanted = None if streams is None else set(streams)
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = wanted is None or entry["tap_stream_id"] in wanted
    return catalog


def run_tap(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    streams: t.Iterable[str] | None = None,
) -> TapOutput:
    """One sync in this process; returns its messages."""
    catalog = catalog_selecting(config, streams) if streams is not None else None
    tap = TapActiveCampaign(
        config=config,
        state=state or {},
        catalog=catalog,
        parse_env_config=False,
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    with redirect_stdout(stdout), redirect_stderr(stderr):
        tap.sync_all()
    return TapOutput.parse(stdout.getvalue(), stderr.getvalue())


def write_json(path: Path, value: t.Any) -> Path:
    path.write_text(json.dumps(value))
    return path


def run_tap_process(
    workdir: Path,
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    streams: t.Iterable[str] | None = None,
    kill_after_states: int | None = None,
    timeout: float = 120.0,
) -> tuple[TapOutput, int]:
    """The tap as a subprocess; SIGKILLed after ``kill_after_states`` STATE lines if given.

    Returns the messages read (up to the kill) and the exit code (-9 when killed).
    """
    args = [TAP_EXE, "--config", str(write_json(workdir / "config.json", config))]
    if state:
        args += ["--state", str(write_json(workdir / "state.json", state))]
    if streams is not None:
        catalog = catalog_selecting(config, streams)
        args += ["--catalog", str(write_json(workdir / "catalog.json", catalog))]
    err_path = workdir / "stderr.txt"
    with err_path.open("w") as err:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
        assert proc.stdout is not None
        lines: list[str] = []
        states = 0
        for line in proc.stdout:
            lines.append(line)
            if '"STATE"' in line[:40] and json.loads(line).get("type") == "STATE":
                states += 1
                if kill_after_states is not None and states >= kill_after_states:
                    proc.kill()
                    break
        proc.stdout.close()
        code = proc.wait(timeout=timeout)
    return TapOutput.parse("".join(lines), err_path.read_text()), code
