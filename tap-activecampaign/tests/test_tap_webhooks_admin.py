"""`tap-activecampaign-webhooks register/list/remove` against the AC sandbox's webhook API, and
the sandbox delivering its own changes to a real receiver."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from sandbox.receiver_process import ReceiverProcess
from sandbox.testing import SandboxProcess
from tap_activecampaign.webhooks.queue import open_queue

EXE = str(Path(sys.executable).parent / "tap-activecampaign-webhooks")


def cli(ac: SandboxProcess, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TAP_ACTIVECAMPAIGN_API_URL": ac.base_url,
           "TAP_ACTIVECAMPAIGN_API_TOKEN": ac.token}
    return subprocess.run([EXE, *argv], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def hooks(ac: SandboxProcess) -> list[dict[str, Any]]:
    r = requests.get(f"{ac.api_url}/webhooks", headers={"Api-Token": ac.token}, timeout=10)
    return list(r.json()["webhooks"])


def test_register_is_idempotent_and_never_prints_the_secret(ac_sandbox: SandboxProcess) -> None:
    secret = secrets.token_urlsafe(24)
    url = f"https://hooks.example.com/activecampaign/{secret}"
    first = cli(ac_sandbox, "register", "--url", url, "--events", "update,subscribe",
                "--sources", "admin,api")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["action"] == "created"
    again = cli(ac_sandbox, "register", "--url", url, "--events", "subscribe,update",
                "--sources", "api,admin")
    assert json.loads(again.stdout)["action"] == "unchanged"
    changed = cli(ac_sandbox, "register", "--url", url, "--events", "update,open",
                  "--sources", "admin,api")
    assert json.loads(changed.stdout)["action"] == "updated"
    stored = hooks(ac_sandbox)
    assert len(stored) == 1
    assert sorted(stored[0]["events"]) == ["open", "update"]
    listed = cli(ac_sandbox, "list")
    assert json.loads(listed.stdout)[0]["url"] == "https://hooks.example.com/activecampaign/***"
    bad_port = cli(ac_sandbox, "register", "--url", "https://hooks.example.com:8443/x",
                   "--events", "update")
    assert bad_port.returncode == 1
    assert "port 443" in bad_port.stderr
    unknown = cli(ac_sandbox, "register", "--url", url, "--events", "explode")
    assert unknown.returncode == 1
    assert "explode" in unknown.stderr
    removed = cli(ac_sandbox, "remove", "--url", url)
    assert json.loads(removed.stdout)["removed"] == [int(stored[0]["id"])]
    assert hooks(ac_sandbox) == []
    assert json.loads(cli(ac_sandbox, "remove", "--url", url).stdout)["removed"] == []
    for out in (first, again, changed, listed, bad_port, unknown, removed):
        assert secret not in out.stdout + out.stderr
        assert ac_sandbox.token not in out.stdout + out.stderr


def test_sandbox_changes_reach_the_receiver_queue(ac_sandbox: SandboxProcess,
                                                  tmp_path: Path) -> None:
    secret = secrets.token_urlsafe(24)
    queue_url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    with ReceiverProcess(queue_url, secret, "--account-timezone", "America/Chicago") as rx:
        out = cli(ac_sandbox, "register", "--url", rx.hook_url, "--events",
                  "update,unsubscribe,contact_tag_added", "--sources", "admin,public")
        assert out.returncode == 0, out.stderr
        requests.post(f"{ac_sandbox.base_url}/__sandbox/mutate", json={"ops": [
            {"op": "update_contact", "id": 2, "fields": {"firstName": "Grace"}},
            {"op": "unsubscribe", "contact": 2, "list": 1, "source": "public"},
            {"op": "add_tag", "contact": 2, "tag": "realtime"},
        ]}, timeout=10).raise_for_status()
        deadline = time.time() + 15
        q = open_queue(queue_url)
        while q.count() < 3 and time.time() < deadline:
            time.sleep(0.05)
        rows = q.read(0)
        q.close()
    assert sorted(r.record["type"] for r in rows) == ["contact_tag_added", "unsubscribe",
                                                      "update"]
    assert {r.record["contact_id"] for r in rows} == {2}
    unsub = next(r.record for r in rows if r.record["type"] == "unsubscribe")
    assert unsub["initiated_by"] == "public"
    assert unsub["list_id"] == 1
    assert unsub["date_time"].endswith("+00:00")
