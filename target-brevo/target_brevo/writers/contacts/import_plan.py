"""The import plan of one contacts flush: which rows go in which `/contacts/import`, and
how their list memberships follow (in the same import, in an EXT_ID-only import per list,
or in 150-per-call list adds). Plans are costed in requests and the cheapest is taken.
"""

from __future__ import annotations

import logging
import math
import typing as t
from dataclasses import dataclass

from target_brevo.writers.contacts.memberships import LIST_CALL_IDS
from target_brevo.writers.contacts.rows import Row

if t.TYPE_CHECKING:
    from target_brevo.writers.contacts.rows import ContactBatch

LOGGER = logging.getLogger("target_brevo.contacts")

PlannedImport = tuple[frozenset[int], bool, list[Row]]
GroupKey = tuple[frozenset[int], bool]
# A membership-only import waits for its own completion after the contact imports: about
# two more polls than the same memberships sent as list adds.
MEMBERSHIP_WAVE_COST = 2


@dataclass
class ImportPlan:
    """One way to import a flush's rows, and what it costs in requests."""

    joint: set[GroupKey]  # groups imported together with their lists
    imports: list[PlannedImport]
    members: dict[int, list[Row]]  # list → rows that join it after the imports
    by_import: set[int]  # the lists of `members` joined by an EXT_ID-only import
    cost: int
    add_calls: int

    @classmethod
    def of(
        cls, groups: dict[GroupKey, list[Row]], joint: set[GroupKey], min_rows: int
    ) -> ImportPlan:
        ordered = sorted(joint, key=lambda k: (sorted(k[0]), k[1]))
        imports: list[PlannedImport] = [(k[0], k[1], groups[k]) for k in ordered]
        base: dict[bool, list[Row]] = {}
        members: dict[int, list[Row]] = {}
        for key, rows in groups.items():
            if key in joint:
                continue
            base.setdefault(key[1], []).extend(rows)
            for list_id in key[0]:
                members.setdefault(list_id, []).extend(rows)
        imports += [(frozenset(), blocklist, rows) for blocklist, rows in base.items()]
        # an import for a big list, and for any list with a member an add cannot name
        by_import = {
            list_id
            for list_id, rows in members.items()
            if len(rows) >= min_rows or any(not r.ext_id for r in rows)
        }
        add_calls = sum(
            math.ceil(len(rows) / LIST_CALL_IDS)
            for list_id, rows in members.items()
            if list_id not in by_import
        )
        cost = (
            len(imports)
            + len(by_import)
            + add_calls
            + (MEMBERSHIP_WAVE_COST if by_import else 0)
        )
        return cls(joint, imports, members, by_import, cost, add_calls)


def plan_imports(
    batch: ContactBatch, min_rows: int
) -> tuple[list[PlannedImport], list[tuple[int, list[Row]]]]:
    """Plan the imports: (contact imports, membership-only imports run after them).

    Two plans are costed in requests and the cheaper wins: (A) one import per set of lists
    that at least `min_rows` rows join, carrying attributes and memberships together; (B) no
    such joint import. Either way the other rows go in one import per blocklist flag without
    their lists, and each list then gets its remaining members in one EXT_ID-only import
    after the contacts exist (when it has at least `min_rows` of them) or in 150-per-call
    adds (when it has fewer). The adds are left in `batch.adds`.
    """
    groups: dict[GroupKey, list[Row]] = {}
    for row in batch.rows.values():
        groups.setdefault((frozenset(row.lists), row.blocklist), []).append(row)
    big = {key for key, rows in groups.items() if key[0] and len(rows) >= min_rows}
    plans = [ImportPlan.of(groups, big, min_rows), ImportPlan.of(groups, set(), min_rows)]
    plan = min(plans, key=lambda p: p.cost)  # on a tie, A: fewer imports to wait for
    later: list[tuple[int, list[Row]]] = []
    for list_id, rows in sorted(plan.members.items()):
        if list_id in plan.by_import:
            only_ids = [
                Row(
                    ext_id=r.ext_id,
                    email=None if r.ext_id else r.email,
                    stream=r.stream,
                    key=r.key,
                )
                for r in rows
            ]
            later.append((list_id, only_ids))
        else:
            for row in rows:
                batch.adds.setdefault(list_id, set()).add(str(row.ext_id))
    for key, rows in groups.items():
        if key not in plan.joint:
            for row in rows:
                row.lists = set()
    if batch.rows:
        LOGGER.info(
            "contacts flush: %d rows in %d contact imports; memberships in %d list imports "
            "and %d list-add calls (plan %s)",
            len(batch.rows),
            len(plan.imports),
            len(later),
            plan.add_calls,
            "A" if plan is plans[0] else "B",
        )
    return plan.imports, later
