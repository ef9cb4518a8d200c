"""The emulated ActiveCampaign account: its seeded data, its settings and quirks, and the
caches of query results (cleared whenever the data changes)."""

from __future__ import annotations

import gc
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.activecampaign.generate import generate
from sandbox.activecampaign.store import Store
from sandbox.server import Clock


@dataclass
class ACState:
    """The emulated account: its data, settings and query caches."""

    contacts: int
    seed: int
    tz: ZoneInfo
    token: str
    clock: Clock = field(default_factory=Clock)
    store: Store = field(init=False)
    _cache: OrderedDict[tuple[Any, ...], tuple[list[Any], list[int]]] = field(
        default_factory=OrderedDict
    )
    _counts: tuple[int, dict[str, Counter[int]]] | None = None
    #: quirk (POST /__sandbox/quirks): GET /contacts reports a lagging meta.total (half)
    stale_total: bool = False
    #: called as listener(op, result, now) after each applied mutate op (webhooks.py)
    mutation_listeners: list[Callable[[dict[str, Any], dict[str, Any], int], None]] = field(
        default_factory=list)
    #: plan add-ons (sms, conversions, site messages, e-commerce): False answers 403/404
    addons: bool = True
    addons_default: bool = True

    def __post_init__(self) -> None:
        self.store = self._generate()

    def _generate(self) -> Store:
        gc.disable()  # millions of long-lived objects: no point scanning them while building
        try:
            store = generate(self.contacts, self.seed, self.tz)
        finally:
            gc.enable()
        gc.collect()
        gc.freeze()  # keep the seeded data set out of every later collection
        return store

    def reset(self) -> None:
        gc.unfreeze()
        self.store = self._generate()
        self._cache.clear()
        self._counts = None
        self.clock.reset()
        self.stale_total = False
        self.addons = self.addons_default

    def cached(self, key: tuple[Any, ...], compute: Callable[[], list[Any]]
               ) -> tuple[list[Any], list[int]]:
        full = (self.store.version, *key)
        if self._cache and next(iter(self._cache))[0] != self.store.version:
            self._cache.clear()  # results of an older version are never asked for again
        hit = self._cache.get(full)
        if hit is not None:
            self._cache.move_to_end(full)
            return hit
        rows = compute()
        value = (rows, [r.id for r in rows])
        self._cache[full] = value
        while len(self._cache) > 32:
            self._cache.popitem(last=False)
        return value

    def account_counts(self) -> dict[str, Counter[int]]:
        if self._counts is None or self._counts[0] != self.store.version:
            s = self.store
            counts = {
                "contacts": Counter(ac.account for ac in s.account_contacts.values()),
                "deals": Counter(d.account for d in s.deals.values()),
                "tags": Counter(ct.tag for ct in s.contact_tags.values()),
            }
            self._counts = (s.version, counts)
        return self._counts[1]
