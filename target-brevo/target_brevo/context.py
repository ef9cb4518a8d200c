"""The run's write context: what every writer needs, handed to it explicitly.

One object holds the Brevo client, the key resolver, the rejects file, the settings, the
run's counters and the contacts rejected so far. Writers receive it as an argument and
never reach back into the flush that called them.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from target_brevo.client import BrevoClient
    from target_brevo.rejects import Rejects
    from target_brevo.resolve import Resolver
    from target_brevo.settings import Settings


@dataclass
class WriteContext:
    """Client, resolver, rejects, settings and counters of one target run."""

    settings: Settings
    client: BrevoClient
    resolver: Resolver
    rejects: Rejects
    counts: dict[str, int] = field(default_factory=dict)
    #: contacts refused in this run: their values and memberships are not written
    rejected_contacts: set[str] = field(default_factory=set)
    #: rows imported so far in this run (the pre-read's estimate of the master list size)
    imported_rows: int = 0

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n
