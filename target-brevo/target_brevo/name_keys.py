"""The `[key]` suffixes Brevo names carry: how lists and campaign drafts are found again.

Folders' lists and campaign drafts end their name with their source key
(`Newsletter [ac-list-3]`, `Spring [ac-campaign-3 ac-message-7]`), so listing them finds them
again on any machine, without local files (contracts §5).
"""

from __future__ import annotations

import re

KEY_RE = re.compile(r"\s*\[([^\[\]]+)\]\s*$")


def key_of(name: str) -> str | None:
    """The `[key]` suffix of a Brevo name, if any."""
    match = KEY_RE.search(name or "")
    return match.group(1) if match else None


def draft_keys(name: str) -> tuple[str, tuple[str, ...]] | None:
    """The keys a campaign draft's name carries: (identity key, further keys).

    `Spring [ac-campaign-3 ac-message-7]` → `("ac-campaign-3", ("ac-message-7",))`; the
    older form `Spring [ac-campaign-3]` → `("ac-campaign-3", ())`. The identity key is the
    first one and never changes; the others (the linked message) let the draft be found
    from them too.
    """
    keys = (key_of(name) or "").split()
    return (keys[0], tuple(keys[1:])) if keys else None


def draft_label(key: str, *more: str | None) -> str:
    """The `[...]` content of a draft's name: its identity key, then the further keys."""
    return " ".join([key, *(k for k in more if k and k != key)])


def with_key(name: str, key: str, max_len: int = 190) -> str:
    """`name [key]`, the name part shortened so that the key always fits."""
    suffix = f" [{key}]"
    base = KEY_RE.sub("", str(name or "").strip()) or key
    base = base.replace("[", "(").replace("]", ")")
    return base[: max(1, max_len - len(suffix))] + suffix
