"""Bulk import routes: `POST /contacts/import`, `GET /processes[/{processId}]`, and the import
reports (`/import-reports/{pid}/{kind}.csv`, outside /v3, like Brevo's pre-signed URLs). The
import rules and the worker live in `brevo/imports.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from sandbox.brevo import imports as imports_mod
from sandbox.brevo.errors import not_found
from sandbox.brevo.routes.common import Call, Route, paging
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox

REPORT_PATH = "/import-reports/{pid}/{kind}.csv"


def _origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def import_contacts(sb: BrevoSandbox, call: Call) -> web.Response:
    imports_mod.check_request(sb.store, call.body, call.raw_size)
    pid = sb.store.insert_process(imports_mod.PROCESS_NAME, orjson.dumps(call.body))
    sb.worker.submit(pid)
    return json_response({"processId": pid}, status=202)


async def get_processes(sb: BrevoSandbox, call: Call) -> web.Response:
    processes, count = sb.store.processes(*paging(call, 10))
    origin = _origin(call.request)
    return json_response({
        "processes": [imports_mod.process_api(x, origin, sb.worker.reports) for x in processes],
        "count": count,
    })


async def get_process(sb: BrevoSandbox, call: Call) -> web.Response:
    process = sb.store.process(call.params["processId"])
    if process is None:
        raise not_found("Process does not exist")
    return json_response(
        imports_mod.process_api(process, _origin(call.request), sb.worker.reports)
    )


def report_handler(sb: BrevoSandbox) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`GET /import-reports/{pid}/{kind}.csv`: a finished import's CSV report, no api-key."""

    async def report(request: web.Request) -> web.Response:
        kind = request.match_info["kind"]
        try:
            pid = int(request.match_info["pid"])
        except ValueError:
            raise web.HTTPNotFound() from None
        if kind not in imports_mod.REPORT_KINDS or sb.store.process(pid) is None:
            raise web.HTTPNotFound()
        return web.Response(
            text=imports_mod.report_csv(sb.store, pid, kind,
                                        header=sb.worker.reports != "no_header"),
            content_type="text/csv",
        )

    return report


IMPORT_ROUTES = [Route("POST", "/contacts/import", import_contacts)]
PROCESS_ROUTES = [
    Route("GET", "/processes", get_processes),
    Route("GET", "/processes/{processId}", get_process),
]
