"""Contact custom fields and their options (both read from ``GET /fields``)."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class ContactCustomFieldsStream(ActiveCampaignStream):
    """``GET /fields``: full table (a handful of rows)."""

    name = "contact_custom_fields"
    path = "/fields"
    records_key = "fields"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_custom_fields")


class ContactCustomFieldOptionsStream(ActiveCampaignStream):
    """The ``fieldOptions`` sideloaded by ``GET /fields``: full table."""

    name = "contact_custom_field_options"
    path = "/fields"
    records_key = "fieldOptions"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_custom_field_options")
