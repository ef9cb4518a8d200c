"""The generic catalog resources of the AC emulator (catalog.py): AC's quirks on every path,
rows hanging off the real objects, add-on gating, mutations."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import requests
from sandbox.activecampaign.catalog import RESOURCES
from sandbox.testing import SandboxProcess

ISO_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
NAIVE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


AC_SANDBOX = {"contacts": 300, "seed": 5}


def get(ac: SandboxProcess, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{ac.api_url}{path}", headers={"Api-Token": ac.token}, params=params,
                        timeout=10)


def all_rows(ac: SandboxProcess, path: str, key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        body = get(ac, path, limit=100, offset=len(rows)).json()
        rows += body[key]
        if len(rows) >= int(body["meta"]["total"]):
            return rows


@pytest.mark.parametrize("res", RESOURCES, ids=lambda r: r.key)
def test_every_path_pages_like_ac(ac: SandboxProcess, res: Any) -> None:
    body = get(ac, res.path).json()
    assert isinstance(body["meta"]["total"], str)
    total = int(body["meta"]["total"])
    assert len(body[res.key]) == min(20, total)  # default page size
    assert len(get(ac, res.path, limit=500).json()[res.key]) == min(100, total)  # clamped
    for row in body[res.key]:
        assert isinstance(row["id"], str)
        assert isinstance(row["links"], dict)
    rows = all_rows(ac, res.path, res.key)
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    assert len({r["id"] for r in rows}) == total


def test_times_are_account_local_with_zero_dates_and_nulls(ac: SandboxProcess) -> None:
    rows = all_rows(ac, "/contactDeals", "contactDeals")
    naive = [r["updated_timestamp"] for r in rows]
    assert "0000-00-00 00:00:00" in naive
    assert all(NAIVE.match(v) for v in naive if v and not v.startswith("0000"))
    stamps = [r["tstamp"] for r in all_rows(ac, "/emailActivities", "emailActivities")]
    assert None in stamps  # a null date, replication keys included
    iso = [v for v in stamps if v]
    assert all(ISO_LOCAL.match(v) for v in iso)
    assert {v[-6:] for v in iso} == {"-06:00", "-05:00"}  # Chicago, both sides of DST
    assert isinstance(datetime.fromisoformat(iso[0]), datetime)


def test_rows_hang_off_the_real_objects(ac: SandboxProcess) -> None:
    dump = ac.control.dump()
    contacts = {c["id"] for c in dump["contacts"]}
    deals = {d["id"] for d in dump["deals"]}
    catalog = dump["catalog"]
    assert {r["contact"] for r in catalog["contactDeals"]} <= contacts
    assert {r["deal"] for r in catalog["contactDeals"]} <= deals
    assert {r["d_id"] for r in catalog["dealActivities"]} <= deals
    assert {r["subscriberid"] for r in catalog["emailActivities"]} <= contacts
    orders = {o["id"] for o in catalog["ecomOrders"]}
    assert {p["orderid"] for p in catalog["ecomOrderProducts"]} == orders


def test_orders_list_their_products_and_both_product_paths_agree(ac: SandboxProcess) -> None:
    order = get(ac, "/ecomOrders", limit=1).json()["ecomOrders"][0]
    per_order = get(ac, f"/ecomOrders/{order['id']}/orderProducts").json()["ecomOrderProducts"]
    assert order["orderProducts"] == [p["id"] for p in per_order]
    assert per_order
    assert {p["orderid"] for p in per_order} == {order["id"]}
    everything = all_rows(ac, "/ecomOrderProducts", "ecomOrderProducts")
    assert all(p in everything for p in per_order)


def test_orders_by_id_descending_and_unknown_orders_ignored(ac: SandboxProcess) -> None:
    desc = [int(r["id"]) for r in get(ac, "/sms", **{"orders[id]": "DESC"}).json()["sms"]]
    assert desc == sorted(desc, reverse=True)
    plain = [int(r["id"]) for r in get(ac, "/sms", **{"orders[bogus]": "DESC"}).json()["sms"]]
    assert plain == sorted(plain)


def test_same_seed_same_data() -> None:
    with SandboxProcess("activecampaign", contacts=50, seed=9, rate_limit=0) as a, \
            SandboxProcess("activecampaign", contacts=50, seed=9, rate_limit=0) as b:
        assert a.control.dump()["catalog"] == b.control.dump()["catalog"]


def test_addons_gate_with_flag_and_control_surface() -> None:
    with SandboxProcess("activecampaign", contacts=30, seed=1, rate_limit=0,
                        without_addons=True) as sb:
        for res in RESOURCES:
            status = get(sb, res.path).status_code
            assert status == (res.gate_status or 200), res.key
        assert get(sb, "/ecomOrders/1/orderProducts").status_code == 404
        forbidden = get(sb, "/sms").json()
        assert forbidden["errors"][0]["title"] == "Forbidden"
        requests.post(f"{sb.base_url}/__sandbox/addons", json={"available": True}, timeout=5)
        assert get(sb, "/sms").status_code == 200
        requests.post(f"{sb.base_url}/__sandbox/addons", json={"available": False}, timeout=5)
        assert get(sb, "/conversions").status_code == 403
        bad = requests.post(f"{sb.base_url}/__sandbox/addons", json={"available": "no"},
                            timeout=5)
        assert bad.status_code == 400
        sb.control.reset()
        assert get(sb, "/sms").status_code == 403  # back to the CLI setting


def test_mutations_touch_and_add_rows(ac: SandboxProcess) -> None:
    ac.control.reset()
    ac.control.set_clock("2026-11-02T15:00:00Z")
    touched, added = ac.control.mutate(
        {"op": "catalog_touch", "resource": "forms", "id": 3},
        {"op": "catalog_add", "resource": "emailActivities"},
    )
    assert touched == {"resource": "forms", "id": 3}
    forms = {r["id"]: r for r in ac.control.dump()["catalog"]["forms"]}
    assert forms[3]["udate"] == "2026-11-02T15:00:00+00:00"
    rows = all_rows(ac, "/emailActivities", "emailActivities")
    assert rows[-1]["id"] == str(added["id"])
    assert rows[-1]["tstamp"] == "2026-11-02T09:00:00-06:00"
    with pytest.raises(RuntimeError, match="400"):
        ac.control.mutate({"op": "catalog_touch", "resource": "nope", "id": 1})
    ac.control.reset()
