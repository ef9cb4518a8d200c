"""The contacts' child streams: memberships, tags and custom field values.

By default they are fed from the sideloaded arrays of the contacts pages (no requests of
their own, see streams/contacts.py). With ``membership_full_scan`` they are read instead
from their own collections in full (the scan streams), which also sees rows whose contact
did not change.
"""

from __future__ import annotations

import typing as t

from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.streams.contacts import ContactsStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class _SideloadedChild(ActiveCampaignStream):
    """A child stream written from the sideloads of the contacts pages (no requests)."""

    parent_stream_type = ContactsStream
    state_partitioning_keys = []
    replication_key = None
    _schema_written = False

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The rows the parent stashed for this page."""
        if not context:
            return
        parent = self.ac_tap.streams["contacts"]
        assert isinstance(parent, ContactsStream)
        yield from parent.take_child_rows(int(context["contacts_page"]), self.name)

    def _write_schema_message(self) -> None:
        """Once per run, not once per page."""
        if not self._schema_written:
            super()._write_schema_message()
            self._schema_written = True


class ContactListsStream(_SideloadedChild):
    """List memberships of the changed contacts (``include=contactLists``)."""

    name = "contact_lists"
    path = "/contactLists"
    records_key = "contactLists"
    schema = ActiveCampaignStream.load_schema("contact_lists")


class ContactTagsStream(_SideloadedChild):
    """Tags of the changed contacts (``include=contactTags.tag``)."""

    name = "contact_tags"
    path = "/contactTags"
    records_key = "contactTags"
    schema = ActiveCampaignStream.load_schema("contact_tags")


class ContactCustomFieldValuesStream(_SideloadedChild):
    """Custom field values of the changed contacts (``include=fieldValues``)."""

    name = "contact_custom_field_values"
    path = "/fieldValues"
    records_key = "fieldValues"
    schema = ActiveCampaignStream.load_schema("contact_custom_field_values")


class ContactListsScanStream(ActiveCampaignStream):
    """``membership_full_scan``: every membership, ``GET /contactLists``, filter on udate."""

    name = "contact_lists"
    path = "/contactLists"
    records_key = "contactLists"
    replication_key = "udate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_lists")


class ContactTagsScanStream(ActiveCampaignStream):
    """``membership_full_scan``: every contact tag, ``GET /contactTags``, filter on cdate."""

    name = "contact_tags"
    path = "/contactTags"
    records_key = "contactTags"
    replication_key = "cdate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_tags")


class ContactCustomFieldValuesScanStream(ActiveCampaignStream):
    """``membership_full_scan``: every field value, ``GET /fieldValues``, filter on udate."""

    name = "contact_custom_field_values"
    path = "/fieldValues"
    records_key = "fieldValues"
    replication_key = "udate"
    order_by = {"orders[id]": "ASC"}
    schema = ActiveCampaignStream.load_schema("contact_custom_field_values")
