"""The import plan: memberships ride in imports (with their contacts, or one EXT_ID-only
import per list) rather than 150-per-call list adds, whichever costs fewer requests; and
what the plan chose is what the Brevo sandbox holds."""

from __future__ import annotations

import itertools
import typing as t

from target_brevo.writers.contacts.import_plan import plan_imports
from target_brevo.writers.contacts.rows import ContactBatch, Row


def batch_of(memberships: dict[str, set[int]], email_only: t.Iterable[str] = ()) -> ContactBatch:
    batch = ContactBatch()
    for ext, lists in memberships.items():
        batch.rows[ext] = Row(ext_id=ext, email=f"{ext}@example.com", lists=set(lists))
    for email in email_only:
        batch.rows[f"email:{email}"] = Row(ext_id=None, email=email, lists={1})
    return batch


def test_scattered_list_sets_join_by_one_import_per_list_not_adds() -> None:
    """13 lists, each contact on its own mix of them: no set of lists has 300 rows, so
    joint imports do not pay; every list has over 300 members, so each gets one import."""
    combos = [set(c) for n in (1, 2, 3) for c in itertools.combinations(range(1, 14), n)]
    memberships = {f"ac-{i}": combos[i % len(combos)] for i in range(6000)}
    batch = batch_of(memberships)
    imports, later = plan_imports(batch, 300)
    assert [(lists, bl, len(rows)) for lists, bl, rows in imports] == [
        (frozenset(), False, 6000)
    ]
    assert [lid for lid, _ in later] == list(range(1, 14))
    for list_id, rows in later:
        expected = sorted(e for e, lists in memberships.items() if list_id in lists)
        assert sorted(str(r.ext_id) for r in rows) == expected
        assert all(r.email is None and not r.attrs for r in rows)  # EXT_ID only
    assert batch.adds == {}
    assert all(not row.lists for row in batch.rows.values())


def test_one_big_set_of_lists_rides_with_its_contacts() -> None:
    memberships = {f"ac-{i}": {1, 2} for i in range(1000)}
    memberships |= {f"ac-{i}": set() for i in range(1000, 1500)}
    batch = batch_of(memberships)
    imports, later = plan_imports(batch, 300)
    assert sorted((sorted(lists), len(rows)) for lists, _bl, rows in imports) == [
        ([], 500),
        ([1, 2], 1000),
    ]
    assert later == []
    assert batch.adds == {}
    assert all(batch.rows[f"ac-{i}"].lists == {1, 2} for i in range(1000))


def test_small_lists_join_by_adds_and_email_only_rows_by_import() -> None:
    memberships = {f"ac-{i}": {1, 2} for i in range(400)}
    memberships |= {f"ac-{i}": {3} for i in range(400, 420)}
    batch = batch_of(memberships, email_only=["no-id@example.com"])
    imports, later = plan_imports(batch, 300)
    # the 400 on lists 1 and 2 ride with their contacts; list 3's 20 members go in one add
    assert sorted((sorted(lists), len(rows)) for lists, _bl, rows in imports) == [
        ([], 21),
        ([1, 2], 400),
    ]
    assert batch.adds == {3: {f"ac-{i}" for i in range(400, 420)}}
    # an add needs an EXT_ID: the row without one joins list 1 by a (one-row) import
    assert [(lid, [(r.ext_id, r.email) for r in rows]) for lid, rows in later] == [
        (1, [(None, "no-id@example.com")])
    ]


def test_scattered_memberships_land_through_imports(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    """In the sandbox: with every contact on its own pair of lists, the memberships go in
    one import per list (no list-add call) and Brevo holds exactly the source's lists."""
    cfg = config_for(brevo, membership_import_min_rows=3)
    lists = [{"id": i, "name": f"List {i}"} for i in range(1, 5)]
    pairs = list(itertools.combinations(range(1, 5), 2))
    contacts = [h.contact(i) for i in range(1, 13)]
    memberships = [
        {"id": i * 10 + n, "contact": i, "list": lid, "status": 1}
        for i in range(1, 13)
        for n, lid in enumerate(pairs[i % len(pairs)])
    ]
    h.run_target(
        cfg, h.ac_input(contacts=contacts, memberships=memberships, lists=lists, campaigns=False)
    )
    log = h.api_requests(brevo)
    paths = [e["path"] for e in log if e["method"] == "POST"]
    assert not [p for p in paths if p.endswith("/contacts/add")]
    assert sum(p.endswith("/contacts/import") for p in paths) == 1 + 4
    dump = brevo.control.dump()
    names = {x["id"]: x["name"] for x in dump["lists"]}
    by_ext = h.contacts_by_ext(dump)
    for i in range(1, 13):
        held = {names[lid] for lid in by_ext[f"ac-{i}"]["listIds"]}
        want = {f"List {lid} [ac-list-{lid}]" for lid in pairs[i % len(pairs)]}
        assert {n for n in held if "[ac-list-" in n} == want
    assert h.rejects_of(cfg) == []
