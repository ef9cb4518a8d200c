"""Import polls sized to the 100-per-hour `/processes` bucket: one listing answers for every
import of a flush, and every row still lands only once its import is confirmed."""

from __future__ import annotations

import typing as t


def test_one_listing_confirms_many_imports(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    # 200 contacts, imports of at most ~1.5 kB each: a dozen or more imports in one flush
    cfg = config_for(brevo, import_max_bytes=1500)
    contacts = [h.contact(i, f"p{i}@example.com") for i in range(1, 201)]
    run = h.run_target(cfg, h.ac_input(contacts=contacts, campaigns=False))
    log = h.api_requests(brevo)
    imports = [e for e in log if e["method"] == "POST" and e["path"] == "/v3/contacts/import"]
    polls = [e for e in log if e["method"] == "GET" and e["path"].startswith("/v3/processes")]
    assert len(imports) >= 10
    assert polls
    assert len(polls) <= 4, [e["path"] for e in polls]
    assert any(e["path"] == "/v3/processes" for e in polls)
    assert set(h.contacts_by_ext(brevo.control.dump())) == {f"ac-{i}" for i in range(1, 201)}
    assert run.target.syncer.counts["imports"] == len(imports)
