"""Find the run's Brevo folder, lists and campaign drafts again, create them idempotently.

They are found by the `[key]` suffix of their names (name_keys.py); attributes are resolved
by the `AttributeCatalog` this class extends (attribute_catalog.py).
"""

from __future__ import annotations

import logging
import typing as t

from target_brevo.attribute_catalog import AttributeCatalog
from target_brevo.lookups import create_then_lookup, created_id
from target_brevo.name_keys import draft_keys, key_of, with_key

if t.TYPE_CHECKING:
    from target_brevo.client import BrevoClient

LOGGER = logging.getLogger("target_brevo.resolve")


class Resolver(AttributeCatalog):
    """Caches what exists in Brevo for one run; creates what is missing."""

    def __init__(self, client: BrevoClient, folder_name: str, prefix: str) -> None:
        super().__init__(client)
        self.folder_name = folder_name
        self.prefix = prefix
        self._folder_id: int | None = None
        self._lists: dict[str, tuple[int, str]] | None = None  # key → (id, full name)
        self.list_sizes: dict[int, int] = {}  # members when the lists were read
        self.created_lists: set[int] = set()  # created by this run: only we added members
        self._campaigns: dict[str, dict[str, t.Any]] | None = None
        self._all_campaigns: dict[str, dict[str, t.Any]] | None = None

    # -- folder -----------------------------------------------------------------------
    def _find_folder(self) -> int | None:
        folders = self._paged("/contacts/folders", "folders", 50, sort="asc")
        ids = sorted(int(f["id"]) for f in folders if f.get("name") == self.folder_name)
        return ids[0] if ids else None

    def folder_id(self) -> int:
        if self._folder_id is None:
            found = self._find_folder()
            if found is None:

                def create() -> int:
                    body = self.client.request(
                        "POST", "/contacts/folders", body={"name": self.folder_name}
                    ).body
                    self._count("folders")
                    return created_id(body, "POST /contacts/folders")

                found = create_then_lookup(
                    create, self._find_folder, f"folder {self.folder_name!r}", **self._retry
                )
            self._folder_id = found
        return self._folder_id

    # -- lists ------------------------------------------------------------------------
    def _load_lists(self) -> dict[str, tuple[int, str]]:
        folder = self.folder_id()
        lists = self._paged(f"/contacts/folders/{folder}/lists", "lists", 50, sort="asc")
        found: dict[str, tuple[int, str]] = {}
        for item in sorted(lists, key=lambda x: int(x["id"])):
            key = key_of(str(item.get("name", "")))
            if key and key not in found:  # duplicates: the oldest one wins, always the same
                found[key] = (int(item["id"]), str(item["name"]))
                size = item.get("uniqueSubscribers", item.get("totalSubscribers"))
                self.list_sizes[int(item["id"])] = int(size) if size is not None else 10**9
        return found

    def lists(self) -> dict[str, tuple[int, str]]:
        if self._lists is None:
            self._lists = self._load_lists()
        return self._lists

    def list_key(self, source_id: t.Any) -> str:
        return f"{self.prefix}list-{source_id}"

    @property
    def master_key(self) -> str:
        return f"{self.prefix}all"

    def find_list(self, key: str) -> int | None:
        hit = self.lists().get(key)
        return hit[0] if hit else None

    def ensure_list(self, key: str, name: str) -> int:
        """The Brevo list for `key`, created in the folder or renamed when needed."""
        full = with_key(name, key)
        lists = self.lists()
        if key in lists:
            list_id, current = lists[key]
            if current != full:
                self.client.request("PUT", f"/contacts/lists/{list_id}", body={"name": full})
                lists[key] = (list_id, full)
                self._count("list_renames")
            return list_id
        folder = self.folder_id()

        def create() -> int:
            body = self.client.request(
                "POST", "/contacts/lists", body={"name": full, "folderId": folder}
            ).body
            self._count("lists")
            return created_id(body, "POST /contacts/lists")

        def lookup() -> int | None:
            self._lists = self._load_lists()
            hit = self._lists.get(key)
            return hit[0] if hit else None

        list_id = create_then_lookup(create, lookup, f"list {full!r}", **self._retry)
        self.lists()[key] = (list_id, full)
        self.list_sizes.setdefault(list_id, 0)
        self.created_lists.add(list_id)
        return list_id

    def master_list(self) -> int:
        return self.ensure_list(self.master_key, "All synced contacts")

    # -- campaigns ----------------------------------------------------------------------
    def _load_campaigns(self, status: str | None = "draft") -> dict[str, dict[str, t.Any]]:
        """Campaigns by identity key; drafts only by default (the ones the target may write:
        fewer pages of the 100-an-hour bucket)."""
        params: dict[str, t.Any] = {"sort": "asc"}
        if status is not None:
            params["status"] = status
        items = self._paged("/emailCampaigns", "campaigns", 100, **params)
        found: dict[str, dict[str, t.Any]] = {}
        for item in sorted(items, key=lambda x: int(x["id"])):
            keys = draft_keys(str(item.get("name", "")))
            if keys and keys[0].startswith(self.prefix) and keys[0] not in found:
                found[keys[0]] = item  # duplicates: the oldest one wins, always the same
        return found

    def campaigns(self) -> dict[str, dict[str, t.Any]]:
        if self._campaigns is None:
            self._campaigns = self._load_campaigns()
        return self._campaigns

    def campaign_any_status(self, key: str) -> dict[str, t.Any] | None:
        """A campaign that is no longer a draft (sent, scheduled…): read once per run, only
        when a draft is about to be created, so a sent campaign never gets a second draft."""
        if self._all_campaigns is None:
            self._all_campaigns = self._load_campaigns(status=None)
        return self._all_campaigns.get(key)

    def campaigns_carrying(self, key: str) -> dict[str, dict[str, t.Any]]:
        """Drafts (identity key → draft) whose name also carries `key` (a message key)."""
        out: dict[str, dict[str, t.Any]] = {}
        for identity, item in self.campaigns().items():
            keys = draft_keys(str(item.get("name", "")))
            if keys and key in keys[1]:
                out[identity] = item
        return out

    def create_campaign(self, key: str, body: dict[str, t.Any]) -> int:
        def create() -> int:
            resp = self.client.request("POST", "/emailCampaigns", body=body).body
            self._count("campaigns")
            return created_id(resp, "POST /emailCampaigns")

        def lookup() -> int | None:
            self._campaigns = self._load_campaigns()
            hit = self._campaigns.get(key)
            return int(hit["id"]) if hit else None

        campaign_id = create_then_lookup(
            create, lookup, f"campaign {body.get('name')!r}", **self._retry
        )
        self.campaigns()[key] = {**body, "id": campaign_id}
        return campaign_id
