"""The SDK seam of ordered_drain.py: the private names it relies on, and the drain order.

singer-sdk 0.54 has no public hook to drain sinks in dependency order, so
`target_brevo.ordered_drain.OrderedDrain` overrides its private `_drain_all`. These tests fail
on an SDK upgrade that renames what it uses, and pin what a full sink's drain does.
"""

from __future__ import annotations

import inspect
import typing as t

from singer_sdk.target_base import Target
from target_brevo.ordered_drain import OrderedDrain
from target_brevo.target import TargetBrevo


def test_the_sdk_still_has_the_private_drain_api() -> None:
    source = inspect.getsource(Target)
    for name in ("_sinks_to_clear", "_sinks_active", "_latest_state", "_reset_max_record_age"):
        assert f"self.{name}" in source, name
    drain_all = inspect.getsource(Target.drain_all)
    assert "self._drain_all(self._sinks_to_clear" in drain_all
    assert "self._drain_all(self._sinks_active.values()" in drain_all
    assert issubclass(TargetBrevo, OrderedDrain)


class _Sink:
    def __init__(self, name: str, log: list[str]) -> None:
        self.stream_name, self.log, self.current_size = name, log, 1

    def start_drain(self) -> dict[str, t.Any]:
        return {}

    def process_batch(self, context: dict[str, t.Any]) -> None:
        self.log.append(f"stage {self.stream_name}")

    def mark_drained(self) -> None:
        self.current_size = 0

    @property
    def batch_processing_timer(self) -> t.Any:
        import contextlib

        return contextlib.nullcontext()


class _Fake(OrderedDrain):
    """An OrderedDrain without a real Target: just the attributes the mixin reads."""

    def __init__(self, log: list[str]) -> None:  # the SDK's __init__ needs a config
        self.log = log
        self._sinks_to_clear: list[t.Any] = [_Sink("old_schema", log)]
        self._sinks_active: dict[str, t.Any] = {
            "contacts": _Sink("contacts", log),
            "lists": _Sink("lists", log),
        }
        self._latest_state = {"bookmarks": {"contacts": {"replication_key_value": 3}}}
        self.states: list[dict[str, t.Any]] = []

    def flush_in_order(self) -> None:
        self.log.append("flush")

    def _write_state_message(self, state: dict) -> None:
        self.states.append(state)

    def _reset_max_record_age(self) -> None:
        self.log.append("reset age")


def test_a_full_sink_drained_alone_stages_every_sink_then_flushes_once_then_moves_state() -> None:
    log: list[str] = []
    target = _Fake(log)
    target.on_sink_drained()
    assert log == ["stage old_schema", "stage contacts", "stage lists", "flush", "reset age"]
    assert target.states == [{"bookmarks": {"contacts": {"replication_key_value": 3}}}]
    target.states[0]["bookmarks"].clear()  # a copy was emitted, not the target's own state
    assert target.latest_state() == {"bookmarks": {"contacts": {"replication_key_value": 3}}}


def test_drain_all_flushes_after_the_active_sinks_only() -> None:
    log: list[str] = []
    target = _Fake(log)
    target._drain_all(target._sinks_to_clear, 1)
    assert log == ["stage old_schema"]  # schema-changed sinks are staged, not yet written
    target._drain_all(target._sinks_active.values(), 1)
    assert log == ["stage old_schema", "stage contacts", "stage lists", "flush"]


def test_a_sink_drained_inside_an_ordered_drain_does_not_flush_again() -> None:
    log: list[str] = []
    target = _Fake(log)
    target._ordered = True
    target.on_sink_drained()
    assert log == []
    assert target.states == []


def _setup_then_contacts(h: t.Any, *, options: bool) -> t.Any:
    m = h.Messages()
    m.add("contact_custom_fields", {"id": 1, "title": "Size", "type": "dropdown", "perstag": "S"})
    if options:
        m.add(
            "contact_custom_field_options",
            {"id": 11, "field": 1, "label": "Small", "value": "small", "orderid": 1},
        )
    m.add("lists", {"id": 1, "name": "Newsletter"})
    m.state({"bookmarks": {"lists": {"replication_key_value": "2026-03-01T00:00:00+00:00"}}})
    m.add("contacts", h.contact(1), h.contact(2))
    m.add("contact_custom_field_values", {"id": 1, "contact": 1, "field": 1, "value": "small"})
    m.add("contact_lists", {"id": 1, "contact": 1, "list": 1, "status": 1})
    m.state({"bookmarks": {"contacts": {"replication_key_value": "2026-03-08T00:00:00+00:00"}}})
    return m


class _Watched:
    """The input lines; once the first contacts RECORD is processed (when the second one is
    read), what Brevo was asked so far."""

    def __init__(self, text: str, brevo: t.Any, h: t.Any) -> None:
        self.lines, self.brevo, self.h = text.splitlines(keepends=True), brevo, h
        self.before_contacts: list[str] | None = None
        self.start = len(h.api_requests(brevo))  # the log outlives a sandbox reset

    def __iter__(self) -> t.Iterator[str]:
        contacts = 0
        for line in self.lines:
            contacts += '"RECORD", "stream": "contacts"' in line
            if self.before_contacts is None and contacts == 2:
                log = self.h.api_requests(self.brevo)[self.start :]
                self.before_contacts = [f"{e['method']} {e['path']}" for e in log]
            yield line


def _run_watched(h: t.Any, brevo: t.Any, cfg: dict[str, t.Any], *, options: bool) -> t.Any:
    watched = _Watched(_setup_then_contacts(h, options=options).text(), brevo, h)
    run = h.run_target(cfg, watched)
    return watched.before_contacts, run.states


def test_setup_is_written_at_the_first_contact_record(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """Lists and attributes go to Brevo when the first contacts record arrives (a tap is
    still reading contacts then), the contacts at the end, and STATE moves only after the
    contacts. Without an options stream the attributes wait for the values that name their
    options (one create, no update), so nothing is written before the contacts."""
    seen_before, states = _run_watched(h, brevo, config_for(brevo), options=True)
    assert seen_before is not None
    assert "POST /v3/contacts/lists" in seen_before
    assert "POST /v3/contacts/attributes/category/S" in seen_before
    assert not [r for r in seen_before if r.endswith("/contacts/import")]
    assert [list(s["bookmarks"]) for s in states] == [["contacts"]]
    dump = brevo.control.dump()
    by_ext = h.contacts_by_ext(dump)
    assert sorted(by_ext) == ["ac-1", "ac-2"]
    size = next(a for a in dump["attributes"] if a["name"] == "S")
    assert by_ext["ac-1"]["attributes"]["S"] == size["enumeration"][0]["value"]
    newsletter = next(x["id"] for x in dump["lists"] if x["name"].startswith("Newsletter"))
    assert newsletter in by_ext["ac-1"]["listIds"]
    brevo.control.reset()
    seen_before, states = _run_watched(h, brevo, config_for(brevo), options=False)
    assert seen_before is not None
    assert not [r for r in seen_before if r.startswith("POST")]
    assert [list(s["bookmarks"]) for s in states] == [["contacts"]]
