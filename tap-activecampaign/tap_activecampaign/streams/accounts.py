"""Accounts (companies) and their contacts."""

from __future__ import annotations

from tap_activecampaign.client import ActiveCampaignStream


class AccountsStream(ActiveCampaignStream):
    """``GET /accounts``: full scan, client-side filter on ``updated_timestamp``.

    AC gives accounts only naive timestamps: they are read in the account time zone, so the
    filter is exact as long as ``account_timezone`` does not change between runs.
    """

    name = "accounts"
    path = "/accounts"
    records_key = "accounts"
    replication_key = "updated_timestamp"
    replication_fallback = "created_timestamp"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("accounts")


class AccountContactsStream(ActiveCampaignStream):
    """``GET /accountContacts``: full scan, client-side filter on ``updated_timestamp``."""

    name = "account_contacts"
    path = "/accountContacts"
    records_key = "accountContacts"
    replication_key = "updated_timestamp"
    replication_fallback = "created_timestamp"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("account_contacts")
