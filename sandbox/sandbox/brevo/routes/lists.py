"""Folder and list routes: `/contacts/folders[/{folderId}[/lists]]`,
`/contacts/lists[/{listId}[/contacts[/add|/remove]]]`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.brevo import contacts as contacts_mod
from sandbox.brevo.errors import invalid, missing, not_found
from sandbox.brevo.routes.common import Call, Route, no_content, paging, routes, since
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox


def _folder_or_404(sb: BrevoSandbox, folder_id: int) -> dict[str, Any]:
    folder = sb.store.folder(folder_id)
    if folder is None:
        raise not_found("Folder ID does not exist")
    return folder


def _list_or_404(sb: BrevoSandbox, list_id: int) -> dict[str, Any]:
    info = sb.store.list_info(list_id)
    if info is None:
        raise not_found("List ID does not exist")
    return info


# -- folders ------------------------------------------------------------------------------

async def get_folders(sb: BrevoSandbox, call: Call) -> web.Response:
    folders, count = sb.store.folders(*paging(call, 10))
    return json_response({"folders": folders, "count": count})


async def create_folder(sb: BrevoSandbox, call: Call) -> web.Response:
    name = (call.body or {}).get("name")
    if not name:
        raise missing("Folder name is missing")
    return json_response({"id": sb.store.create_folder(name)}, status=201)


async def folder(sb: BrevoSandbox, call: Call) -> web.Response:
    folder_id = call.params["folderId"]
    found = _folder_or_404(sb, folder_id)
    method = call.request.method
    if method == "GET":
        return json_response(found)
    if method == "DELETE":
        sb.store.delete_folder(folder_id)
        return no_content()
    name = (call.body or {}).get("name")
    if not name:
        raise missing("Folder name is missing")
    sb.store.rename_folder(folder_id, name)
    return no_content()


async def folder_lists(sb: BrevoSandbox, call: Call) -> web.Response:
    folder_id = call.params["folderId"]
    _folder_or_404(sb, folder_id)
    lists, count = sb.store.lists(*paging(call, 10), folder_id=folder_id)
    return json_response({"lists": lists, "count": count})


# -- lists --------------------------------------------------------------------------------

async def get_lists(sb: BrevoSandbox, call: Call) -> web.Response:
    lists, count = sb.store.lists(*paging(call, 10))
    return json_response({"lists": lists, "count": count})


async def create_list(sb: BrevoSandbox, call: Call) -> web.Response:
    body = call.body
    if not body.get("name"):
        raise missing("List name is missing")
    if sb.store.folder(body["folderId"]) is None:
        raise invalid("Folder ID does not exist")
    return json_response({"id": sb.store.create_list(body["name"], body["folderId"])},
                         status=201)


async def list_(sb: BrevoSandbox, call: Call) -> web.Response:
    list_id = call.params["listId"]
    info = _list_or_404(sb, list_id)
    method = call.request.method
    if method == "GET":
        return json_response(info)
    if method == "DELETE":
        sb.store.delete_list(list_id)
        return no_content()
    body = call.body or {}
    name, folder_id = body.get("name"), body.get("folderId")
    if name is not None and folder_id is not None:
        raise invalid("Pass either name or folderId, not both")
    if name is None and folder_id is None:
        raise missing("name or folderId is required")
    if name is not None and not name:
        raise missing("List name is missing")
    if folder_id is not None and sb.store.folder(folder_id) is None:
        raise invalid("Folder ID does not exist")
    sb.store.update_list(list_id, name, folder_id)
    return no_content()


async def list_contacts(sb: BrevoSandbox, call: Call) -> web.Response:
    list_id = call.params["listId"]
    _list_or_404(sb, list_id)
    contacts, count = sb.store.list_contacts(list_id, *paging(call, 50),
                                             since(call, "modifiedSince"))
    return json_response({"contacts": [c.to_api() for c in contacts], "count": count})


async def _membership(sb: BrevoSandbox, call: Call, *, add: bool) -> web.Response:
    list_id = call.params["listId"]
    _list_or_404(sb, list_id)
    result = contacts_mod.change_membership(sb.store, list_id, call.body, add=add)
    return json_response({"contacts": result}, status=201)


async def list_add(sb: BrevoSandbox, call: Call) -> web.Response:
    return await _membership(sb, call, add=True)


async def list_remove(sb: BrevoSandbox, call: Call) -> web.Response:
    return await _membership(sb, call, add=False)


ROUTES: list[Route] = [
    Route("GET", "/contacts/folders", get_folders),
    Route("POST", "/contacts/folders", create_folder),
    *routes(folder, "/contacts/folders/{folderId}", "GET", "PUT", "DELETE"),
    Route("GET", "/contacts/folders/{folderId}/lists", folder_lists),
    Route("GET", "/contacts/lists", get_lists),
    Route("POST", "/contacts/lists", create_list),
    *routes(list_, "/contacts/lists/{listId}", "GET", "PUT", "DELETE"),
    Route("GET", "/contacts/lists/{listId}/contacts", list_contacts),
    Route("POST", "/contacts/lists/{listId}/contacts/add", list_add),
    Route("POST", "/contacts/lists/{listId}/contacts/remove", list_remove),
]
