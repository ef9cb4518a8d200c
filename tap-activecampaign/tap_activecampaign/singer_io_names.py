"""Field names singer-io's tap spells differently from ours, emitted under both names.

singer-io runs AC's names through ``humps.decamelize``, which splits digits oddly (``ip4Sub`` ->
``ip_4sub``); ours gives ``ip4_sub``, and a few fields were renamed on purpose. A pipeline built
on singer-io's tables reads its spelling, so each of these fields is also emitted under
singer-io's name, with the same value and schema: ``{stream: {singer-io name: our name}}``.
"""

from __future__ import annotations

SINGER_IO_NAMES: dict[str, dict[str, str]] = {
    "contact_lists": {"ip_4sub": "ip4_sub", "ip_4unsub": "ip4_unsub"},
    "deal_stages": {f"card_region{n}": f"card_region_{n}" for n in range(1, 6)},
    "users": {"local_zoneid": "local_zone_id"},
}


def add_singer_io_properties(stream: str, schema: dict[str, object]) -> dict[str, object]:
    """``schema`` with singer-io's spellings of ``stream``'s fields added."""
    names = SINGER_IO_NAMES.get(stream)
    properties = schema.get("properties")
    if not names or not isinstance(properties, dict):
        return schema
    for theirs, ours in names.items():
        if ours in properties:
            properties.setdefault(theirs, dict(properties[ours]))
    return schema
