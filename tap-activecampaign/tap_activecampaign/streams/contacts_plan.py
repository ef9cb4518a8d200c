"""The plan of a contacts sync: its id ranges, the pages read from them, the saved state.

Plain data, no I/O: :class:`SyncPlan` is what ``contacts_sync`` in the stream state holds,
:class:`Page` what a worker thread hands to the writer.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from tap_activecampaign.paging import IdRange

SYNC_KEY = "contacts_sync"
#: Upper bound of the last id range when the highest id is not known.
MAX_ID = 2**53
#: Sideload array -> child stream fed by it.
SIDELOADS = {
    "contactLists": "contact_lists",
    "contactTags": "contact_tags",
    "fieldValues": "contact_custom_field_values",
}


@dataclass
class Page:
    """One response of one id range, handed from a worker thread to the writer."""

    range_index: int
    contacts: list[dict[str, t.Any]]
    sideloads: dict[str, list[dict[str, t.Any]]]
    last_id: int
    done: bool


@dataclass
class Failure:
    """A worker thread's exception, handed to the writer to raise."""

    error: BaseException


@dataclass
class SyncPlan:
    """A contacts sync in progress: its id ranges and what it has seen so far (saved in
    the stream state with every STATE, so a killed run resumes it)."""

    started_at: str
    ranges: list[IdRange]
    max_udate: str | None = None
    #: the highest id read in a range read in full (becomes ``max_id`` when complete)
    max_id: int | None = None
    #: the update filter of the ``changed`` ranges (fixed for the whole sync, resumes too)
    changed_filter: dict[str, str] | None = None

    def to_state(self) -> dict[str, t.Any]:
        return {
            "started_at": self.started_at,
            "max_udate": self.max_udate,
            "max_id": self.max_id,
            "changed_filter": self.changed_filter,
            "ranges": [r.to_state() for r in self.ranges],
        }

    @classmethod
    def from_state(
        cls,
        saved: t.Mapping[str, t.Any],
        ranges: list[IdRange],
        started_at: t.Callable[[], str],
    ) -> SyncPlan:
        """The plan saved by :meth:`to_state` (``started_at`` when the state lacks one)."""
        saved_max_id = saved.get("max_id")
        return cls(
            started_at=str(saved.get("started_at") or started_at()),
            ranges=ranges,
            max_udate=saved.get("max_udate"),
            max_id=None if saved_max_id is None else int(saved_max_id),
            changed_filter=saved.get("changed_filter") or None,
        )


def contact_ref(value: object) -> int | None:
    """A sideloaded row's contact/tag reference as an int (``None`` when unreadable)."""
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None
