"""Deals, pipelines (deal groups) and their stages."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class DealsStream(ActiveCampaignStream):
    """``GET /deals``: server-side ``filters[updated_after]`` (with the lookback window), then
    the exact client-side filter on ``mdate``."""

    name = "deals"
    path = "/deals"
    records_key = "deals"
    replication_key = "mdate"
    server_filter = "filters[updated_after]"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("deals")


class DealGroupsStream(ActiveCampaignStream):
    """``GET /dealGroups`` (pipelines): full scan, client-side filter on ``udate``."""

    name = "deal_groups"
    path = "/dealGroups"
    records_key = "dealGroups"
    replication_key = "udate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("deal_groups")


class DealStagesStream(ActiveCampaignStream):
    """``GET /dealStages``: full scan, client-side filter on ``udate``."""

    name = "deal_stages"
    path = "/dealStages"
    records_key = "dealStages"
    replication_key = "udate"
    order_by = {"orders[id]": "ASC"}
    field_aliases = {f"card_region{n}": f"card_region_{n}" for n in range(1, 6)}
    schema = ActiveCampaignStream.load_schema("deal_stages")
