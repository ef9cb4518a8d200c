"""Options a value needs that its Brevo attribute lacks (unknown options, issue 10 part 3).

A dropdown/radio value or a checkbox/listbox option the target has not seen as an option (an
option added in the source after its options were read, the options stream not selected,
another tap) is not a bad value: the target adds the option to the Brevo attribute (one update
per attribute per flush, carrying the full set) and then writes the value. Only what Brevo
cannot represent is rejected: an option label longer than 200 characters.

A new category option needs an integer `value`. Source option ids are used when the options
stream gives them (`FieldDef.enumeration`); an option known only from a value gets the next
integer from `FIRST_NEW_VALUE` up, a range source option ids do not reach, so a later options
stream never renames it into another option. Options are matched by label, case-insensitively.
"""

from __future__ import annotations

import typing as t

from target_brevo.conversions import split_multi

if t.TYPE_CHECKING:
    from target_brevo.attribute_catalog import Attribute

MAX_LABEL = 200
FIRST_NEW_VALUE = 1_000_000_000
OPTION_TYPES = ("category", "multiple-choice")


def labels_of(value: t.Any, brevo_type: str) -> list[str]:
    """The option labels a source value names (none for an empty value)."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return []
    if brevo_type == "category":
        return [str(value).strip()]
    if brevo_type == "multiple-choice":
        return split_multi(value)
    return []


def missing_labels(value: t.Any, attr: Attribute) -> list[str]:
    """The labels of `value` that are not options of `attr` (in order, each once)."""
    if attr.type == "category":
        if isinstance(value, int) and not isinstance(value, bool) and value in attr.enumeration:
            return []
        known = set(attr.enum_lookup())
    elif attr.type == "multiple-choice":
        known = {o.lower() for o in attr.options}
    else:
        return []
    out: list[str] = []
    for label in labels_of(value, attr.type):
        if label.lower() not in known:
            known.add(label.lower())
            out.append(label)
    return out


def unrepresentable(label: str) -> str | None:
    """Why Brevo cannot hold `label` as an option, or None when it can."""
    if len(label) > MAX_LABEL:
        return f"option {label[:40]!r}… is longer than Brevo's {MAX_LABEL} characters"
    return None


def next_value(enumeration: t.Mapping[int, str]) -> int:
    """The integer for a category option known only from a value."""
    return max([FIRST_NEW_VALUE - 1, *enumeration]) + 1
