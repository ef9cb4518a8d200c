"""The contact routes: `GET /contacts` (filters, `id_greater`/`id_less` keyset paging,
`include=` sideloads, AC's `meta.page_input`), `GET /contacts/{id}` and
`GET /contacts/{id}/contactLists`."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.activecampaign.model import Contact
from sandbox.activecampaign.query import (
    InvalidFilter,
    SortKey,
    apply_orders,
    attr_key,
    is_id_order,
    page_params,
    parse_filters,
    parse_int,
    parse_orders,
    text_key,
)
from sandbox.activecampaign.render import Renderer
from sandbox.activecampaign.routes.common import (
    Predicate,
    api_base,
    invalid_filter,
    time_after,
    time_before,
)
from sandbox.activecampaign.sideloads import contact_sideloads, parse_include
from sandbox.activecampaign.state import ACState
from sandbox.server import json_response


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
            return invalid_filter(exc)
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


