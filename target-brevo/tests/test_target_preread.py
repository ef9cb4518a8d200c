"""The pre-read keeps only what its flush can use, so the target's memory stays flat in the
size of the Brevo account (issue 14): the contacts the flush touches (by EXT_ID or email)
and the holders of the SMS numbers it sends, never every contact of the master list."""

from __future__ import annotations

import typing as t
from types import SimpleNamespace

from target_brevo.writers.contacts.readback import ReadBack
from target_brevo.writers.contacts.rows import ContactBatch, Row

MASTER = 7


class PagedContacts:
    """`GET /contacts` of a master list of `n` contacts, 1,000 per page, as Brevo pages it."""

    def __init__(self, n: int) -> None:
        self.contacts = [
            {
                "email": f"c{i}@example.com",
                "attributes": {"EXT_ID": f"ac-{i}", "SMS": f"3361000{i:04d}"},
                "listIds": [MASTER],
            }
            for i in range(n)
        ]
        self.calls: list[dict[str, t.Any]] = []

    def get(self, path: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
        assert path == "/contacts"
        self.calls.append(params)
        offset, limit = int(params.get("offset", 0)), int(params["limit"])
        return {"contacts": self.contacts[offset : offset + limit], "count": len(self.contacts)}


def newcomers(n: int) -> list[Row]:
    """Contacts Brevo does not hold yet: enough of them that paging the list is cheapest."""
    return [Row(ext_id=f"new-{i}", email=f"new{i}@example.com") for i in range(n)]


def preread(rows: list[Row], account: int) -> tuple[dict[str, dict[str, t.Any]], PagedContacts]:
    client = PagedContacts(account)
    ctx = SimpleNamespace(
        client=client,
        resolver=SimpleNamespace(list_sizes={MASTER: account}),
        imported_rows=0,
        count=lambda what, n=1: None,
    )
    batch = ContactBatch(rows={r.ext_id or f"email:{r.email}": r for r in rows})
    reader = ReadBack(t.cast(t.Any, ctx), batch, t.cast(t.Any, None), t.cast(t.Any, None))
    return reader.preread(MASTER), client


def test_preread_of_a_large_list_keeps_only_the_flush_contacts() -> None:
    rows = [
        Row(ext_id="ac-10", email="c10@example.com"),
        Row(ext_id="ac-4321", email="moved@example.com"),  # known by EXT_ID only
        Row(ext_id=None, email="c2500@example.com"),  # known by email only
        Row(ext_id="ac-new", email="new@example.com", sms="+33610003999"),  # another's SMS
        *newcomers(30),
    ]
    out, client = preread(rows, account=5000)
    # the whole master list was read, page by page, then the account's size (newcomers)
    assert [c.get("offset") for c in client.calls] == [0, 1000, 2000, 3000, 4000, 0]
    assert set(out) == {
        "ac-10", "email:c10@example.com", "sms:+33610000010",
        "ac-4321", "email:c4321@example.com", "sms:+33610004321",
        "ac-2500", "email:c2500@example.com", "sms:+33610002500",
        "ac-3999", "email:c3999@example.com", "sms:+33610003999",
    }  # fmt: skip
    assert out["sms:+33610003999"]["attributes"]["EXT_ID"] == "ac-3999"


def test_preread_holds_the_same_few_contacts_whatever_the_list_size() -> None:
    rows = [Row(ext_id="ac-1", email="c1@example.com"), *newcomers(30)]
    small, _ = preread(rows, account=1500)
    large, client = preread(rows, account=20000)
    assert len(client.calls) == 21  # 20 pages and the account's size
    assert set(small) == set(large) == {"ac-1", "email:c1@example.com", "sms:+33610000001"}
