"""The Brevo API v3 emulator: ``python -m sandbox brevo --port PORT [--db FILE] ...``.

``add_arguments(parser)`` adds the Brevo flags (the common ones come from the core);
``build_app(args)`` builds the aiohttp app on ``sandbox.server.create_app``. Handlers validate
every request against the OpenAPI file first (``validation.py``), then apply Brevo's rules
(``contacts.py``, ``imports.py``, ``attributes.py``) to the SQLite store (``store.py``).

Choices where Brevo's docs are silent are listed in sandbox/README.md (Brevo section).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sandbox.brevo import attributes as attrs_mod
from sandbox.brevo import contacts as contacts_mod
from sandbox.brevo import imports as imports_mod
from sandbox.brevo.errors import BrevoError, invalid, missing, not_found
from sandbox.brevo.identifiers import is_valid_email
from sandbox.brevo.ratelimit import BrevoRateLimit, bucket_for_path
from sandbox.brevo.store import Store, parse_time
from sandbox.brevo.validation import (
    RequestInvalid,
    event_errors,
    validate_body,
    validate_parameters,
)
from sandbox.server import CommonConfig, Service, create_app, json_response
from sandbox.server.app import STATE_KEY
from sandbox.server.faults import after_status

DEFAULT_API_KEY = "xkeysib-sandbox-key"
BASE = "/v3"
RETIRED_BATCH_MESSAGE = (
    "POST /v3/contacts/batch was retired on 2026-10-30 (deprecated since 2026-05-12). "
    "Use POST /v3/contacts/import instead."
)
EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
MAX_EVENT_PROPERTIES_BYTES = 50 * 1024
CAMPAIGN_STATUS_FILTER = {
    "suspended": "suspended", "archive": "archive", "sent": "sent", "queued": "queued",
    "draft": "draft", "inProcess": "in_process", "inReview": "in_review",
    "cancelling": "cancelling", "cancelled": "cancelled",
}
CAMPAIGN_CONTENT = ("htmlContent", "htmlUrl", "templateId")
# Nothing is ever sent, so every counter is 0.
ZERO_STATS = {
    key: 0 for key in (
        "uniqueClicks", "clickers", "complaints", "delivered", "sent", "softBounces",
        "hardBounces", "uniqueViews", "trackableViews", "unsubscriptions", "viewed",
    )
}

ACCOUNT = {
    # identifiers as Brevo issues them: a 24-hex-digit organisation id and an integer user id
    "organization_id": "66f2b1c4d8e9a0b1c2d3e4f5",
    "user_id": 4242421,
    "email": "sandbox@example.com",
    "firstName": "Sandbox",
    "lastName": "Account",
    "companyName": "Connector Sandbox",
    "address": {"street": "1 Loopback Road", "city": "Localhost", "zipCode": "00000",
                "country": "France"},
    "plan": [{"type": "free", "creditsType": "sendLimit", "credits": 300.0}],
    "relay": {"enabled": False, "data": {"userName": "sandbox@example.com",
                                         "relay": "smtp-relay.brevo.com", "port": 587}},
    "marketingAutomation": {"enabled": False},
    "enterprise": False,
}

# The account's verified senders (`GET /senders`): a campaign's sender must be one of them.
SENDERS = [
    {"id": 1, "name": "Sandbox", "email": "sandbox@example.com", "active": True, "ips": []},
]


@dataclass
class Call:
    """One validated API call."""

    request: web.Request
    params: dict[str, Any]
    body: Any
    raw_size: int


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Brevo flags (docs/contracts.md §2)."""
    parser.add_argument("--db", default=None, help="SQLite file (default: in memory)")
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--rate-scale", type=float, default=1.0,
                        help="multiplies every rate limit; 0 turns them off")
    parser.add_argument("--import-delay", type=float, default=1.0,
                        help="seconds from POST /contacts/import to completed")


def _error(exc: BrevoError | RequestInvalid) -> web.Response:
    if isinstance(exc, RequestInvalid):
        return json_response({"code": exc.code, "message": exc.message}, status=400)
    return json_response(exc.body(), status=exc.status)


def _no_content(status: int = 204) -> web.Response:
    return web.Response(status=status)


class BrevoSandbox:
    """State and handlers of one emulated Brevo account."""

    def __init__(self, store: Store, api_key: str, rate_scale: float, import_delay: float) -> None:
        self.store = store
        self.api_key = api_key
        self.limiter = BrevoRateLimit(rate_scale)
        self.worker = imports_mod.ImportWorker(store, import_delay)
        self.routes: list[tuple[str, str, Handler]] = []
        self._register()

    # -- core hooks -----------------------------------------------------------------------

    def authenticate(self, request: web.Request) -> web.StreamResponse | None:
        key = request.headers.get("api-key")
        if not key:
            return json_response(
                {"message": "authentication not found in headers", "code": "unauthorized"},
                status=401,
            )
        if key != self.api_key:
            return json_response({"code": "unauthorized", "message": "Key not found"}, status=401)
        return None

    @staticmethod
    def bucket_for(request: web.Request) -> str:
        return bucket_for_path(request.path)

    @staticmethod
    def error_response(kind: str, request: web.Request) -> web.Response:
        if kind == "429":
            return json_response(
                {"code": "too_many_requests",
                 "message": "The expected rate limit is exceeded. Please retry later."},
                status=429,
            )
        if kind in ("524", "502"):
            # Cloudflare's own pages (Brevo sits behind Cloudflare): not JSON.
            title = "A timeout occurred" if kind == "524" else "Bad gateway"
            return web.Response(
                status=int(kind), content_type="text/html",
                text=f"<html><head><title>{kind}: {title}</title></head>"
                f"<body>error code: {kind}</body></html>",
            )
        if kind == "425":
            return json_response(
                {"code": "account_in_process",
                 "message": "Your account is being processed, please retry later"},
                status=425,
            )
        if kind == "403":
            return json_response(
                {"code": "permission_denied", "message": "Permission denied"}, status=403
            )
        return json_response(
            {"code": "internal_error", "message": "Internal server error"}, status=int(kind)
        )

    def reset(self) -> None:
        self.worker.forget()
        self.store.reset()

    def dump(self) -> Any:
        return self.store.dump()

    def add_control_routes(self, app: web.Application) -> None:
        async def imports_ctl(request: web.Request) -> web.Response:
            raw = await request.read()
            body = orjson.loads(raw) if raw.strip() else {}
            if "fail_next" in body:
                self.worker.fail_next = int(body["fail_next"])
            if "delay" in body:
                self.worker.delay = max(0.0, float(body["delay"]))
            if "reports" in body:
                if body["reports"] not in imports_mod.REPORT_MODES:
                    return json_response(
                        {"error": f"reports must be one of {imports_mod.REPORT_MODES}"}, status=400
                    )
                self.worker.reports = str(body["reports"])
            return json_response({"fail_next": self.worker.fail_next, "delay": self.worker.delay,
                                  "reports": self.worker.reports})

        app.router.add_post("/__sandbox/imports", imports_ctl)

        async def unsubscribe_ctl(request: web.Request) -> web.Response:
            """A recipient unsubscribes from a list, as through a campaign's link: removed
            from the list, listed in its ``listUnsubscribed``, ``modifiedAt`` moves."""
            raw = await request.read()
            try:
                body = orjson.loads(raw) if raw.strip() else {}
                list_id = int(body["listId"])
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                return json_response(
                    {"error": 'expected {"email"|"ext_id": ..., "listId": n}'}, status=400
                )
            if "email" in body:
                contact = self.store.contact_by("email", str(body["email"]).lower())
            elif "ext_id" in body:
                contact = self.store.contact_by("ext_id", str(body["ext_id"]))
            else:
                return json_response({"error": "email or ext_id is required"}, status=400)
            if contact is None:
                return json_response({"error": "contact not found"}, status=404)
            if self.store.list_info(list_id) is None:
                return json_response({"error": "list not found"}, status=404)
            with self.store.transaction():
                stamp = self.store.now()
                self.store.unsubscribe(list_id, contact.id, stamp)
                self.store.touch_contacts([contact.id], stamp)
            updated = self.store.contact_by("id", contact.id)
            return json_response(updated.to_api() if updated else {})

        app.router.add_post("/__sandbox/unsubscribe", unsubscribe_ctl)

    def add_routes(self, app: web.Application) -> None:
        for method, template, handler in self.routes:
            app.router.add_route(method, BASE + template, self._wrap(method, template, handler))

        async def report(request: web.Request) -> web.Response:
            kind = request.match_info["kind"]
            try:
                pid = int(request.match_info["pid"])
            except ValueError:
                raise web.HTTPNotFound() from None
            if kind not in imports_mod.REPORT_KINDS or self.store.process(pid) is None:
                raise web.HTTPNotFound()
            return web.Response(
                text=imports_mod.report_csv(
                    self.store, pid, kind, header=self.worker.reports != "no_header"
                ),
                content_type="text/csv",
            )

        app.router.add_get("/import-reports/{pid}/{kind}.csv", report)

        async def on_startup(app: web.Application) -> None:
            self.worker.resume_pending()

        async def on_cleanup(app: web.Application) -> None:
            await self.worker.stop()
            self.store.close()

        app.on_startup.append(on_startup)
        app.on_cleanup.append(on_cleanup)

    # -- plumbing -------------------------------------------------------------------------

    def _wrap(self, method: str, template: str, handler: Handler) -> Any:
        op_key = f"{method} {template}"

        async def run(request: web.Request) -> web.StreamResponse:
            # a post-handler status fault picked for this request (read before any await)
            state = request.app.get(STATE_KEY)
            fail_after = after_status(state.faults.last_picked) if state is not None else None
            resp = await handle(request)
            if fail_after is not None:
                return self.error_response(fail_after, request)  # processed, then a 5xx
            return resp

        async def handle(request: web.Request) -> web.StreamResponse:
            try:
                query = {k: request.query.getall(k) for k in request.query}
                params = (
                    validate_parameters(op_key, query, dict(request.match_info))
                    if op_key in _VALIDATED else {}
                )
                raw = await request.read() if request.can_read_body else b""
                body: Any = None
                if raw.strip():
                    try:
                        body = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        raise BrevoError(
                            400, "bad_request", "Input must be a valid JSON object"
                        ) from None
                if op_key in _VALIDATED:
                    validate_body(op_key, body)
                return await handler(Call(request, params, body, len(raw)))
            except (BrevoError, RequestInvalid) as exc:
                return _error(exc)

        return run

    def _register(self) -> None:
        r = self.routes.append
        r(("GET", "/account", self.get_account))
        r(("GET", "/senders", self.get_senders))
        r(("GET", "/contacts", self.get_contacts))
        r(("POST", "/contacts", self.create_contact))
        r(("POST", "/contacts/batch", self.retired_batch))
        r(("POST", "/contacts/import", self.import_contacts))
        r(("GET", "/contacts/attributes", self.get_attributes))
        for m in ("POST", "PUT", "DELETE"):
            r((m, "/contacts/attributes/{attributeCategory}/{attributeName}", self.attribute))
        r(("GET", "/contacts/folders", self.get_folders))
        r(("POST", "/contacts/folders", self.create_folder))
        for m in ("GET", "PUT", "DELETE"):
            r((m, "/contacts/folders/{folderId}", self.folder))
        r(("GET", "/contacts/folders/{folderId}/lists", self.folder_lists))
        r(("GET", "/contacts/lists", self.get_lists))
        r(("POST", "/contacts/lists", self.create_list))
        for m in ("GET", "PUT", "DELETE"):
            r((m, "/contacts/lists/{listId}", self.list_))
        r(("GET", "/contacts/lists/{listId}/contacts", self.list_contacts))
        r(("POST", "/contacts/lists/{listId}/contacts/add", self.list_add))
        r(("POST", "/contacts/lists/{listId}/contacts/remove", self.list_remove))
        for m in ("GET", "PUT", "DELETE"):
            r((m, "/contacts/{identifier}", self.contact))
        r(("GET", "/processes", self.get_processes))
        r(("GET", "/processes/{processId}", self.get_process))
        r(("GET", "/emailCampaigns", self.get_campaigns))
        r(("POST", "/emailCampaigns", self.create_campaign))
        for m in ("GET", "PUT", "DELETE"):
            r((m, "/emailCampaigns/{campaignId}", self.campaign))
        r(("POST", "/events", self.create_event))
        r(("POST", "/events/batch", self.create_events_batch))

    # -- account --------------------------------------------------------------------------

    async def get_senders(self, call: Call) -> web.Response:
        return json_response({"senders": SENDERS})

    async def get_account(self, call: Call) -> web.Response:
        return json_response(ACCOUNT)

    # -- contacts -------------------------------------------------------------------------

    @staticmethod
    def _since(call: Call, name: str) -> str | None:
        raw = call.params.get(name)
        if raw is None:
            return None
        stamp = parse_time(raw)
        if stamp is None:
            raise invalid(f"{name} should be a date-time like YYYY-MM-DDTHH:mm:ss.SSSZ")
        return stamp

    async def get_contacts(self, call: Call) -> web.Response:
        p = call.params
        if p.get("segmentId") is not None and p.get("listIds"):
            raise invalid("Either listIds or segmentId can be passed, not both")
        if p.get("segmentId") is not None:
            raise not_found("Segment does not exist")
        if p.get("filter"):
            raise invalid("filter is not supported by the sandbox")
        contacts, count = self.store.query_contacts(
            limit=p.get("limit", 50), offset=p.get("offset", 0), sort=p.get("sort", "desc"),
            modified_since=self._since(call, "modifiedSince"),
            created_since=self._since(call, "createdSince"),
            list_ids=p.get("listIds"),
        )
        return json_response({"contacts": [c.to_api() for c in contacts], "count": count})

    async def create_contact(self, call: Call) -> web.Response:
        status, contact_id = contacts_mod.create_contact(self.store, call.body)
        if status == 201:
            return json_response({"id": contact_id}, status=201)
        if call.body.get("getId") and call.body.get("forceMerge"):
            return json_response({"id": contact_id}, status=200)
        return _no_content()

    async def contact(self, call: Call) -> web.StreamResponse:
        method = call.request.method
        c = contacts_mod.find_contact(
            self.store, call.request.match_info["identifier"], call.params.get("identifierType"),
            allow_sms=method == "GET",
        )
        if method == "GET":
            return json_response({**c.to_api(), "statistics": {}})
        if method == "DELETE":
            self.store.delete_contact(c.id)
            return _no_content()
        contacts_mod.update_contact(self.store, c, call.body)
        return _no_content()

    async def retired_batch(self, call: Call) -> web.Response:
        return json_response({"code": "method_not_allowed", "message": RETIRED_BATCH_MESSAGE},
                             status=410)

    # -- attributes -----------------------------------------------------------------------

    async def get_attributes(self, call: Call) -> web.Response:
        return json_response({"attributes": [a.to_api() for a in self.store.attributes().values()]})

    async def attribute(self, call: Call) -> web.Response:
        category = call.params["attributeCategory"]
        name = attrs_mod.normalize_name(call.params["attributeName"])
        existing = self.store.attributes().get(name)
        method = call.request.method
        try:
            if method == "POST":
                if existing is not None:
                    raise BrevoError(400, "duplicate_parameter", f"Attribute {name} already exists")
                self.store.save_attribute(
                    attrs_mod.build_definition(category, name, call.body or {})
                )
                return _no_content(201)
            if existing is None or existing.category != category:
                raise not_found(f"Attribute {name} not found in category {category}")
            if method == "PUT":
                self.store.save_attribute(attrs_mod.apply_update(existing, call.body or {}))
                return _no_content()
            if name in attrs_mod.IDENTIFIER_ATTRIBUTE_NAMES:
                raise invalid(f"Attribute {name} is an identifier and can't be deleted")
            self.store.delete_attribute(name)
            return _no_content()
        except attrs_mod.AttributeDefinitionError as exc:
            raise BrevoError(400, exc.code, exc.message) from None

    # -- folders and lists ----------------------------------------------------------------

    async def get_folders(self, call: Call) -> web.Response:
        p = call.params
        folders, count = self.store.folders(p.get("limit", 10), p.get("offset", 0),
                                            p.get("sort", "desc"))
        return json_response({"folders": folders, "count": count})

    async def create_folder(self, call: Call) -> web.Response:
        name = (call.body or {}).get("name")
        if not name:
            raise missing("Folder name is missing")
        return json_response({"id": self.store.create_folder(name)}, status=201)

    def _folder_or_404(self, folder_id: int) -> dict[str, Any]:
        folder = self.store.folder(folder_id)
        if folder is None:
            raise not_found("Folder ID does not exist")
        return folder

    async def folder(self, call: Call) -> web.Response:
        folder_id = call.params["folderId"]
        folder = self._folder_or_404(folder_id)
        method = call.request.method
        if method == "GET":
            return json_response(folder)
        if method == "DELETE":
            self.store.delete_folder(folder_id)
            return _no_content()
        name = (call.body or {}).get("name")
        if not name:
            raise missing("Folder name is missing")
        self.store.rename_folder(folder_id, name)
        return _no_content()

    async def folder_lists(self, call: Call) -> web.Response:
        p = call.params
        self._folder_or_404(p["folderId"])
        lists, count = self.store.lists(p.get("limit", 10), p.get("offset", 0),
                                        p.get("sort", "desc"), folder_id=p["folderId"])
        return json_response({"lists": lists, "count": count})

    async def get_lists(self, call: Call) -> web.Response:
        p = call.params
        lists, count = self.store.lists(p.get("limit", 10), p.get("offset", 0),
                                        p.get("sort", "desc"))
        return json_response({"lists": lists, "count": count})

    async def create_list(self, call: Call) -> web.Response:
        body = call.body
        if not body.get("name"):
            raise missing("List name is missing")
        if self.store.folder(body["folderId"]) is None:
            raise invalid("Folder ID does not exist")
        return json_response(
            {"id": self.store.create_list(body["name"], body["folderId"])}, status=201
        )

    def _list_or_404(self, list_id: int) -> dict[str, Any]:
        info = self.store.list_info(list_id)
        if info is None:
            raise not_found("List ID does not exist")
        return info

    async def list_(self, call: Call) -> web.Response:
        list_id = call.params["listId"]
        info = self._list_or_404(list_id)
        method = call.request.method
        if method == "GET":
            return json_response(info)
        if method == "DELETE":
            self.store.delete_list(list_id)
            return _no_content()
        body = call.body or {}
        name, folder_id = body.get("name"), body.get("folderId")
        if name is not None and folder_id is not None:
            raise invalid("Pass either name or folderId, not both")
        if name is None and folder_id is None:
            raise missing("name or folderId is required")
        if name is not None and not name:
            raise missing("List name is missing")
        if folder_id is not None and self.store.folder(folder_id) is None:
            raise invalid("Folder ID does not exist")
        self.store.update_list(list_id, name, folder_id)
        return _no_content()

    async def list_contacts(self, call: Call) -> web.Response:
        p = call.params
        self._list_or_404(p["listId"])
        contacts, count = self.store.list_contacts(
            p["listId"], p.get("limit", 50), p.get("offset", 0), p.get("sort", "desc"),
            self._since(call, "modifiedSince"),
        )
        return json_response({"contacts": [c.to_api() for c in contacts], "count": count})

    async def list_add(self, call: Call) -> web.Response:
        return await self._membership(call, add=True)

    async def list_remove(self, call: Call) -> web.Response:
        return await self._membership(call, add=False)

    async def _membership(self, call: Call, *, add: bool) -> web.Response:
        list_id = call.params["listId"]
        self._list_or_404(list_id)
        result = contacts_mod.change_membership(self.store, list_id, call.body, add=add)
        return json_response({"contacts": result}, status=201)

    # -- import and processes -------------------------------------------------------------

    async def import_contacts(self, call: Call) -> web.Response:
        imports_mod.check_request(self.store, call.body, call.raw_size)
        pid = self.store.insert_process(imports_mod.PROCESS_NAME, orjson.dumps(call.body))
        self.worker.submit(pid)
        return json_response({"processId": pid}, status=202)

    @staticmethod
    def _origin(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}"

    async def get_processes(self, call: Call) -> web.Response:
        p = call.params
        processes, count = self.store.processes(p.get("limit", 10), p.get("offset", 0),
                                                p.get("sort", "desc"))
        origin = self._origin(call.request)
        return json_response(
            {
                "processes": [
                    imports_mod.process_api(x, origin, self.worker.reports) for x in processes
                ],
                "count": count,
            }
        )

    async def get_process(self, call: Call) -> web.Response:
        process = self.store.process(call.params["processId"])
        if process is None:
            raise not_found("Process does not exist")
        return json_response(
            imports_mod.process_api(process, self._origin(call.request), self.worker.reports)
        )

    # -- email campaigns ------------------------------------------------------------------

    def _check_campaign(self, data: dict[str, Any]) -> str | None:
        """Brevo's create rules on the merged campaign; returns the normalised scheduledAt."""
        sender = data.get("sender") or {}
        if not sender.get("email") and sender.get("id") is None:
            raise missing("sender.email or sender.id is required")
        if sender.get("id") is not None:
            known = [s for s in SENDERS if s["id"] == sender.get("id")]
        else:
            known = [s for s in SENDERS if s["email"] == str(sender.get("email")).lower()]
        if not known or not known[0]["active"]:
            raise invalid("Sender is invalid / inactive")
        content = [k for k in CAMPAIGN_CONTENT if data.get(k) not in (None, "")]
        if not content:
            raise missing("One of htmlContent, htmlUrl or templateId is required")
        if len(content) > 1:
            raise invalid(f"Pass only one of htmlContent, htmlUrl or templateId (got {content})")
        if data.get("abTesting"):
            if not data.get("subjectA") or not data.get("subjectB"):
                raise missing("subjectA and subjectB are required with abTesting")
        elif not data.get("subject"):
            raise missing("subject is missing")
        recipients = data.get("recipients") or {}
        ids = list(recipients.get("listIds") or []) + list(
            recipients.get("exclusionListIds") or []
        )
        unknown = sorted(set(ids) - self.store.existing_list_ids(ids))
        if unknown:
            raise invalid(f"recipients: list(s) {', '.join(map(str, unknown))} do not exist")
        scheduled = data.get("scheduledAt")
        if scheduled in (None, ""):
            return None
        stamp = parse_time(str(scheduled))
        if stamp is None:
            raise invalid("scheduledAt should be a date-time like YYYY-MM-DDTHH:mm:ss.SSSZ")
        if not recipients.get("listIds") and not recipients.get("segmentIds"):
            raise missing("recipients.listIds is required when scheduledAt is set")
        return stamp

    @staticmethod
    def _tag_gate(body: dict[str, Any]) -> None:
        if body.get("tag") is not None:
            raise BrevoError(405, "method_not_allowed",
                             "Campaign tags are not available on your plan")

    def _campaign_api(self, row: dict[str, Any], exclude_html: bool = False) -> dict[str, Any]:
        d = row["data"]
        recipients = d.get("recipients") or {}
        out: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "subject": d.get("subject", ""),
            "previewText": d.get("previewText", ""),
            "type": "classic",
            "status": row["status"],
            "testSent": False,
            "header": d.get("header", "[DEFAULT_HEADER]"),
            "footer": d.get("footer", "[DEFAULT_FOOTER]"),
            "sender": d.get("sender", {}),
            "replyTo": d.get("replyTo") or (d.get("sender") or {}).get("email")
            or ACCOUNT["email"],
            "toField": d.get("toField", ""),
            "createdAt": row["createdAt"],
            "modifiedAt": row["modifiedAt"],
            "inlineImageActivation": d.get("inlineImageActivation", False),
            "mirrorActive": d.get("mirrorActive", False),
            "recurring": d.get("recurring", False),
            "abTesting": d.get("abTesting", False),
            "sendAtBestTime": d.get("sendAtBestTime", False),
            "recipients": {
                "lists": list(recipients.get("listIds") or []),
                "exclusionLists": list(recipients.get("exclusionListIds") or []),
            },
            "statistics": {
                "globalStats": dict(ZERO_STATS), "campaignStats": [], "mirrorClick": 0,
                "remaining": 0, "linksStats": {}, "statsByDomain": {}, "statsByDevice": {},
                "statsByBrowser": {},
            },
        }
        # excludeHtmlContent: "htmlContent field will be returned as empty string" (the spec)
        out["htmlContent"] = "" if exclude_html else d.get("htmlContent", "")
        for key in ("htmlUrl", "templateId", "utmCampaign", "subjectA", "subjectB"):
            if d.get(key) is not None:
                out[key] = d[key]
        if row["scheduledAt"]:
            out["scheduledAt"] = row["scheduledAt"]
        return out

    async def create_campaign(self, call: Call) -> web.Response:
        body = dict(call.body)
        self._tag_gate(body)
        scheduled = self._check_campaign(body)
        status = "queued" if scheduled else "draft"
        cid = self.store.insert_campaign(body["name"], status, scheduled, body)
        return json_response({"id": cid}, status=201)

    async def campaign(self, call: Call) -> web.Response:
        cid = call.params["campaignId"]
        row = self.store.campaign(cid)
        if row is None:
            raise not_found("Campaign ID does not exist")
        method = call.request.method
        if method == "GET":
            return json_response(self._campaign_api(row))
        if method == "DELETE":
            self.store.delete_campaign(cid)
            return _no_content()
        body = dict(call.body)
        self._tag_gate(body)
        data = dict(row["data"])
        if any(body.get(k) not in (None, "") for k in CAMPAIGN_CONTENT):
            for k in CAMPAIGN_CONTENT:
                data.pop(k, None)
        data.update(body)
        scheduled = self._check_campaign(data)
        status = row["status"]
        if scheduled:
            status = "queued"
        self.store.update_campaign(cid, data.get("name") or row["name"], status,
                                   scheduled or row["scheduledAt"], data)
        return _no_content()

    async def get_campaigns(self, call: Call) -> web.Response:
        p = call.params
        if p.get("type") == "trigger":
            return json_response({"campaigns": [], "count": 0})
        status = CAMPAIGN_STATUS_FILTER.get(p["status"]) if p.get("status") else None
        if (p.get("startDate") is None) != (p.get("endDate") is None):
            raise invalid("startDate and endDate must be passed together")
        rows, count = self.store.campaigns(p.get("limit", 50), p.get("offset", 0),
                                           p.get("sort", "desc"), status)
        exclude = bool(p.get("excludeHtmlContent"))
        return json_response(
            {"campaigns": [self._campaign_api(r, exclude) for r in rows], "count": count}
        )

    # -- events ---------------------------------------------------------------------------

    @staticmethod
    def _event_rules(event: dict[str, Any]) -> None:
        """Brevo's checks beyond the schema (notes §6.1)."""
        if not EVENT_NAME_RE.match(event["event_name"]):
            raise invalid("event_name must be 1 to 255 characters among A-Z, a-z, 0-9, _ and -")
        identifiers = event["identifiers"]
        if not any(v not in (None, "") for v in identifiers.values()):
            raise missing("identifiers must hold at least one of email_id, ext_id, phone_id, "
                          "whatsapp_id, landline_number_id, contact_id")
        email = identifiers.get("email_id")
        if email not in (None, "") and not is_valid_email(email):
            raise invalid("identifiers.email_id: invalid email address")
        if event.get("event_date") and parse_time(event["event_date"]) is None:
            raise invalid("event_date should be an ISO 8601 date-time")
        props = event.get("event_properties")
        if props is not None and len(orjson.dumps(props)) > MAX_EVENT_PROPERTIES_BYTES:
            raise invalid("event_properties exceeds 50 KB")

    def _record_events(self, events: list[dict[str, Any]], via_batch: bool) -> None:
        self.store.insert_events(events, via_batch=via_batch)
        for event in events:
            contacts_mod.apply_event_properties(
                self.store, event["identifiers"], event.get("contact_properties")
            )

    async def create_event(self, call: Call) -> web.Response:
        self._event_rules(call.body)
        self._record_events([call.body], via_batch=False)
        return _no_content()

    async def create_events_batch(self, call: Call) -> web.Response:
        events = call.body["events"]
        accepted: list[dict[str, Any]] = []
        results: list[dict[str, Any]] = []
        for index, event in enumerate(events):
            err: BrevoError | RequestInvalid | None = event_errors(event)
            if err is None:
                try:
                    self._event_rules(event)
                except BrevoError as exc:
                    err = exc
            if err is None:
                accepted.append(event)
                results.append({"index": index, "status": "accepted"})
            else:
                results.append({"index": index, "status": "failed", "code": err.code,
                                "message": err.message})
        if accepted:
            self._record_events(accepted, via_batch=True)
        if len(accepted) == len(events):
            return json_response(
                {"message": "Batch accepted for processing", "count": len(accepted)}, status=202
            )
        return json_response(
            {"message": "Batch partially accepted", "count": len(accepted), "results": results},
            status=207,
        )


# Operations validated against the spec (the retired batch endpoint is answered as such).
_VALIDATED = {
    "GET /account", "GET /senders", "GET /contacts", "POST /contacts",
    "GET /contacts/{identifier}",
    "PUT /contacts/{identifier}", "DELETE /contacts/{identifier}", "GET /contacts/attributes",
    "POST /contacts/attributes/{attributeCategory}/{attributeName}",
    "PUT /contacts/attributes/{attributeCategory}/{attributeName}",
    "DELETE /contacts/attributes/{attributeCategory}/{attributeName}",
    "GET /contacts/folders", "POST /contacts/folders", "GET /contacts/folders/{folderId}",
    "PUT /contacts/folders/{folderId}", "DELETE /contacts/folders/{folderId}",
    "GET /contacts/folders/{folderId}/lists", "GET /contacts/lists", "POST /contacts/lists",
    "GET /contacts/lists/{listId}", "PUT /contacts/lists/{listId}",
    "DELETE /contacts/lists/{listId}", "GET /contacts/lists/{listId}/contacts",
    "POST /contacts/lists/{listId}/contacts/add", "POST /contacts/lists/{listId}/contacts/remove",
    "POST /contacts/import", "GET /processes", "GET /processes/{processId}",
    "GET /emailCampaigns", "POST /emailCampaigns", "GET /emailCampaigns/{campaignId}",
    "PUT /emailCampaigns/{campaignId}", "DELETE /emailCampaigns/{campaignId}",
    "POST /events", "POST /events/batch",
}


def make_sandbox(args: argparse.Namespace) -> BrevoSandbox:
    return BrevoSandbox(
        Store(getattr(args, "db", None)),
        api_key=getattr(args, "api_key", DEFAULT_API_KEY) or DEFAULT_API_KEY,
        rate_scale=float(getattr(args, "rate_scale", 1.0)),
        import_delay=float(getattr(args, "import_delay", 1.0)),
    )


def build_app(args: argparse.Namespace) -> web.Application:
    """The Brevo app for the parsed CLI flags (called by ``python -m sandbox brevo``)."""
    sb = make_sandbox(args)
    service = Service(
        name="brevo",
        add_routes=sb.add_routes,
        base_path=BASE,
        api_prefixes=(BASE + "/",),
        authenticate=sb.authenticate,
        bucket_for=sb.bucket_for,
        rate_limit=sb.limiter,
        error_response=sb.error_response,
        reset=sb.reset,
        dump=sb.dump,
        add_control_routes=sb.add_control_routes,
        default_fault_kinds=("429", "500", "502", "503", "524", "reset"),
        extra={"brevo": sb},
    )
    return create_app(service, CommonConfig.from_args(args))
