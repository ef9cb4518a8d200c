"""Paging over ActiveCampaign collections.

- Offset paging stops on ``meta.total`` (a string on most endpoints, an integer on ``/deals``)
  so no trailing empty page is requested.
- Contacts use keyset paging (``orders[id]=ASC`` + ``id_greater``) over id ranges that are
  paged concurrently; :func:`split_id_range` cuts ``(0, max_id]`` into those ranges. A range
  is read either in full or, in an incremental sync, through the update filter (``changed``).
"""

from __future__ import annotations

import itertools
import math
import typing as t
from dataclasses import dataclass

from singer_sdk.pagination import OffsetPaginator

if t.TYPE_CHECKING:
    import requests

PAGE_SIZE = 100


def meta_total(body: t.Mapping[str, t.Any]) -> int | None:
    """``meta.total`` as an int, whether AC sent it as a string or an integer."""
    meta = body.get("meta")
    if not isinstance(meta, t.Mapping):
        return None
    total = meta.get("total")
    if total is None or total == "":
        return None
    try:
        return int(total)
    except (TypeError, ValueError):
        return None


def offset_has_more(offset: int, page_len: int, page_size: int, total: int | None) -> bool:
    """Whether another offset page exists after the page at ``offset``."""
    if total is not None:
        return offset + page_size < total and page_len > 0
    return page_len >= page_size


class MetaTotalOffsetPaginator(OffsetPaginator):
    """``offset``/``limit`` paging that stops on ``meta.total`` (string or integer)."""

    def has_more(self, response: requests.Response) -> bool:
        """Another page exists if the next offset is still below ``meta.total``."""
        body = response.json()
        records = [v for v in body.values() if isinstance(v, list)]
        page_len = max((len(v) for v in records), default=0)
        return offset_has_more(int(self.current_value), page_len, self._page_size, meta_total(body))


@dataclass
class IdRange:
    """Contacts with ``lo < id <= hi``; ``pos`` is the last id already emitted.

    ``changed``: the range is read through the server's update filter (the changed rows of
    an incremental sync); otherwise every row of the range is read, whatever its dates.
    """

    lo: int
    hi: int
    pos: int
    done: bool = False
    changed: bool = False

    def to_state(self) -> dict[str, t.Any]:
        """The JSON form kept in the stream state."""
        return {
            "lo": self.lo,
            "hi": self.hi,
            "pos": self.pos,
            "done": self.done,
            "changed": self.changed,
        }

    @classmethod
    def from_state(cls, data: t.Mapping[str, t.Any]) -> IdRange:
        """Read back :meth:`to_state` (a range saved without ``changed`` is read in full)."""
        return cls(
            lo=int(data["lo"]),
            hi=int(data["hi"]),
            pos=int(data["pos"]),
            done=bool(data["done"]),
            changed=bool(data.get("changed", False)),
        )


def split_id_range(
    max_id: int, total: int, parts: int, page_size: int = PAGE_SIZE
) -> list[IdRange]:
    """Cut ``(0, max_id]`` (holding about ``total`` contacts) into at most ``parts`` ranges.

    Each range is sized to hold a whole number of pages at the average id density (AC assigns
    ids sequentially, deletes leave holes), so that ranges end on full pages and the split
    costs few partial pages, i.e. few extra requests. Small syncs get a single range: ranges
    under two pages would only add partial pages.
    """
    if max_id <= 0 or total <= 0:
        return [IdRange(lo=0, hi=max(max_id, 0), pos=0)]
    min_pages_per_range = 2
    pages = math.ceil(total / page_size)
    count = max(1, min(parts, pages // min_pages_per_range, max_id))
    pages_per_range = math.ceil(pages / count)
    ids_per_contact = max_id / total
    width = max(1, round(pages_per_range * page_size * ids_per_contact))
    bounds = [min(max_id, width * i) for i in range(count)] + [max_id]
    ranges = []
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            ranges.append(IdRange(lo=lo, hi=hi, pos=lo))
    return ranges
