"""The Brevo state a correct sync must produce, computed from the ActiveCampaign sandbox's dump.

Written from the documented mapping (target-brevo/README.md, docs/contracts.md §5), never by
calling the target's code, so a bug in the target's mapping cannot hide in the expectation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

EXT_PREFIX = "ac-"
MASTER_LIST_KEY = "[ac-all]"
ACTIVE, UNSUBSCRIBED, BOUNCED = 1, 2, 3

# The RFC-ish shape every mailbox provider accepts; the sandbox seeds only such addresses unless
# a test creates a bad one on purpose.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def list_key(list_id: int) -> str:
    return f"[ac-list-{list_id}]"


@dataclass
class ExpectedContact:
    ext_id: str
    email: str
    attributes: dict[str, Any] = field(default_factory=dict)
    lists: set[str] = field(default_factory=set)  # list keys like "[ac-list-3]"
    not_in_lists: set[str] = field(default_factory=set)
    blocklisted: bool = False


@dataclass
class ExpectedDraft:
    key: str  # "ac-campaign-<id>"
    name: str
    subject: str | None
    html: str | None


@dataclass
class Expected:
    contacts: dict[str, ExpectedContact]
    list_names: dict[str, str]  # key → full Brevo list name
    rejected_ext_ids: set[str]
    drafts: dict[str, ExpectedDraft] = field(default_factory=dict)


def valid_email(email: str | None) -> bool:
    return bool(email) and bool(_EMAIL.match(email or "")) and ".." not in (email or "")


def expected_from_ac(ac: dict[str, Any]) -> Expected:
    lists = {x["id"]: x for x in ac["lists"]}
    fields = {f["id"]: f for f in ac["contact_custom_fields"]}
    values: dict[int, dict[int, str]] = {}
    for v in ac["contact_custom_field_values"]:
        values.setdefault(v["contact"], {})[v["field"]] = v["value"]
    # AC stores an option's value; the Brevo category shows the option's label.
    option_labels: dict[tuple[int, str], str] = {
        (o["field"], str(o["value"])): str(o["label"]) for o in ac["contact_custom_field_options"]
    }
    memberships: dict[int, list[dict[str, Any]]] = {}
    for m in ac["contact_lists"]:
        memberships.setdefault(m["contact"], []).append(m)

    contacts: dict[str, ExpectedContact] = {}
    rejected: set[str] = set()
    for c in ac["contacts"]:
        ext_id = f"{EXT_PREFIX}{c['id']}"
        if not valid_email(c.get("email")):
            rejected.add(ext_id)
            continue
        exp = ExpectedContact(ext_id=ext_id, email=c["email"].strip().lower())
        if c.get("first_name"):
            exp.attributes["FIRSTNAME"] = c["first_name"]
        if c.get("last_name"):
            exp.attributes["LASTNAME"] = c["last_name"]
        exp.attributes["_tags"] = sorted(c.get("tags") or [])
        exp.blocklisted = (c.get("bounced_hard") or 0) > 0
        for m in memberships.get(c["id"], []):
            key = list_key(m["list"])
            if m["status"] == ACTIVE:
                exp.lists.add(key)
            elif m["status"] in (UNSUBSCRIBED, BOUNCED):
                exp.not_in_lists.add(key)
                if m["status"] == BOUNCED:
                    exp.blocklisted = True
        for fid, raw in values.get(c["id"], {}).items():
            f = fields.get(fid)
            if f is None:
                continue
            if f["type"] in ("dropdown", "radio"):
                raw = option_labels.get((fid, raw), raw)
            exp.attributes[f["perstag"].upper()] = (f["type"], raw)
        contacts[ext_id] = exp
    names = {list_key(i): f"{x['name']} {list_key(i)}" for i, x in lists.items()}
    messages = {m["id"]: m for m in ac["messages"]}
    drafts: dict[str, ExpectedDraft] = {}
    for c in ac["campaigns"]:
        message = messages.get(c.get("message_id"))
        drafts[f"ac-campaign-{c['id']}"] = ExpectedDraft(
            key=f"ac-campaign-{c['id']}", name=c["name"],
            # Brevo requires a subject: an empty one falls back to the campaign's name.
            subject=(message["subject"] or c["name"]) if message else None,
            html=message["html"] if message and message.get("html") else None,
        )
    return Expected(contacts=contacts, list_names=names, rejected_ext_ids=rejected, drafts=drafts)


def _date_part(raw: str, *, to_utc: bool) -> str | None:
    raw = raw.strip()
    if not raw or raw.startswith("0000-00-00"):
        return None
    if not to_utc:
        return raw[:10]
    return datetime.fromisoformat(raw).astimezone(UTC).date().isoformat()


def check_brevo(expected: Expected, brevo: dict[str, Any]) -> list[str]:
    """Every difference between what Brevo holds and what it should hold, as readable lines."""
    problems: list[str] = []
    lists_by_id = {x["id"]: x for x in brevo["lists"]}
    key_of_list: dict[int, str] = {}
    seen_keys: dict[str, int] = {}
    for lid, x in lists_by_id.items():
        m = re.search(r"(\[ac-[a-z0-9-]+\])$", x["name"])
        if not m:
            continue
        key = m.group(1)
        if key in seen_keys:
            problems.append(f"duplicate Brevo lists for {key}: {seen_keys[key]} and {lid}")
        seen_keys[key] = lid
        key_of_list[lid] = key
    for key, name in expected.list_names.items():
        if key not in seen_keys:
            problems.append(f"list {name!r} missing in Brevo")
        elif lists_by_id[seen_keys[key]]["name"] != name:
            problems.append(
                f"list {key} is named {lists_by_id[seen_keys[key]]['name']!r}, expected {name!r}"
            )
    attr_types = {a["name"]: a for a in brevo["attributes"]}

    by_ext: dict[str, dict[str, Any]] = {}
    by_email: dict[str, dict[str, Any]] = {}
    for c in brevo["contacts"]:
        ext = c.get("ext_id") or (c.get("attributes") or {}).get("EXT_ID")
        if ext:
            if ext in by_ext:
                problems.append(f"two Brevo contacts share EXT_ID {ext}")
            by_ext[ext] = c
        if c.get("email"):
            by_email[c["email"].lower()] = c

    problems.extend(f"Brevo contact {c['id']} <{c.get('email')}> has no EXT_ID"
                    for c in brevo["contacts"] if not (c.get("ext_id")))
    problems.extend(_check_drafts(expected, brevo))
    for ext, exp in expected.contacts.items():
        got = by_ext.get(ext)
        if got is None:
            problems.append(f"contact {ext} <{exp.email}> missing in Brevo")
            continue
        if (got.get("email") or "").lower() != exp.email:
            problems.append(f"contact {ext}: email {got.get('email')!r}, expected {exp.email!r}")
        if bool(got.get("emailBlacklisted")) != exp.blocklisted:
            problems.append(
                f"contact {ext}: emailBlacklisted={got.get('emailBlacklisted')}, "
                f"expected {exp.blocklisted}"
            )
        in_keys = {key_of_list[i] for i in got.get("listIds") or [] if i in key_of_list}
        if MASTER_LIST_KEY not in in_keys:
            problems.append(f"contact {ext} is not in the synced-contacts list")
        for key in sorted(exp.lists - in_keys):
            problems.append(f"contact {ext} should be in list {key}")
        for key in sorted(exp.not_in_lists & in_keys):
            problems.append(f"contact {ext} unsubscribed/bounced from {key} but is still in it")
        attrs = got.get("attributes") or {}
        for name, want in exp.attributes.items():
            if name == "_tags":
                have = attrs.get("AC_TAGS") or ""
                have_tags = sorted(t for t in re.split(r"[|,]", str(have)) if t)
                want_tags = sorted(t.strip() for t in want if t.strip())
                if have_tags != want_tags:
                    problems.append(f"contact {ext}: AC_TAGS {have!r}, expected tags {want_tags}")
                continue
            if isinstance(want, tuple):
                problems.extend(_check_custom(ext, name, want, attrs.get(name), attr_types))
                continue
            if attrs.get(name) != want:
                problems.append(f"contact {ext}: {name}={attrs.get(name)!r}, expected {want!r}")
    return problems


def _check_custom(
    ext: str, name: str, want: tuple[str, str], have: Any, attr_types: dict[str, Any]
) -> list[str]:
    ftype, raw = want
    attr = attr_types.get(name)
    if attr is None:
        return [f"attribute {name} was never created in Brevo"]
    expected: Any
    if ftype in ("text", "textarea", "hidden"):
        expected = raw if raw.strip() else None
        have = have if (have is None or str(have).strip()) else None
    elif ftype == "date":
        expected = _date_part(raw, to_utc=False)
    elif ftype == "datetime":
        expected = _date_part(raw, to_utc=True)
    elif ftype in ("dropdown", "radio"):
        labels = {e["value"]: e["label"] for e in attr.get("enumeration") or []}
        expected = raw or None
        have = labels.get(have, have) if have is not None else None
    else:  # listbox / checkbox multi-selects
        expected = sorted(x for x in raw.split("||") if x) or None
        have = sorted(have) if isinstance(have, list) and have else (
            sorted(x for x in re.split(r"[|,]", have) if x) if isinstance(have, str) and have
            else None
        )
    if expected != have:
        return [f"contact {ext}: {name}={have!r}, expected {expected!r} (AC {ftype} {raw!r})"]
    return []


def _check_drafts(expected: Expected, brevo: dict[str, Any]) -> list[str]:
    """One draft per source campaign, never scheduled, carrying its message's content."""
    problems: list[str] = []
    by_key: dict[str, list[dict[str, Any]]] = {}
    for c in brevo["campaigns"]:
        m = re.search(r"\[(ac-campaign-\d+)[ \]]", c["name"])
        if m:
            by_key.setdefault(m.group(1), []).append(c)
        if c.get("status") != "draft" or c.get("scheduledAt"):
            problems.append(f"campaign {c['id']} {c['name']!r} is {c.get('status')}, "
                            f"scheduledAt={c.get('scheduledAt')}: the target must only draft")
    for key, exp in expected.drafts.items():
        found = by_key.get(key, [])
        if len(found) != 1:
            problems.append(f"{len(found)} Brevo drafts for {key}, expected 1")
            continue
        draft = found[0]
        data = draft.get("data") or draft
        if not draft["name"].startswith(exp.name + " ["):
            problems.append(f"draft {key} is named {draft['name']!r}, expected {exp.name!r} [...]")
        if exp.subject is not None and data.get("subject") != exp.subject:
            problems.append(f"draft {key}: subject {data.get('subject')!r}, expected "
                            f"{exp.subject!r}")
        if exp.html is not None and data.get("htmlContent") != exp.html:
            problems.append(f"draft {key}: htmlContent differs from its message's html")
    return problems
