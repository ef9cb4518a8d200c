"""Campaigns and their messages."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class CampaignsStream(ActiveCampaignStream):
    """``GET /campaigns``: full scan, client-side filter on the offset-aware ``mdate``."""

    name = "campaigns"
    path = "/campaigns"
    records_key = "campaigns"
    replication_key = "mdate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("campaigns")


class MessagesStream(ActiveCampaignStream):
    """``GET /messages``: full scan, client-side filter on ``mdate``."""

    name = "messages"
    path = "/messages"
    records_key = "messages"
    replication_key = "mdate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("messages")
