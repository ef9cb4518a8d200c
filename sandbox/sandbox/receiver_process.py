"""Run `tap-activecampaign-webhooks serve` as a real subprocess (tests, benchmarks).

    with ReceiverProcess(queue_url, secret) as rx:
        rx.url          # "http://127.0.0.1:PORT"
        rx.hook_url     # rx.url + "/activecampaign/<secret>"
        rx.kill()       # SIGKILL (durability tests); rx.start() again on the same queue

It imports nothing of the tap: it runs the console script next to this interpreter.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType

READY_PREFIX = "WEBHOOKS_READY "
SECRET_ENV = "TAP_ACTIVECAMPAIGN_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
_RUNNING: set[subprocess.Popen[str]] = set()


@atexit.register
def _kill_leftovers() -> None:
    """Never leave a receiver behind, even when a test or benchmark fails midway."""
    for proc in list(_RUNNING):
        if proc.poll() is None:
            proc.kill()


class ReceiverProcess:
    def __init__(self, queue_url: str, secret: str, *extra: str, port: int = 0,
                 env: dict[str, str] | None = None) -> None:
        self.queue_url = queue_url
        self.secret = secret
        self.extra = list(extra)
        self.port = port
        self.env = dict(env or {})
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the process)
            "w+", prefix="receiver-", suffix=".log", delete=False)

    @property
    def hook_url(self) -> str:
        return f"{self.url}/activecampaign/{self.secret}"

    @property
    def exe(self) -> str:
        return str(Path(sys.executable).parent / "tap-activecampaign-webhooks")

    def start(self, timeout: float = 60.0) -> ReceiverProcess:
        env = {**os.environ, **self.env, SECRET_ENV: self.secret}
        self.proc = subprocess.Popen(
            [self.exe, "serve", "--bind", f"127.0.0.1:{self.port}", "--queue", self.queue_url,
             *self.extra],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env=env)
        _RUNNING.add(self.proc)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(
            self.proc.stdout.readline() if self.proc and self.proc.stdout else ""), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or not line[0].startswith(READY_PREFIX):
            self.stop()
            raise RuntimeError(f"receiver did not start: {self.log_text()[-2000:]}")
        self.url = line[0][len(READY_PREFIX):].strip()
        self.port = int(self.url.rsplit(":", 1)[1])  # a restart keeps the port
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log_text(self) -> str:
        self._log.flush()
        return Path(self._log.name).read_text()

    def __enter__(self) -> ReceiverProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
