"""The README's quick start, line by line, from a clean clone of this repository's HEAD.

The commands are read from the README (the bash block after `<!-- quickstart -->`) and run as
written in a fresh `git clone`: `./scripts/setup.sh` builds the clone's own `.venv/` and
`.meltano/` (pip's and uv's caches are reused, as on any machine that installed before),
`./scripts/sandbox.sh start` starts both sandboxes, `meltano run` syncs, `stop` stops them.
The one liberty: the sandboxes listen on free ports instead of 18080/18081 (other pipelines
share this machine), passed the way a user would (`SANDBOX_*_PORT`, and the plugin settings'
environment variables); that the defaults of the script and of the `sandbox` environment agree
is checked separately. Then, with the sandboxes stopped, the headline command must fail in one
line naming the URL and the start command.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

from sandbox.control import SandboxControl

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- quickstart -->"


def quickstart_commands() -> list[str]:
    """The commands of the README's quick-start block, comments dropped."""
    text = (ROOT / "README.md").read_text()
    block = text.split(MARK, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without this checkout's venv, plugin settings or Meltano
    overrides: the clone must stand on its own."""
    drop = ("TAP_", "TARGET_", "MELTANO_", "VIRTUAL_ENV", "PYTHONPATH", "SANDBOX_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    venv_bin = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    env.update(extra)
    return env


def bash(
    script: str, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_sandbox_script_defaults_match_the_sandbox_environment() -> None:
    script = (ROOT / "scripts" / "sandbox.sh").read_text()
    ac = re.search(r"AC_PORT=\$\{SANDBOX_AC_PORT:-(\d+)\}", script)
    brevo = re.search(r"BREVO_PORT=\$\{SANDBOX_BREVO_PORT:-(\d+)\}", script)
    assert ac is not None
    assert brevo is not None
    yml = (ROOT / "meltano.yml").read_text()
    assert f"api_url: http://127.0.0.1:{ac.group(1)}\n" in yml
    assert f"api_url: http://127.0.0.1:{brevo.group(1)}/v3\n" in yml
    assert "--seed 42" in script  # the demo's seed
    assert "/output/" in (ROOT / ".gitignore").read_text().splitlines()  # pidfiles, logs


def test_the_readme_quick_start_from_a_clean_clone(tmp_path: Path) -> None:
    commands = quickstart_commands()
    for needed in ("./scripts/setup.sh", "./scripts/sandbox.sh start",
                   "meltano run tap-activecampaign target-brevo", "./scripts/sandbox.sh stop"):
        assert needed in commands, f"the quick start lost {needed!r}"
    stop_at = commands.index("./scripts/sandbox.sh stop")
    assert commands.index("./scripts/sandbox.sh start") < commands.index(
        "meltano run tap-activecampaign target-brevo") < stop_at

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    ac_port, brevo_port = free_port(), free_port()
    env = clean_env(
        SANDBOX_AC_PORT=str(ac_port),
        SANDBOX_BREVO_PORT=str(brevo_port),
        TAP_ACTIVECAMPAIGN_API_URL=f"http://127.0.0.1:{ac_port}",
        TARGET_BREVO_API_URL=f"http://127.0.0.1:{brevo_port}/v3",
    )
    rejects_file = clone / "output" / "brevo-rejects.jsonl"
    try:
        started = time.monotonic()
        first = bash("\n".join(commands[:stop_at]), clone, env, timeout=1200)
        print(f"quick start up to the stop: {time.monotonic() - started:.0f} s")
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
        log = first.stdout + first.stderr
        assert "stream contacts done: 1,000 records" in log
        assert "target-brevo done:" in log
        assert "assumed to be unsorted" not in log
        assert f"activecampaign sandbox running: http://127.0.0.1:{ac_port}" in log

        # Brevo holds every seeded contact that was not rejected
        brevo = SandboxControl(f"http://127.0.0.1:{brevo_port}")
        contacts = brevo.dump()["contacts"]
        rejects = [json.loads(x) for x in rejects_file.read_text().splitlines()] \
            if rejects_file.exists() else []
        lost = {r["key"] for r in rejects if r["stream"] == "contacts" and
                not r["record_written"]}
        assert len(contacts) == 1000 - len(lost)
        assert len(contacts) > 900
        assert {c["ext_id"] for c in contacts} <= {f"ac-{i}" for i in range(1, 100_000)}

        # a no-change rerun counts no reject again; the demo's report agrees with the file
        before = rejects_file.read_bytes() if rejects_file.exists() else b""
        again = bash(". .venv/bin/activate\nmeltano run tap-activecampaign target-brevo",
                     clone, env, timeout=600)
        assert again.returncode == 0, again.stderr[-3000:]
        after = rejects_file.read_bytes() if rejects_file.exists() else b""
        assert after == before
        if rejects:
            assert "0 new, " in again.stdout + again.stderr
        report = bash(
            f".venv/bin/python scripts/demo_report.py --brevo http://127.0.0.1:{brevo_port} "
            f"--ac http://127.0.0.1:{ac_port}", clone,
            {**env, "TARGET_BREVO_REJECTS_FILE": str(rejects_file)}, timeout=120)
        assert report.returncode == 0, report.stderr
        row = re.search(r"rejects \(distinct problems\)\s+(\d+)", report.stdout)
        assert row is not None, report.stdout
        assert int(row.group(1)) == len(rejects)
    finally:
        stopped = bash("\n".join(commands[stop_at:]), clone, env, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    assert "activecampaign sandbox stopped" in stopped.stdout
    status = bash("./scripts/sandbox.sh status", clone, env, timeout=60)
    assert status.returncode == 3
    assert "activecampaign sandbox not running" in status.stdout

    # the headline command with the sandboxes stopped: one line, at once, naming the fix
    started = time.monotonic()
    down = bash(". .venv/bin/activate\nmeltano run tap-activecampaign target-brevo", clone,
                env, timeout=300)
    elapsed = time.monotonic() - started
    assert down.returncode != 0
    assert elapsed < 30, f"took {elapsed:.0f} s"
    out = down.stdout + down.stderr
    # the first selected stream names itself (contact_custom_fields: users is not selected)
    assert re.search(
        rf"tap-activecampaign: stream \w+: nothing answers at http://127\.0\.0\.1:{ac_port} "
        r"\(connection refused; setting api_url\): is the sandbox running\? Start it with "
        r"\./scripts/sandbox\.sh start\n", out)
    assert "Traceback" not in out
