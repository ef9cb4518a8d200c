"""Email campaign routes: `GET/POST /emailCampaigns`, `GET/PUT/DELETE /emailCampaigns/{id}`.
Campaigns are stored as drafts (or queued when scheduled) and never sent: every statistic is 0."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.brevo.errors import BrevoError, invalid, missing, not_found
from sandbox.brevo.routes.account import ACCOUNT, SENDERS
from sandbox.brevo.routes.common import Call, Route, no_content, paging, routes
from sandbox.brevo.store import Store, parse_time
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox

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


def check_campaign(store: Store, data: dict[str, Any]) -> str | None:
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
    ids = list(recipients.get("listIds") or []) + list(recipients.get("exclusionListIds") or [])
    unknown = sorted(set(ids) - store.existing_list_ids(ids))
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


def _tag_gate(body: dict[str, Any]) -> None:
    if body.get("tag") is not None:
        raise BrevoError(405, "method_not_allowed", "Campaign tags are not available on your plan")


def campaign_api(row: dict[str, Any], exclude_html: bool = False) -> dict[str, Any]:
    """A stored campaign as Brevo answers it."""
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
        "replyTo": d.get("replyTo") or (d.get("sender") or {}).get("email") or ACCOUNT["email"],
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


async def create_campaign(sb: BrevoSandbox, call: Call) -> web.Response:
    body = dict(call.body)
    _tag_gate(body)
    scheduled = check_campaign(sb.store, body)
    status = "queued" if scheduled else "draft"
    cid = sb.store.insert_campaign(body["name"], status, scheduled, body)
    return json_response({"id": cid}, status=201)


async def campaign(sb: BrevoSandbox, call: Call) -> web.Response:
    cid = call.params["campaignId"]
    row = sb.store.campaign(cid)
    if row is None:
        raise not_found("Campaign ID does not exist")
    method = call.request.method
    if method == "GET":
        return json_response(campaign_api(row))
    if method == "DELETE":
        sb.store.delete_campaign(cid)
        return no_content()
    body = dict(call.body)
    _tag_gate(body)
    data = dict(row["data"])
    if any(body.get(k) not in (None, "") for k in CAMPAIGN_CONTENT):
        for k in CAMPAIGN_CONTENT:
            data.pop(k, None)
    data.update(body)
    scheduled = check_campaign(sb.store, data)
    status = row["status"]
    if scheduled:
        status = "queued"
    sb.store.update_campaign(cid, data.get("name") or row["name"], status,
                             scheduled or row["scheduledAt"], data)
    return no_content()


async def get_campaigns(sb: BrevoSandbox, call: Call) -> web.Response:
    p = call.params
    if p.get("type") == "trigger":
        return json_response({"campaigns": [], "count": 0})
    status = CAMPAIGN_STATUS_FILTER.get(p["status"]) if p.get("status") else None
    if (p.get("startDate") is None) != (p.get("endDate") is None):
        raise invalid("startDate and endDate must be passed together")
    rows, count = sb.store.campaigns(*paging(call, 50), status)
    exclude = bool(p.get("excludeHtmlContent"))
    return json_response({"campaigns": [campaign_api(r, exclude) for r in rows], "count": count})


ROUTES: list[Route] = [
    Route("GET", "/emailCampaigns", get_campaigns),
    Route("POST", "/emailCampaigns", create_campaign),
    *routes(campaign, "/emailCampaigns/{campaignId}", "GET", "PUT", "DELETE"),
]
