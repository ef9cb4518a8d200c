"""The rest of singer-io's catalog: 41 streams, one declarative row each (``CATALOG``).

Every row names the stream (singer-io's name), its path and envelope key, and how it is
replicated:

- ``FULL_TABLE``: AC offers nothing to detect a change; one pass per run.
- a timestamp key (``udate``, ``mdate``, ``updated_timestamp``, ...): one full pass (AC has no
  update filter on these endpoints, and none would be trusted for completeness: a row whose
  date is null must not be lost), records filtered in the tap on the UTC value, **strictly
  after** the bookmark. The bookmark is capped at the sync start minus 5 minutes (see the
  README), so a record stamped exactly at the bookmark was already read by the run that wrote
  it: ``>`` loses nothing and sends no boundary duplicate. A null key falls back to the
  ``fallback`` field (e.g. ``cdate``); a row with neither is always emitted.
- ``APPEND_ONLY`` (event logs whose rows never change: activities, email activities, deal
  activities, contact emails, sms, contact conversions): the key is the row ``id``, which AC
  assigns in increasing order. The first run reads every row (ascending ids, so rows appended
  during the scan cannot shift a page already read); later runs read newest first
  (``orders[id]=DESC``) and stop at the first page reaching the bookmark, so a run with
  nothing new costs one request. If AC ignores the order (ids not descending), the stream
  falls back to a full pass filtered on ``id > bookmark``. ``start_date`` applies to the first
  run on the row's own date (``start_date_field``: ``tstamp``, ``cdate`` or ``sdate``): older rows
  are not emitted but still move the id bookmark, so the next run costs one request; a row whose
  date is null is emitted.

``addon=True`` marks endpoints that need a plan or an add-on (sms, conversions, site messages,
e-commerce): an account without it answers 403 or 404, and the stream is skipped for this run
with one log line (a 403 is first retried like any other, as AC's 403s can be transient; the
bookmark does not move, so nothing is lost if it was). A 403 on any other stream still stops
the run with "check api_token".
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from singer_sdk.exceptions import FatalAPIError

from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.paging import PAGE_SIZE

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

FULL_TABLE = None
APPEND_ONLY = "id"


@dataclass(frozen=True)
class Row:
    """One stream of the catalog."""

    name: str
    path: str
    records_key: str
    replication_key: str | None = FULL_TABLE
    fallback: str | None = None
    addon: bool = False
    #: the date ``start_date`` is applied to on an append-only log's first run
    start_date_field: str | None = None


CATALOG: tuple[Row, ...] = (
    Row("account_custom_fields", "/accountCustomFieldMeta", "accountCustomFieldMeta",
        "updated_timestamp", "created_timestamp"),
    Row("account_custom_field_values", "/accountCustomFieldData", "accountCustomFieldData",
        "updated_timestamp", "created_timestamp"),
    Row("activities", "/activities", "activities", APPEND_ONLY,
        start_date_field="tstamp"),
    Row("addresses", "/addresses", "addresses"),
    Row("automation_blocks", "/automationBlocks", "automationBlocks", "mdate", "cdate"),
    Row("bounce_logs", "/bounceLogs", "bounceLogs", "updated_timestamp", "created_timestamp"),
    Row("brandings", "/brandings", "brandings"),
    Row("calendars", "/calendars", "calendars", "mdate", "cdate"),
    Row("campaign_links", "/links", "links", "updated_timestamp", "created_timestamp"),
    Row("campaign_lists", "/campaignLists", "campaignLists"),
    Row("campaign_messages", "/campaignMessages", "campaignMessages"),
    Row("configs", "/configs", "configs", "updated_timestamp", "created_timestamp"),
    Row("contact_conversions", "/contactConversions", "contactConversions", APPEND_ONLY,
        addon=True, start_date_field="cdate"),
    Row("contact_custom_field_rels", "/fields", "fieldRels"),
    Row("contact_data", "/contactData", "contactData", "tstamp", "created_timestamp"),
    Row("contact_deals", "/contactDeals", "contactDeals", "updated_timestamp",
        "created_timestamp"),
    Row("contact_emails", "/contactEmails", "contactEmails", APPEND_ONLY,
        start_date_field="sdate"),
    Row("conversions", "/conversions", "conversions", "udate", "cdate", addon=True),
    Row("conversion_triggers", "/conversionTriggers", "conversionTriggers", "udate", "cdate",
        addon=True),
    Row("deal_activities", "/dealActivities", "dealActivities", APPEND_ONLY,
        start_date_field="cdate"),
    Row("deal_custom_fields", "/dealCustomFieldMeta", "dealCustomFieldMeta",
        "updated_timestamp", "created_timestamp"),
    Row("deal_custom_field_values", "/dealCustomFieldData", "dealCustomFieldData",
        "updated_timestamp", "created_timestamp"),
    Row("deal_group_users", "/dealGroupUsers", "dealGroupUsers"),
    Row("ecommerce_connections", "/connections", "connections", "udate", "cdate", addon=True),
    Row("ecommerce_customers", "/ecomCustomers", "ecomCustomers", "tstamp", addon=True),
    Row("ecommerce_order_activities", "/ecomOrderActivities", "ecomOrderActivities",
        "updated_date", "created_date", addon=True),
    Row("email_activities", "/emailActivities", "emailActivities", APPEND_ONLY,
        start_date_field="tstamp"),
    Row("forms", "/forms", "forms", "udate", "cdate"),
    Row("goals", "/goals", "goals"),
    Row("groups", "/groups", "groups"),
    Row("saved_responses", "/savedResponses", "savedResponses", "mdate", "cdate"),
    Row("scores", "/scores", "scores", "mdate", "cdate"),
    Row("segments", "/segments", "segments"),
    Row("site_messages", "/siteMessages", "siteMessages", "ldate", "cdate", addon=True),
    Row("sms", "/sms", "sms", APPEND_ONLY, addon=True, start_date_field="tstamp"),
    Row("task_types", "/dealTasktypes", "dealTasktypes"),
    Row("tasks", "/dealTasks", "dealTasks", "udate", "cdate"),
    Row("templates", "/templates", "templates", "mdate", "cdate"),
    Row("webhooks", "/webhooks", "webhooks"),
)


class AddonUnavailable(FatalAPIError):
    """The account has no access to this endpoint (plan or add-on missing)."""


class CatalogStream(ActiveCampaignStream):
    """One row of :data:`CATALOG`: the behaviour described in the module docstring."""

    addon: t.ClassVar[bool] = False
    start_date_field: t.ClassVar[str | None] = None
    order_by: t.ClassVar[dict[str, str]] = {"orders[id]": "ASC"}

    @property
    def append_only(self) -> bool:
        """Rows never change and ids grow: the id is the bookmark."""
        return self.replication_key == APPEND_ONLY

    @property
    def is_timestamp_replication_key(self) -> bool:
        """``id`` is not a timestamp (the SDK would look for a ``format``)."""
        return bool(self.replication_key) and not self.append_only

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every page (newest first for an append-only log with a bookmark); an endpoint the
        plan lacks is skipped with one log line."""
        self.ac_tap.ensure_account_clock(self)
        emitted = False
        try:
            last_id = self._id_bookmark(context)
            pages = (
                self._newest_first(context, last_id)
                if last_id is not None
                else self.request_pages_concurrently(context)
            )
            for row in pages:
                emitted = True
                yield row
        except AddonUnavailable as exc:
            if emitted:
                raise
            self.logger.warning(
                "stream %s skipped: the account has no access to %s (%s), as when its plan "
                "lacks the add-on; its bookmark is unchanged.",
                self.name,
                self.path,
                exc,
            )
            return
        self.refresh_signpost(context)

    def _id_bookmark(self, context: Context | None) -> int | None:
        if not self.append_only:
            return None
        # without a bookmark the SDK starts from ``start_date``, a date: no id bookmark yet
        return _int(self.get_starting_replication_key_value(context))

    def _newest_first(self, context: Context | None, last_id: int) -> t.Iterator[dict[str, t.Any]]:
        """Pages by descending id down to the bookmark (usually one request)."""
        seen: set[int] = set()
        offset = 0
        while True:
            body = self.fetch({"limit": PAGE_SIZE, "offset": offset, "orders[id]": "DESC"})
            rows = self._rows_list(body)
            ids = [_int(r.get("id")) for r in rows]
            if any(i is None for i in ids) or ids != sorted(ids, key=_key, reverse=True):
                self.logger.warning(
                    "stream %s: orders[id]=DESC was not applied; reading every page", self.name
                )
                yield from self.request_pages_concurrently(context)
                return
            for row, row_id in zip(rows, ids, strict=True):
                if row_id is not None and row_id > last_id and row_id not in seen:
                    seen.add(row_id)  # a row appended meanwhile shifts the pages: once only
                    yield row
            if len(rows) < PAGE_SIZE or _key(ids[-1]) <= last_id:
                return
            offset += PAGE_SIZE

    def is_new_enough(self, record: dict[str, t.Any], context: Context | None) -> bool:
        """Strictly after the bookmark (see the module docstring)."""
        if not self.replication_key:
            return True
        if self.append_only:
            last_id = self._id_bookmark(context)
            if last_id is not None:
                return int(record["id"]) > last_id
            return self._after_start_date(record)
        value = self.replication_value(record)
        if value is None:
            return True
        start = self.starting_bookmark(context)
        return start is None or str(value) > start

    def _after_start_date(self, record: dict[str, t.Any]) -> bool:
        """An append-only log's first run: the row's own date at or after ``start_date``
        (a null date, or no ``start_date``, always passes)."""
        cut = self.start_date_cut()
        value = record.get(self.start_date_field) if self.start_date_field else None
        return cut is None or value is None or str(value) >= cut

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """The typed record, or None; a log row left out by ``start_date`` still moves the id
        bookmark (the next run then reads newest first: one request)."""
        record = super().post_process(row, context)
        if record is None and self.append_only and self._id_bookmark(context) is None:
            row_id = _int(row.get("id"))
            if row_id is not None:
                self._increment_stream_state({"id": row_id}, context=context)
        return record

    def validate_response(self, response: requests.Response) -> None:
        """404 on an add-on endpoint, or a 403 that persists, mean the plan lacks it."""
        if self.addon and response.status_code == 404:
            raise AddonUnavailable(self.response_error_message(response))
        try:
            super().validate_response(response)
        except AddonUnavailable:
            raise
        except FatalAPIError as exc:
            if self.addon and response.status_code == 403:
                raise AddonUnavailable(self.response_error_message(response)) from exc
            raise

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        """An add-on endpoint's 403 retries are quiet: the skip is the one line that counts."""
        response = getattr(details.get("exception"), "response", None)
        if self.addon and getattr(response, "status_code", None) == 403:
            self.logger.debug("stream %s: HTTP 403, retry %d", self.name, details.get("tries", 0))
            return
        super().backoff_handler(details)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _key(value: int | None) -> int:
    return -1 if value is None else value


def stream_class(row: Row) -> type[CatalogStream]:
    """The stream class of one catalog row."""
    attrs: dict[str, t.Any] = {
        "__doc__": f"``GET {row.path}`` (``{row.records_key}``).",
        "__module__": __name__,
        "name": row.name,
        "path": row.path,
        "records_key": row.records_key,
        "replication_key": row.replication_key,
        "replication_fallback": row.fallback,
        "addon": row.addon,
        "start_date_field": row.start_date_field,
        "schema": ActiveCampaignStream.load_schema(row.name),
    }
    class_name = "".join(part.title() for part in row.name.split("_")) + "Stream"
    return type(class_name, (CatalogStream,), attrs)


CATALOG_STREAMS: tuple[type[CatalogStream], ...] = tuple(stream_class(row) for row in CATALOG)


class EcommerceOrdersStream(CatalogStream):
    """``GET /ecomOrders``: client-side filter on ``updated_date``. Each order lists the ids of
    its products (``orderProducts``); the products of the emitted orders are then written
    through ``ecommerce_order_products``, as cheaply as the count allows (see there)."""

    name = "ecommerce_orders"
    path = "/ecomOrders"
    records_key = "ecomOrders"
    replication_key = "updated_date"
    replication_fallback = "created_date"
    addon = True
    schema = ActiveCampaignStream.load_schema("ecommerce_orders")

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The orders, then (every order written) the products of the emitted ones."""
        self._emitted: set[int] = set()
        self._products_seen = 0
        yield from super().get_records(context)
        if self._emitted:
            for child in self.child_streams:
                if isinstance(child, EcommerceOrderProductsStream) and (
                    child.selected or child.has_selected_descendents
                ):
                    child.orders = frozenset(self._emitted)
                    child.products_in_account = self._products_seen
                    child.sync(context={"ecommerce_orders": "emitted"})

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """The typed order; the products of every order are counted, the emitted kept."""
        products = row.get("orderProducts")
        self._products_seen += len(products) if isinstance(products, list) else 0
        record = super().post_process(row, context)
        if record is not None:
            self._emitted.add(int(record["id"]))
        return record

    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> t.Iterable[dict[str, t.Any] | None]:
        """None per record: the products are written once, after the orders."""
        return ()


class EcommerceOrderProductsStream(CatalogStream):
    """The products of the orders ``ecommerce_orders`` emitted (an order's ``updated_date``
    moves when its products change). Whichever costs fewer requests: one
    ``/ecomOrders/{id}/orderProducts`` per emitted order (a few changed orders), or one pass
    over ``/ecomOrderProducts`` kept to those orders (a first sync: singer-io asks once per
    order, every run)."""

    name = "ecommerce_order_products"
    path = "/ecomOrderProducts"
    records_key = "ecomOrderProducts"
    parent_stream_type = EcommerceOrdersStream
    state_partitioning_keys: t.ClassVar[list[str]] = []
    replication_key = None
    addon = True
    schema = ActiveCampaignStream.load_schema("ecommerce_order_products")
    orders: frozenset[int] = frozenset()
    products_in_account = 0

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The products of :attr:`orders`."""
        orders = set(self.orders)
        scan_pages = -(-self.products_in_account // PAGE_SIZE)
        if len(orders) <= scan_pages:
            for order in sorted(orders):
                path = f"/ecomOrders/{order}/orderProducts"
                offset = 0
                while True:
                    rows = self._rows_list(
                        self.fetch({"limit": PAGE_SIZE, "offset": offset}, path=path)
                    )
                    yield from rows
                    if len(rows) < PAGE_SIZE:
                        break
                    offset += PAGE_SIZE
            return
        for row in super().get_records(context):
            if _int(row.get("orderid")) in orders:
                yield row
