"""Attribute routes: `GET /contacts/attributes` and `POST/PUT/DELETE
/contacts/attributes/{attributeCategory}/{attributeName}`; the category and typing rules live in
`brevo/attributes.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.brevo import attributes as attrs_mod
from sandbox.brevo.errors import BrevoError, invalid, not_found
from sandbox.brevo.routes.common import Call, Route, no_content, routes
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox


async def get_attributes(sb: BrevoSandbox, call: Call) -> web.Response:
    return json_response({"attributes": [a.to_api() for a in sb.store.attributes().values()]})


async def attribute(sb: BrevoSandbox, call: Call) -> web.Response:
    category = call.params["attributeCategory"]
    name = attrs_mod.normalize_name(call.params["attributeName"])
    existing = sb.store.attributes().get(name)
    method = call.request.method
    try:
        if method == "POST":
            if existing is not None:
                raise BrevoError(400, "duplicate_parameter", f"Attribute {name} already exists")
            sb.store.save_attribute(attrs_mod.build_definition(category, name, call.body or {}))
            return no_content(201)
        if existing is None or existing.category != category:
            raise not_found(f"Attribute {name} not found in category {category}")
        if method == "PUT":
            sb.store.save_attribute(attrs_mod.apply_update(existing, call.body or {}))
            return no_content()
        if name in attrs_mod.IDENTIFIER_ATTRIBUTE_NAMES:
            raise invalid(f"Attribute {name} is an identifier and can't be deleted")
        sb.store.delete_attribute(name)
        return no_content()
    except attrs_mod.AttributeDefinitionError as exc:
        raise BrevoError(400, exc.code, exc.message) from None


ROUTES: list[Route] = [
    Route("GET", "/contacts/attributes", get_attributes),
    *routes(attribute, "/contacts/attributes/{attributeCategory}/{attributeName}",
            "POST", "PUT", "DELETE"),
]
