"""Brevo sandbox answers, judged by the official Brevo Python SDK (brevo-python 5.1.0).

The SDK's own response models (pydantic) are stricter than the spec subset the other tests use:
they require `organization_id`, `user_id` and `enterprise` on `GET /account`, `valueStr` on
category enumeration items and `whatsappBlacklisted` on every contact. Every answer is validated
in pydantic's strict JSON mode (no `"5"` for an int, no missing required field), with the model
the SDK's client parses that operation's 2xx answer with (its `raw_client.py` modules); error
answers are checked against the SDK's error bodies. A test also checks that every route the
sandbox serves has a case here, so a new route cannot skip the check.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
import requests
from brevo.account.types.get_account_response import GetAccountResponse
from brevo.contacts.types.create_contact_response import CreateContactResponse
from brevo.contacts.types.create_folder_response import CreateFolderResponse
from brevo.contacts.types.create_list_response import CreateListResponse
from brevo.contacts.types.get_attributes_response import GetAttributesResponse
from brevo.contacts.types.get_contact_info_response import GetContactInfoResponse
from brevo.contacts.types.get_folder_lists_response import GetFolderListsResponse
from brevo.contacts.types.get_folders_response import GetFoldersResponse
from brevo.contacts.types.get_list_response import GetListResponse
from brevo.contacts.types.get_lists_response import GetListsResponse
from brevo.contacts.types.import_contacts_response import ImportContactsResponse
from brevo.email_campaigns.types.create_email_campaign_response import (
    CreateEmailCampaignResponse,
)
from brevo.email_campaigns.types.get_email_campaign_response import GetEmailCampaignResponse
from brevo.email_campaigns.types.get_email_campaigns_response import GetEmailCampaignsResponse
from brevo.process.types.get_process_response import GetProcessResponse
from brevo.process.types.get_processes_response import GetProcessesResponse
from brevo.senders.types.get_senders_response import GetSendersResponse
from brevo.types.bad_request_error_body import BadRequestErrorBody
from brevo.types.batch_accepted_response import BatchAcceptedResponse
from brevo.types.get_contacts import GetContacts
from brevo.types.get_folder import GetFolder
from brevo.types.not_found_error_body import NotFoundErrorBody
from brevo.types.post_contact_info import PostContactInfo
from brevo.types.unauthorized_error_body import UnauthorizedErrorBody
from sandbox.brevo.app import BrevoSandbox
from sandbox.brevo.routes.account import ACCOUNT
from sandbox.brevo.store import Store
from sandbox.brevo.testkit import BrevoClient, operation_for
from sandbox.testing import SandboxProcess

SENDER = {"name": "Shop", "email": "sandbox@example.com"}
EMPTY = None  # the SDK parses nothing (`typing.Any`): Brevo answers 204/201 without a body


def sdk_problems(model: Any, content: bytes) -> list[str]:
    """What the SDK model refuses in a JSON answer, strictly (one line per error)."""
    try:
        pydantic.TypeAdapter(model).validate_json(content, strict=True)
    except pydantic.ValidationError as exc:
        return [
            f"{'.'.join(str(p) for p in e['loc'])}: {e['type']} ({e['msg']})"
            for e in exc.errors()
        ]
    return []


@dataclass
class Case:
    label: str
    method: str
    path: str
    model: Any  # the SDK model, or EMPTY
    status: int
    body: Any = None
    params: dict[str, Any] | None = None


def _wait_done(api: BrevoClient, pid: int) -> None:
    for _ in range(200):
        if api.get(f"/processes/{pid}").json()["status"] in ("completed", "failed"):
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never finished")


@pytest.fixture(scope="module")
def account(sandbox: SandboxProcess) -> Iterator[dict[str, Any]]:
    """An account holding one of every kind of object the target writes, in every state."""
    api = BrevoClient(sandbox)
    ids: dict[str, Any] = {}
    ids["folder"] = api.post("/contacts/folders", {"name": "Marketing"}).json()["id"]
    ids["list"] = api.post("/contacts/lists", {"name": "Newsletter [ac-list-1]",
                                               "folderId": ids["folder"]}).json()["id"]
    ids["list2"] = api.post("/contacts/lists", {"name": "Customers [ac-list-2]",
                                                "folderId": ids["folder"]}).json()["id"]
    for path, body in [
        ("normal/AGE", {"type": "float"}),
        ("normal/BIRTHDAY", {"type": "date"}),
        ("normal/VIP", {"type": "boolean"}),
        ("normal/NOTES", {"type": "text"}),
        ("normal/HOBBIES", {"type": "multiple-choice", "multiCategoryOptions": ["Chess", "Golf"]}),
        ("category/SIZE", {"type": "category", "enumeration": [
            {"value": 1, "label": "Small"}, {"value": 2, "label": "Large"}]}),
        ("calculated/TOTAL_AGE", {"value": "SUM[AGE]"}),
        ("global/ALL_AGES", {"value": "SUM[AGE]"}),
        ("transactional/ORDER_ID", {"type": "id"}),
        ("normal/DOOMED", {"type": "text"}),
    ]:
        r = api.post(f"/contacts/attributes/{path}", body)
        assert r.status_code == 201, (path, r.text)
    full = api.post("/contacts", {
        "email": "jane@example.com", "ext_id": "ac-1", "listIds": [ids["list"], ids["list2"]],
        "attributes": {"FIRSTNAME": "Jane", "SMS": "+33612345678", "AGE": 41.5,
                       "BIRTHDAY": "1985-04-01", "VIP": True, "SIZE": 2,
                       "HOBBIES": ["Chess"], "NOTES": "Ünïcode ✓"},
    })
    ids["contact"] = full.json()["id"]
    ids["sms_only"] = api.post("/contacts", {"ext_id": "ac-2", "attributes": {
        "SMS": "+4915112345678"}}).json()["id"]
    ids["blocked"] = api.post("/contacts", {"email": "blocked@example.com",
                                            "emailBlacklisted": True, "smsBlacklisted": True,
                                            "listIds": [ids["list"]]}).json()["id"]
    sandbox.control._call("POST", "unsubscribe", {"email": "jane@example.com",
                                                  "listId": ids["list2"]})
    imported = api.post("/contacts/import", {
        "jsonBody": [{"email": "imp@example.com", "attributes": {"AGE": 3}},
                     {"email": "not-an-email"}, {"email": "jane@example.com"}],
        "listIds": [ids["list"]], "updateExistingContacts": True,
    })
    ids["process"] = imported.json()["processId"]
    _wait_done(api, ids["process"])
    sandbox.control._call("POST", "imports", {"fail_next": 1})
    failed = api.post("/contacts/import", {"jsonBody": [{"email": "f@example.com"}],
                                           "listIds": [ids["list"]]})
    ids["failed_process"] = failed.json()["processId"]
    _wait_done(api, ids["failed_process"])
    ids["campaign"] = api.post("/emailCampaigns", {
        "name": "Spring [ac-campaign-1]", "subject": "Hello", "sender": SENDER,
        "htmlContent": "<p>Hi</p>", "recipients": {"listIds": [ids["list"]]},
    }).json()["id"]
    ids["scheduled"] = api.post("/emailCampaigns", {
        "name": "Summer [ac-campaign-2]", "subject": "Hot", "sender": SENDER,
        "htmlContent": "<p>Sun</p>", "recipients": {"listIds": [ids["list"]]},
        "scheduledAt": "2030-06-01T09:00:00+02:00",
    }).json()["id"]
    ids["doomed_campaign"] = api.post("/emailCampaigns", {
        "name": "Doomed", "subject": "x", "sender": SENDER, "htmlContent": "<p>x</p>",
    }).json()["id"]
    ids["doomed_list"] = api.post("/contacts/lists", {"name": "Doomed",
                                                      "folderId": ids["folder"]}).json()["id"]
    ids["cleared"] = api.post("/contacts/lists", {"name": "Cleared",
                                                  "folderId": ids["folder"]}).json()["id"]
    api.post(f"/contacts/lists/{ids['cleared']}/contacts/add", {"ids": [ids["contact"]]})
    ids["doomed_folder"] = api.post("/contacts/folders", {"name": "Doomed"}).json()["id"]
    ids["doomed_contact"] = api.post("/contacts", {"email": "doomed@example.com"}).json()["id"]
    yield ids
    api.close()


def cases(i: dict[str, Any]) -> list[Case]:
    """Every operation the sandbox serves, in the order a sync would meet them."""
    lst, folder, c = i["list"], i["folder"], i["contact"]
    event = {"event_name": "order_paid", "identifiers": {"email_id": "jane@example.com"},
             "event_properties": {"amount": 12, "currency": "EUR"}}
    return [
        Case("account", "GET", "/account", GetAccountResponse, 200),
        Case("senders", "GET", "/senders", GetSendersResponse, 200),
        Case("attributes", "GET", "/contacts/attributes", GetAttributesResponse, 200),
        Case("attribute create", "POST", "/contacts/attributes/normal/CITY", EMPTY, 201,
             {"type": "text"}),
        Case("attribute update", "PUT", "/contacts/attributes/category/SIZE", EMPTY, 204,
             {"enumeration": [{"value": 1, "label": "S"}, {"value": 2, "label": "L"}]}),
        Case("attribute delete", "DELETE", "/contacts/attributes/normal/DOOMED", EMPTY, 204),
        Case("folders", "GET", "/contacts/folders", GetFoldersResponse, 200,
             params={"limit": 50, "offset": 0}),
        Case("folder create", "POST", "/contacts/folders", CreateFolderResponse, 201,
             {"name": "Another"}),
        Case("folder", "GET", f"/contacts/folders/{folder}", GetFolder, 200),
        Case("folder update", "PUT", f"/contacts/folders/{folder}", EMPTY, 204,
             {"name": "Marketing (renamed)"}),
        Case("folder delete", "DELETE", f"/contacts/folders/{i['doomed_folder']}", EMPTY, 204),
        Case("folder lists", "GET", f"/contacts/folders/{folder}/lists", GetFolderListsResponse,
             200),
        Case("lists", "GET", "/contacts/lists", GetListsResponse, 200,
             params={"limit": 50, "offset": 0}),
        Case("list create", "POST", "/contacts/lists", CreateListResponse, 201,
             {"name": "Created", "folderId": folder}),
        Case("list", "GET", f"/contacts/lists/{lst}", GetListResponse, 200),
        Case("list update", "PUT", f"/contacts/lists/{lst}", EMPTY, 204,
             {"name": "Newsletter (renamed) [ac-list-1]"}),
        Case("list delete", "DELETE", f"/contacts/lists/{i['doomed_list']}", EMPTY, 204),
        Case("list contacts", "GET", f"/contacts/lists/{lst}/contacts", GetContacts, 200),
        Case("list add", "POST", f"/contacts/lists/{i['list2']}/contacts/add", PostContactInfo,
             201, {"emails": ["blocked@example.com", "nobody@example.com"]}),
        Case("list remove", "POST", f"/contacts/lists/{lst}/contacts/remove",
             PostContactInfo, 201, {"emails": ["blocked@example.com", "nobody@example.com"]}),
        Case("list remove all", "POST", f"/contacts/lists/{i['cleared']}/contacts/remove",
             PostContactInfo, 201, {"all": True}),
        Case("contacts", "GET", "/contacts", GetContacts, 200, params={"limit": 50}),
        Case("contacts modified since", "GET", "/contacts", GetContacts, 200,
             params={"modifiedSince": "2020-01-01T00:00:00Z", "sort": "asc"}),
        Case("contact by id", "GET", f"/contacts/{c}", GetContactInfoResponse, 200),
        Case("contact by email", "GET", "/contacts/jane@example.com", GetContactInfoResponse,
             200),
        Case("contact by ext_id", "GET", "/contacts/ac-2", GetContactInfoResponse, 200,
             params={"identifierType": "ext_id"}),
        Case("contact blocklisted", "GET", f"/contacts/{i['blocked']}", GetContactInfoResponse,
             200),
        Case("contact create", "POST", "/contacts", CreateContactResponse, 201,
             {"email": "new@example.com", "attributes": {"FIRSTNAME": "New"}}),
        Case("contact upsert", "POST", "/contacts", EMPTY, 204,
             {"email": "jane@example.com", "updateEnabled": True,
              "attributes": {"FIRSTNAME": "Newer"}}),
        Case("contact update", "PUT", f"/contacts/{c}", EMPTY, 204,
             {"attributes": {"AGE": 42}}),
        Case("contact delete", "DELETE", f"/contacts/{i['doomed_contact']}", EMPTY, 204),
        Case("import", "POST", "/contacts/import", ImportContactsResponse, 202,
             {"jsonBody": [{"email": "later@example.com"}], "listIds": [lst]}),
        Case("process completed", "GET", f"/processes/{i['process']}", GetProcessResponse, 200),
        Case("process failed", "GET", f"/processes/{i['failed_process']}", GetProcessResponse,
             200),
        Case("processes", "GET", "/processes", GetProcessesResponse, 200),
        Case("campaigns", "GET", "/emailCampaigns", GetEmailCampaignsResponse, 200),
        Case("campaigns with statistics", "GET", "/emailCampaigns", GetEmailCampaignsResponse,
             200, params={"type": "classic", "statistics": "globalStats", "limit": 10,
                          "excludeHtmlContent": True}),
        Case("campaign draft", "GET", f"/emailCampaigns/{i['campaign']}",
             GetEmailCampaignResponse, 200),
        Case("campaign scheduled", "GET", f"/emailCampaigns/{i['scheduled']}",
             GetEmailCampaignResponse, 200),
        Case("campaign create", "POST", "/emailCampaigns", CreateEmailCampaignResponse, 201,
             {"name": "Autumn", "subject": "Leaves", "sender": SENDER,
              "htmlContent": "<p>Fall</p>"}),
        Case("campaign update", "PUT", f"/emailCampaigns/{i['campaign']}", EMPTY, 204,
             {"subject": "Hello again"}),
        Case("campaign delete", "DELETE", f"/emailCampaigns/{i['doomed_campaign']}", EMPTY,
             204),
        Case("event", "POST", "/events", EMPTY, 204, event),
        Case("events batch", "POST", "/events/batch", BatchAcceptedResponse, 202,
             {"events": [event, {**event, "event_name": "order_refunded"}]}),
    ]


# placeholder ids, for what does not need the `account` fixture (parametrize, route coverage)
SOME_IDS = {k: 1 for k in (
    "list", "list2", "cleared", "folder", "contact", "blocked", "process", "failed_process",
    "campaign", "scheduled", "doomed_campaign", "doomed_list", "doomed_folder",
    "doomed_contact")}
LABELS = [c.label for c in cases(SOME_IDS)]


@pytest.mark.parametrize("label", LABELS)
def test_every_answer_passes_the_sdk_models(label: str, sandbox: SandboxProcess,
                                            account: dict[str, Any]) -> None:
    case = next(c for c in cases(account) if c.label == label)
    api = BrevoClient(sandbox)
    r = api.request(case.method, case.path, case.body, params=case.params)
    assert r.status_code == case.status, r.text
    if case.model is EMPTY:
        assert r.content == b""
        return
    assert r.headers["Content-Type"].startswith("application/json")
    assert sdk_problems(case.model, r.content) == [], r.text[:2000]


def test_what_the_sdk_requires_is_really_there(sandbox: SandboxProcess,
                                               account: dict[str, Any]) -> None:
    api = BrevoClient(sandbox)
    acc = GetAccountResponse.model_validate_json(api.get("/account").content, strict=True)
    assert len(acc.organization_id) == 24
    assert int(acc.organization_id, 16) > 0
    assert acc.user_id > 0
    assert acc.enterprise is False
    attrs = GetAttributesResponse.model_validate_json(
        api.get("/contacts/attributes").content, strict=True)
    size = next(a for a in attrs.attributes if a.name == "SIZE")
    assert [(e.value, e.value_str) for e in size.enumeration or []] == [(1, "1"), (2, "2")]
    for cid in (account["contact"], account["sms_only"], account["blocked"]):
        c = GetContactInfoResponse.model_validate_json(api.get(f"/contacts/{cid}").content,
                                                       strict=True)
        assert c.whatsapp_blacklisted is False
    listed = api.get("/contacts").json()["contacts"]
    assert listed
    assert all(x["whatsappBlacklisted"] is False for x in listed)


def test_error_answers_pass_the_sdk_error_bodies(sandbox: SandboxProcess) -> None:
    api = BrevoClient(sandbox)
    for r, model in [
        (api.post("/contacts/lists", {"name": "No folder", "folderId": 999999}),
         BadRequestErrorBody),
        (api.post("/contacts/lists", {"name": "x"}, invalid=True), BadRequestErrorBody),
        (api.get("/contacts/nobody@example.com"), NotFoundErrorBody),
        (api.get("/processes/999999"), NotFoundErrorBody),
        (BrevoClient(sandbox, api_key="xkeysib-wrong").get("/account"), UnauthorizedErrorBody),
        (requests.get(f"{sandbox.api_url}/account", timeout=10), UnauthorizedErrorBody),
    ]:
        assert r.status_code >= 400
        assert sdk_problems(model, r.content) == [], (r.status_code, r.text)


def test_every_route_of_the_sandbox_has_a_case() -> None:
    served = {f"{m} {t}" for m, t, _ in BrevoSandbox(Store(), "k", 0, 0).routes}
    served.discard("POST /contacts/batch")  # retired: 410 before anything (sandbox README)
    covered = set()
    for c in cases(SOME_IDS):
        found = operation_for(c.method, c.path)
        assert found is not None, c.label
        covered.add(found[0])
    assert served - covered == set()


def test_the_check_catches_what_the_sdk_requires() -> None:
    """The validator is not a rubber stamp: the answers the sandbox gave before fail it."""
    import orjson

    old_account = {k: v for k, v in ACCOUNT.items()
                   if k not in ("organization_id", "user_id", "enterprise")}
    problems = sdk_problems(GetAccountResponse, orjson.dumps(old_account))
    assert sorted(p.split(":")[0] for p in problems) == [
        "enterprise", "organization_id", "user_id"]
    assert sdk_problems(GetAccountResponse, orjson.dumps({**ACCOUNT, "user_id": "4242421"}))
    old_attrs = {"attributes": [{"name": "SIZE", "category": "category", "type": "category",
                                 "enumeration": [{"value": 1, "label": "S"}]}]}
    assert [p.split(":")[0] for p in sdk_problems(GetAttributesResponse,
                                                 orjson.dumps(old_attrs))] == [
        "attributes.0.enumeration.0.valueStr"]
    old_contact = {"id": 1, "email": "a@example.com", "emailBlacklisted": False,
                   "smsBlacklisted": False, "createdAt": "2026-01-01T00:00:00.000Z",
                   "modifiedAt": "2026-01-01T00:00:00.000Z", "listIds": [],
                   "listUnsubscribed": [], "attributes": {}}
    assert [p.split(":")[0] for p in sdk_problems(GetContacts, orjson.dumps(
        {"contacts": [old_contact], "count": 1}))] == ["contacts.0.whatsappBlacklisted"]


def test_a_process_still_running_passes_the_sdk_models() -> None:
    with SandboxProcess("brevo", rate_scale=0, import_delay=30) as sb:
        api = BrevoClient(sb)
        folder = api.post("/contacts/folders", {"name": "F"}).json()["id"]
        lid = api.post("/contacts/lists", {"name": "L", "folderId": folder}).json()["id"]
        pid = api.post("/contacts/import", {"jsonBody": [{"email": "q@example.com"}],
                                            "listIds": [lid]}).json()["processId"]
        one = api.get(f"/processes/{pid}")
        assert one.json()["status"] == "queued"
        assert sdk_problems(GetProcessResponse, one.content) == []
        every = api.get("/processes")
        assert [p["status"] for p in every.json()["processes"]] == ["queued"]
        assert sdk_problems(GetProcessesResponse, every.content) == []
