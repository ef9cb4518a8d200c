"""Fixtures and Singer-message builders for the target-brevo tests."""

from __future__ import annotations

import contextlib
import io
import json
import typing as t
from pathlib import Path

import pytest
from sandbox.testing import SandboxProcess
from target_brevo.target import TargetBrevo

DT = {"type": ["string", "null"], "format": "date-time"}
INT = {"type": ["integer", "null"]}
STR = {"type": ["string", "null"]}

AC_SCHEMAS: dict[str, tuple[dict[str, t.Any], list[str]]] = {
    "contact_custom_fields": ({"id": INT, "title": STR, "type": STR, "perstag": STR}, ["id"]),
    "contact_custom_field_options": (
        {"id": INT, "field": INT, "label": STR, "value": STR, "orderid": INT},
        ["id"],
    ),
    "lists": ({"id": INT, "name": STR, "stringid": STR, "udate": DT, "cdate": DT}, ["id"]),
    "tags": ({"id": INT, "tag": STR, "tag_type": STR}, ["id"]),
    "contacts": (
        {
            "id": INT,
            "email": STR,
            "phone": STR,
            "first_name": STR,
            "last_name": STR,
            "orgname": STR,
            "bounced_hard": INT,
            "udate": DT,
            "cdate": DT,
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
        ["id"],
    ),
    "contact_custom_field_values": (
        {"id": INT, "contact": INT, "field": INT, "value": STR, "udate": DT},
        ["id"],
    ),
    "contact_lists": ({"id": INT, "contact": INT, "list": INT, "status": INT, "udate": DT}, ["id"]),
    "contact_tags": ({"id": INT, "contact": INT, "tag": INT}, ["id"]),
    "campaigns": (
        {"id": INT, "name": STR, "status": INT, "type": STR, "mdate": DT, "message_id": INT},
        ["id"],
    ),
    "messages": (
        {
            "id": INT,
            "name": STR,
            "subject": STR,
            "fromname": STR,
            "fromemail": STR,
            "reply2": STR,
            "html": STR,
            "text": STR,
            "mdate": DT,
        },
        ["id"],
    ),
}


def schema_msg(
    stream: str, props: dict[str, t.Any] | None = None, keys: list[str] | None = None
) -> dict[str, t.Any]:
    if props is None:
        props, default_keys = AC_SCHEMAS[stream]
        keys = default_keys if keys is None else keys
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": props},
        "key_properties": keys or [],
    }


def record_msg(stream: str, record: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


def state_msg(value: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"type": "STATE", "value": value}


class Messages:
    """Builds an ActiveCampaign-shaped Singer input in the tap's stream order."""

    def __init__(self) -> None:
        self.items: list[dict[str, t.Any]] = []
        self._schemas: set[str] = set()

    def add(self, stream: str, *records: dict[str, t.Any]) -> Messages:
        if stream not in self._schemas:
            self.items.append(schema_msg(stream))
            self._schemas.add(stream)
        self.items.extend(record_msg(stream, r) for r in records)
        return self

    def state(self, value: dict[str, t.Any]) -> Messages:
        self.items.append(state_msg(value))
        return self

    def text(self) -> str:
        return "".join(json.dumps(m) + "\n" for m in self.items)


def contact(cid: int, email: str | None = None, **fields: t.Any) -> dict[str, t.Any]:
    base: dict[str, t.Any] = {
        "id": cid,
        "email": email or f"person{cid}@example.com",
        "phone": None,
        "first_name": f"First{cid}",
        "last_name": f"Last{cid}",
        "orgname": None,
        "bounced_hard": 0,
        "udate": "2026-03-08T13:30:00+00:00",
        "tags": [],
    }
    base.update(fields)
    return base


class Run(t.NamedTuple):
    states: list[dict[str, t.Any]]
    stdout: str
    target: TargetBrevo


@pytest.fixture
def brevo() -> t.Iterator[SandboxProcess]:
    """A fast Brevo sandbox: imports complete in 0.1 s, rate limits off."""
    with SandboxProcess("brevo", import_delay=0.1, rate_scale=0) as sb:
        yield sb


@pytest.fixture
def config_for(tmp_path: Path) -> t.Callable[..., dict[str, t.Any]]:
    def make(sb: SandboxProcess, **extra: t.Any) -> dict[str, t.Any]:
        cfg: dict[str, t.Any] = {
            "api_key": sb.token,
            "api_url": sb.api_url,
            "rejects_file": str(tmp_path / "rejects.jsonl"),
            "poll_initial_seconds": 0.15,
            "poll_seconds_per_1000_rows": 0.1,
            "retry_base_seconds": 0.05,
            "request_timeout": 10,
        }
        cfg.update(extra)
        return cfg

    return make


def run_target(config: dict[str, t.Any], messages: Messages | str) -> Run:
    """Run the target in-process on the messages; returns the STATE lines it printed."""
    text = messages.text() if isinstance(messages, Messages) else messages
    target = TargetBrevo(config=config, validate_config=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(file_input=io.StringIO(text))
    states = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    return Run(states, out.getvalue(), target)


def rejects_of(config: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    path = Path(config["rejects_file"])
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def api_requests(sb: SandboxProcess) -> list[dict[str, t.Any]]:
    return list(sb.control.requests(log=True)["log"])


def contacts_by_ext(dump: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    out = {}
    for c in dump["contacts"]:
        ext = (c.get("attributes") or {}).get("EXT_ID") or c.get("ext_id") or c.get("extId")
        if ext:
            out[str(ext)] = c
    return out
