"""Running `meltano run tap-activecampaign target-brevo` against both sandboxes, for the e2e tests.

Each pipeline gets its own Meltano system database (so runs and state of parallel tests never
meet), its own rejects file, and credentials passed the way a user passes them: environment
variables named after the plugin settings.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
MELTANO = str(Path(sys.executable).parent / "meltano")


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    killed: bool = False

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Pipeline:
    ac_url: str
    ac_token: str
    brevo_url: str
    brevo_key: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)  # every run's output, for the leak checks

    @property
    def rejects_file(self) -> Path:
        return self.workdir / "rejects.jsonl"

    def sys_dir(self) -> Path:
        """A Meltano system directory of this pipeline's own (its run files: config, catalog,
        state), sharing the plugin installations of the project's `.meltano/`."""
        sys_dir = self.workdir / ".meltano"
        if not sys_dir.exists():
            sys_dir.mkdir()
            for kind in ("extractors", "loaders"):
                (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind, target_is_directory=True)
        return sys_dir

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "TARGET_"))}
        env.update(
            {
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "MELTANO_SYS_DIR_ROOT": str(self.sys_dir()),
                "MELTANO_DATABASE_URI": f"sqlite:///{self.workdir / 'meltano.db'}",
                "MELTANO_ENVIRONMENT": "sandbox",
                "TAP_ACTIVECAMPAIGN_API_URL": self.ac_url,
                "TAP_ACTIVECAMPAIGN_API_TOKEN": self.ac_token,
                # the daily reconciliation job's tap inherits from tap-activecampaign
                "TAP_ACTIVECAMPAIGN__RECONCILE_API_URL": self.ac_url,
                "TAP_ACTIVECAMPAIGN__RECONCILE_API_TOKEN": self.ac_token,
                "TARGET_BREVO_API_URL": self.brevo_url,
                "TARGET_BREVO_API_KEY": self.brevo_key,
                "TARGET_BREVO_REJECTS_FILE": str(self.rejects_file),
            }
        )
        env.update(self.extra_env)
        return env

    def meltano(self, *args: str, timeout: float = 600, stdin: str | None = None) -> RunResult:
        proc = subprocess.run(
            [MELTANO, *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=stdin,
        )
        self.outputs.append(proc.stdout + proc.stderr)
        return RunResult(proc.returncode, proc.stdout, proc.stderr)

    def run(
        self, *extra: str, tap: str = "tap-activecampaign", timeout: float = 600
    ) -> RunResult:
        return self.meltano("run", *extra, tap, "target-brevo", timeout=timeout)

    def run_and_kill(
        self, kill_when: Callable[[], bool], *, timeout: float = 600, poll: float = 0.05
    ) -> RunResult:
        """Start a run and SIGKILL its whole process group as soon as `kill_when()` is true.

        `--force` because Meltano still counts a SIGKILLed run as running until it goes stale.
        """
        out = self.workdir / f"run-{time.monotonic_ns()}.log"
        with out.open("w") as log:
            proc = subprocess.Popen(
                [MELTANO, "run", "--force", "tap-activecampaign", "target-brevo"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            deadline = time.monotonic() + timeout
            killed = False
            while proc.poll() is None and time.monotonic() < deadline:
                if kill_when():
                    os.killpg(proc.pid, signal.SIGKILL)
                    killed = True
                    break
                time.sleep(poll)
            rc = proc.wait(timeout=60)
        text = out.read_text()
        self.outputs.append(text)
        return RunResult(rc, text, "", killed=killed)

    def state_rows(self) -> list[tuple[Any, ...]]:
        """The state Meltano has stored for this pipeline, read straight from its database."""
        db = self.workdir / "meltano.db"
        if not db.exists():
            return []
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
                return conn.execute(
                    "SELECT state_id, partial_state, completed_state FROM state ORDER BY state_id"
                ).fetchall()
        except sqlite3.Error:
            return []

    def state(self) -> dict[str, Any]:
        res = self.meltano("state", "get", "sandbox:tap-activecampaign-to-target-brevo")
        if res.returncode != 0:
            return {}
        lines = [ln for ln in res.stdout.splitlines() if ln.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def rejects(self) -> list[dict[str, Any]]:
        if not self.rejects_file.exists():
            return []
        return [json.loads(ln) for ln in self.rejects_file.read_text().splitlines() if ln.strip()]


def control(base_url: str) -> str:
    """The control surface root of a sandbox whose API base URL is given."""
    root = base_url.split("/api/3")[0].split("/v3")[0].rstrip("/")
    return root + "/__sandbox"


def dump(base_url: str) -> dict[str, Any]:
    resp = requests.get(control(base_url) + "/dump", timeout=60)
    resp.raise_for_status()
    return resp.json()


def request_counts(base_url: str) -> dict[str, Any]:
    resp = requests.get(control(base_url) + "/requests", params={"log": "0"}, timeout=30)
    resp.raise_for_status()
    return resp.json()


def request_log(base_url: str) -> list[dict[str, Any]]:
    resp = requests.get(control(base_url) + "/requests", timeout=30)
    resp.raise_for_status()
    return resp.json()["log"]


def mutate(ac_base_url: str, ops: list[dict[str, Any]]) -> list[Any]:
    resp = requests.post(control(ac_base_url) + "/mutate", json={"ops": ops}, timeout=60)
    resp.raise_for_status()
    return resp.json().get("results", [])


def set_faults(base_url: str, body: dict[str, Any] | None) -> None:
    url = control(base_url) + "/faults"
    if body is None:
        resp = requests.delete(url, timeout=30)
    else:
        resp = requests.post(url, json=body, timeout=30)
    resp.raise_for_status()
