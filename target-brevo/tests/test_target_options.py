"""Unknown options (issue 10 part 3): a value whose option the target has not seen is added
to the Brevo attribute (one update per attribute per flush, the full set), then written."""

from __future__ import annotations

import typing as t

ATTR_ROUTE = "/v3/contacts/attributes/{attributeCategory}/{attributeName}"


def _attribute_writes(h: t.Any, sb: t.Any) -> list[tuple[str, str]]:
    return [
        (e["method"], e["path"].rsplit("/", 1)[-1])
        for e in h.api_requests(sb)
        if e["route"] == ATTR_ROUTE and e["method"] in ("POST", "PUT")
    ]


def _without_options(m: t.Any) -> t.Any:
    """The input with the options stream left out (not selected in the tap)."""
    m.items = [x for x in m.items if x.get("stream") != "contact_custom_field_options"]
    return m


def test_unknown_options_are_added_once_per_attribute_and_the_values_land(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, h.ac_input(campaigns=False))
    brevo.control.reset_requests()
    # options added in ActiveCampaign after the options stream was read: not in this input
    values = [
        {"id": 1, "contact": 1, "field": 1, "value": "Enterprise"},
        {"id": 3, "contact": 1, "field": 3, "value": "||chess||Sailing||"},
        {"id": 6, "contact": 2, "field": 1, "value": "small"},  # an old option, same flush
        {"id": 7, "contact": 2, "field": 3, "value": "||Tennis||golf||Sailing||"},
        {"id": 8, "contact": 3, "field": 1, "value": "Medium"},
    ]
    h.run_target(cfg, _without_options(h.ac_input(campaigns=False, values=values)))
    # one update per attribute, however many values and new options it needed
    assert sorted(_attribute_writes(h, brevo)) == [("PUT", "HOBBIES"), ("PUT", "SIZE")]
    dump = brevo.control.dump()
    attrs = {a["name"]: a for a in dump["attributes"]}
    size = {e["label"]: e["value"] for e in attrs["SIZE"]["enumeration"]}
    # the full set survives (the sandbox's update replaces the enumeration / options)
    assert set(size) == {"Small", "Large", "Enterprise", "Medium"}
    assert size["Small"] == 11
    assert size["Large"] == 12
    assert sorted(attrs["HOBBIES"]["multiCategoryOptions"]) == [
        "Chess",
        "Golf",
        "Sailing",
        "Tennis",
    ]
    by_ext = h.contacts_by_ext(dump)
    assert by_ext["ac-1"]["attributes"]["SIZE"] == size["Enterprise"]
    assert sorted(by_ext["ac-1"]["attributes"]["HOBBIES"]) == ["Chess", "Sailing"]
    assert by_ext["ac-2"]["attributes"]["SIZE"] == 11
    assert sorted(by_ext["ac-2"]["attributes"]["HOBBIES"]) == ["Golf", "Sailing", "Tennis"]
    assert by_ext["ac-3"]["attributes"]["SIZE"] == size["Medium"]
    assert h.rejects_of(cfg) == []
    assert h.client_errors(brevo) == []

    # a rerun of the same input: the options are there, nothing is written
    brevo.control.reset_requests()
    h.run_target(cfg, _without_options(h.ac_input(campaigns=False, values=values)))
    assert [e for e in h.api_requests(brevo) if e["method"] in ("POST", "PUT", "DELETE")] == []
    assert h.stable(brevo.control.dump()) == h.stable(dump)

    # the options stream comes later with the option's source id: no second "Enterprise"
    m = h.ac_input(campaigns=False, values=values)
    at = next(i for i, x in enumerate(m.items) if x.get("stream") == "lists")
    m.items[at:at] = [
        h.record_msg(
            "contact_custom_field_options",
            {"id": 14, "field": 1, "label": "Enterprise", "value": "Enterprise", "orderid": 4},
        )
    ]
    brevo.control.reset_requests()
    h.run_target(cfg, m)
    assert _attribute_writes(h, brevo) == []
    after = {a["name"]: a for a in brevo.control.dump()["attributes"]}
    assert after["SIZE"]["enumeration"] == attrs["SIZE"]["enumeration"]


def test_without_the_options_stream_attributes_are_created_with_the_options_seen(
    brevo: t.Any, config_for: t.Any, h: t.Any
) -> None:
    cfg = config_for(brevo)
    h.run_target(cfg, _without_options(h.ac_input(campaigns=False)))
    writes = _attribute_writes(h, brevo)
    # created once each, with the options the values name: no placeholder, no update
    assert ("POST", "SIZE") in writes
    assert ("POST", "HOBBIES") in writes
    assert [w for w in writes if w[0] == "PUT"] == []
    dump = brevo.control.dump()
    attrs = {a["name"]: a for a in dump["attributes"]}
    assert [e["label"] for e in attrs["SIZE"]["enumeration"]] == ["large"]
    assert sorted(attrs["HOBBIES"]["multiCategoryOptions"]) == ["chess", "golf"]
    c1 = h.contacts_by_ext(dump)["ac-1"]["attributes"]
    assert c1["SIZE"] == attrs["SIZE"]["enumeration"][0]["value"]
    assert sorted(c1["HOBBIES"]) == ["chess", "golf"]
    assert h.rejects_of(cfg) == []
    assert h.client_errors(brevo) == []


def test_only_what_brevo_cannot_hold_is_rejected(brevo: t.Any, config_for: t.Any, h: t.Any) -> None:
    cfg = config_for(brevo)
    long_label = "x" * 201
    values = [
        {"id": 1, "contact": 1, "field": 1, "value": long_label},
        {"id": 3, "contact": 1, "field": 3, "value": f"||chess||{long_label}||"},
        {"id": 5, "contact": 2, "field": 1, "value": "Enterprise"},
    ]
    h.run_target(cfg, h.ac_input(campaigns=False, values=values))
    rejects = h.rejects_of(cfg)
    assert sorted((r["stream"], r["key"], r["code"], r["field"]) for r in rejects) == [
        ("contact_custom_field_values", 1, "invalid_value", "SIZE"),
        ("contact_custom_field_values", 3, "invalid_value", "HOBBIES"),
    ]
    assert all("longer than Brevo's 200 characters" in r["reason"] for r in rejects)
    dump = brevo.control.dump()
    attrs = {a["name"]: a for a in dump["attributes"]}
    size = {e["label"]: e["value"] for e in attrs["SIZE"]["enumeration"]}
    assert set(size) == {"Small", "Large", "Enterprise"}
    by_ext = h.contacts_by_ext(dump)
    assert by_ext["ac-2"]["attributes"]["SIZE"] == size["Enterprise"]
    assert "SIZE" not in by_ext["ac-1"]["attributes"]
    assert "HOBBIES" not in by_ext["ac-1"]["attributes"]
    assert h.client_errors(brevo) == []


def test_missing_labels_and_new_category_values() -> None:
    from target_brevo.attribute_catalog import Attribute
    from target_brevo.options import FIRST_NEW_VALUE, missing_labels, next_value

    size = Attribute("SIZE", "category", "category", {11: "Small", 12: "Large"})
    assert missing_labels("small", size) == []
    assert missing_labels(12, size) == []
    assert missing_labels(" Enterprise ", size) == ["Enterprise"]
    assert missing_labels("", size) == []
    hobbies = Attribute("HOBBIES", "multiple-choice", "normal", options=["Chess"])
    assert missing_labels("||chess||Golf||golf||", hobbies) == ["Golf"]
    assert missing_labels(["Sailing", "chess"], hobbies) == ["Sailing"]
    assert next_value({11: "Small"}) == FIRST_NEW_VALUE
    assert next_value({FIRST_NEW_VALUE: "A", 12: "B"}) == FIRST_NEW_VALUE + 1


class _RefusingClient:
    """Lists one category attribute; refuses every write (as Brevo would a bad update)."""

    max_tries = 1

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, t.Any]] = []

    def get(self, path: str, params: t.Any = None) -> dict[str, t.Any]:
        assert path == "/contacts/attributes"
        enumeration = [{"value": 1, "label": "Small"}]
        return {
            "attributes": [{"name": "SIZE", "category": "category", "enumeration": enumeration}]
        }

    def request(self, method: str, path: str, **kwargs: t.Any) -> t.Any:
        from target_brevo.errors import BrevoInvalid

        self.writes.append((method, path, kwargs.get("body")))
        msg = "refused"
        raise BrevoInvalid(msg, status=400, code="invalid_parameter", brevo_message="no")

    def sleep(self, seconds: float) -> None:
        pass

    def _backoff(self, attempt: int) -> float:
        return 0.0


def test_a_refused_update_restores_the_options_and_is_reported() -> None:
    from target_brevo.resolve import Resolver

    client = _RefusingClient()
    resolver = Resolver(client, "F", "ac-")
    size = resolver.ensure_attribute("SIZE", "category")
    assert resolver.add_options(size, ["Large", "large", "Small"]) == ["Large"]
    resolver.ensure_attribute("SIZE", "category", enumeration={1: "Small", 5: "Huge"})
    assert resolver.write_attribute_updates() == {"SIZE": "no"}
    # one request for the attribute, carrying the full set
    assert client.writes == [
        (
            "PUT",
            "/contacts/attributes/category/SIZE",
            {
                "enumeration": [
                    {"value": 1, "label": "Small"},
                    {"value": 5, "label": "Huge"},
                    {"value": 1_000_000_000, "label": "Large"},
                ]
            },
        )
    ]
    assert size.enumeration == {1: "Small"}  # what Brevo holds
    assert resolver.write_attribute_updates() == {}  # nothing left pending
    assert len(client.writes) == 1
