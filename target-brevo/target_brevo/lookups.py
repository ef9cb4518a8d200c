"""Idempotent creates and paged reads shared by every Brevo object the target resolves.

A create that may have been applied (reset, timeout, a 5xx, an answer without an id) is
followed by a lookup before any retry: `create_then_lookup`. `Lookups` holds the client, the
paging of Brevo's list endpoints and the per-run count of created objects.
"""

from __future__ import annotations

import logging
import typing as t

from target_brevo.errors import BrevoSystemic, BrevoUncertain

if t.TYPE_CHECKING:
    from target_brevo.client import BrevoClient

LOGGER = logging.getLogger("target_brevo.resolve")

T = t.TypeVar("T")


def created_id(body: t.Any, what: str) -> int:
    """The id of a created object; an answer without one (an empty or cut 2xx body) means
    the create may have been applied: the caller looks it up instead of failing."""
    if isinstance(body, dict) and body.get("id") is not None:
        try:
            return int(body["id"])
        except (TypeError, ValueError):
            pass
    msg = f"Brevo {what}: the answer carries no id; the request may have been applied"
    raise BrevoUncertain(msg)


def create_then_lookup(
    create: t.Callable[[], T],
    lookup: t.Callable[[], T | None],
    what: str,
    tries: int = 3,
    pause: t.Callable[[int], None] | None = None,
) -> T:
    """Create; when the create may have been applied, look it up before creating again.

    Every 5xx of a create is uncertain, so `tries` should be the client's `max_tries` and
    `pause(attempt)` its backoff (a short outage must not end the run)."""
    for attempt in range(1, tries + 1):
        try:
            return create()
        except BrevoUncertain as exc:
            LOGGER.warning("%s: %s; looking it up before any retry", what, exc)
            found = lookup()
            if found is not None:
                LOGGER.info("%s: found after an uncertain create, not creating again", what)
                return found
            if pause is not None and attempt < tries:
                pause(attempt)
    msg = f"{what}: could not be created after {tries} uncertain tries"
    raise BrevoSystemic(msg)


class Lookups:
    """The client, paging and created-object counts of one run's resolvers."""

    def __init__(self, client: BrevoClient) -> None:
        self.client = client
        self.created: dict[str, int] = {}

    @property
    def _retry(self) -> dict[str, t.Any]:
        """Uncertain creates get as many tries as any request, with the client's backoff."""
        client = self.client

        def pause(attempt: int) -> None:
            client.sleep(client._backoff(attempt))

        return {"tries": max(3, int(getattr(client, "max_tries", 3))), "pause": pause}

    # -- paging -----------------------------------------------------------------------
    def _paged(
        self, path: str, item_key: str, limit: int, **params: t.Any
    ) -> list[dict[str, t.Any]]:
        out: list[dict[str, t.Any]] = []
        offset = 0
        while True:
            body = self.client.get(path, {"limit": limit, "offset": offset, **params}) or {}
            items = body.get(item_key) or []
            out.extend(items)
            count = body.get("count")
            offset += len(items)
            if not items or len(items) < limit or (isinstance(count, int) and offset >= count):
                return out

    def _count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1
