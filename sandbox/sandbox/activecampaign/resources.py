"""The `/api/3/...` routes: collections (generic, declared in `COLLECTIONS`), contacts (keyset
paging and `include=` sideloads), single contacts, the token checks.

Query semantics come from `query.py`, payload shapes from `render.py`, sideloads from
`sideloads.py`.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.activecampaign import catalog
from sandbox.activecampaign.model import Contact
from sandbox.activecampaign.query import (
    InvalidFilter,
    SortKey,
    apply_orders,
    attr_key,
    date_matches,
    is_id_order,
    page_params,
    parse_filter_time,
    parse_filters,
    parse_int,
    parse_orders,
    text_key,
)
from sandbox.activecampaign.render import Renderer
from sandbox.activecampaign.sideloads import (
    children_sideload,
    contact_sideloads,
    parse_include,
    render_field,
)
from sandbox.activecampaign.state import ACState
from sandbox.server import json_response

API = "/api/3"
Predicate = Callable[[Any], bool]
FilterBuilder = Callable[[str, str, ACState], Predicate]


# ----- filter builders ------------------------------------------------------------------------
def eq_int(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        want = parse_int(value, -(10**9))
        return lambda r: getattr(r, attr) == want

    return build


def contains(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        needle = value.lower()
        return lambda r: needle in (getattr(r, attr) or "").lower()

    return build


def eq_text(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        return lambda r: getattr(r, attr) == value

    return build


def time_after(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        t = parse_filter_time(name, value, st.tz)
        return lambda r: date_matches(getattr(r, attr), t, after=True)

    return build


def time_before(attr: str) -> FilterBuilder:
    def build(name: str, value: str, st: ACState) -> Predicate:
        t = parse_filter_time(name, value, st.tz)
        return lambda r: date_matches(getattr(r, attr), t, after=False)

    return build


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


def _invalid_filter(exc: InvalidFilter) -> web.Response:
    return json_response({"errors": [{
        "title": "The filter value is invalid",
        "detail": str(exc),
        "code": "field_invalid",
        "source": {"pointer": f"/filters/{exc.name}"},
    }]}, status=422)


def api_base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}{API}"


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
            return _invalid_filter(exc)
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


# ----- per-resource declarations ----------------------------------------------------------
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


# ----- contacts -------------------------------------------------------------------------------
def _member_of(st: ACState, list_value: str, status_value: str | None) -> set[int]:
    lid = parse_int(list_value, -1)
    status = None if status_value is None else parse_int(status_value, -1)
    return {m.contact for m in st.store.contact_lists.values()
            if m.list == lid and (status is None or status == -1 or m.status == status)}


def _contact_predicates(st: ACState, request: web.Request) -> tuple[tuple[Any, ...],
                                                                     Callable[[], list[Predicate]]]:
    """A cache key plus a factory of predicates for the non-keyset contact filters."""
    q = request.query
    filters = parse_filters(q.items())
    date_filters = {k: filters[k] for k in ("created_after", "created_before", "updated_after",
                                            "updated_before") if k in filters}
    simple = {k: q[k] for k in ("email", "email_like", "listid", "status", "tagid", "search",
                                "phone", "seriesid", "exclude") if k in q}
    ids_values = q.getall("ids[]", []) + q.getall("ids", [])
    key = (tuple(sorted(date_filters.items())), tuple(sorted(simple.items())), tuple(ids_values))

    def build() -> list[Predicate]:
        preds: list[Predicate] = []
        attr = {"created_after": ("cdate", time_after), "created_before": ("cdate", time_before),
                "updated_after": ("udate", time_after), "updated_before": ("udate", time_before)}
        for name, value in date_filters.items():
            field_name, builder = attr[name]
            preds.append(builder(field_name)(name, value, st))
        if "email" in simple:
            e = simple["email"].strip().lower()
            preds.append(lambda c: c.email.lower() == e)
        if "email_like" in simple:
            e2 = simple["email_like"].strip().lower()
            preds.append(lambda c: e2 in c.email.lower())
        if "listid" in simple:
            members = _member_of(st, simple["listid"], simple.get("status"))
            preds.append(lambda c: c.id in members)
        elif "status" in simple and parse_int(simple["status"], -1) != -1:
            want = parse_int(simple["status"], -1)
            with_status = {m.contact for m in st.store.contact_lists.values() if m.status == want}
            preds.append(lambda c: c.id in with_status)
        if "tagid" in simple:
            tid = parse_int(simple["tagid"], -1)
            tagged = {ct.contact for ct in st.store.contact_tags.values() if ct.tag == tid}
            preds.append(lambda c: c.id in tagged)
        if "seriesid" in simple:
            sid = parse_int(simple["seriesid"], -1)
            inauto = {ca.contact for ca in st.store.contact_automations.values()
                      if ca.automation == sid}
            preds.append(lambda c: c.id in inauto)
        if "search" in simple:
            s = simple["search"].strip().lower()
            preds.append(lambda c: s in c.email.lower() or s in c.first_name.lower()
                         or s in c.last_name.lower() or s in c.phone.lower()
                         or s in (c.orgname or "").lower())
        if "phone" in simple:
            p = simple["phone"].strip()
            preds.append(lambda c: c.phone.startswith(p))
        if "exclude" in simple:
            ex = parse_int(simple["exclude"], -1)
            preds.append(lambda c: c.id != ex)
        if ids_values:
            wanted = {parse_int(x, -1) for v in ids_values for x in v.split(",")}
            preds.append(lambda c: c.id in wanted)
        return preds

    return key, build


CONTACT_ORDERS: dict[str, SortKey] = {
    "id": attr_key("id"),
    "cdate": attr_key("cdate"),
    "email": text_key("email"),
    "first_name": text_key("first_name"),
    "last_name": text_key("last_name"),
    "name": lambda c: (c.first_name + " " + c.last_name).strip().lower(),
    "score": attr_key("score"),
}
def make_contacts_handler(st: ACState) -> Callable[[web.Request], Any]:
    async def handler(request: web.Request) -> web.Response:
        q = request.query
        limit, offset = page_params(q)
        orders = parse_orders(q.items())
        order_key = tuple((f, d) for f, d in orders if f in CONTACT_ORDERS)
        key, build = _contact_predicates(st, request)

        def compute() -> list[Any]:
            preds = build()
            rows: list[Any] = st.store.rows("contacts")
            if preds:
                rows = [c for c in rows if all(p(c) for p in preds)]
            return apply_orders(rows, list(order_key), CONTACT_ORDERS)

        try:
            rows, ids = st.cached(("contacts", key, order_key), compute)
        except InvalidFilter as exc:
            return _invalid_filter(exc)
        id_greater = parse_int(q.get("id_greater"), 0) if "id_greater" in q else None
        id_less = parse_int(q.get("id_less"), 0) if "id_less" in q else None
        lo, hi = 0, len(rows)
        if id_greater is not None or id_less is not None:
            if is_id_order(list(order_key), CONTACT_ORDERS):
                # keyset: bisect, never copy the (possibly 200k-long) matching list
                if id_greater is not None:
                    lo = bisect.bisect_right(ids, id_greater)
                if id_less is not None:
                    hi = max(lo, bisect.bisect_left(ids, id_less))
            else:
                rows = [c for c in rows
                        if (id_greater is None or c.id > id_greater)
                        and (id_less is None or c.id < id_less)]
                hi = len(rows)
        total = hi - lo
        start = lo + offset
        page = rows[start : min(hi, start + limit)]
        r = Renderer(st.tz, api_base(request))
        first, hops = parse_include(q.get("include", ""))
        extra: dict[str, Any] = {}
        per_contact: dict[int, dict[str, list[str]]] = {}
        if first:
            extra, per_contact = contact_sideloads(r, st, page, first, hops)
        s = st.store
        rendered = []
        for c in page:
            item = r.contact(c, s.accounts_by_contact.get(c.id))
            if first:
                item.update(per_contact[c.id])
            rendered.append(item)
        body: dict[str, Any] = {"scoreValues": [], "contacts": rendered}
        body.update(extra)
        if st.stale_total:
            total //= 2  # a count that lags behind the data (quirk)
        body["meta"] = {
            "total": str(total),
            "page_input": {
                "segmentid": None, "formid": 0, "listid": parse_int(q.get("listid"), 0),
                "tagid": parse_int(q.get("tagid"), 0), "limit": limit, "offset": offset,
                "search": q.get("search"), "sort": None,
                "seriesid": parse_int(q.get("seriesid"), 0), "waitid": 0,
                "status": parse_int(q.get("status"), -1), "forceQuery": 0,
                "cacheid": hashlib.md5(request.query_string.encode(),
                                       usedforsecurity=False).hexdigest(),
            },
        }
        return json_response(body)

    return handler


def _not_found_contact(raw: str) -> web.Response:
    return json_response({"message": f"No Result found for Subscriber with id {raw}"}, 404)


def make_contact_handlers(st: ACState) -> tuple[Callable[[web.Request], Any],
                                                Callable[[web.Request], Any]]:
    def lookup(request: web.Request) -> Contact | None:
        raw = request.match_info["id"]
        return st.store.contacts.get(parse_int(raw, -1))

    async def get_contact(request: web.Request) -> web.Response:
        c = lookup(request)
        if c is None:
            return _not_found_contact(request.match_info["id"])
        s = st.store
        r = Renderer(st.tz, api_base(request))
        first = {"contactAutomations", "contactLists", "deals", "fieldValues"}
        extra, per_contact = contact_sideloads(r, st, [c], first, set())
        contact = r.contact(c, s.accounts_by_contact.get(c.id))
        contact.update(per_contact[c.id])
        contact["geoIps"] = []
        body = {
            "contactAutomations": extra["contactAutomations"],
            "contactLists": extra["contactLists"],
            "deals": extra["deals"],
            "fieldValues": extra["fieldValues"],
            "geoAddresses": [],
            "geoIps": [],
            "contact": contact,
        }
        return json_response(body)

    async def get_contact_lists(request: web.Request) -> web.Response:
        c = lookup(request)
        if c is None:
            return _not_found_contact(request.match_info["id"])
        r = Renderer(st.tz, api_base(request))
        return json_response({"contactLists": [r.contact_list(m)
                                               for m in st.store.memberships_of(c.id)]})

    return get_contact, get_contact_lists


def add_routes(app: web.Application, st: ACState) -> None:
    async def date_from_clock(request: web.Request, response: web.StreamResponse) -> None:
        # AC's own clock, as the tap sees it: the sandbox clock (which tests move), not the
        # host's, on every API response
        if request.path.startswith(API):
            response.headers["Date"] = email.utils.formatdate(st.clock.now(), usegmt=True)

    app.on_response_prepare.append(date_from_clock)

    async def root(request: web.Request) -> web.Response:
        return json_response({})

    async def me(request: web.Request) -> web.Response:
        r = Renderer(st.tz, api_base(request))
        return json_response({"user": r.user(st.store.users[1])})

    app.router.add_get(API, root)
    app.router.add_get(API + "/", root)
    app.router.add_get(API + "/users/me", me)
    app.router.add_get(API + "/contacts", make_contacts_handler(st))
    get_contact, get_contact_lists = make_contact_handlers(st)
    app.router.add_get(API + "/contacts/{id}", get_contact)
    app.router.add_get(API + "/contacts/{id}/contactLists", get_contact_lists)
    for path, coll in COLLECTIONS:
        app.router.add_get(API + path, make_collection_handler(st, coll))
    catalog.add_routes(app, st)
