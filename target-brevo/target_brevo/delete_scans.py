"""The id scans behind `delete_policy`: a version's keys, and what Brevo holds against them.

A version's keys are a bitmap over the id range (ActiveCampaign ids are dense integers: 1M
keys take about 125 kB), or a sorted ``array('q')`` when they are sparse. A census walks the
pipeline's objects in Brevo (contacts by ``EXT_ID``, lists and drafts by their name's key)
once: how many are live or already marked, which are newer than the scan, and which the
version lacks (the candidates, kept as flat ``array('q')`` columns).
"""

from __future__ import annotations

import bisect
import typing as t
from array import array
from dataclasses import dataclass, field

DELETED_ATTRIBUTE = "AC_DELETED_AT"
DELETED_MARK = "[deleted in ActiveCampaign] "


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


def contacts_census(
    rows: t.Iterable[dict[str, t.Any]],
    version: Version,
    prefix: str,
    folder_lists: set[int],
    *,
    include_marked: bool,
) -> Census:
    """One pass over Brevo's contacts: ours, live, and those absent from the version (with
    the folder's lists they are on)."""
    census = Census()
    keys = version.keys
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


def named_census(
    items: t.Iterable[tuple[t.Any, str, str]],
    prefix: str,
    version: Version,
    *,
    include_marked: bool,
) -> Census:
    """Lists or campaign drafts, each (Brevo id, key from its name, name): those whose key is
    `prefix` + an integer are ours; a name starting with `DELETED_MARK` was marked before."""
    census = Census()
    for brevo_id, identity, name in items:
        source = int_key(identity, prefix)
        if source is None:
            continue  # [ac-all] and foreign keys
        marked = name.startswith(DELETED_MARK)
        census.marked += marked
        census.live += not marked
        if source > version.keys.max_key:
            census.newer += 1
        elif source not in version.keys and (not marked or include_marked):
            census.candidates.add(int(brevo_id), source, name=name)
    return census
