"""The catalog resources: every collection singer-io's tap reads that the hand-written resources do
not serve (40 of them; `/webhooks` is the registry of webhooks.py), from ONE table (`RESOURCES`)
and one generic handler.

Each resource is a path, a data key, a size rule and a row generator driven by the field kinds
of `catalog_fields.FIELDS`:

- `id`: the row id; `fk:<table>`: an id of an existing contact, deal, campaign, list, user,
  message, automation or account (rows hang off the real objects);
- `iso`: account-local ISO 8601 with the DST offset of its date; `naive`: account-local
  `YYYY-MM-DD HH:MM:SS` (the `*_timestamp` fields), sometimes the `0000-00-00 00:00:00` sentinel;
  any time may be null (3 %), replication keys included: a null date never matches a filter;
- `int`, `bool` (sent as `"1"`/`"0"`), `num` (amounts in cents, JSON numbers as in AC's
  e-commerce examples), `str`, `obj`, `arr`;
- ids and counters are strings, as everywhere in AC; every row has `links`.

Paging is AC's: `limit` (default 20, max 100), `offset`, `meta.total` a string; `orders[id]` and
`orders[<date field>]` (ASC/DESC), other orders ignored; `filters[<fk field>]` by id. Seeded
deterministically from the account seed. `ecomOrders` rows list the ids of their
`orderProducts` (as AC's example shows); the products themselves are served by
`/ecomOrderProducts` and `/ecomOrders/{id}/orderProducts`.

Plan-gated resources (sms, conversions, site messages, e-commerce) answer as AC does for an
account without the add-on when the account has none (`--without-addons`, or
`POST /__sandbox/addons {"available": false}`): 403 for the feature-gated ones, 404 for the
e-commerce endpoints.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.activecampaign.catalog_fields import FIELDS
from sandbox.activecampaign.query import page_params, parse_filters, parse_int, parse_orders
from sandbox.activecampaign.render import ZERO_DATETIME, local_clock
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.activecampaign.state import ACState
    from sandbox.activecampaign.store import Store

API = "/api/3"
EPOCH_START = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
EPOCH_END = int(datetime(2026, 9, 30, tzinfo=UTC).timestamp())
DAY = 86400
_CAMEL = re.compile(r"(?<=[^\-_])(?=[A-Z])")


class _Zero:
    """The zero-date sentinel AC sends for a naive time that was never set."""

    def __repr__(self) -> str:
        return "ZERO"


ZERO = _Zero()
Row = dict[str, Any]
Size = Callable[["Store"], int]


def fixed(n: int) -> Size:
    return lambda s: n


def per_contact(rate: float, least: int = 3) -> Size:
    return lambda s: max(least, int(len(s.contacts) * rate))


def per_deal(rate: float) -> Size:
    return lambda s: max(3, int(len(s.deals) * rate))


@dataclass(frozen=True)
class Resource:
    path: str
    key: str
    size: Size
    #: plan-gated: answers `gate_status` when the account has no add-ons
    gate_status: int | None = None


RESOURCES: tuple[Resource, ...] = (
    Resource("/accountCustomFieldMeta", "accountCustomFieldMeta", fixed(6)),
    Resource("/accountCustomFieldData", "accountCustomFieldData",
             lambda s: max(3, len(s.accounts) * 2)),
    Resource("/activities", "activities", per_contact(0.3)),
    Resource("/addresses", "addresses", fixed(3)),
    Resource("/automationBlocks", "automationBlocks", lambda s: max(3, len(s.automations) * 4)),
    Resource("/bounceLogs", "bounceLogs", per_contact(0.03)),
    Resource("/brandings", "brandings", fixed(2)),
    Resource("/calendars", "calendars", fixed(4)),
    Resource("/links", "links", lambda s: max(3, len(s.campaigns) * 3)),
    Resource("/campaignLists", "campaignLists", lambda s: max(3, len(s.campaigns) * 2)),
    Resource("/campaignMessages", "campaignMessages", lambda s: max(3, len(s.campaigns))),
    Resource("/configs", "configs", fixed(12)),
    Resource("/contactConversions", "contactConversions", per_contact(0.02), gate_status=403),
    Resource("/contactData", "contactData", per_contact(0.1)),
    Resource("/contactDeals", "contactDeals", per_contact(0.03)),
    Resource("/contactEmails", "contactEmails", per_contact(0.2)),
    Resource("/conversions", "conversions", fixed(5), gate_status=403),
    Resource("/conversionTriggers", "conversionTriggers", fixed(5), gate_status=403),
    Resource("/dealActivities", "dealActivities", per_deal(2.0)),
    Resource("/dealCustomFieldMeta", "dealCustomFieldMeta", fixed(5)),
    Resource("/dealCustomFieldData", "dealCustomFieldData", per_deal(1.5)),
    Resource("/dealGroupUsers", "dealGroupUsers", lambda s: max(3, len(s.deal_groups) * 2)),
    Resource("/dealTasktypes", "dealTasktypes", fixed(4)),
    Resource("/dealTasks", "dealTasks", per_deal(0.5)),
    Resource("/connections", "connections", fixed(2), gate_status=404),
    Resource("/ecomCustomers", "ecomCustomers", per_contact(0.04), gate_status=404),
    Resource("/ecomOrders", "ecomOrders", per_contact(0.05), gate_status=404),
    Resource("/ecomOrderProducts", "ecomOrderProducts", fixed(0), gate_status=404),
    Resource("/ecomOrderActivities", "ecomOrderActivities", per_contact(0.03), gate_status=404),
    Resource("/emailActivities", "emailActivities", per_contact(0.3)),
    Resource("/forms", "forms", fixed(6)),
    Resource("/goals", "goals", fixed(4)),
    Resource("/groups", "groups", fixed(3)),
    Resource("/savedResponses", "savedResponses", fixed(5)),
    Resource("/scores", "scores", fixed(3)),
    Resource("/segments", "segments", fixed(8)),
    Resource("/siteMessages", "siteMessages", fixed(4), gate_status=403),
    Resource("/sms", "sms", per_contact(0.02), gate_status=403),
    Resource("/templates", "templates", fixed(7)),
)
BY_KEY = {r.key: r for r in RESOURCES}
#: ecomOrders lists its products' ids: (field, product resource, product field -> order)
EMBEDDED = ("orderProducts", "ecomOrderProducts", "orderid")
#: the times a change moves (`POST /__sandbox/mutate` `catalog_touch`)
UPDATE_TIMES = ("udate", "mdate", "updated_timestamp", "updatedDate", "updated_date", "tstamp",
                "ldate", "lastdate")


def _parents(s: Store) -> dict[str, list[int]]:
    return {
        "contacts": s.contact_ids, "deals": list(s.deals), "campaigns": list(s.campaigns),
        "lists": list(s.lists), "users": list(s.users), "messages": list(s.messages),
        "automations": list(s.automations), "accounts": list(s.accounts),
    }


def _value(rng: random.Random, name: str, kind: str, i: int, base: int,
           parents: dict[str, list[int]]) -> Any:
    if kind == "id":
        return i
    if kind.startswith("fk:"):
        ids = parents.get(kind[3:]) or []
        return rng.choice(ids) if ids else None
    if kind in {"iso", "naive"}:
        created = name.lower().startswith(("c", "created", "add", "external_created"))
        roll = rng.random()
        if roll < 0.03:
            return None
        if kind == "naive" and not created and roll < 0.06:
            return ZERO
        return base if created else min(EPOCH_END, base + rng.randrange(0, 90 * DAY))
    if kind == "int":
        return rng.randrange(0, 12)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "num":
        return rng.randrange(0, 100000)  # amounts in cents, JSON numbers (AC's examples)
    if kind == "obj":
        return {} if rng.random() < 0.5 else {"source": "sandbox", "n": str(i)}
    if kind == "arr":
        return []
    if "email" in name.lower():
        return f"row{i}@example.com"
    return "" if rng.random() < 0.1 else f"{name} {i}"


def _row(rng: random.Random, key: str, i: int, parents: dict[str, list[int]]) -> Row:
    base = rng.randrange(EPOCH_START, EPOCH_END - 90 * DAY)
    return {name: _value(rng, name, kind, i, base, parents) for name, kind in FIELDS[key]}


def build_catalog(s: Store, seed: int) -> dict[str, dict[int, Row]]:
    """Every catalog table of the account (deterministic for the seed and the store)."""
    parents = _parents(s)
    tables: dict[str, dict[int, Row]] = {}
    for res in RESOURCES:
        rng = random.Random(f"{seed}:{res.key}")
        tables[res.key] = {i: _row(rng, res.key, i, parents)
                           for i in range(1, res.size(s) + 1)}
    _embed, product_key, order_field = EMBEDDED
    rng = random.Random(f"{seed}:{product_key}")
    products: dict[int, Row] = {}
    for order_id in tables["ecomOrders"]:
        for _ in range(rng.randrange(1, 4)):
            pid = len(products) + 1
            products[pid] = {**_row(rng, product_key, pid, parents), order_field: order_id}
    tables[product_key] = products
    return tables


# ----- rendering --------------------------------------------------------------------------
def _render(st: ACState, key: str, row: Row, api: str) -> dict[str, Any]:
    clock = local_clock(st.tz)
    out: dict[str, Any] = {}
    links: dict[str, str] = {}
    for name, kind in FIELDS[key]:
        v = row.get(name)
        if name == EMBEDDED[0] and key == "ecomOrders":  # the ids of its products, as strings
            out[name] = [str(p["id"]) for p in _products_of(st, int(row["id"]))]
            continue
        if v is None:
            out[name] = None
        elif v is ZERO:
            out[name] = ZERO_DATETIME
        elif kind == "iso":
            out[name] = clock.iso(v)
        elif kind == "naive":
            out[name] = clock.naive(v)
        elif kind == "bool":
            out[name] = "1" if v else "0"
        elif kind in {"id", "int"} or kind.startswith("fk:"):
            out[name] = str(v)
            if kind.startswith("fk:"):
                links[name] = f"{api}{BY_KEY[key].path}/{row['id']}/{name}"
        else:
            out[name] = v
    out["links"] = links
    return out


def _products_of(st: ACState, order_id: int) -> list[Row]:
    index: dict[int, list[Row]] | None = getattr(st.store, "_catalog_products", None)
    if index is None or getattr(st.store, "_catalog_products_v", -1) != st.store.version:
        index = {}
        for p in st.store.catalog[EMBEDDED[1]].values():
            index.setdefault(int(p[EMBEDDED[2]]), []).append(p)
        st.store._catalog_products = index  # type: ignore[attr-defined]
        st.store._catalog_products_v = st.store.version  # type: ignore[attr-defined]
    return index.get(order_id, [])


def snake(name: str) -> str:
    """`orderUrl` -> `order_url` (what a Singer tap makes of AC's camelCase)."""
    return name.lower() if name.isupper() else _CAMEL.sub("_", name).lower()


def dump_catalog(s: Store) -> dict[str, Any]:
    """`{"catalog": {<data key>: [row, ...]}}` for `GET /__sandbox/dump`: snake_case names,
    typed values (ids ints, flags bools, decimals floats), UTC times, zero dates null."""
    out: dict[str, list[dict[str, Any]]] = {}
    for key, rows in s.catalog.items():
        kinds = dict(FIELDS[key])
        table: list[dict[str, Any]] = []
        for row in rows.values():
            rec: dict[str, Any] = {}
            for name, v in row.items():
                kind = kinds.get(name, "str")
                if v is ZERO or v is None:
                    rec[snake(name)] = None
                elif kind in {"iso", "naive"}:
                    rec[snake(name)] = datetime.fromtimestamp(v, UTC).isoformat()
                else:
                    rec[snake(name)] = v
            table.append(rec)
        out[key] = table
    return {"catalog": out}


# ----- the handler --------------------------------------------------------------------------
def _sort_key(key: str, field: str) -> Callable[[Row], Any] | None:
    kinds = dict(FIELDS[key])
    if field == "id":
        return lambda r: r["id"]
    if kinds.get(field) in {"iso", "naive"}:
        return lambda r: -1 if r.get(field) in (None, ZERO) else r[field]
    return None


def _gated(res: Resource) -> web.Response:
    if res.gate_status == 404:
        return json_response({"message": "No Result found"}, status=404)
    return json_response({"errors": [{
        "status": 403, "title": "Forbidden",
        "detail": "This feature is not available on your plan.",
    }]}, status=403)


def make_handler(st: ACState, res: Resource, by_order: bool = False
                 ) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        if res.gate_status is not None and not st.addons:
            return _gated(res)
        items = list(request.query.items())
        limit, offset = page_params(request.query)
        rows = list(st.store.catalog[res.key].values())
        kinds = dict(FIELDS[res.key])
        filters = parse_filters(items)
        if by_order:
            filters = {EMBEDDED[2]: request.match_info["id"]}
        for name, value in filters.items():
            if kinds.get(name, "").startswith("fk:") or name in {"id", EMBEDDED[2]}:
                want = parse_int(value, -1)
                rows = [r for r in rows if r.get(name) == want]
        for field, desc in reversed(parse_orders(items)):
            sort = _sort_key(res.key, field)
            if sort is not None:
                rows.sort(key=sort, reverse=desc)
        api = f"{request.scheme}://{request.host}{API}"
        page = rows[offset: offset + limit]
        return json_response({res.key: [_render(st, res.key, r, api) for r in page],
                              "meta": {"total": str(len(rows))}})

    return handler


def add_routes(app: web.Application, st: ACState) -> None:
    for res in RESOURCES:
        app.router.add_get(API + res.path, make_handler(st, res))
    app.router.add_get(API + "/ecomOrders/{id}/orderProducts",
                       make_handler(st, BY_KEY[EMBEDDED[1]], by_order=True))


# ----- mutations ------------------------------------------------------------------------------
def apply_op(s: Store, op: dict[str, Any], now: int) -> dict[str, Any]:
    """`catalog_touch` `{"resource": "contactDeals", "id": 3}` moves the row's update times
    to now; `catalog_add` `{"resource": "emailActivities"}` appends a new row stamped now."""
    key = str(op["resource"])
    if key not in s.catalog:
        raise ValueError(f"unknown catalog resource {key!r}")
    table = s.catalog[key]
    if op["op"] == "catalog_add":
        new_id = (max(table) if table else 0) + 1
        row = _row(random.Random(f"add:{key}:{new_id}"), key, new_id, _parents(s))
        for name, kind in FIELDS[key]:
            if kind in {"iso", "naive"}:
                row[name] = now
        table[new_id] = row
    else:
        new_id = int(op["id"])
        if new_id not in table:
            raise ValueError(f"no {key} row {op['id']}")
        for name in UPDATE_TIMES:
            if name in table[new_id]:
                table[new_id][name] = now
    s.version += 1
    return {"resource": key, "id": new_id}
