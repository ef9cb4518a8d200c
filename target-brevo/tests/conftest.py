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
            # the sandbox's one verified sender (GET /senders)
            "campaign_sender": {"name": "Sandbox", "email": "sandbox@example.com"},
        }
        cfg.update(extra)
        return cfg

    return make


def run_target(config: dict[str, t.Any], messages: Messages | str | t.Iterable[str]) -> Run:
    """Run the target in-process on the messages (or on any iterable of input lines);
    returns the STATE lines it printed."""
    if isinstance(messages, Messages):
        messages = messages.text()
    if isinstance(messages, str):
        messages = io.StringIO(messages)
    target = TargetBrevo(config=config, validate_config=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        target.listen(file_input=t.cast("t.IO[str]", messages))
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


def ac_input(
    contacts: list[dict[str, t.Any]] | None = None,
    memberships: list[dict[str, t.Any]] | None = None,
    values: list[dict[str, t.Any]] | None = None,
    lists: list[dict[str, t.Any]] | None = None,
    campaigns: bool = True,
    state: dict[str, t.Any] | None = None,
) -> Messages:
    """A small ActiveCampaign-shaped input in the tap's stream order (contracts §3)."""
    m = Messages()
    m.add(
        "contact_custom_fields",
        {"id": 1, "title": "Size", "type": "dropdown", "perstag": "SIZE"},
        {"id": 2, "title": "Birthday", "type": "date", "perstag": "BIRTHDAY"},
        {"id": 3, "title": "Hobbies", "type": "checkbox", "perstag": "HOBBIES"},
        {"id": 4, "title": "Last visit", "type": "datetime", "perstag": "LAST_VISIT"},
        {"id": 5, "title": "Notes", "type": "textarea", "perstag": "NOTES"},
    )
    m.add(
        "contact_custom_field_options",
        {"id": 11, "field": 1, "label": "Small", "value": "small", "orderid": 1},
        {"id": 12, "field": 1, "label": "Large", "value": "large", "orderid": 2},
        {"id": 21, "field": 3, "label": "Chess", "value": "chess", "orderid": 1},
        {"id": 22, "field": 3, "label": "Golf", "value": "golf", "orderid": 2},
    )
    m.add("lists", *(lists or [{"id": 1, "name": "Newsletter"}, {"id": 2, "name": "Promo"}]))
    m.add("tags", {"id": 1, "tag": "vip", "tag_type": "contact"})
    m.add(
        "contacts",
        *(
            contacts
            or [
                contact(1, phone="(415) 555-2671", tags=["vip", "customer"]),
                contact(2, orgname="Acme"),
                contact(3),
            ]
        ),
    )
    m.add(
        "contact_custom_field_values",
        *(
            values
            or [
                {"id": 1, "contact": 1, "field": 1, "value": "large"},
                {"id": 2, "contact": 1, "field": 2, "value": "1990-05-02"},
                {"id": 3, "contact": 1, "field": 3, "value": "||chess||golf||"},
                {"id": 4, "contact": 1, "field": 4, "value": "2026-03-08T23:30:00-05:00"},
                {"id": 5, "contact": 2, "field": 5, "value": "likes tea"},
            ]
        ),
    )
    m.add(
        "contact_lists",
        *(
            memberships
            or [
                {"id": 1, "contact": 1, "list": 1, "status": 1},
                {"id": 2, "contact": 2, "list": 1, "status": 1},
                {"id": 3, "contact": 3, "list": 2, "status": 1},
            ]
        ),
    )
    m.add("contact_tags", {"id": 1, "contact": 1, "tag": 1})
    if campaigns:
        m.add(
            "campaigns",
            {"id": 1, "name": "Spring sale", "status": 0, "type": "single", "message_id": 1},
        )
        m.add(
            "messages",
            {
                "id": 1,
                "name": "Spring",
                "subject": "Spring is here",
                "fromname": "Shop",
                "fromemail": "shop@example.com",
                "reply2": "help@example.com",
                "html": "<p>Hello</p>",
                "text": "Hello",
            },
        )
    m.state(state or {"bookmarks": {"contacts": {"replication_key_value": "2026-03-08"}}})
    return m


def client_errors(sb: SandboxProcess, allowed: t.Iterable[int] = ()) -> list[dict[str, t.Any]]:
    """4xx answers in the request log (a 400 is how the sandbox's spec check fails)."""
    ok = set(allowed)
    return [
        e for e in api_requests(sb) if 400 <= int(e["status"]) < 500 and int(e["status"]) not in ok
    ]


def stable(dump: dict[str, t.Any]) -> dict[str, t.Any]:
    """The dump without the import processes (their log is not data)."""
    return {k: v for k, v in dump.items() if k != "processes"}


@pytest.fixture
def h() -> t.Any:
    """The helpers of this conftest (test modules cannot import it under importlib mode)."""
    import sys

    return sys.modules[__name__]


class Proc(t.NamedTuple):
    returncode: int
    stdout: str
    stderr: str

    @property
    def states(self) -> list[dict[str, t.Any]]:
        out = []
        for line in self.stdout.splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out


def run_cli(
    config: dict[str, t.Any], messages: Messages | str, tmp: Path, timeout: float = 120
) -> Proc:
    """Run `target-brevo --config` as a subprocess (real exit codes and output)."""
    import subprocess
    import sys

    cfg_path = tmp / "target-config.json"
    cfg_path.write_text(json.dumps(config))
    text = messages.text() if isinstance(messages, Messages) else messages
    exe = Path(sys.executable).parent / "target-brevo"
    done = subprocess.run(
        [str(exe), "--config", str(cfg_path)],
        input=text,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Proc(done.returncode, done.stdout, done.stderr)


def normalized(dump: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the data is, without ids, timestamps and processes (for crash/rerun comparisons)."""
    list_names = {x["id"]: x["name"] for x in dump["lists"]}
    contacts = {}
    for ext, c in contacts_by_ext(dump).items():
        contacts[ext] = {
            "email": c["email"],
            "sms": c.get("sms"),
            "attributes": c["attributes"],
            "lists": sorted(list_names[i] for i in c["listIds"]),
            "emailBlacklisted": c["emailBlacklisted"],
        }
    return {
        "contacts": contacts,
        "emailless": len([c for c in dump["contacts"] if not c.get("email")]),
        "lists": sorted(list_names.values()),
        "folders": sorted(f["name"] for f in dump["folders"]),
        "attributes": sorted((a["name"], a["type"]) for a in dump["attributes"]),
        "campaigns": sorted(
            (c["name"], c["data"].get("subject"), c["status"]) for c in dump["campaigns"]
        ),
    }
