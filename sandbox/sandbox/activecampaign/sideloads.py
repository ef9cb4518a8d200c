"""Sideloads: the related rows AC puts next to a page, declared as tables, not code.

- `CONTACT_INCLUDES`: what `GET /contacts?include=contactLists.list,contactTags.tag,...` (and
  `GET /contacts/{id}`) adds: per include name, the contact's rows (each contact then lists their
  ids under that name) and, for `name.hop`, the objects those rows point at.
- `CHILDREN`: the rows a collection page always carries for the parents on it (`/fields` →
  `fieldOptions`, `fieldRels`; `/dealGroups` → `dealStages`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.activecampaign.model import Contact
from sandbox.activecampaign.render import Renderer

if TYPE_CHECKING:
    from sandbox.activecampaign.state import ACState

Rendered = dict[str, Any]


@dataclass(frozen=True)
class Hop:
    """`include=<name>.<hop>`: the objects the included rows point at, sorted by id."""

    key: str                                        # body key, e.g. "lists"
    ref: str                                        # the row attribute holding the id
    table: Callable[[ACState], dict[int, Any]]      # id → object
    render: Callable[[Renderer, ACState, Any], Rendered]


@dataclass(frozen=True)
class Include:
    """`include=<name>`: a contact's rows of one kind, in the body under `name`."""

    rows_of: Callable[[ACState, int], Iterable[Any]]  # contact id → its rows
    render: Callable[[Renderer, Any], Rendered]
    hops: dict[str, Hop]
    #: each contact lists the ids of its rows under `name` (accountContacts: always `[]`, quirk)
    linked: bool = True


@dataclass(frozen=True)
class Children:
    """Rows of `table` whose `parent` attribute is the id of an object on the page."""

    key: str
    table: str
    parent: str
    render: Callable[[Renderer, Any], Rendered]


def render_field(r: Renderer, st: ACState, f: Any) -> Rendered:
    """A custom field with the ids of its options and relations (`/fields`, `fieldValues.field`)."""
    ids = {c.key: [x.id for x in st.store.rows(c.table) if getattr(x, c.parent) == f.id]
           for c in CHILDREN["fields"]}
    return r.field(f, ids["fieldOptions"], ids["fieldRels"])


def _account(r: Renderer, st: ACState, a: Any) -> Rendered:
    counts = st.account_counts()
    return r.account(a, counts["contacts"].get(a.id, 0), counts["deals"].get(a.id, 0))


CONTACT_INCLUDES: dict[str, Include] = {
    "contactLists": Include(
        lambda st, cid: st.store.memberships_of(cid), Renderer.contact_list,
        {"list": Hop("lists", "list", lambda st: st.store.lists,
                     lambda r, st, x: r.mailing_list(x))}),
    "contactTags": Include(
        lambda st, cid: st.store.contact_tags_of(cid), Renderer.contact_tag,
        {"tag": Hop("tags", "tag", lambda st: st.store.tags, lambda r, st, x: r.tag(x))}),
    "fieldValues": Include(
        lambda st, cid: st.store.field_values_of(cid), Renderer.field_value,
        {"field": Hop("fields", "field", lambda st: st.store.fields, render_field)}),
    "deals": Include(lambda st, cid: st.store.deals_of(cid), Renderer.deal, {}),
    "contactAutomations": Include(
        lambda st, cid: st.store.automations_of(cid), Renderer.contact_automation,
        {"automation": Hop("automations", "automation", lambda st: st.store.automations,
                           lambda r, st, x: r.automation(x))}),
    "accountContacts": Include(
        lambda st, cid: [st.store.account_contacts[i]
                         for i in st.store.accounts_by_contact.get(cid, ())],
        Renderer.account_contact,
        {"account": Hop("accounts", "account", lambda st: st.store.accounts, _account)},
        linked=False),
}

CHILDREN: dict[str, tuple[Children, ...]] = {
    "fields": (Children("fieldOptions", "field_options", "field", Renderer.field_option),
               Children("fieldRels", "field_rels", "field", Renderer.field_rel)),
    "dealGroups": (Children("dealStages", "deal_stages", "group", Renderer.deal_stage),),
}


def parse_include(value: str) -> tuple[set[str], set[str]]:
    """`include=` → (include names, `name.hop` pairs); unknown names are ignored, like AC."""
    first: set[str] = set()
    hops: set[str] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        head, _, tail = part.partition(".")
        if head in CONTACT_INCLUDES:
            first.add(head)
            if tail:
                hops.add(f"{head}.{tail}")
    return first, hops


def contact_sideloads(r: Renderer, st: ACState, contacts: list[Contact], first: set[str],
                      hops: set[str]) -> tuple[Rendered, dict[int, dict[str, list[str]]]]:
    """The sideloaded rows for a page of contacts, and per contact the ids it links to."""
    out: Rendered = {}
    per_contact: dict[int, dict[str, list[str]]] = {c.id: {} for c in contacts}
    for name, inc in CONTACT_INCLUDES.items():
        if name not in first:
            continue
        rows = [x for c in contacts for x in inc.rows_of(st, c.id)]
        out[name] = [inc.render(r, x) for x in rows]
        if inc.linked:
            for x in rows:
                per_contact[x.contact].setdefault(name, []).append(str(x.id))
        for hop_name, hop in inc.hops.items():
            if f"{name}.{hop_name}" in hops:
                table = hop.table(st)
                ids = sorted({getattr(x, hop.ref) for x in rows})
                out[hop.key] = [hop.render(r, st, table[i]) for i in ids if i in table]
    for c in contacts:
        for name in first:
            per_contact[c.id].setdefault(name, [])
    return out, per_contact


def children_sideload(r: Renderer, st: ACState, collection: str, page: list[Any]) -> Rendered:
    """The `CHILDREN` rows of a collection page's objects (nothing for other collections)."""
    ids = {x.id for x in page}
    return {c.key: [c.render(r, x) for x in st.store.rows(c.table) if getattr(x, c.parent) in ids]
            for c in CHILDREN.get(collection, ())}
