"""The generic collection routes (`/lists`, `/contactLists`, `/tags`, `/fields`, `/deals`, ...):
each is declared once in `COLLECTIONS` (its filters, orders, renderer, extra meta) and served by
one handler with offset paging; child rows come from `sideloads.py`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.activecampaign.query import (
    InvalidFilter,
    SortKey,
    apply_orders,
    attr_key,
    page_params,
    parse_filters,
    parse_orders,
    text_key,
)
from sandbox.activecampaign.render import Renderer
from sandbox.activecampaign.routes.common import (
    FilterBuilder,
    Predicate,
    api_base,
    contains,
    eq_int,
    eq_text,
    invalid_filter,
    time_after,
    time_before,
)
from sandbox.activecampaign.sideloads import children_sideload, render_field
from sandbox.activecampaign.state import ACState
from sandbox.server import json_response


@dataclass
class Collection:
    key: str
    table: str
    render: Callable[[Renderer, ACState, Any], dict[str, Any]]
    filters: dict[str, FilterBuilder] = field(default_factory=dict)
    orders: dict[str, SortKey] = field(default_factory=dict)
    total_int: bool = False
    meta_extra: Callable[[ACState, list[Any]], dict[str, Any]] | None = None


def _matching(st: ACState, coll: Collection, filters: dict[str, str],
              orders: list[tuple[str, bool]]) -> tuple[list[Any], list[int]]:
    used = tuple(sorted((k, v) for k, v in filters.items() if k in coll.filters))
    order_key = tuple((f, d) for f, d in orders if f in coll.orders)

    def compute() -> list[Any]:
        preds = [coll.filters[k](k, v, st) for k, v in used]
        rows = st.store.rows(coll.table)
        if preds:
            rows = [r for r in rows if all(p(r) for p in preds)]
        return apply_orders(rows, list(order_key), coll.orders)

    return st.cached((coll.key, used, order_key), compute)



def make_collection_handler(st: ACState, coll: Collection
                            ) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        items = list(request.query.items())
        limit, offset = page_params(request.query)
        filters = parse_filters(items)
        if coll.key == "tags" and "search" in request.query:
            filters.setdefault("search", request.query["search"])
        try:
            rows, _ids = _matching(st, coll, filters, parse_orders(items))
        except InvalidFilter as exc:
            return invalid_filter(exc)
        page = rows[offset : offset + limit]
        r = Renderer(st.tz, api_base(request))
        body: dict[str, Any] = {}
        body.update(children_sideload(r, st, coll.key, page))
        body[coll.key] = [coll.render(r, st, x) for x in page]
        meta: dict[str, Any] = {"total": len(rows) if coll.total_int else str(len(rows))}
        if coll.meta_extra is not None:
            meta.update(coll.meta_extra(st, rows))
        body["meta"] = meta
        return json_response(body)

    return handler



def _deals_meta(st: ACState, rows: list[Any]) -> dict[str, Any]:
    totals: dict[str, list[int]] = {}
    for d in rows:
        t = totals.setdefault(d.currency.upper(), [0, 0])
        t[0] += 1
        t[1] += d.value
    return {"currencies": {c: {"currency": c, "total": str(n), "value": str(v)}
                           for c, (n, v) in sorted(totals.items())}}


def _automations_meta(st: ACState, rows: list[Any]) -> dict[str, Any]:
    return {"starts": [], "filtered": False, "smsLogs": []}


def _tag_search(name: str, value: str, st: ACState) -> Predicate:
    op = name.split(":", 1)[1] if ":" in name else "contains"
    v = value.lower()
    ops: dict[str, Predicate] = {
        "eq": lambda t: t.tag.lower() == v,
        "neq": lambda t: t.tag.lower() != v,
        "contains": lambda t: v in t.tag.lower(),
        "starts_with": lambda t: t.tag.lower().startswith(v),
    }
    return ops.get(op, ops["contains"])


def _field_value_val(name: str, value: str, st: ACState) -> Predicate:
    return lambda fv: fv.value == value


COLLECTIONS: list[tuple[str, Collection]] = [
    ("/lists", Collection(
        "lists", "lists", lambda r, st, x: r.mailing_list(x),
        filters={"name": contains("name"), "id": eq_int("id"), "userid": eq_int("userid")},
        orders={"name": text_key("name"), "id": attr_key("id"), "cdate": attr_key("cdate")},
    )),
    ("/contactLists", Collection(
        "contactLists", "contact_lists", lambda r, st, x: r.contact_list(x),
        filters={"list": eq_int("list"), "status": eq_int("status"),
                 "contact": eq_int("contact")},
        orders={"id": attr_key("id"), "udate": attr_key("udate"), "sdate": attr_key("sdate")},
    )),
    ("/contactTags", Collection(
        "contactTags", "contact_tags", lambda r, st, x: r.contact_tag(x),
        filters={"tag": eq_int("tag"), "contact": eq_int("contact")},
        orders={"id": attr_key("id"), "cdate": attr_key("cdate")},
    )),
    ("/fields", Collection(
        "fields", "fields", render_field,
        filters={"perstag": eq_text("perstag")},
        orders={"id": attr_key("id"), "title": text_key("title"),
                "ordernum": attr_key("ordernum")},
            )),
    ("/fieldValues", Collection(
        "fieldValues", "field_values", lambda r, st, x: r.field_value(x),
        filters={"fieldid": eq_int("field"), "field": eq_int("field"),
                 "val": _field_value_val, "contact": eq_int("contact")},
        orders={"id": attr_key("id"), "udate": attr_key("udate")},
    )),
    ("/tags", Collection(
        "tags", "tags",
        lambda r, st, x: r.tag(x, st.account_counts()["tags"].get(x.id, 0)),
        filters={"search": _tag_search, "search:eq": _tag_search, "search:neq": _tag_search,
                 "search:contains": _tag_search, "search:starts_with": _tag_search,
                 "tag_type": eq_text("tag_type")},
        orders={"id": attr_key("id"), "search": text_key("tag"), "tag": text_key("tag")},
    )),
    ("/campaigns", Collection(
        "campaigns", "campaigns", lambda r, st, x: r.campaign(x),
        filters={"type": eq_text("type"), "status": eq_int("status"), "name": contains("name"),
                 "id": eq_int("id"), "seriesid": eq_int("automation")},
        orders={"id": attr_key("id"), "sdate": attr_key("sdate"), "ldate": attr_key("ldate"),
                "mdate": attr_key("mdate"), "cdate": attr_key("cdate"),
                "status": attr_key("status"), "name": text_key("name")},
    )),
    ("/messages", Collection(
        "messages", "messages", lambda r, st, x: r.message(x),
        orders={"id": attr_key("id"), "mdate": attr_key("mdate"), "cdate": attr_key("cdate")},
    )),
    ("/automations", Collection(
        "automations", "automations", lambda r, st, x: r.automation(x),
        filters={"name": contains("name"), "status": eq_int("status")},
        orders={"id": attr_key("id"), "name": text_key("name"), "status": attr_key("status"),
                "cdate": attr_key("cdate"), "mdate": attr_key("mdate")},
        meta_extra=_automations_meta,
    )),
    ("/contactAutomations", Collection(
        "contactAutomations", "contact_automations",
        lambda r, st, x: r.contact_automation(x),
        filters={"seriesid": eq_int("automation"), "subscriberid": eq_int("contact"),
                 "status": eq_int("status"), "adddate:gte": time_after("adddate"),
                 "adddate:lt": time_before("adddate")},
        orders={"id": attr_key("id"), "adddate": attr_key("adddate"),
                "seriesid": attr_key("automation"), "status": attr_key("status"),
                "lastdate": attr_key("lastdate")},
        meta_extra=lambda st, rows: {"showcase_stats": []},
    )),
    ("/deals", Collection(
        "deals", "deals", lambda r, st, x: r.deal(x),
        filters={"created_after": time_after("cdate"), "created_before": time_before("cdate"),
                 "updated_after": time_after("mdate"), "updated_before": time_before("mdate"),
                 "stage": eq_int("stage"), "group": eq_int("group"),
                 "status": eq_int("status"), "owner": eq_int("owner"),
                 "title": contains("title"), "organization": eq_int("account"),
                 "search": contains("title")},
        orders={"id": attr_key("id"), "title": text_key("title"), "value": attr_key("value"),
                "cdate": attr_key("cdate"), "mdate": attr_key("mdate")},
        total_int=True,
        meta_extra=_deals_meta,
    )),
    ("/dealStages", Collection(
        "dealStages", "deal_stages", lambda r, st, x: r.deal_stage(x),
        filters={"d_groupid": eq_int("group"), "title": contains("title")},
        orders={"id": attr_key("id"), "title": text_key("title"), "order": attr_key("order")},
    )),
    ("/dealGroups", Collection(
        "dealGroups", "deal_groups", lambda r, st, x: r.deal_group(x),
        filters={"title": contains("title")},
        orders={"id": attr_key("id"), "title": text_key("title")},
            )),
    ("/accounts", Collection(
        "accounts", "accounts",
        lambda r, st, x: r.account(x, st.account_counts()["contacts"].get(x.id, 0),
                                   st.account_counts()["deals"].get(x.id, 0)),
        filters={"name": contains("name"), "search": contains("name")},
        orders={"id": attr_key("id"), "name": text_key("name"), "cdate": attr_key("cdate"),
                "udate": attr_key("udate")},
    )),
    ("/accountContacts", Collection(
        "accountContacts", "account_contacts", lambda r, st, x: r.account_contact(x),
        filters={"account": eq_int("account"), "contact": eq_int("contact")},
        orders={"id": attr_key("id")},
    )),
    ("/users", Collection(
        "users", "users", lambda r, st, x: r.user(x),
        orders={"id": attr_key("id"), "username": text_key("username")},
    )),
]


