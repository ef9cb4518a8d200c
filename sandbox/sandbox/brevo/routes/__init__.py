"""The Brevo `/v3` routes, one module per resource; `ROUTES` is every route in the order aiohttp
must match them (fixed `/contacts/...` paths before `/contacts/{identifier}`).

- `account.py` `/account`, `/senders`      - `contacts.py` `/contacts`, `/contacts/{identifier}`
- `attributes.py` `/contacts/attributes/..` - `lists.py` folders, lists, list memberships
- `imports.py` `/contacts/import`, `/processes`, import reports
- `campaigns.py` `/emailCampaigns`          - `events.py` `/events`, `/events/batch`
- `common.py` `Call`, `Route` and the helpers they share (204, paging, date parameters)
"""

from __future__ import annotations

from sandbox.brevo.routes import account, attributes, campaigns, contacts, events, imports, lists
from sandbox.brevo.routes.common import Call, Handler, Route

ROUTES: list[Route] = [
    *account.ROUTES,
    *contacts.ROUTES,
    *imports.IMPORT_ROUTES,
    *attributes.ROUTES,
    *lists.ROUTES,
    *contacts.IDENTIFIER_ROUTES,
    *imports.PROCESS_ROUTES,
    *campaigns.ROUTES,
    *events.ROUTES,
]

__all__ = ["ROUTES", "Call", "Handler", "Route"]
