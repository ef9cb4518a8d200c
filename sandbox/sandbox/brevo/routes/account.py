"""`GET /account` and `GET /senders`: the fixed account and its verified senders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.brevo.routes.common import Call, Route
from sandbox.server import json_response

if TYPE_CHECKING:
    from sandbox.brevo.app import BrevoSandbox

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


async def get_account(sb: BrevoSandbox, call: Call) -> web.Response:
    return json_response(ACCOUNT)


async def get_senders(sb: BrevoSandbox, call: Call) -> web.Response:
    return json_response({"senders": SENDERS})


ROUTES = [
    Route("GET", "/account", get_account),
    Route("GET", "/senders", get_senders),
]
