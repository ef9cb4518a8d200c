"""Completed versions (ACTIVATE_VERSION) handled per delete_policy, with the guard and dry run."""

from __future__ import annotations

import json
import tracemalloc
import typing as t

import pytest
import requests
from sandbox.testing import SandboxProcess
from target_brevo.delete_scans import KeySet, Version
from target_brevo.deletes import DeleteGuardError, Reconciler

#: The helpers of conftest.py (importlib mode: test modules cannot import it), set per test.
H: t.Any = None


@pytest.fixture(autouse=True)
def _helpers(h: t.Any) -> None:
    global H
    H = h


ID_SCHEMA = {"id": {"type": "integer"}}
LISTS = [{"id": i, "name": f"List {i}", "stringid": f"l{i}", "udate": None, "cdate": None}
         for i in range(1, 6)]


def seed(cfg: dict[str, t.Any], n: int = 20) -> None:
    """Contacts 1..n, lists 1..5, each contact in list 1 + (id % 5)."""
    msgs = H.Messages().add("lists", *LISTS)
    msgs.add("contacts", *(H.contact(i) for i in range(1, n + 1)))
    msgs.add("contact_lists", *({"id": i, "contact": i, "list": 1 + i % 5, "status": 1,
                                 "udate": None} for i in range(1, n + 1)))
    H.run_target(cfg, msgs)


def version_msgs(stream: str, ids: t.Iterable[int], version: int = 1_000) -> t.Any:
    msgs = H.Messages()
    msgs.items.append(H.schema_msg(stream, ID_SCHEMA, ["id"]))
    msgs.items.extend({**H.record_msg(stream, {"id": i}), "version": version} for i in ids)
    msgs.items.append({"type": "ACTIVATE_VERSION", "stream": stream, "version": version})
    return msgs


def by_ext(sb: SandboxProcess) -> dict[str, dict[str, t.Any]]:
    return H.contacts_by_ext(sb.control.dump())


def hand_made(sb: SandboxProcess) -> None:
    """A contact created in Brevo by hand, without our prefix, in one of our lists."""
    r = requests.post(f"{sb.api_url}/contacts", headers={"api-key": sb.token}, timeout=10,
                      json={"email": "byhand@example.com", "attributes": {"EXT_ID": "crm-7"}})
    assert r.status_code == 201


def our_lists(sb: SandboxProcess) -> dict[str, dict[str, t.Any]]:
    return {x["name"]: x for x in sb.control.dump()["lists"]}


def test_delete_policy_deletes_absent_contacts_only(brevo: SandboxProcess, config_for: t.Any,
                                                    ) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg)
    hand_made(brevo)
    # 20 contacts in Brevo, the version lacks 4 and 19 (2 of 20 = 90% exactly: guard passes)
    kept = [i for i in range(1, 21) if i not in (4, 19)]
    run = H.run_target(cfg, version_msgs("contact_ids", kept))
    ext = by_ext(brevo)
    assert "ac-4" not in ext
    assert "ac-19" not in ext
    assert {f"ac-{i}" for i in range(1, 21) if i not in (4, 19)} <= set(ext)
    assert "crm-7" in ext
    assert run.target.syncer.counts.get("deleted_contacts") == 2


def test_keys_above_the_scan_are_never_deleted(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg)
    # the scan read up to id 18: 19 and 20 were created after it passed, they stay
    H.run_target(cfg, version_msgs("contact_ids", [i for i in range(1, 19) if i != 5]))
    ext = by_ext(brevo)
    assert "ac-5" not in ext
    assert {"ac-19", "ac-20"} <= set(ext)


def test_mark_policy_sets_the_attribute_and_unlinks_lists(brevo: SandboxProcess,
                                                          config_for: t.Any) -> None:
    cfg = config_for(brevo)  # the default policy is mark
    seed(cfg)
    before = by_ext(brevo)
    assert before["ac-7"]["listIds"]
    H.run_target(cfg, version_msgs("contact_ids", [i for i in range(1, 21) if i != 7]))
    ext = by_ext(brevo)
    marked = ext["ac-7"]
    assert marked["attributes"]["AC_DELETED_AT"]
    assert marked["listIds"] == []
    # nothing else touched: the email and names stay
    assert marked["email"] == before["ac-7"]["email"]
    assert marked["attributes"]["FIRSTNAME"] == before["ac-7"]["attributes"]["FIRSTNAME"]
    assert all("AC_DELETED_AT" not in c["attributes"] for k, c in ext.items() if k != "ac-7")
    assert ext["ac-8"]["listIds"] == before["ac-8"]["listIds"]
    # a second reconciliation leaves the marked contact alone (no request for it)
    brevo.control.reset_requests()
    H.run_target(cfg, version_msgs("contact_ids", [i for i in range(1, 21) if i != 7], 2_000))
    puts = [e for e in brevo.control.requests()["log"] if e["method"] == "PUT"]
    assert puts == []


def test_lists_absent_from_the_version(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="mark")
    seed(cfg)
    H.run_target(cfg, version_msgs("list_ids", [1, 2, 4, 5]))
    names = our_lists(brevo)
    marked = names["[deleted in ActiveCampaign] List 3 [ac-list-3]"]
    members = [c for c in brevo.control.dump()["contacts"] if marked["id"] in c["listIds"]]
    assert members == []
    assert "All synced contacts [ac-all]" in names
    cfg_delete = {**cfg, "delete_policy": "delete"}
    H.run_target(cfg_delete, version_msgs("list_ids", [1, 2, 5], 2_000))
    names = our_lists(brevo)
    assert not any("[ac-list-3]" in n or "[ac-list-4]" in n for n in names)
    assert {"List 1 [ac-list-1]", "List 2 [ac-list-2]", "List 5 [ac-list-5]"} <= set(names)


def test_guard_stops_a_small_version_before_anything(brevo: SandboxProcess,
                                                     config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg)
    before = brevo.control.dump()
    kept = [i for i in range(1, 21) if i not in (2, 5, 10, 15)]  # 16 of 20
    with pytest.raises(DeleteGuardError, match=r"contact_ids: delete guard.*16 contacts, 80%"):
        H.run_target(cfg, version_msgs("contact_ids", kept))
    assert by_ext(brevo).keys() == H.contacts_by_ext(before).keys()
    # a lower ratio, set by the operator, lets it through
    H.run_target({**cfg, "delete_guard_percent": 50}, version_msgs("contact_ids", kept, 2))
    assert set(by_ext(brevo)) == {f"ac-{i}" for i in kept}


def test_truncated_scan_deletes_nothing(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg)
    # a scan that stopped early (ids 1..16): everything above its highest key is kept
    H.run_target(cfg, version_msgs("contact_ids", range(1, 17)))
    assert len(by_ext(brevo)) == 20


def test_empty_version_never_deletes(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg, 10)
    msgs = version_msgs("contact_ids", [])
    # an activation without records of its version is no completed scan: nothing compared
    H.run_target(cfg, msgs)
    assert len(by_ext(brevo)) == 10


def test_dry_run_counts_and_writes_nothing(brevo: SandboxProcess, config_for: t.Any,
                                           caplog: pytest.LogCaptureFixture) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg)
    before = brevo.control.dump()
    brevo.control.reset_requests()
    with caplog.at_level("INFO"):
        run = H.run_target({**cfg, "dry_run": True},
                         version_msgs("contact_ids", [i for i in range(1, 21) if i != 3])
                         .add("lists"))
    assert brevo.control.dump()["contacts"] == before["contacts"]
    methods = {e["method"] for e in brevo.control.requests()["log"]}
    assert methods == {"GET"}
    assert run.target.syncer.counts.get("would_delete_contacts") == 1
    assert "DRY RUN: contact_ids: would delete 1 contacts absent from version 1000" in caplog.text
    assert "ac-3" in caplog.text
    assert "person3@example.com" not in caplog.text


def test_unactivated_version_deletes_nothing(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg, 10)
    msgs = version_msgs("contact_ids", range(1, 6))
    msgs.items.pop()  # the scan was interrupted: no ACTIVATE_VERSION
    run = H.run_target(cfg, msgs)
    assert len(by_ext(brevo)) == 10
    assert "deleted_contacts" not in run.target.syncer.counts


def test_keyset_memory_at_one_million_keys() -> None:
    tracemalloc.start()
    keys = KeySet()
    for i in range(1, 1_000_001):
        if i % 50:
            keys.add(i)
    keys.freeze()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert keys.count == 980_000
    assert 50 not in keys
    assert 51 in keys
    assert 1_000_001 not in keys
    assert peak < 20_000_000  # the raw array('q') (8 MB) then a 125 kB bitmap
    assert keys.nbytes() < 200_000


def test_sparse_keys_use_a_sorted_array() -> None:
    keys = KeySet()
    for k in (5, 10**15, 7, 5):
        keys.add(k)
    keys.freeze()
    assert keys.count == 3
    assert 10**15 in keys
    assert 6 not in keys


def test_census_of_foreign_and_marked_contacts() -> None:
    class FakeSyncer:
        config: dict[str, t.Any] = {"delete_policy": "mark"}
        dry_run = False

    version = Version("contact_ids", 1)
    for k in (1, 2, 4):
        version.keys.add(k)
    version.keys.freeze()
    pages = [
        {"id": 11, "attributes": {"EXT_ID": "ac-1"}, "listIds": [100]},
        {"id": 12, "attributes": {"EXT_ID": "ac-3"}, "listIds": [100, 999]},
        {"id": 13, "attributes": {"EXT_ID": "ac-2x"}, "listIds": []},
        {"id": 14, "attributes": {"EXT_ID": "crm-3"}, "listIds": [100]},
        {"id": 15, "attributes": {}, "listIds": [100]},
        {"id": 16, "attributes": {"EXT_ID": "ac-0", "AC_DELETED_AT": "2026-01-01"}},
        {"id": 17, "attributes": {"EXT_ID": "ac-9"}},
    ]
    census = Reconciler(FakeSyncer()).contacts_census(
        version, "ac-", {100}, pages
    )
    assert census.live == 3
    assert census.marked == 1
    assert census.newer == 1
    assert list(census.candidates.ids) == [12]
    assert census.candidates.lists_of(0) == [100]  # 999 is no list of the folder
    assert json.dumps(list(census.candidates.keys)) == "[3]"


def test_campaign_drafts_absent_from_the_version(brevo: SandboxProcess,
                                                 config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="mark")
    msgs = H.Messages().add("lists", *LISTS)
    msgs.add("campaigns", *({"id": i, "name": f"Campaign {i}", "status": 0, "type": "single",
                             "message_id": i} for i in range(1, 6)))
    msgs.add("messages", *({"id": i, "name": f"M{i}", "subject": f"Subject {i}",
                            "fromname": "Shop", "fromemail": "shop@example.com",
                            "reply2": "help@example.com", "html": f"<p>{i}</p>", "text": "x"}
                           for i in range(1, 6)))
    H.run_target(cfg, msgs)
    own = requests.post(
        f"{brevo.api_url}/emailCampaigns", headers={"api-key": brevo.token}, timeout=10,
        json={"name": "Our own newsletter", "subject": "Hi", "htmlContent": "<p>hi</p>",
              "sender": {"name": "Sandbox", "email": "sandbox@example.com"},
              "recipients": {"listIds": [our_lists(brevo)["List 1 [ac-list-1]"]["id"]]}},
    )
    assert own.status_code == 201, own.text

    def names() -> set[str]:
        return {c["name"] for c in brevo.control.dump()["campaigns"]}

    run_target = H.run_target
    run_target(cfg, version_msgs("campaign_ids", [1, 2, 4, 5]))
    assert "[deleted in ActiveCampaign] Campaign 3 [ac-campaign-3 ac-message-3]" in names()
    assert "Campaign 4 [ac-campaign-4 ac-message-4]" in names()
    run_target({**cfg, "delete_policy": "delete"}, version_msgs("campaign_ids", [1, 2, 5], 2))
    assert names() == {"Our own newsletter", "Campaign 1 [ac-campaign-1 ac-message-1]",
                       "Campaign 2 [ac-campaign-2 ac-message-2]",
                       "Campaign 5 [ac-campaign-5 ac-message-5]"}


def test_tags_and_fields_versions_touch_nothing(brevo: SandboxProcess, config_for: t.Any) -> None:
    cfg = config_for(brevo, delete_policy="delete")
    seed(cfg, 5)
    before = brevo.control.dump()
    brevo.control.reset_requests()
    H.run_target(cfg, version_msgs("tag_ids", [1]).add("lists"))
    H.run_target(cfg, version_msgs("contact_custom_field_ids", []))
    assert brevo.control.dump()["contacts"] == before["contacts"]
    assert {e["method"] for e in brevo.control.requests()["log"]} <= {"GET"}
