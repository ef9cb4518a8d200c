"""Source lists → Brevo lists in the configured folder (found again by their key suffix)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from target_brevo.staged import Staged
    from target_brevo.sync import Syncer


def write_lists(syncer: Syncer, staged: Staged) -> None:
    """Create missing lists and rename the ones whose source name changed."""
    name_field = staged.mapping.get("name", "name")
    id_field = staged.key_properties[0] if staged.key_properties else "id"
    for record in staged.deduped():
        source_id = record.get(id_field)
        if source_id is None:
            syncer.rejects.add(staged.stream, None, "missing_key", "list without an id", id_field)
            continue
        name = str(record.get(name_field) or f"List {source_id}")
        syncer.resolver.ensure_list(syncer.resolver.list_key(source_id), name)
