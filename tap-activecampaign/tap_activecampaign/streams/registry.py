"""The stream registry: which stream classes a run discovers, and the order they run in.

:func:`stream_classes` is the one list of streams (the membership streams depend on
``membership_full_scan``, the real-time job on ``webhook_queue``, the id scans on
``id_scan``); :data:`STREAM_ORDER` is the one statement of the run order (the SDK would
sort by name). Streams missing from it (the catalog and ecommerce streams) run after the
listed ones, in registry order.
"""

from __future__ import annotations

import typing as t

from tap_activecampaign.streams.accounts import AccountContactsStream, AccountsStream
from tap_activecampaign.streams.automations import AutomationsStream, ContactAutomationsStream
from tap_activecampaign.streams.campaigns import CampaignsStream, MessagesStream
from tap_activecampaign.streams.catalog import (
    CATALOG_STREAMS,
    EcommerceOrderProductsStream,
    EcommerceOrdersStream,
)
from tap_activecampaign.streams.contact_children import (
    ContactCustomFieldValuesScanStream,
    ContactCustomFieldValuesStream,
    ContactListsScanStream,
    ContactListsStream,
    ContactTagsScanStream,
    ContactTagsStream,
)
from tap_activecampaign.streams.contacts import ContactsStream
from tap_activecampaign.streams.custom_fields import (
    ContactCustomFieldOptionsStream,
    ContactCustomFieldsStream,
)
from tap_activecampaign.streams.deals import DealGroupsStream, DealsStream, DealStagesStream
from tap_activecampaign.streams.id_scan import ID_SCAN_STREAMS
from tap_activecampaign.streams.lists import ListsStream, TagsStream
from tap_activecampaign.streams.users import UsersStream
from tap_activecampaign.streams.webhook_events import (
    REALTIME_CONTACT_STREAMS,
    WebhookEventsStream,
)

if t.TYPE_CHECKING:
    from tap_activecampaign.client import ActiveCampaignStream

#: Stream order of a run: definitions (fields, lists, tags) before the contacts that use them.
STREAM_ORDER: tuple[str, ...] = (
    "users",
    "contact_custom_fields",
    "contact_custom_field_options",
    "lists",
    "tags",
    "contacts",
    "contact_lists",
    "contact_tags",
    "contact_custom_field_values",
    "campaigns",
    "messages",
    "automations",
    "contact_automations",
    "deal_groups",
    "deal_stages",
    "deals",
    "accounts",
    "account_contacts",
    "webhook_events",
    # id scans (id_scan: true) last: each version ends the run's view of its stream
    "contact_custom_field_ids",
    "list_ids",
    "tag_ids",
    "contact_ids",
    "campaign_ids",
)


def stream_classes(config: t.Mapping[str, t.Any]) -> list[type[ActiveCampaignStream]]:
    """Every stream class this configuration discovers."""
    children: list[type[ActiveCampaignStream]] = (
        [ContactListsScanStream, ContactTagsScanStream, ContactCustomFieldValuesScanStream]
        if config.get("membership_full_scan", False)
        else [ContactListsStream, ContactTagsStream, ContactCustomFieldValuesStream]
    )
    realtime = bool(config.get("webhook_queue"))  # the real-time job (webhook_events)
    if realtime:
        children = list(REALTIME_CONTACT_STREAMS[1:])
    classes: list[type[ActiveCampaignStream]] = [
        UsersStream,
        ContactCustomFieldsStream,
        ContactCustomFieldOptionsStream,
        ListsStream,
        TagsStream,
        REALTIME_CONTACT_STREAMS[0] if realtime else ContactsStream,
        *children,
        CampaignsStream,
        MessagesStream,
        AutomationsStream,
        ContactAutomationsStream,
        DealGroupsStream,
        DealStagesStream,
        DealsStream,
        AccountsStream,
        AccountContactsStream,
        *CATALOG_STREAMS,
        EcommerceOrdersStream,
        EcommerceOrderProductsStream,
        *([WebhookEventsStream] if realtime else []),
    ]
    if config.get("id_scan", False):
        classes.extend(ID_SCAN_STREAMS)
    return classes


def in_run_order(names: t.Iterable[str]) -> list[str]:
    """``names`` sorted by :data:`STREAM_ORDER` (unlisted names after, in their given order)."""
    rank = {name: i for i, name in enumerate(STREAM_ORDER)}
    return sorted(names, key=lambda n: rank.get(n, len(rank)))
