"""Mailing lists and tags: the definitions contacts refer to."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class ListsStream(ActiveCampaignStream):
    """``GET /lists``: full scan, client-side filter on ``udate`` (``cdate`` when null)."""

    name = "lists"
    path = "/lists"
    records_key = "lists"
    replication_key = "udate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("lists")


class TagsStream(ActiveCampaignStream):
    """``GET /tags``: full scan, client-side filter on ``updated_timestamp``.

    AC gives tags no offset-aware update time (only ``cdate``), so the naive
    ``updated_timestamp`` is read in the account time zone.
    """

    name = "tags"
    path = "/tags"
    records_key = "tags"
    replication_key = "updated_timestamp"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("tags")
