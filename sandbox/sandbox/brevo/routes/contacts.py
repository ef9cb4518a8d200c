"""Contact routes: `GET/POST /contacts`, `GET/PUT/DELETE /contacts/{identifier}`, and the
retired `POST /contacts/batch` (410). Brevo's contact rules live in `brevo/contacts.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.brevo import contacts as contacts_mod
from sandbox.brevo.errors import invalid, not_found
from sandbox.brevo.routes.common import Call, Route, no_content, paging, routes, since
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox

RETIRED_BATCH_MESSAGE = (
    "POST /v3/contacts/batch was retired on 2026-10-30 (deprecated since 2026-05-12). "
    "Use POST /v3/contacts/import instead."
)


async def get_contacts(sb: BrevoSandbox, call: Call) -> web.Response:
    p = call.params
    if p.get("segmentId") is not None and p.get("listIds"):
        raise invalid("Either listIds or segmentId can be passed, not both")
    if p.get("segmentId") is not None:
        raise not_found("Segment does not exist")
    if p.get("filter"):
        raise invalid("filter is not supported by the sandbox")
    limit, offset, sort = paging(call, 50)
    contacts, count = sb.store.query_contacts(
        limit=limit, offset=offset, sort=sort,
        modified_since=since(call, "modifiedSince"),
        created_since=since(call, "createdSince"),
        list_ids=p.get("listIds"),
    )
    return json_response({"contacts": [c.to_api() for c in contacts], "count": count})


async def create_contact(sb: BrevoSandbox, call: Call) -> web.Response:
    status, contact_id = contacts_mod.create_contact(sb.store, call.body)
    if status == 201:
        return json_response({"id": contact_id}, status=201)
    if call.body.get("getId") and call.body.get("forceMerge"):
        return json_response({"id": contact_id}, status=200)
    return no_content()


async def contact(sb: BrevoSandbox, call: Call) -> web.StreamResponse:
    method = call.request.method
    c = contacts_mod.find_contact(
        sb.store, call.request.match_info["identifier"], call.params.get("identifierType"),
        allow_sms=method == "GET",
    )
    if method == "GET":
        return json_response({**c.to_api(), "statistics": {}})
    if method == "DELETE":
        sb.store.delete_contact(c.id)
        return no_content()
    contacts_mod.update_contact(sb.store, c, call.body)
    return no_content()


async def retired_batch(sb: BrevoSandbox, call: Call) -> web.Response:
    return json_response({"code": "method_not_allowed", "message": RETIRED_BATCH_MESSAGE},
                         status=410)


# /contacts/{identifier} comes after every fixed /contacts/... path (the routes module adds
# this list last) so that it never swallows them.
ROUTES = [
    Route("GET", "/contacts", get_contacts),
    Route("POST", "/contacts", create_contact),
    Route("POST", "/contacts/batch", retired_batch, validated=False),
]
IDENTIFIER_ROUTES = routes(contact, "/contacts/{identifier}", "GET", "PUT", "DELETE")
