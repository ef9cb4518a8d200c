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

Memory: a version's keys are a bitmap over the id range (ActiveCampaign ids are dense integers:
1M keys take about 125 kB), or a sorted ``array('q')`` when they are sparse; candidates are kept
as flat ``array('q')`` columns.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import logging
import typing as t
from array import array
from dataclasses import dataclass, field

from target_brevo.client import BrevoInvalid, BrevoNotFound
from target_brevo.mapping import stream_mapping
from target_brevo.resolve import draft_keys, key_of
from target_brevo.settings import Settings

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from target_brevo.sync import Syncer

LOGGER = logging.getLogger("target_brevo.deletes")

DELETED_ATTRIBUTE = "AC_DELETED_AT"
DELETED_MARK = "[deleted in ActiveCampaign] "
CONTACTS_PAGE = 1000  # Brevo's maximum for GET /contacts
SAMPLE = 5


class DeleteGuardError(RuntimeError):
    """A suspiciously small version: nothing was deleted, the run stops before STATE."""


class KeySet:
    """The integer keys of one version: appended while records arrive, then frozen."""

    def __init__(self) -> None:
        self._raw: array[int] | None = array("q")
        self._bits: bytearray | None = None
        self._sorted: array[int] | None = None
        self.count = 0
        self.max_key = -1

    def add(self, key: int) -> None:
        if self._raw is None:
            msg = "KeySet is frozen"
            raise RuntimeError(msg)
        self._raw.append(key)
        self.max_key = max(self.max_key, key)

    def freeze(self) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        n = len(raw)
        if n and min(raw) >= 0 and self.max_key < 64 * n + (1 << 20):
            bits = bytearray(self.max_key // 8 + 1)
            for key in raw:
                bits[key >> 3] |= 1 << (key & 7)
            self._bits = bits
            self.count = sum(b.bit_count() for b in bits)
        else:
            ordered = array("q", sorted(set(raw)))
            self._sorted = ordered
            self.count = len(ordered)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, int):
            return False
        if self._bits is not None:
            return 0 <= key <= self.max_key and bool(self._bits[key >> 3] & (1 << (key & 7)))
        if self._sorted is not None:
            i = bisect.bisect_left(self._sorted, key)
            return i < len(self._sorted) and self._sorted[i] == key
        return False

    def nbytes(self) -> int:
        """Memory held by the key storage."""
        total = 0
        for part in (self._raw, self._sorted):
            if part is not None:
                total += part.itemsize * len(part)
        if self._bits is not None:
            total += len(self._bits)
        return total


@dataclass
class Version:
    """The keys received for one version of one stream."""

    stream: str
    version: int
    keys: KeySet = field(default_factory=KeySet)
    bad_keys: int = 0


@dataclass
class Candidates:
    """Pipeline objects absent from a version, as flat columns (memory-bounded)."""

    ids: array[int] = field(default_factory=lambda: array("q"))  # Brevo ids
    keys: array[int] = field(default_factory=lambda: array("q"))  # source keys
    list_start: array[int] = field(default_factory=lambda: array("q"))
    list_ids: array[int] = field(default_factory=lambda: array("q"))  # flat list memberships
    names: list[str] = field(default_factory=list)  # lists and drafts only (few)

    def add(self, brevo_id: int, key: int, lists: t.Iterable[int] = (), name: str = "") -> None:
        self.ids.append(brevo_id)
        self.keys.append(key)
        self.list_start.append(len(self.list_ids))
        self.list_ids.extend(lists)
        if name:
            self.names.append(name)

    def __len__(self) -> int:
        return len(self.ids)

    def lists_of(self, i: int) -> list[int]:
        end = self.list_start[i + 1] if i + 1 < len(self.list_start) else len(self.list_ids)
        return list(self.list_ids[self.list_start[i]:end])


@dataclass
class Census:
    """What the pipeline holds in Brevo for one stream, against one version."""

    live: int = 0  # ours, not marked deleted: the guard's reference
    marked: int = 0
    newer: int = 0  # keys above the version's highest key: never candidates
    candidates: Candidates = field(default_factory=Candidates)


def int_key(text: str, prefix: str) -> int | None:
    """``ac-123`` → 123 for the prefix ``ac-``; anything else is not ours."""
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix):]
    return int(rest) if rest.isascii() and rest.isdigit() else None


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
        """One pass over Brevo's contacts: ours, live, and those absent from the version."""
        census = Census()
        keys = version.keys
        include_marked = self.policy == "delete"
        rows = pages if pages is not None else self._pages("/contacts", "contacts",
                                                           CONTACTS_PAGE)
        for contact in rows:
            attributes = contact.get("attributes") or {}
            key = int_key(str(attributes.get("EXT_ID") or ""), prefix)
            if key is None:
                continue  # not created by this pipeline for this stream: never touched
            marked = bool(attributes.get(DELETED_ATTRIBUTE))
            if marked:
                census.marked += 1
            else:
                census.live += 1
            if key > keys.max_key:
                census.newer += 1
                continue
            if key in keys or (marked and not include_marked):
                continue
            lists = [i for i in contact.get("listIds") or [] if i in folder_lists]
            census.candidates.add(int(contact["id"]), key, lists)
        return census

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
        census = Census()
        for key, (list_id, name) in sorted(self._folder_lists().items()):
            source = int_key(key, prefix)
            if source is None:
                continue  # [ac-all] and foreign keys
            marked = name.startswith(DELETED_MARK)
            census.marked += marked
            census.live += not marked
            if source > version.keys.max_key:
                census.newer += 1
            elif source not in version.keys and (not marked or self.policy == "delete"):
                census.candidates.add(list_id, source, name=name)
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
        census = Census()
        for identity, item in sorted(resolver.campaigns().items()):
            source = int_key(identity, prefix)
            if source is None:
                continue
            name = str(item.get("name") or "")
            marked = name.startswith(DELETED_MARK)
            census.marked += marked
            census.live += not marked
            if source > version.keys.max_key:
                census.newer += 1
            elif source not in version.keys and (not marked or self.policy == "delete"):
                census.candidates.add(int(item["id"]), source, name=name)
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
