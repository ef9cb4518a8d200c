"""Start sandboxes as real subprocesses; also a pytest plugin (`-p sandbox.testing`).

    from sandbox.testing import SandboxProcess
    with SandboxProcess("activecampaign", contacts=200, seed=7, rate_limit=0) as ac:
        ac.base_url, ac.api_url, ac.token, ac.control

Keyword arguments map one to one onto CLI flags: `rate_limit=0` → `--rate-limit 0`; a list
becomes a comma-separated value; `True` adds the bare flag; `None`/`False` omit it.

Fixtures: `ac_sandbox`, `brevo_sandbox` (function scope; 200 contacts for AC, rate limits off,
no latency; the Brevo one is switched off with `POST /__sandbox/ratelimit {"enabled": false}`)
and `sandbox_factory(kind, **flags)` (everything it starts is stopped at teardown).
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import IO, Any

import pytest

from sandbox.control import SandboxControl

DEFAULT_TOKENS = {"activecampaign": "sandbox-ac-token", "brevo": "xkeysib-sandbox-key"}
TOKEN_FLAGS = {"activecampaign": "token", "brevo": "api_key"}
READY_PREFIX = "SANDBOX_READY "
_RUNNING: set[subprocess.Popen[str]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Never leave a sandbox behind, even when the test process ends without teardown."""
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.kill()


def flags_to_argv(flags: dict[str, Any]) -> list[str]:
    argv: list[str] = []
    for key, value in flags.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif isinstance(value, (list, tuple)):
            argv += [flag, ",".join(str(v) for v in value)]
        else:
            argv += [flag, str(value)]
    return argv


class SandboxProcess:
    """A sandbox in a subprocess on an ephemeral port, stopped on exit."""

    def __init__(self, kind: str, ready_timeout: float = 90.0, **flags: Any) -> None:
        if kind not in DEFAULT_TOKENS:
            raise ValueError(f"unknown sandbox kind {kind!r}")
        self.kind = kind
        self.flags = dict(flags)
        self.flags.setdefault("port", 0)
        self.ready_timeout = ready_timeout
        self.token: str = str(self.flags.get(TOKEN_FLAGS[kind]) or DEFAULT_TOKENS[kind])
        self.base_url = ""
        self.api_url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self._control: SandboxControl | None = None

    @property
    def argv(self) -> list[str]:
        # -P: never let the repository root (which has a `sandbox/` directory) shadow the package
        return [sys.executable, "-P", "-m", "sandbox", self.kind, *flags_to_argv(self.flags)]

    @property
    def control(self) -> SandboxControl:
        if self._control is None:
            self._control = SandboxControl(self.base_url)
        return self._control

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()[-4000:]

    def start(self) -> SandboxProcess:
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        _RUNNING.add(self.proc)
        line_box: list[str] = []
        stdout = self.proc.stdout
        assert stdout is not None

        def read_first() -> None:
            line_box.append(stdout.readline())
            for _ in stdout:  # keep draining so the child never blocks on a full pipe
                pass

        reader = threading.Thread(target=read_first, daemon=True)
        reader.start()
        deadline = time.monotonic() + self.ready_timeout
        while not line_box and time.monotonic() < deadline:
            if self.proc.poll() is not None and not line_box:
                reader.join(0.5)
                break
            time.sleep(0.01)
        line = line_box[0].strip() if line_box else ""
        if not line.startswith(READY_PREFIX):
            self.stop(keep_stderr=True)
            tail = self._stderr_tail()
            if self._stderr is not None:
                self._stderr.close()
                self._stderr = None
            raise RuntimeError(f"sandbox {self.kind} did not start (first line {line!r}):\n{tail}")
        self.base_url = line[len(READY_PREFIX) :].strip()
        self.api_url = self.base_url + "/api/3" if self.kind == "activecampaign" else self.base_url
        return self

    def stop(self, keep_stderr: bool = False) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc is not None:
            _RUNNING.discard(proc)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        if self._stderr is not None and not keep_stderr:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


SandboxFactory = Callable[..., SandboxProcess]


@pytest.fixture
def sandbox_factory() -> Iterator[SandboxFactory]:
    started: list[SandboxProcess] = []

    def factory(kind: str, **flags: Any) -> SandboxProcess:
        sb = SandboxProcess(kind, **flags).start()
        started.append(sb)
        return sb

    yield factory
    for sb in reversed(started):
        sb.stop()


@pytest.fixture
def ac_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=200, seed=42, rate_limit=0) as sb:
        yield sb


@pytest.fixture
def brevo_sandbox() -> Iterator[SandboxProcess]:
    with SandboxProcess("brevo") as sb:
        sb.control.set_rate_limit(enabled=False)
        yield sb
