"""ExtIdSet (target_brevo/ext_id_set.py): a set of EXT_IDs, bits for `prefix + number`."""

from __future__ import annotations

import sys

from target_brevo.ext_id_set import MAX_NUMBER, ExtIdSet


def test_members_are_exactly_what_was_added() -> None:
    ids = ExtIdSet()
    added = ["ac-1", "ac-8", "ac-9", "ac-123456", "crm-8", "ac-007", "ac-x", "8", "", "ac-"]
    added.append(f"ac-{MAX_NUMBER + 5}")
    for ext_id in added:
        ids.add(ext_id)
    ids.add("ac-8")  # again: counted once
    for ext_id in added:
        assert ext_id in ids, ext_id
    for other in ["ac-7", "ac-2", "crm-1", "ac-08", "ac-0", "ac-X", "ac-1234567", "9",
                  f"ac-{MAX_NUMBER + 4}", "crm-", 8]:
        assert other not in ids, other
    assert len(ids) == len(added)


def test_a_million_numeric_ids_cost_a_bitmap_not_a_set() -> None:
    ids = ExtIdSet()
    for n in range(1, 1_000_001):
        ids.add(f"ac-{n}")
    assert len(ids) == 1_000_000
    assert "ac-999999" in ids
    assert "ac-1000001" not in ids
    held = sum(sys.getsizeof(b) for b in ids._bits.values()) + sys.getsizeof(ids._other)
    assert held < 1_000_000  # a set of the same strings takes about 90 MB
