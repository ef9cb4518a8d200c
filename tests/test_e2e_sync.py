"""Full sync, mutations in ActiveCampaign, incremental sync: Brevo ends exactly as expected."""

from __future__ import annotations

from typing import Any

from tests.e2e_support import dump, mutate, request_counts
from tests.expected import check_brevo, expected_from_ac, list_key


def _field_id(ac: dict[str, Any], perstag: str) -> int:
    return next(f["id"] for f in ac["contact_custom_fields"] if f["perstag"] == perstag)


def _pick_mutations(ac: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    contacts = sorted(ac["contacts"], key=lambda c: c["id"])
    active = [m for m in ac["contact_lists"] if m["status"] == 1]
    tagged = [c for c in contacts if c["tags"]]
    used: set[int] = set()

    def take(candidates: list[dict[str, Any]], key: str = "id") -> dict[str, Any]:
        for c in candidates:
            if c[key] not in used:
                used.add(c[key])
                return c
        raise AssertionError("the seeded account has too few candidates")

    unsub = take(active, "contact")
    who = {
        "updated": take(contacts)["id"],
        "email_changed": take(contacts)["id"],
        "unsubscribed": unsub["contact"],
        "untagged": take(tagged)["id"],
        "tagged": take(contacts)["id"],
        "deleted": take(contacts)["id"],
        "field_edited": take(contacts)["id"],
    }
    removed_tag = next(c for c in tagged if c["id"] == who["untagged"])["tags"][0]
    ops: list[dict[str, Any]] = [
        {"op": "update_contact", "id": who["updated"], "fields": {"firstName": "Renée-Updated"}},
        {"op": "change_email", "id": who["email_changed"], "email": "moved.person@example.org"},
        {"op": "unsubscribe", "contact": unsub["contact"], "list": unsub["list"]},
        {"op": "remove_tag", "contact": who["untagged"], "tag": removed_tag},
        {"op": "add_tag", "contact": who["tagged"], "tag": "e2e-vip"},
        {"op": "delete_contact", "id": who["deleted"]},
        {"op": "rename_list", "id": ac["lists"][0]["id"], "name": "Renamed in AC ✓"},
        {"op": "set_field_value", "contact": who["field_edited"],
         "field": _field_id(ac, "JOB_TITLE"), "value": "Chief Pipeline Officer"},
        {"op": "set_field_value", "contact": who["field_edited"],
         "field": _field_id(ac, "BIRTHDAY"), "value": "1984-02-29"},
        # an imported contact: udate null, so no date filter finds it (the tap reads it by id)
        {"op": "import_contact", "fields": {"email": "Imported.Person@Example.com",
                                            "firstName": "Ida"},
         "lists": [ac["lists"][1]["id"]], "tags": ["e2e-imported"],
         "field_values": {str(_field_id(ac, "JOB_TITLE")): "Importer"}},
        {"op": "create_contact", "fields": {"email": "Brand.New+e2e@Example.com",
                                            "firstName": "Nova", "lastName": "Reyes"}},
    ]
    return ops, who


def test_full_then_incremental_sync_lands_exactly(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=250)

    first = p.run()
    assert first.returncode == 0, first.output[-4000:]
    ac_before = dump(p.ac_url)
    brevo_first = dump(p.brevo_url)
    problems = check_brevo(expected_from_ac(ac_before), brevo_first)
    assert problems == [], "\n".join(problems[:40] + [str(r) for r in p.rejects()[:10]])
    state = p.state()
    assert "contacts" in str(state), state

    ops, who = _pick_mutations(ac_before)
    results = mutate(p.ac_url, ops)
    assert len(results) == len(ops)
    new_id = results[-1]["id"]  # the create_contact op is the last one
    imported_id = results[-2]["id"]  # the import_contact op before it
    contact_pages_first = request_counts(p.ac_url)["by_path"].get("GET /api/3/contacts", 0)

    second = p.run()
    assert second.returncode == 0, second.output[-4000:]
    ac_after = dump(p.ac_url)
    brevo_second = dump(p.brevo_url)
    problems = check_brevo(expected_from_ac(ac_after), brevo_second)
    assert problems == [], "\n".join(problems[:40] + [str(r) for r in p.rejects()[:10]])

    by_ext_first = {c["ext_id"]: c for c in brevo_first["contacts"]}
    by_ext_second = {c["ext_id"]: c for c in brevo_second["contacts"]}
    # The email change moved the same Brevo contact, it did not create another one.
    moved = f"ac-{who['email_changed']}"
    assert by_ext_second[moved]["id"] == by_ext_first[moved]["id"]
    assert by_ext_second[moved]["email"] == "moved.person@example.org"
    assert not any(c["email"] == by_ext_first[moved]["email"] for c in brevo_second["contacts"])
    # The new contact arrived, lower-cased.
    assert by_ext_second[f"ac-{new_id}"]["email"] == "brand.new+e2e@example.com"
    # So did the imported one, whose udate is null, with its tag (its list and value are in
    # the exact-state check above).
    imported = by_ext_second[f"ac-{imported_id}"]
    assert imported["email"] == "imported.person@example.com"
    assert "|e2e-imported|" in str(imported["attributes"].get("AC_TAGS"))
    # Deletes are invisible to polling ActiveCampaign (no tombstones): the contact stays as it was.
    gone = f"ac-{who['deleted']}"
    assert by_ext_second[gone] == by_ext_first[gone]
    # The rename renamed the same list.
    renamed_key = list_key(ac_before["lists"][0]["id"])
    first_list = next(x for x in brevo_first["lists"] if x["name"].endswith(renamed_key))
    second_list = next(x for x in brevo_second["lists"] if x["name"].endswith(renamed_key))
    assert second_list["id"] == first_list["id"]
    assert second_list["name"] == f"Renamed in AC ✓ {renamed_key}"

    # Only the changes moved: every Brevo contact the incremental run touched was mutated, and
    # the contacts were read through the server-side filter (one page), not all over again.
    mutated = {f"ac-{i}" for i in who.values()} | {f"ac-{new_id}", f"ac-{imported_id}"}
    touched = {
        ext for ext, c in by_ext_second.items()
        if ext not in by_ext_first or c["modifiedAt"] != by_ext_first[ext]["modifiedAt"]
    }
    assert touched <= mutated, sorted(touched - mutated)
    assert {moved, f"ac-{new_id}", f"ac-{who['updated']}"} <= touched
    contact_pages = request_counts(p.ac_url)["by_path"]["GET /api/3/contacts"]
    assert contact_pages_first >= 3
    assert contact_pages - contact_pages_first <= 2, (contact_pages, contact_pages_first)


def test_daily_reconciliation_job_scans_memberships_and_keeps_the_exact_state(
    make_pipeline: Any,
) -> None:
    """`ac-to-brevo-reconcile` reads every membership, tag and value with full scans."""
    p = make_pipeline(contacts=200)
    first = p.run()
    assert first.returncode == 0, first.output[-4000:]
    ac = dump(p.ac_url)
    active = [m for m in ac["contact_lists"] if m["status"] == 1][:3]
    mutate(p.ac_url, [{"op": "unsubscribe", "contact": m["contact"], "list": m["list"]}
                      for m in active])
    before = request_counts(p.ac_url)["by_path"]
    reconcile = p.run(tap="tap-activecampaign--reconcile")
    assert reconcile.returncode == 0, reconcile.output[-4000:]
    after = request_counts(p.ac_url)["by_path"]
    # It really scanned the collections instead of riding on the contacts' sideloads.
    for path in ("GET /api/3/contactLists", "GET /api/3/fieldValues", "GET /api/3/contactTags"):
        assert after.get(path, 0) > before.get(path, 0), path
    problems = check_brevo(expected_from_ac(dump(p.ac_url)), dump(p.brevo_url))
    assert problems == [], "\n".join(problems[:40])
