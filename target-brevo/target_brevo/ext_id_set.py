"""A run-wide set of EXT_IDs that costs about one bit per contact.

The target remembers, for the rest of a run, some facts about every contact it wrote (for
example which contacts carried their own tags). A Python set of strings costs about 90 bytes
an entry: 90 MB at a million contacts. EXT_IDs are nearly always a prefix and a number
(ActiveCampaign ids are per-account counters), so those are bits in one bitmap per
prefix; any other shape (a leading zero, letters at the end, a huge number) goes to a set.
"""

from __future__ import annotations

MAX_NUMBER = 1 << 26  # larger numbers go to the set: a bitmap stays under 8 MB per prefix


def _split(ext_id: str) -> tuple[str, int] | None:
    """`p-123` → ("p-", 123); None when the EXT_ID does not end in a plain number."""
    i = len(ext_id)
    while i and "0" <= ext_id[i - 1] <= "9":
        i -= 1
    digits = ext_id[i:]
    if not digits or (digits[0] == "0" and len(digits) > 1) or len(digits) > 8:
        return None  # "p-007" is not "p-7": only the canonical spelling is a bit
    number = int(digits)
    return (ext_id[:i], number) if number < MAX_NUMBER else None


class ExtIdSet:
    """`add` and `in` for EXT_IDs (strings), with the memory described above."""

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}
        self._other: set[str] = set()
        self._count = 0

    def add(self, ext_id: str) -> None:
        split = _split(ext_id)
        if split is None:
            if ext_id not in self._other:
                self._other.add(ext_id)
                self._count += 1
            return
        prefix, number = split
        bits = self._bits.setdefault(prefix, bytearray())
        byte, bit = divmod(number, 8)
        if byte >= len(bits):
            bits.extend(bytes(max(byte + 1 - len(bits), len(bits) // 2)))
        if not bits[byte] >> bit & 1:
            bits[byte] |= 1 << bit
            self._count += 1

    def __contains__(self, ext_id: object) -> bool:
        if not isinstance(ext_id, str):
            return False
        split = _split(ext_id)
        if split is None:
            return ext_id in self._other
        prefix, number = split
        bits = self._bits.get(prefix)
        byte, bit = divmod(number, 8)
        return bits is not None and byte < len(bits) and bool(bits[byte] >> bit & 1)

    def __len__(self) -> int:
        return self._count
