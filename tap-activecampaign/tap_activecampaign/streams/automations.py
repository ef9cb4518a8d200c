"""Automations and the contacts going through them."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class AutomationsStream(ActiveCampaignStream):
    """``GET /automations``: full scan, client-side filter on ``mdate``."""

    name = "automations"
    path = "/automations"
    records_key = "automations"
    replication_key = "mdate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("automations")


class ContactAutomationsStream(ActiveCampaignStream):
    """``GET /contactAutomations``: full scan, client-side filter on ``lastdate``.

    Rows change after creation (status, remdate, lastdate), so ``adddate`` would freeze them.
    """

    name = "contact_automations"
    path = "/contactAutomations"
    records_key = "contactAutomations"
    replication_key = "lastdate"
    replication_fallback = "adddate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_automations")
