"""What a completed source version no longer holds stops living in Brevo (`delete_policy`).

A tap marks "this stream is complete now" the Singer way: the records of one full-table
version, then ``ACTIVATE_VERSION`` (the ActiveCampaign tap's ``*_ids`` id scans, mapped here with
``{"kind": "deletes", "of": <stream>}``). When a version completes, the Brevo objects this
pipeline created for the covered stream and that the version did not contain are handled by the
policy:

- ``ignore``: nothing is touched (the run logs what it would have handled).
- ``mark`` (default): contacts get ``AC_DELETED_AT`` (a date attribute) and leave every list of
  the folder (the ``[ac-all]`` list included); lists are emptied and renamed
  ``[deleted in ActiveCampaign] Name [ac-list-3]``; campaign drafts are renamed the same way.
  Nothing else is touched, and all of it is visible and reversible by hand.
- ``delete``: contacts, lists and campaign drafts are deleted in Brevo.

Only objects the pipeline created are candidates: contacts whose ``EXT_ID`` is the covered
stream's prefix followed by an integer key, lists of the folder whose name ends with
``[<prefix>list-<id>]`` (never ``[<prefix>all]``), drafts whose name starts its key suffix with
``<prefix>campaign-<id>``. Keys above the version's highest key are never candidates (created
after the scan read that far). Sent or scheduled campaigns are never touched.

The guard: "the last version" is what the pipeline holds in Brevo itself (its live objects for
the stream: what the previous version left plus what was created since; no local file, nothing
in STATE). A version smaller than ``delete_guard_percent`` (90) percent of that, or an empty
version, stops the run with an operator-readable error before anything is touched, unless it
would handle at most ``delete_guard_min_count`` objects.

This module is the policy and the guard; the version keys and the scans of what Brevo holds
(and their memory bounds) are in delete_scans.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import typing as t

from target_brevo.delete_scans import (
    DELETED_ATTRIBUTE,
    DELETED_MARK,
    Census,
    Version,
    contacts_census,
    named_census,
)
from target_brevo.errors import BrevoInvalid, BrevoNotFound
from target_brevo.mapping import stream_mapping
from target_brevo.name_keys import draft_keys, key_of
from target_brevo.settings import Settings

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from target_brevo.sync import Syncer

LOGGER = logging.getLogger("target_brevo.deletes")

CONTACTS_PAGE = 1000  # Brevo's maximum for GET /contacts
SAMPLE = 5


class DeleteGuardError(RuntimeError):
    """A suspiciously small version: nothing was deleted, the run stops before STATE."""


class Reconciler:
    """Collects version keys per stream; handles a completed version per `delete_policy`."""

    def __init__(self, syncer: Syncer) -> None:
        self.syncer = syncer
        settings = Settings.of(syncer.config)
        self.policy = settings.delete_policy
        self.guard_ratio = settings.delete_guard_percent / 100
        self.guard_min = settings.delete_guard_min_count
        self.versions: dict[str, Version] = {}
        self.summary: dict[str, dict[str, int]] = {}

    # -- records ------------------------------------------------------------------------
    def add(self, stream: str, version: int | None, key: t.Any) -> None:
        """One record of a `deletes` stream."""
        if version is None:
            return  # not part of a version: it can never complete
        current = self.versions.get(stream)
        if current is None or current.version != version:
            if current is not None:
                LOGGER.warning(
                    "%s: version %d was never activated; its keys are dropped (version %d "
                    "started)", stream, current.version, version,
                )
            current = self.versions[stream] = Version(stream, version)
        try:
            current.keys.add(int(key))
        except (TypeError, ValueError):
            current.bad_keys += 1

    # -- activation ---------------------------------------------------------------------
    def activate(self, stream: str, version: int, mapping: t.Mapping[str, t.Any]) -> None:
        """`ACTIVATE_VERSION`: the version is complete if its records came before it."""
        current = self.versions.pop(stream, None)
        if current is None or current.version != version:
            # e.g. the activation some taps send before a version's first record
            LOGGER.info("%s: ACTIVATE_VERSION %d without records of it; nothing to compare",
                        stream, version)
            return
        current.keys.freeze()
        covered = str(mapping.get("of") or "")
        if not covered:
            LOGGER.warning("%s: a deletes stream without `of`; nothing handled", stream)
            return
        if current.bad_keys:
            msg = (f"{stream}: version {version} has {current.bad_keys} records whose key is "
                   "not an integer; nothing was deleted")
            raise DeleteGuardError(msg)
        kind = str(stream_mapping(self.syncer.config, covered)["kind"])
        handler = {
            "contacts": self._contacts,
            "lists": self._lists,
            "campaigns": self._campaigns,
        }.get(kind)
        if handler is None:
            LOGGER.info(
                "%s: version %d complete (%d keys); %s (%s) has no Brevo object per record, "
                "nothing to delete", stream, version, current.keys.count, covered, kind,
            )
            return
        handler(current, covered)

    # -- the guard ----------------------------------------------------------------------
    def _check(self, what: str, version: Version, census: Census) -> None:
        n = version.keys.count
        todo = len(census.candidates)
        LOGGER.info(
            "%s: version %d holds %d keys; Brevo holds %d live %s of this pipeline "
            "(%d marked deleted, %d newer than the scan); %d absent from the version",
            version.stream, version.version, n, census.live, what, census.marked, census.newer,
            todo,
        )
        if todo == 0:
            return
        too_small = n == 0 or n < self.guard_ratio * census.live
        if too_small and todo > self.guard_min:
            ratio = n / census.live if census.live else 0.0
            msg = (
                f"{version.stream}: delete guard: the complete scan holds {n} {what}, "
                f"{ratio:.0%} of the {census.live} this pipeline holds in Brevo (under "
                f"delete_guard_percent {self.guard_ratio:.0%}); {todo} would be handled "
                f"(delete_policy {self.policy}). Nothing was deleted; the run stops here. "
                "If ActiveCampaign really lost them, check the source account, then run the "
                "reconciliation once with a lower delete_guard_percent (e.g. "
                "TARGET_BREVO_DELETE_GUARD_PERCENT=50)."
            )
            raise DeleteGuardError(msg)

    def _report(self, version: Version, what: str, census: Census, sample: list[str]) -> bool:
        """Log the plan; True when it must be carried out (not a dry run, not `ignore`)."""
        todo = len(census.candidates)
        entry = self.summary.setdefault(version.stream, {})
        entry["absent"] = todo
        if todo == 0:
            return False
        action = {"ignore": "leave", "mark": "mark", "delete": "delete"}[self.policy]
        if self.syncer.dry_run or self.policy == "ignore":
            LOGGER.info(
                "%s%s: would %s %d %s absent from version %d (sample keys %s)",
                "DRY RUN: " if self.syncer.dry_run else "delete_policy ignore: ",
                version.stream, action, todo, what, version.version, sample,
            )
            self.syncer.count(f"would_{action}_{what}", todo)
            return False
        LOGGER.info("%s: %s %d %s absent from version %d (sample keys %s)",
                    version.stream, action, todo, what, version.version, sample)
        return True

    # -- contacts -----------------------------------------------------------------------
    def _pages(self, path: str, item_key: str, limit: int) -> Iterator[dict[str, t.Any]]:
        offset = 0
        client = self.syncer.client
        while True:
            body = client.get(path, {"limit": limit, "offset": offset, "sort": "asc"}) or {}
            items = body.get(item_key) or []
            yield from items
            offset += len(items)
            count = body.get("count")
            if len(items) < limit or (isinstance(count, int) and offset >= count):
                return

    def contacts_census(
        self, version: Version, prefix: str, folder_lists: set[int],
        pages: t.Iterable[dict[str, t.Any]] | None = None,
    ) -> Census:
        """One pass over Brevo's contacts (`pages`, else all of them, read here)."""
        rows = pages if pages is not None else self._pages("/contacts", "contacts",
                                                           CONTACTS_PAGE)
        return contacts_census(rows, version, prefix, folder_lists,
                               include_marked=self.policy == "delete")

    def _contacts(self, version: Version, covered: str) -> None:
        syncer = self.syncer
        prefix = str(stream_mapping(syncer.config, covered)["ext_id_prefix"])
        folder_lists = {list_id for list_id, _ in self._folder_lists().values()}
        census = self.contacts_census(version, prefix, folder_lists)
        self._check("contacts", version, census)
        cands = census.candidates
        sample = [f"{prefix}{k}" for k in cands.keys[:SAMPLE]]
        if not self._report(version, "contacts", census, sample):
            return
        client = syncer.client
        done = 0
        if self.policy == "delete":
            for brevo_id in cands.ids:
                # a 404: gone already (by hand, or by an earlier interrupted run)
                with contextlib.suppress(BrevoNotFound):
                    client.request("DELETE", f"/contacts/{brevo_id}",
                                   params={"identifierType": "contact_id"})
                done += 1
        else:
            syncer.resolver.ensure_attribute(DELETED_ATTRIBUTE, "date")
            today = dt.datetime.now(dt.UTC).date().isoformat()
            for i, brevo_id in enumerate(cands.ids):
                body: dict[str, t.Any] = {"attributes": {DELETED_ATTRIBUTE: today}}
                lists = cands.lists_of(i)
                if lists:
                    body["unlinkListIds"] = lists
                with contextlib.suppress(BrevoNotFound):
                    client.request("PUT", f"/contacts/{brevo_id}",
                                   params={"identifierType": "contact_id"}, body=body)
                done += 1
        syncer.count("deleted_contacts" if self.policy == "delete" else "marked_contacts", done)
        self.summary[version.stream]["handled"] = done

    # -- lists --------------------------------------------------------------------------
    def _folder_lists(self) -> dict[str, tuple[int, str]]:
        """The folder's lists by key; a dry run never creates the folder to read them."""
        resolver = self.syncer.resolver
        if self.syncer.dry_run and resolver._folder_id is None and resolver._find_folder() is None:
            return {}
        return resolver.lists()

    def _lists(self, version: Version, covered: str) -> None:
        syncer = self.syncer
        resolver = syncer.resolver
        prefix = f"{resolver.prefix}list-"
        census = named_census(
            ((list_id, key, name) for key, (list_id, name) in sorted(self._folder_lists().items())),
            prefix, version, include_marked=self.policy == "delete",
        )
        self._check("lists", version, census)
        cands = census.candidates
        if not self._report(version, "lists", census, [f"{prefix}{k}" for k in cands.keys]):
            return
        client = syncer.client
        for i, list_id in enumerate(cands.ids):
            name = cands.names[i]
            try:
                if self.policy == "delete":
                    client.request("DELETE", f"/contacts/lists/{list_id}")
                else:
                    try:  # empty it: Brevo answers 400 when there is nobody to remove
                        client.request("POST", f"/contacts/lists/{list_id}/contacts/remove",
                                       body={"all": True}, idempotent=True)
                    except BrevoNotFound:
                        raise
                    except BrevoInvalid as exc:
                        LOGGER.info("%s: list %d not emptied: %s", version.stream, list_id, exc)
                    client.request("PUT", f"/contacts/lists/{list_id}",
                                   body={"name": (DELETED_MARK + name)[:190]})
            except BrevoNotFound:
                pass
            list_key = key_of(name)
            if list_key is not None:
                resolver.lists().pop(list_key, None)
        syncer.count("deleted_lists" if self.policy == "delete" else "marked_lists", len(cands))
        self.summary[version.stream]["handled"] = len(cands)

    # -- campaigns ----------------------------------------------------------------------
    def _campaigns(self, version: Version, covered: str) -> None:
        syncer = self.syncer
        resolver = syncer.resolver
        prefix = f"{resolver.prefix}campaign-"
        census = named_census(
            ((item.get("id"), identity, str(item.get("name") or ""))
             for identity, item in sorted(resolver.campaigns().items())),
            prefix, version, include_marked=self.policy == "delete",
        )
        self._check("campaign drafts", version, census)
        cands = census.candidates
        if not self._report(version, "campaign drafts", census,
                            [f"{prefix}{k}" for k in cands.keys]):
            return
        client = syncer.client
        for i, campaign_id in enumerate(cands.ids):
            name = cands.names[i]
            try:
                if self.policy == "delete":
                    client.request("DELETE", f"/emailCampaigns/{campaign_id}")
                else:
                    client.request("PUT", f"/emailCampaigns/{campaign_id}",
                                   body={"name": (DELETED_MARK + name)[:255]})
            except BrevoNotFound:
                pass
            keys = draft_keys(name)
            if keys:
                resolver.campaigns().pop(keys[0], None)
        syncer.count("deleted_campaigns" if self.policy == "delete" else "marked_campaigns",
                     len(cands))
        self.summary[version.stream]["handled"] = len(cands)
