"""What an operator reads: errors that name the setting to fix, one line when the run stops,
rejects that a rerun does not count again, and an `--about` without the SDK's load_method."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import requests
from sandbox.testing import SandboxProcess
from target_brevo.api_url import connection_refused
from target_brevo.client import BrevoClient
from target_brevo.errors import BrevoAuthError, BrevoNotFound, BrevoSystemic
from target_brevo.rejects import Rejects

EXE = str(Path(sys.executable).parent / "target-brevo")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- rejects: a rerun does not count the same problems again ---------------------------------


def test_a_rerun_meeting_the_same_rejects_adds_nothing_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    first = Rejects(str(path), None)
    first.add("contacts", 5, "invalid_email", "invalid email 'a@'", "email")
    first.add("contacts", 6, "invalid_phone", "invalid phone '12'", "phone", written=True)
    assert first.new == 2
    before = path.read_text()

    again = Rejects(str(path), 1)  # the next run, same data
    again.add("contacts", 5, "invalid_email", "invalid email 'a@'", "email")
    again.add("contacts", 6, "invalid_phone", "invalid phone '12'", "phone", written=True)
    assert path.read_text() == before  # nothing appended
    assert (again.count, again.new, again.not_written) == (2, 0, 1)
    assert "0 new, 2 already in the rejects file" in again.summary()
    again.check()  # one record not written: within max_rejects=1

    # the same contact rejected for other content, or with another code, is a new problem
    again.add("contacts", 5, "invalid_email", "invalid email 'b@'", "email")
    again.add("contacts", 7, "invalid_email", "invalid email 'a@'", "email")
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["key"], x["reason"]) for x in lines[2:]] == [
        (5, "invalid email 'b@'"),
        (7, "invalid email 'a@'"),
    ]
    assert again.new == 2
    assert "2 new, 2 already in the rejects file" in again.summary()


def test_a_file_from_an_older_version_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "rejects.jsonl"
    old = {"time": "2026-01-01T00:00:00+00:00", "stream": "contacts", "key": 9,
           "code": "invalid_email", "reason": "bad", "field": "email", "record_written": False}
    path.write_text(json.dumps(old) + "\nnot json\n")
    rejects = Rejects(str(path), None)
    rejects.add("contacts", 9, "invalid_email", "bad", "email")
    assert rejects.new == 0
    assert len(path.read_text().splitlines()) == 2


# --- errors that name the setting -------------------------------------------------------------


def test_a_wrong_key_names_the_api_key_setting(brevo: SandboxProcess) -> None:
    client = BrevoClient(brevo.api_url, "xkeysib-wrong", max_tries=1)
    with pytest.raises(BrevoAuthError) as err:
        client.get("/account")
    text = str(err.value)
    assert text.startswith("Brevo GET /account -> 401 unauthorized: ")
    assert "api_key setting" in text
    assert "xkeysib-wrong" not in text
    client.close()


def test_an_api_url_without_v3_says_so(brevo: SandboxProcess) -> None:
    base = brevo.api_url.removesuffix("/v3")
    client = BrevoClient(base, brevo.token, max_tries=1)
    with pytest.raises(BrevoSystemic) as err:
        client.get("/contacts/attributes")
    text = str(err.value)
    assert "-> 404 Not Found:" in text  # no empty code
    assert "api_url setting" in text
    assert "/v3" in text
    client.close()
    # a missing object is still Brevo's named 404 (a per-record problem, not the URL)
    ok = BrevoClient(brevo.api_url, brevo.token, max_tries=1)
    with pytest.raises(BrevoNotFound, match="document_not_found"):
        ok.get("/contacts/nobody@example.com")
    ok.close()


def test_a_stopped_sandbox_fails_at_once_naming_url_and_command() -> None:
    port = closed_port()
    slept: list[float] = []
    client = BrevoClient(f"http://127.0.0.1:{port}/v3", "k", max_tries=5, sleep=slept.append)
    for method in ("GET", "POST"):  # a refused create was never sent: not "uncertain"
        started = time.monotonic()
        with pytest.raises(BrevoSystemic) as err:
            client.request(method, "/contacts/import", body={})
        assert time.monotonic() - started < 2
        assert str(err.value) == (
            f"nothing answers at http://127.0.0.1:{port} (connection refused; setting "
            "api_url): is the sandbox running? Start it with ./scripts/sandbox.sh start"
        )
    assert slept == []  # no retry
    client.close()


def test_a_refused_real_host_is_retried_then_named(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: t.Any, **kwargs: t.Any) -> t.NoReturn:
        inner = ConnectionRefusedError(111, "Connection refused")
        raise requests.ConnectionError(inner)

    slept: list[float] = []
    client = BrevoClient("https://api.brevo.example/v3", "k", max_tries=3, sleep=slept.append)
    monkeypatch.setattr(client._session, "request", refuse)
    with pytest.raises(BrevoSystemic) as err:
        client.request("POST", "/contacts/import", body={})  # retried although a POST
    assert len(slept) == 2
    assert str(err.value) == (
        "Brevo POST /contacts/import: cannot reach https://api.brevo.example (connection "
        "refused) after 3 tries: check the api_url setting and the network"
    )
    client.close()


def test_connection_refused_is_recognised_through_requests() -> None:
    with pytest.raises(requests.ConnectionError) as refused:
        requests.get(f"http://127.0.0.1:{closed_port()}/", timeout=5)
    assert connection_refused(refused.value)
    assert not connection_refused(requests.ConnectionError("reset by peer"))


# --- the command line -------------------------------------------------------------------------


def test_the_cli_stops_in_one_line_when_brevo_is_not_running(tmp_path: Path, h: t.Any) -> None:
    port = closed_port()
    config = {"api_key": "xkeysib-x", "api_url": f"http://127.0.0.1:{port}/v3",
              "rejects_file": str(tmp_path / "r.jsonl")}
    messages = h.ac_input(contacts=[h.contact(1, "one@example.com")], campaigns=False)
    started = time.monotonic()
    proc = h.run_cli(config, messages, tmp_path, timeout=60)
    assert time.monotonic() - started < 15
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"target-brevo: nothing answers at http://127.0.0.1:{port} (connection refused; "
        "setting api_url): is the sandbox running? Start it with ./scripts/sandbox.sh start"
    )


def test_about_explains_load_method_instead_of_append_only() -> None:
    out = subprocess.run([EXE, "--about", "--format=json"], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    setting = json.loads(out)["settings"]["properties"]["load_method"]
    assert setting["default"] == "upsert"
    assert setting["description"].startswith("Ignored: every write is an upsert")
    plain = subprocess.run([EXE, "--about", "--format=markdown"], capture_output=True,
                           text=True, check=True, timeout=60).stdout
    row = next(line for line in plain.splitlines() if line.startswith("| load_method "))
    assert "APPEND_ONLY" not in row
    assert "| upsert |" in row
