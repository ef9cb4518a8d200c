"""Paging over /contacts: every record exactly once, for offset and id_greater paging, also
while contacts are created, updated and deleted between pages (a hypothesis property)."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox.testing import SandboxProcess

N = 150


AC_SANDBOX = {"contacts": N, "seed": 3}


def fetch(ac: SandboxProcess, s: requests.Session, mode: str, limit: int, cursor: int,
          path: str = "/contacts") -> tuple[list[int], int]:
    params: dict[str, Any] = {"limit": limit, "orders[id]": "ASC"}
    if mode == "offset":
        params["offset"] = cursor
    else:
        params["id_greater"] = cursor
    body = s.get(f"{ac.api_url}{path}", params=params, timeout=10).json()
    key = path.strip("/")
    return [int(c["id"]) for c in body[key]], int(body["meta"]["total"])


def session(ac: SandboxProcess) -> requests.Session:
    s = requests.Session()
    s.headers["Api-Token"] = ac.token
    return s


def test_offset_and_keyset_paging_return_every_record_once(ac: SandboxProcess) -> None:
    ac.control.reset()
    s = session(ac)
    for mode in ("offset", "id_greater"):
        for limit in (1, 7, 20, 100):
            seen: list[int] = []
            cursor = 0
            while True:
                ids, _total = fetch(ac, s, mode, limit, cursor)
                seen += ids
                if len(ids) < limit:
                    break
                cursor = cursor + limit if mode == "offset" else ids[-1]
            assert seen == list(range(1, N + 1)), (mode, limit)


def test_other_collections_page_completely(ac: SandboxProcess) -> None:
    ac.control.reset()
    dump = ac.control.dump()
    s = session(ac)
    for path, stream in (("/contactLists", "contact_lists"), ("/contactTags", "contact_tags"),
                         ("/fieldValues", "contact_custom_field_values"), ("/deals", "deals")):
        seen: list[int] = []
        offset = 0
        while True:
            ids, total = fetch(ac, s, "offset", 33, offset, path)
            seen += ids
            offset += 33
            if offset >= total:
                break
        assert sorted(seen) == [x["id"] for x in dump[stream]]
        assert len(seen) == len(set(seen))


def test_offset_paging_shifts_after_a_delete_but_keyset_does_not(ac: SandboxProcess) -> None:
    """Faithful to AC: deleting an already-read contact shifts offset pages by one."""
    s = session(ac)
    for mode, expect_missing in (("offset", {51}), ("id_greater", set())):
        ac.control.reset()
        seen: list[int] = []
        cursor = 0
        first = True
        while True:
            ids, _ = fetch(ac, s, mode, 50, cursor)
            seen += ids
            if first:
                ac.control.mutate({"op": "delete_contact", "id": 10})
                first = False
            if len(ids) < 50:
                break
            cursor = cursor + 50 if mode == "offset" else ids[-1]
        survivors = set(range(1, N + 1)) - {10}
        assert survivors - set(seen) == expect_missing
        assert len(seen) == len(set(seen))


op_strategy = st.tuples(st.sampled_from(["update", "delete", "create", "tag", "none"]),
                        st.integers(min_value=1, max_value=N))


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mode=st.sampled_from(["offset", "id_greater"]),
       limit=st.integers(min_value=5, max_value=120),
       ops=st.lists(op_strategy, max_size=40))
def test_paging_under_concurrent_changes(ac: SandboxProcess, mode: str, limit: int,
                                         ops: list[tuple[str, int]]) -> None:
    ac.control.reset()
    s = session(ac)
    alive = set(range(1, N + 1))
    deleted: set[int] = set()
    created: list[int] = []
    passed_deletions = 0
    seen: list[int] = []
    cursor = 0
    pending = list(ops)
    n = 0
    page_size = min(limit, 100)  # the server clamps a larger limit to 100
    while True:
        ids, _ = fetch(ac, s, mode, limit, cursor)
        seen += ids
        if len(ids) < page_size:
            break
        cursor = cursor + page_size if mode == "offset" else ids[-1]
        if pending:  # one change between every two pages
            kind, target = pending.pop(0)
            n += 1
            if kind == "update" and target in alive:
                ac.control.mutate({"op": "update_contact", "id": target,
                                   "fields": {"firstName": f"U{n}"}})
            elif kind == "tag" and target in alive:
                ac.control.mutate({"op": "add_tag", "contact": target, "tag": f"t{n}"})
            elif kind == "delete" and target in alive:
                ac.control.mutate({"op": "delete_contact", "id": target})
                alive.discard(target)
                deleted.add(target)
                if seen and target <= max(seen):
                    passed_deletions += 1
            elif kind == "create":
                new = ac.control.mutate({"op": "create_contact",
                                         "fields": {"email": f"New.{n}@Example.com"}})[0]["id"]
                alive.add(new)
                created.append(new)
    assert len(seen) == len(set(seen)), "a record was returned twice"
    missing = alive - set(seen)
    if mode == "id_greater":
        assert not missing  # keyset paging never skips a record that exists throughout
    else:
        # offset paging skips exactly one record per deletion behind the cursor, never more
        assert len(missing) <= passed_deletions
        assert not missing - set(range(1, N + 1 + len(created)))
