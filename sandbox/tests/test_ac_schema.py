"""Every response of the documented AC paths validates against the spec's response schema
(OpenAPI 3.1 → JSON Schema 2020-12, `$ref`s resolved through a registry holding the spec)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from sandbox.testing import SandboxProcess

SPEC_FILE = Path(__file__).resolve().parents[1] / "specs" / \
    "activecampaign-v3.openapi.json"
SPEC_URI = "urn:activecampaign-v3-openapi"
SPEC = json.loads(SPEC_FILE.read_text())
#: Where real accounts depart from the spec, and the sandbox follows the accounts: the spec
#: types contacts' ``udate`` as a string, but imported, never-updated contacts carry null
#: (issue 10). (path, records key, field) made nullable in the spec before validating.
NULLABLE_IN_PRACTICE = [("/contacts", "contacts", "udate")]


def _allow_null(spec: dict[str, Any], path: str, key: str, name: str) -> None:
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    for branch in schema["schema"].get("oneOf", [schema["schema"]]):
        prop = branch["properties"][key]["items"]["properties"][name]
        prop["type"] = [prop["type"], "null"]


for _path, _key, _name in NULLABLE_IN_PRACTICE:
    _allow_null(SPEC, _path, _key, _name)
REGISTRY: Registry = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)

# documented path → (the key holding the records, whether it pages with meta.total)
PAGED = {
    "/contacts": "contacts", "/lists": "lists", "/fieldValues": "fieldValues", "/tags": "tags",
    "/campaigns": "campaigns", "/messages": "messages", "/automations": "automations",
    "/contactAutomations": "contactAutomations", "/deals": "deals",
    "/dealStages": "dealStages", "/dealGroups": "dealGroups", "/accounts": "accounts",
    "/accountContacts": "accountContacts", "/users": "users", "/fields": "fields",
}


def validator(path: str) -> Draft202012Validator:
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1") + \
        "/get/responses/200/content/application~1json/schema"
    schema = SPEC
    for part in pointer.strip("/").split("/"):
        schema = schema[part.replace("~1", "/").replace("~0", "~")]
    return Draft202012Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=REGISTRY)


def has_schema(path: str) -> bool:
    content = SPEC["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return "schema" in content


def check(v: Draft202012Validator, body: Any, where: str) -> None:
    errors = sorted(v.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message[:120]}" for e in errors[:5])


AC_SANDBOX = {"seed": 21}


@pytest.fixture(scope="module")
def ac(ac: SandboxProcess) -> SandboxProcess:
    """The shared sandbox, with one contact in each of the states the schemas must allow."""
    ac.control.mutate(
        {"op": "create_contact", "fields": {"email": "Empty.Names@Example.com"}},
        {"op": "bounce", "contact": 3, "list": 2},
        {"op": "unsubscribe", "contact": 4, "list": 1},
        {"op": "delete_contact", "id": 7},
        {"op": "add_tag", "contact": 8, "tag": "brand new tag"},
    )
    return ac


def get(ac: SandboxProcess, path: str, **params: Any) -> Any:
    r = requests.get(f"{ac.api_url}{path}", headers={"Api-Token": ac.token}, params=params,
                     timeout=10)
    assert r.status_code == 200, (path, r.status_code, r.text[:200])
    return r.json()


def test_the_spec_documents_the_paths_we_check() -> None:
    for path in [*PAGED, "/users/me", "/contacts/{id}", "/contacts/{id}/contactLists"]:
        assert path in SPEC["paths"], path


@pytest.mark.parametrize("path", sorted(p for p in PAGED if has_schema(p)))
def test_every_page_validates(ac: SandboxProcess, path: str) -> None:
    v = validator(path)
    key = PAGED[path]
    offset = 0
    pages = 0
    while True:
        body = get(ac, path, limit=100, offset=offset)
        check(v, body, f"{path} offset={offset}")
        assert body[key]
        pages += 1
        offset += 100
        if offset >= int(body["meta"]["total"]):
            break
    assert pages >= 1


def test_contacts_with_sideloads_and_keyset_validate(ac: SandboxProcess) -> None:
    v = validator("/contacts")
    last = 0
    while True:
        body = get(ac, "/contacts", limit=50, id_greater=last, **{"orders[id]": "ASC"},
                   include="contactLists.list,contactTags.tag,fieldValues")
        check(v, body, f"/contacts id_greater={last}")
        if not body["contacts"]:
            break
        last = int(body["contacts"][-1]["id"])


def test_single_contacts_and_memberships_validate(ac: SandboxProcess) -> None:
    one = validator("/contacts/{id}")
    lists = validator("/contacts/{id}/contactLists")
    for cid in [1, 2, 3, 4, 5, 8, 50, 100, 150, 199, 201]:
        check(one, get(ac, f"/contacts/{cid}"), f"/contacts/{cid}")
        check(lists, get(ac, f"/contacts/{cid}/contactLists"), f"/contacts/{cid}/contactLists")


def test_users_me_validates(ac: SandboxProcess) -> None:
    check(validator("/users/me"), get(ac, "/users/me"), "/users/me")


def test_the_validator_catches_a_wrong_type() -> None:
    v = validator("/lists")
    bad = {"lists": [{"id": 5, "name": "x"}], "meta": {"total": "1"}}
    assert list(v.iter_errors(bad))
    assert list(validator("/deals").iter_errors({"deals": [], "meta": {"total": "3"}}))
