"""Bad data: each bad record is rejected with stream, key and reason; everything else lands."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e_support import dump, mutate
from tests.expected import check_brevo, expected_from_ac


def _rejects_for(rejects: list[dict[str, Any]], key: Any) -> list[dict[str, Any]]:
    return [r for r in rejects if str(key) in json.dumps(r.get("key"))]


def test_bad_contacts_from_activecampaign_are_rejected_with_reasons(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=200)
    created = mutate(p.ac_url, [
        # ActiveCampaign only wants an "@"; Brevo wants a deliverable-looking address.
        {"op": "create_contact", "fields": {"email": "two@@example.com", "firstName": "Bad"}},
        {"op": "create_contact", "fields": {"email": "user@localhost"}},
        {"op": "create_contact", "fields": {"email": "ok.phone.bad@example.com",
                                            "phone": "call me maybe"}},
    ])
    bad1, bad2, bad_phone = (r["id"] for r in created)
    result = p.run()
    assert result.returncode == 0, result.output[-4000:]

    rejects = p.rejects()
    for key in (bad1, bad2):
        found = _rejects_for(rejects, key)
        assert found, f"no reject for contact {key}: {rejects[:5]}"
        assert found[0]["stream"] == "contacts"
        assert "email" in json.dumps(found[0]).lower()
    phone = _rejects_for(rejects, bad_phone)
    assert phone, f"the bad phone of contact {bad_phone} was not reported"
    assert "phone" in json.dumps(phone).lower()

    brevo = dump(p.brevo_url)
    by_ext = {c["ext_id"]: c for c in brevo["contacts"]}
    assert f"ac-{bad1}" not in by_ext
    assert f"ac-{bad2}" not in by_ext
    assert by_ext[f"ac-{bad_phone}"]["email"] == "ok.phone.bad@example.com"
    assert not by_ext[f"ac-{bad_phone}"].get("sms")
    problems = check_brevo(expected_from_ac(dump(p.ac_url)), brevo)
    assert problems == [], "\n".join(problems[:40])


def _singer(*messages: dict[str, Any]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_bad_records_from_any_tap_are_rejected_and_the_rest_lands(make_pipeline: Any) -> None:
    """A stream from another source, fed through Meltano to the target alone."""
    p = make_pipeline(contacts=10)
    schema = {
        "type": "object",
        "properties": {
            "customer_id": {"type": ["integer", "null"]},
            "email": {"type": ["string", "null"]},
            "phone": {"type": ["string", "null"]},
            "signup": {"type": ["string", "null"], "format": "date-time"},
            "score": {"type": ["number", "null"]},
            "profile": {"type": ["object", "null"], "properties": {}},
        },
    }
    mapping = {"customers": {"kind": "contacts", "email": "email", "phone": "phone",
                             "ext_id_prefix": "crm-",
                             "fields": {"signup": "SIGNUP_AT", "score": "SCORE"}}}
    p.extra_env["TARGET_BREVO_STREAM_MAPPING"] = json.dumps(mapping)
    rows = [
        {"customer_id": 1, "email": "ann@example.com", "phone": "+33 6 12 34 56 78",
         "signup": "2026-01-02T03:04:05+00:00", "score": 4.5},
        {"customer_id": 2, "email": "not an email", "phone": None},
        {"customer_id": 3, "email": "cy@example.com", "phone": "12345"},
        {"email": "nokey@example.com"},  # the key is missing
        {"customer_id": 5, "email": "eve@example.com", "score": 1},
    ]
    text = _singer(
        {"type": "SCHEMA", "stream": "customers", "schema": schema,
         "key_properties": ["customer_id"]},
        *({"type": "RECORD", "stream": "customers", "record": r} for r in rows),
        {"type": "STATE", "value": {"bookmarks": {"customers": {"replication_key_value": 5}}}},
    )
    result = p.meltano("invoke", "target-brevo", stdin=text)
    assert result.returncode == 0, result.output[-4000:]

    by_ext = {c["ext_id"]: c for c in dump(p.brevo_url)["contacts"]}
    assert set(by_ext) == {"crm-1", "crm-3", "crm-5"}
    assert by_ext["crm-1"]["sms"] in ("+33612345678", "33612345678")
    assert by_ext["crm-1"]["attributes"]["SCORE"] == 4.5
    assert by_ext["crm-1"]["attributes"]["SIGNUP_AT"] == "2026-01-02"
    assert not by_ext["crm-3"].get("sms")

    rejects = p.rejects()
    reasons = {json.dumps(r.get("key")): json.dumps(r) for r in rejects}
    assert any("not an email" in r or "email" in r.lower() for k, r in reasons.items() if "2" in k)
    assert any("customer_id" in r for r in reasons.values()), rejects  # the missing key, named
    assert all(r["stream"] == "customers" for r in rejects)
    # The STATE of the input came out: the batch was confirmed despite the rejects.
    states = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert states[-1]["bookmarks"]["customers"]["replication_key_value"] == 5
