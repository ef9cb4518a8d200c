"""Contacts, with their list memberships, tags and custom field values.

One request per 100 contacts brings the contacts *and* their memberships, tags and field
values (``include=contactLists,contactTags.tag,fieldValues``). The three child streams are
fed from those sideloaded arrays, page by page, without requests of their own.

Paging is keyset paging (``orders[id]=ASC`` + ``id_greater``) over id ranges read by a few
threads at once under the process-wide request budget, so a full sync runs close to the rate
limit even when each request takes 500 ms. Each range's position only advances past records
already written, and is saved in the stream state with every STATE message: a run killed at
any point resumes near where it stopped.

Completeness never rests on the date filter (the rule of ``server_filter``, see client.py): a
sync without a bookmark or without ``max_id`` reads every id range in full; an incremental
sync reads ``(max_id, ∞)`` in full (the contacts created since, whatever their dates) and
``(0, max_id]`` through ``filters[updated_after]`` (the changed ones).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import typing as t

from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException

from tap_activecampaign.client import ActiveCampaignStream
from tap_activecampaign.paging import PAGE_SIZE, IdRange, meta_total, split_id_range
from tap_activecampaign.streams.contacts_plan import (
    MAX_ID,
    SIDELOADS,
    SYNC_KEY,
    Failure,
    Page,
    SyncPlan,
    contact_ref,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context

class ContactsStream(ActiveCampaignStream):
    """``GET /contacts``: keyset paging by id ranges; new contacts by id, changed ones through
    ``filters[updated_after]`` (bookmark minus the lookback window), then the exact
    client-side filter on ``udate`` (UTC, ``cdate`` when null)."""

    name = "contacts"
    path = "/contacts"
    records_key = "contacts"
    replication_key = "udate"
    server_filter = "filters[updated_after]"
    schema = ActiveCampaignStream.load_schema("contacts")
    resume_note = "resumable: each id range's position is saved with every STATE"
    #: Contacts ranges read at once (threads); the pacer keeps the total under the limit.
    workers = 6
    #: At most this many id ranges (several per worker, so the tail stays busy).
    max_ranges = 24

    # --- configuration ----------------------------------------------------------------

    @property
    def sideload_children(self) -> bool:
        """Memberships, tags and values come from sideloads unless a full scan is asked."""
        return not bool(self.config.get("membership_full_scan", False))

    def _includes(self) -> str:
        wanted = ["contactTags.tag"]  # always: fills the `tags` array of names
        if self.sideload_children:
            selected = {c.name for c in self.child_streams if c.selected}
            if "contact_lists" in selected:
                wanted.append("contactLists")
            if "contact_custom_field_values" in selected:
                wanted.append("fieldValues")
        return ",".join(wanted)

    def _base_params(self) -> dict[str, t.Any]:
        return {"limit": PAGE_SIZE, "include": self._includes()}

    @staticmethod
    def _range_params(plan: SyncPlan, id_range: IdRange) -> dict[str, str]:
        """The update filter for a ``changed`` range, nothing for a range read in full."""
        return dict(plan.changed_filter or {}) if id_range.changed else {}

    # --- state --------------------------------------------------------------------------

    def get_replication_key_signpost(self, context: Context | None = None) -> str | None:
        """A resumed sync keeps the start time of the run it resumes."""
        saved = self.stream_state.get(SYNC_KEY)
        if isinstance(saved, dict) and saved.get("started_at"):
            return str(saved["started_at"])
        return self.ac_tap.sync_started_at()

    def _save(self, plan: SyncPlan) -> None:
        self.stream_state[SYNC_KEY] = plan.to_state()
        self.state_manager.is_flushed = False
        self._write_state_message()

    def _load_plan(self) -> SyncPlan | None:
        saved = self.stream_state.get(SYNC_KEY)
        if not isinstance(saved, dict) or not saved.get("ranges"):
            return None
        ranges = [IdRange.from_state(r) for r in saved["ranges"]]
        self.logger.info(
            "contacts: resuming an interrupted sync (%d of %d id ranges left)",
            sum(not r.done for r in ranges),
            len(ranges),
        )
        return SyncPlan.from_state(saved, ranges, self.ac_tap.sync_started_at)

    def _finish(self, plan: SyncPlan) -> None:
        """A complete sync: the bookmark becomes the newest ``udate`` seen (capped by the SDK
        at the sync start), and the backfill position is dropped."""
        state = self.stream_state
        state.pop(SYNC_KEY, None)
        self.save_max_id(plan.max_id)
        if plan.max_udate is not None:
            markers = state.setdefault("progress_markers", {})
            current = markers.get("replication_key_value")
            markers["replication_key"] = self.replication_key
            markers["replication_key_value"] = max(plan.max_udate, str(current or ""))
        self.state_manager.is_flushed = False

    # --- records ------------------------------------------------------------------------

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every contact new or changed since the last sync (all on a first sync), each once."""
        self.ac_tap.ensure_account_clock(self)
        params = self._base_params()
        plan = self._load_plan()
        first_page: Page | None = None
        if plan is None:
            plan, first_page = self._new_plan(params, context)
            self._save(plan)
        yield from self._emit_all(plan, params, first_page)
        self.refresh_signpost(context)
        self._finish(plan)

    def _new_plan(
        self, params: dict[str, t.Any], context: Context | None
    ) -> tuple[SyncPlan, Page | None]:
        """A first sync: every id, in ranges. An incremental one: the ids above ``max_id`` in
        full (one range), and below it the changed contacts, in ranges."""
        changed = self.changed_rows_filter(context)
        max_id = self.saved_max_id()
        if changed is None or max_id is None:
            plan, page = self._plan_ranges(params, hi=MAX_ID)
            if page is not None:
                plan.max_id = page.last_id  # the top of the account when the sync started
            return plan, page
        plan, page = self._plan_ranges({**params, **changed}, hi=max_id)
        for id_range in plan.ranges:
            id_range.changed = True
        plan.changed_filter = changed
        plan.ranges.append(IdRange(lo=max_id, hi=MAX_ID, pos=max_id))
        plan.max_id = max_id
        return plan, page

    def _plan_ranges(self, params: dict[str, t.Any], hi: int) -> tuple[SyncPlan, Page | None]:
        """Read the highest ids up to ``hi`` first (``orders[id]=DESC``): that page is real
        data, and its ids and ``meta.total`` tell how to cut the rest into ranges."""
        bound = {"id_less": hi + 1} if hi < MAX_ID else {}
        body = self.fetch({**params, "orders[id]": "DESC", "id_greater": 0, **bound})
        started_at = self.ac_tap.sync_started_at()  # after a response: AC's clock is known
        contacts = [c for c in body.get("contacts") or [] if isinstance(c, dict)]
        if not contacts:
            return SyncPlan(started_at=started_at, ranges=[]), None
        raw_ids = [int(c["id"]) for c in contacts]
        ids = sorted(raw_ids)
        total = meta_total(body)
        page = Page(
            range_index=0,
            contacts=sorted(contacts, key=lambda c: int(c["id"])),
            sideloads=self._sideloads(body),
            last_id=ids[-1],
            done=True,
        )
        if len(contacts) < PAGE_SIZE:  # a short page: there is nothing below it
            top = IdRange(lo=ids[0] - 1, hi=ids[-1], pos=ids[0] - 1)
            return SyncPlan(started_at=started_at, ranges=[top]), page
        if raw_ids[0] < raw_ids[-1]:
            # orders[id]=DESC was not honoured: the page holds the lowest ids instead.
            self.logger.warning("contacts: descending id order not supported, paging one range")
            first = IdRange(lo=0, hi=ids[-1], pos=0)
            rest = IdRange(lo=ids[-1], hi=hi, pos=ids[-1])
            return SyncPlan(started_at=started_at, ranges=[first, rest]), page
        top = IdRange(lo=ids[0] - 1, hi=ids[-1], pos=ids[0] - 1)
        parts = min(self.max_ranges, self.workers * 2)
        # meta.total only sizes the ranges (it can lag): the ranges always cover every id
        # below the first page, and each ends on a short page or at its id bound
        remaining = (total - len(contacts)) if total is not None else 0
        if remaining <= 0:  # no usable total: guess from the id density of the first page
            density = len(contacts) / max(1, ids[-1] - ids[0] + 1)
            remaining = max(PAGE_SIZE, round((ids[0] - 1) * density))
        below = split_id_range(ids[0] - 1, remaining, parts)
        return SyncPlan(started_at=started_at, ranges=[top, *below]), page

    @staticmethod
    def _sideloads(body: t.Mapping[str, t.Any]) -> dict[str, list[dict[str, t.Any]]]:
        found: dict[str, list[dict[str, t.Any]]] = {}
        for key in (*SIDELOADS, "tags"):
            rows = body.get(key)
            if isinstance(rows, list):
                found[key] = [r for r in rows if isinstance(r, dict)]
        return found

    def _emit_all(
        self, plan: SyncPlan, params: dict[str, t.Any], first_page: Page | None
    ) -> Iterator[dict[str, t.Any]]:
        pending = [i for i, r in enumerate(plan.ranges) if not r.done]
        if first_page is not None:
            yield from self._emit_page(plan, first_page)
            pending = [i for i in pending if i != first_page.range_index]
        if not pending:
            return
        pages: queue.Queue[Page | Failure | None] = queue.Queue(maxsize=self.workers * 2)
        stop = threading.Event()
        todo: queue.Queue[int] = queue.Queue()
        for index in pending:
            todo.put(index)
        threads = [
            threading.Thread(
                target=self._worker,
                args=(plan, params, todo, pages, stop),
                name=f"contacts-{n}",
                daemon=True,
            )
            for n in range(min(self.workers, len(pending)))
        ]
        for thread in threads:
            thread.start()
        running = len(threads)
        try:
            while running:
                item = pages.get()
                if item is None:
                    running -= 1
                    continue
                if isinstance(item, Failure):
                    raise item.error
                yield from self._emit_page(plan, item)
        finally:
            stop.set()
            while any(th.is_alive() for th in threads):
                with contextlib.suppress(queue.Empty):
                    pages.get(timeout=0.05)

    def _worker(
        self,
        plan: SyncPlan,
        params: dict[str, t.Any],
        todo: queue.Queue[int],
        pages: queue.Queue[Page | Failure | None],
        stop: threading.Event,
    ) -> None:
        def put(item: Page | Failure | None) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                except queue.Full:
                    continue
                return True
            return False

        try:
            while not stop.is_set():
                try:
                    index = todo.get_nowait()
                except queue.Empty:
                    break
                id_range = plan.ranges[index]
                position = id_range.pos
                while not stop.is_set():
                    body = self.fetch(
                        {
                            **params,
                            **self._range_params(plan, id_range),
                            "orders[id]": "ASC",
                            "id_greater": position,
                            "id_less": id_range.hi + 1,
                        }
                    )
                    rows = [c for c in body.get("contacts") or [] if isinstance(c, dict)]
                    ids = [int(c["id"]) for c in rows]
                    in_range = [c for c, i in zip(rows, ids, strict=True) if i <= id_range.hi]
                    # a short page or the id bound ends the range, never meta.total (a hint)
                    done = len(rows) < PAGE_SIZE or any(i >= id_range.hi for i in ids)
                    last = max((i for i in ids if i <= id_range.hi), default=position)
                    page = Page(index, in_range, self._sideloads(body), last, done)
                    if not put(page):
                        return
                    if done or last <= position:
                        break
                    position = last
        except BaseException as exc:  # handed to the writer thread, which raises it
            put(Failure(exc))
        finally:
            put(None)

    def _emit_page(self, plan: SyncPlan, page: Page) -> Iterator[dict[str, t.Any]]:
        """Yield the page's new-enough contacts, then write their sideloaded rows."""
        tag_names = {
            int(tag["id"]): str(tag.get("tag") or "")
            for tag in page.sideloads.get("tags", [])
            if tag.get("id") is not None
        }
        tags_of: dict[int, list[str]] = {}
        for row in page.sideloads.get("contactTags", []):
            contact_id, tag_id = contact_ref(row.get("contact")), contact_ref(row.get("tag"))
            if contact_id is not None and tag_id in tag_names:
                tags_of.setdefault(contact_id, []).append(tag_names[tag_id])

        id_range = plan.ranges[page.range_index]
        # changed contacts are cut at the bookmark, contacts read in full at start_date only
        cut = self.cut_for(None, changed=id_range.changed)
        if not id_range.changed and page.contacts:
            top = max(int(c["id"]) for c in page.contacts)
            plan.max_id = top if plan.max_id is None else max(plan.max_id, top)
        records: list[dict[str, t.Any]] = []
        for raw in sorted(page.contacts, key=lambda c: int(c["id"])):
            record = self.normalize(raw)
            record["tags"] = sorted(tags_of.get(int(record["id"]), []))
            if self.reaches(record, cut):
                records.append(record)

        # a dry run (--test) stops after the first contact: its rows go first so they show
        dry_run = self.ABORT_AT_RECORD_COUNT is not None
        if dry_run:
            self._write_children(page, records)
        for record in records:
            value = self.replication_value(record)
            if value is not None and (plan.max_udate is None or value > plan.max_udate):
                plan.max_udate = str(value)
            yield record
        if not dry_run:
            # after the page's contacts (a consumer sees a contact before its rows), before
            # the page's STATE (which therefore covers both)
            self._write_children(page, records)
        id_range.pos = max(id_range.pos, page.last_id)
        id_range.done = page.done
        self._save(plan)

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        """Records are normalised and filtered while their page is read."""
        return row

    # --- children -----------------------------------------------------------------------

    @property
    def _child_rows(self) -> dict[int, dict[str, list[dict[str, t.Any]]]]:
        store = self.__dict__.get("_child_rows_store")
        if store is None:
            store = {}
            self.__dict__["_child_rows_store"] = store
        return t.cast("dict[int, dict[str, list[dict[str, t.Any]]]]", store)

    def _write_children(self, page: Page, records: list[dict[str, t.Any]]) -> None:
        """The sideloaded rows of the written contacts of one page, through the children."""
        if not records or not self.sideload_children:
            return
        keep = {int(r["id"]) for r in records}
        key = int(records[0]["id"])
        self._child_rows[key] = {
            SIDELOADS[name]: [r for r in rows if contact_ref(r.get("contact")) in keep]
            for name, rows in page.sideloads.items()
            if name in SIDELOADS
        }
        try:
            self._sync_page_children({"contacts_page": key})
        finally:
            self._child_rows.pop(key, None)

    def generate_child_contexts(
        self, record: dict[str, t.Any], context: Context | None
    ) -> t.Iterable[dict[str, t.Any] | None]:
        """None per record: the children are written once per page by :meth:`_emit_page`."""
        return ()

    def _sync_page_children(self, context: dict[str, t.Any]) -> None:
        """Write one page's sideloaded rows through the child streams (as the SDK would)."""
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                with contextlib.suppress(AbortedSyncFailedException, AbortedSyncPausedException):
                    child.sync(context=dict(context))

    def take_child_rows(self, page_key: int, stream_name: str) -> list[dict[str, t.Any]]:
        """The sideloaded rows of one page for one child stream."""
        return self._child_rows.get(page_key, {}).get(stream_name, [])

