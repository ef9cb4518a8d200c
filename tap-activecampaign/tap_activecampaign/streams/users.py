"""Users of the account."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class UsersStream(ActiveCampaignStream):
    """``GET /users``: full table."""

    name = "users"
    path = "/users"
    records_key = "users"
    order_by = {"orders[id]": "ASC"}
    field_aliases = {"local_zoneid": "local_zone_id"}
    schema = ActiveCampaignStream.load_schema("users")
