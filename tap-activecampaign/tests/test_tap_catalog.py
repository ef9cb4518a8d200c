"""The 41 catalog streams (streams/catalog.py) against the sandbox: every one syncs, equals the
sandbox's data typed and in UTC, reruns cheaply, picks changes up, and skips what the plan lacks.
"""

from __future__ import annotations

import math
import typing as t
from collections import Counter
from pathlib import Path

import pytest
import requests
from sandbox.testing import SandboxProcess
from tap_activecampaign.streams.catalog import APPEND_ONLY, CATALOG
from tap_testkit import TapOutput, run_tap, run_tap_process, tap_config

#: stream -> (sandbox data key, replication key, fallback)
STREAMS: dict[str, tuple[str, str | None, str | None]] = {
    row.name: (row.records_key, row.replication_key, row.fallback)
    for row in CATALOG
    if row.path != "/fields"
}
STREAMS["ecommerce_orders"] = ("ecomOrders", "updated_date", "created_date")
STREAMS["ecommerce_order_products"] = ("ecomOrderProducts", None, None)
GATED = {row.name for row in CATALOG if row.addon} | {
    "ecommerce_orders", "ecommerce_order_products",
}
NAMES = [*STREAMS, "contact_custom_field_rels"]


def _scalar(value: object) -> bool:
    return not isinstance(value, dict | list)


@pytest.fixture(scope="module")
def sandbox() -> t.Iterator[SandboxProcess]:
    with SandboxProcess("activecampaign", contacts=400, seed=11, rate_limit=0) as sb:
        register_webhooks(sb, 3)
        yield sb


def register_webhooks(sb: SandboxProcess, count: int) -> None:
    """/webhooks lists the account's registered webhooks (none on a fresh account). Their URLs
    are closed loopback ports: a delivery the sandbox makes is refused, never leaves the host."""
    for n in range(count):
        r = requests.post(f"{sb.api_url}/webhooks", headers={"Api-Token": sb.token}, json={
            "webhook": {"name": f"hook {n}", "url": f"http://127.0.0.1:9/hook{n}",
                        "events": ["update"], "sources": ["admin"]}}, timeout=10)
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def first(sandbox: SandboxProcess) -> tuple[TapOutput, dict[str, t.Any], Counter[str]]:
    sandbox.control.reset_requests()
    out = run_tap(tap_config(sandbox), streams=NAMES)
    by_path = sandbox.control.requests(log=False)["by_path"]
    return out, sandbox.control.dump(), Counter(by_path)


def _null_keyed(rows: list[dict[str, t.Any]], key: str | None, fallback: str | None) -> set[int]:
    """Rows whose replication key and its fallback are both null: always emitted."""
    if key is None or key == APPEND_ONLY:
        return set()
    return {
        r["id"] for r in rows if r.get(key) is None and (not fallback or r.get(fallback) is None)
    }


def test_every_stream_equals_the_sandbox(first: tuple[TapOutput, dict[str, t.Any], t.Any]) -> None:
    out, dump, _ = first
    catalog = dump["catalog"]
    for stream, (key, _rk, _fb) in STREAMS.items():
        expected = {r["id"]: r for r in catalog[key]}
        got = out.by_id(stream)
        assert expected, stream
        assert set(got) == set(expected), stream
        assert len(out.ids(stream)) == len(got), f"{stream}: duplicates"
        for row_id, row in expected.items():
            record = got[row_id]
            for field, value in row.items():
                if _scalar(value) and field != "order_products":
                    assert record[field] == value, (stream, row_id, field)
    assert out.records["contact_custom_field_rels"]


def test_values_are_typed_and_utc(first: tuple[TapOutput, dict[str, t.Any], t.Any]) -> None:
    out, _, _ = first
    deal = out.records["deal_activities"][0]
    assert isinstance(deal["id"], int)
    assert isinstance(deal["d_id"], int)
    times = [r["tstamp"] for r in out.records["email_activities"] if r["tstamp"]]
    assert times
    assert all(x.endswith("+00:00") for x in times)
    zero = [r for r in out.records["contact_deals"] if r["updated_timestamp"] is None]
    assert zero, "zero dates and nulls become null"


def test_order_products_in_one_pass_on_a_first_sync(
    first: tuple[TapOutput, dict[str, t.Any], Counter[str]],
) -> None:
    out, dump, by_path = first
    products = {p["id"]: p["orderid"] for p in dump["catalog"]["ecomOrderProducts"]}
    assert {p["id"]: p["orderid"] for p in out.records["ecommerce_order_products"]} == products
    order = out.records["ecommerce_orders"][0]
    assert order["order_products"] == sorted(
        pid for pid, oid in products.items() if oid == order["id"]
    )
    assert by_path["GET /api/3/ecomOrderProducts"] == math.ceil(len(products) / 100)
    assert not any("/orderProducts" in path for path in by_path)  # not once per order


def test_one_pass_per_stream(first: tuple[TapOutput, dict[str, t.Any], Counter[str]]) -> None:
    _, dump, by_path = first
    for stream, (key, _rk, _fb) in STREAMS.items():
        paths = {"ecommerce_orders": "/ecomOrders",
                 "ecommerce_order_products": "/ecomOrderProducts"}
        path = paths.get(stream) or next(row.path for row in CATALOG if row.name == stream)
        pages = max(1, math.ceil(len(dump["catalog"][key]) / 100))
        assert by_path[f"GET /api/3{path}"] == pages, stream


def test_no_change_rerun(
    sandbox: SandboxProcess, first: tuple[TapOutput, dict[str, t.Any], Counter[str]]
) -> None:
    out, dump, _ = first
    sandbox.control.reset_requests()
    again = run_tap(tap_config(sandbox), state=out.final_state, streams=NAMES)
    by_path = Counter(sandbox.control.requests(log=False)["by_path"])
    for stream, (key, rk, fb) in STREAMS.items():
        if stream == "ecommerce_order_products":
            continue
        expected = _null_keyed(dump["catalog"][key], rk, fb) if rk else set(out.by_id(stream))
        assert set(again.by_id(stream)) == expected, stream
        if rk == APPEND_ONLY:
            path = next(row.path for row in CATALOG if row.name == stream)
            assert by_path[f"GET /api/3{path}"] == 1, stream


def test_start_date_applies_to_the_id_bookmarked_logs(sandbox: SandboxProcess) -> None:
    logs = {row.name: row.start_date_field for row in CATALOG if row.replication_key == APPEND_ONLY}
    assert len(logs) == 6
    assert all(logs.values())
    everything = run_tap(tap_config(sandbox), streams=list(logs))
    dates = sorted(r["tstamp"] for r in everything.records["email_activities"] if r["tstamp"])
    start = dates[len(dates) // 2]
    cut = run_tap(tap_config(sandbox, start_date=start), streams=list(logs))
    for stream, field in logs.items():
        rows = everything.records[stream]
        kept = {r["id"] for r in rows if r[field] is None or r[field] >= start}
        assert set(cut.by_id(stream)) == kept, stream
        assert len(kept) < len(rows) or stream in {"sms", "contact_conversions"}, stream
    assert 0 < len(cut.records["email_activities"]) < len(everything.records["email_activities"])
    # the rows left out moved the bookmark too: a rerun is one request per log, nothing new
    sandbox.control.reset_requests()
    again = run_tap(tap_config(sandbox, start_date=start), state=cut.final_state,
                    streams=list(logs))
    by_path = Counter(sandbox.control.requests(log=False)["by_path"])
    for row in CATALOG:
        if row.name in logs:
            assert by_path[f"GET /api/3{row.path}"] == 1, row.name
            assert not again.records.get(row.name), row.name


def test_changes_and_new_rows_are_picked_up(
    sandbox: SandboxProcess, first: tuple[TapOutput, dict[str, t.Any], Counter[str]]
) -> None:
    out, dump, _ = first
    state = run_tap(tap_config(sandbox), state=out.final_state, streams=NAMES).final_state
    with_date = next(r["id"] for r in dump["catalog"]["contactDeals"] if r["updated_timestamp"])
    results = sandbox.control.mutate(
        {"op": "catalog_touch", "resource": "contactDeals", "id": with_date},
        {"op": "catalog_touch", "resource": "forms", "id": 2},
        {"op": "catalog_add", "resource": "emailActivities"},
        {"op": "catalog_add", "resource": "sms"},
        {"op": "catalog_touch", "resource": "ecomOrders", "id": 3},
    )
    sandbox.control.reset_requests()
    third = run_tap(tap_config(sandbox), state=state, streams=NAMES)
    by_path = Counter(sandbox.control.requests(log=False)["by_path"])
    nulls = {
        stream: _null_keyed(dump["catalog"][key], rk, fb)
        for stream, (key, rk, fb) in STREAMS.items()
    }
    assert set(third.by_id("contact_deals")) - nulls["contact_deals"] == {with_date}
    assert set(third.by_id("forms")) - nulls["forms"] == {2}
    assert third.ids("email_activities") == [results[2]["id"]]
    assert third.ids("sms") == [results[3]["id"]]
    assert set(third.by_id("ecommerce_orders")) - nulls["ecommerce_orders"] == {3}
    changed = set(third.by_id("ecommerce_orders"))
    assert {p["orderid"] for p in third.records["ecommerce_order_products"]} == changed
    assert {p["id"] for p in third.records["ecommerce_order_products"]} == {
        p["id"] for p in dump["catalog"]["ecomOrderProducts"] if p["orderid"] in changed
    }
    # a few changed orders: their products one order at a time, no full scan
    assert by_path["GET /api/3/ecomOrders/{id}/orderProducts"] == len(changed)
    assert by_path["GET /api/3/ecomOrderProducts"] == 0


def test_without_addons_the_gated_streams_are_skipped_with_one_line(tmp_path: Path) -> None:
    # a subprocess: the log lines are read from the tap's real stderr (in process, the SDK's
    # log handler may hold a stream from before the redirect)
    with SandboxProcess("activecampaign", contacts=60, seed=2, rate_limit=0,
                        without_addons=True) as sb:
        register_webhooks(sb, 1)
        out, code = run_tap_process(tmp_path, tap_config(sb), streams=NAMES)
    assert code == 0, out.stderr[-2000:]
    for stream in STREAMS:
        if stream in GATED:
            assert stream not in out.records, stream
        else:
            assert out.records.get(stream), stream
    skipped = [line for line in out.stderr.splitlines() if " skipped: the account has no" in line]
    assert len(skipped) == len(GATED - {"ecommerce_order_products"})
    assert "HTTP 403 for GET /api/3/sms" in "\n".join(skipped)
    assert "HTTP 404 for GET /api/3/ecomOrders" in "\n".join(skipped)
    assert sb.token not in out.stderr


def test_a_403_on_a_core_stream_still_stops_the_run() -> None:
    with SandboxProcess("activecampaign", contacts=30, seed=2, rate_limit=0) as sb:
        sb.control.set_faults(script=["403", "403", "403"], paths=["/api/3/forms"])
        with pytest.raises(Exception, match="check api_token"):
            run_tap(tap_config(sb), streams=["forms"])
