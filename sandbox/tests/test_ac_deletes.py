"""The AC control surface deletes lists and tags; the deleted ids vanish from every listing."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from sandbox.testing import SandboxProcess

AC_SANDBOX = {"contacts": 80, "seed": 11}


pytestmark = pytest.mark.usefixtures("clean_ac")


def get(ac: SandboxProcess, path: str, **params: Any) -> Any:
    r = requests.get(f"{ac.api_url}{path}", headers={"Api-Token": ac.token}, params=params,
                     timeout=10)
    r.raise_for_status()
    return r.json()


def every(ac: SandboxProcess, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = get(ac, path, limit=100, offset=offset, **params)[key]
        rows.extend(page)
        if len(page) < 100:
            return rows
        offset += 100


def test_delete_list_vanishes_with_its_memberships(ac: SandboxProcess) -> None:
    before = ac.control.dump()
    counts: dict[int, int] = {}
    for m in before["contact_lists"]:
        counts[m["list"]] = counts.get(m["list"], 0) + 1
    victim = max(counts, key=lambda k: counts[k])
    member = next(m["contact"] for m in before["contact_lists"] if m["list"] == victim)
    udate = next(c["udate"] for c in before["contacts"] if c["id"] == member)

    [result] = ac.control.mutate({"op": "delete_list", "id": victim})
    assert result == {"id": victim, "deleted": True, "memberships": counts[victim]}

    assert str(victim) not in {x["id"] for x in every(ac, "/lists", "lists")}
    assert requests.get(f"{ac.api_url}/lists/{victim}", headers={"Api-Token": ac.token},
                        timeout=10).status_code == 404
    assert all(m["list"] != str(victim) for m in every(ac, "/contactLists", "contactLists"))
    assert all(m["list"] != str(victim)
               for m in get(ac, f"/contacts/{member}/contactLists")["contactLists"])
    sideloaded = get(ac, "/contacts", limit=100, include="contactLists")["contactLists"]
    assert sideloaded
    assert all(m["list"] != str(victim) for m in sideloaded)
    after = ac.control.dump()
    assert all(r["relid"] != victim for r in after["contact_custom_field_rels"])
    assert all(victim not in c["list_ids"] for c in after["campaigns"])
    # the unkind reading: the members' udate does not move, only an id scan can tell
    assert next(c["udate"] for c in after["contacts"] if c["id"] == member) == udate
    assert len(after["contact_lists"]) == len(before["contact_lists"]) - counts[victim]


def test_delete_tag_vanishes_from_contacts(ac: SandboxProcess) -> None:
    before = ac.control.dump()
    ct = before["contact_tags"][0]
    tag = next(t for t in before["tags"] if t["id"] == ct["tag"])
    users = {x["contact"] for x in before["contact_tags"] if x["tag"] == tag["id"]}

    [result] = ac.control.mutate({"op": "delete_tag", "tag": tag["tag"]})
    assert result["id"] == tag["id"]
    assert result["contact_tags"] >= len(users)

    assert str(tag["id"]) not in {x["id"] for x in every(ac, "/tags", "tags")}
    assert all(x["tag"] != str(tag["id"]) for x in every(ac, "/contactTags", "contactTags"))
    body = get(ac, f"/contacts/{ct['contact']}", include="contactTags.tag")
    assert all(x["tag"] != str(tag["id"]) for x in body.get("contactTags", []))
    assert all(x.get("tag") != tag["tag"] for x in body.get("tags", []))
    with pytest.raises(RuntimeError, match="no tag"):
        ac.control.mutate({"op": "delete_tag", "tag": tag["tag"]})


def test_deleted_contact_ids_leave_the_id_listing(ac: SandboxProcess) -> None:
    ac.control.mutate({"op": "delete_contact", "id": 3}, {"op": "delete_contact", "id": 40})
    ids = {int(c["id"]) for c in every(ac, "/contacts", "contacts", **{"orders[id]": "ASC"})}
    assert 3 not in ids
    assert 40 not in ids
    assert len(ids) == 78
