"""The ActiveCampaign `/api/3/...` routes: `collections.py` (the generic collections),
`contacts.py` (contacts, keyset paging, `include=`), the catalog's (`catalog.py`), plus the API
root, `/users/me` and the `Date` header from the sandbox clock, added here.

Query semantics come from `query.py`, payload shapes from `render.py`, sideloads from
`sideloads.py`.
"""

from __future__ import annotations

import email.utils

from aiohttp import web

from sandbox.activecampaign import catalog
from sandbox.activecampaign.render import Renderer
from sandbox.activecampaign.routes.collections import COLLECTIONS, make_collection_handler
from sandbox.activecampaign.routes.common import API, api_base
from sandbox.activecampaign.routes.contacts import make_contact_handlers, make_contacts_handler
from sandbox.activecampaign.state import ACState
from sandbox.server import json_response


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
