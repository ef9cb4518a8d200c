"""Request validation against Brevo's OpenAPI file, with the 2026 changes laid over it.

Source: ``sandbox/specs/brevo-openapi.yaml`` (vendored, see its README; OpenAPI 3.0.1, Feb 2025,
860 KB). Loading it takes about half a second, so the parameter and request-body schemas of the
operations the sandbox serves are extracted once (``$ref`` resolved, descriptions and examples
dropped) into ``openapi_subset.json`` next to this module, regenerated with::

    python -m sandbox.brevo.validation sandbox/specs/brevo-openapi.yaml

``OVERLAY_2026`` (below) then adds what the file predates (notes §11, brevo-python 5.1.0):
``forceMerge``/``getId`` on contacts, ``consentGroupIds`` on import, ``contact_id`` as an event
identifier, ``POST /events/batch``, the 2025 campaign status filter values and utm fields.

Error mapping (Brevo's flat ``{"code","message"}``, HTTP 400):

- a missing required property or parameter → ``missing_parameter``, "<field> is missing";
- anything else the schema refuses (wrong type, unknown enum value, out of ``minimum``/
  ``maximum``/``maxItems``, an invalid ``format: email``) → ``invalid_parameter``, with a message
  naming the field (dotted path, e.g. ``attributes.AGE``).

The spec sets ``additionalProperties`` only as value schemas (e.g. contact ``attributes`` values
must be number, string, boolean or array of strings), never ``false``: unknown top-level keys are
accepted, as Brevo does.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from sandbox.brevo.identifiers import is_valid_email

SUBSET_FILE = Path(__file__).with_name("openapi_subset.json")

# (method, path template relative to /v3) of every operation the sandbox serves from the spec.
SERVED_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("GET", "/account"),
    ("GET", "/senders"),
    ("GET", "/contacts"),
    ("POST", "/contacts"),
    ("GET", "/contacts/{identifier}"),
    ("PUT", "/contacts/{identifier}"),
    ("DELETE", "/contacts/{identifier}"),
    ("POST", "/contacts/batch"),
    ("GET", "/contacts/attributes"),
    ("POST", "/contacts/attributes/{attributeCategory}/{attributeName}"),
    ("PUT", "/contacts/attributes/{attributeCategory}/{attributeName}"),
    ("DELETE", "/contacts/attributes/{attributeCategory}/{attributeName}"),
    ("GET", "/contacts/folders"),
    ("POST", "/contacts/folders"),
    ("GET", "/contacts/folders/{folderId}"),
    ("PUT", "/contacts/folders/{folderId}"),
    ("DELETE", "/contacts/folders/{folderId}"),
    ("GET", "/contacts/folders/{folderId}/lists"),
    ("GET", "/contacts/lists"),
    ("POST", "/contacts/lists"),
    ("GET", "/contacts/lists/{listId}"),
    ("PUT", "/contacts/lists/{listId}"),
    ("DELETE", "/contacts/lists/{listId}"),
    ("GET", "/contacts/lists/{listId}/contacts"),
    ("POST", "/contacts/lists/{listId}/contacts/add"),
    ("POST", "/contacts/lists/{listId}/contacts/remove"),
    ("POST", "/contacts/import"),
    ("GET", "/processes"),
    ("GET", "/processes/{processId}"),
    ("GET", "/emailCampaigns"),
    ("POST", "/emailCampaigns"),
    ("GET", "/emailCampaigns/{campaignId}"),
    ("PUT", "/emailCampaigns/{campaignId}"),
    ("DELETE", "/emailCampaigns/{campaignId}"),
    ("POST", "/events"),
)

_DROP_KEYS = {"description", "example", "examples", "x-codegen-request-body-name", "summary"}


# ---------------------------------------------------------------------------------------------
# Extraction (run once, offline)
# ---------------------------------------------------------------------------------------------


def _load_spec(path: Path) -> dict[str, Any]:
    import yaml

    class _NoTimestampLoader(yaml.CSafeLoader):
        pass

    _NoTimestampLoader.yaml_implicit_resolvers = {
        key: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }
    with path.open("rb") as fh:
        spec: dict[str, Any] = yaml.load(fh, Loader=_NoTimestampLoader)  # noqa: S506
    return spec


def _resolve(node: Any, spec: dict[str, Any], depth: int = 0) -> Any:
    if depth > 40:
        raise RecursionError("schema too deep")
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            return _resolve(target, spec, depth + 1)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DROP_KEYS:
                continue
            if key in ("maximum", "minimum") and isinstance(value, str):
                value = float(value)
                if value.is_integer():
                    value = int(value)
            out[key] = _resolve(value, spec, depth + 1)
        return out
    if isinstance(node, list):
        return [_resolve(x, spec, depth + 1) for x in node]
    return node


def extract_subset(spec_path: Path) -> dict[str, Any]:
    """The served operations' parameters and request bodies, ``$ref``-free."""
    spec = _load_spec(spec_path)
    ops: dict[str, Any] = {}
    for method, template in SERVED_OPERATIONS:
        op = spec["paths"][template][method.lower()]
        params = []
        for prm in op.get("parameters", []):
            prm = _resolve(prm, spec)
            params.append(
                {
                    "name": prm["name"],
                    "in": prm["in"],
                    "required": bool(prm.get("required", False)),
                    "schema": prm.get("schema", {}),
                }
            )
        body = None
        body_required = False
        if "requestBody" in op:
            rb = op["requestBody"]
            body = _resolve(rb["content"]["application/json"]["schema"], spec)
            body_required = bool(rb.get("required", False))
        responses: dict[str, Any] = {}
        for status, resp in op.get("responses", {}).items():
            content = (resp or {}).get("content") or {}
            if str(status).startswith("2") and "application/json" in content:
                responses[str(status)] = _resolve(content["application/json"]["schema"], spec)
        ops[f"{method} {template}"] = {
            "operationId": op.get("operationId"),
            "parameters": params,
            "body": body,
            "bodyRequired": body_required,
            "responses": responses,
        }
    return {"info": spec.get("info", {}), "operations": ops}


# ---------------------------------------------------------------------------------------------
# The 2026 overlay
# ---------------------------------------------------------------------------------------------

_EMAIL_LIST = {"type": "array", "items": {"type": "string", "format": "email"}}


def _event_schema(base: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(base)
    event["properties"]["identifiers"]["properties"]["contact_id"] = {
        "type": "integer",
        "format": "int64",
    }
    event["properties"]["object"] = {
        "type": "object",
        "properties": {
            "type": {"type": "string"},
            "identifiers": {"type": "object"},
        },
    }
    return event


def _extend_enums(node: Any, prop: str, marker: str, extra: tuple[str, ...]) -> None:
    """Add ``extra`` to every ``prop`` enum (one that holds ``marker``) under ``node``."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get(prop), dict):
            enum = props[prop].get("enum")
            if isinstance(enum, list) and marker in enum:
                enum.extend(v for v in extra if v not in enum)
        for value in node.values():
            _extend_enums(value, prop, marker, extra)
    elif isinstance(node, list):
        for value in node:
            _extend_enums(value, prop, marker, extra)


def _overlay_responses(ops: dict[str, Any]) -> None:
    """The 2026 response values the Feb 2025 file lacks (brevo-python 5.1.0)."""
    for key in ("GET /processes", "GET /processes/{processId}"):
        _extend_enums(ops[key].setdefault("responses", {}), "status", "in_process",
                      ("processing", "failed", "cancelled"))
    _extend_enums(ops["GET /contacts/attributes"].setdefault("responses", {}), "type", "text",
                  ("category", "multiple-choice", "user"))
    for key in ("GET /emailCampaigns", "GET /emailCampaigns/{campaignId}"):
        _extend_enums(ops[key].setdefault("responses", {}), "status", "draft",
                      ("in_review", "cancelling", "cancelled"))
    # success/failure also echo extIds (2026), and an empty list fits both spec alternatives
    for action in ("add", "remove"):
        resp = ops[f"POST /contacts/lists/{{listId}}/contacts/{action}"].get("responses", {})
        contacts = resp.get("201", {}).get("properties", {}).get("contacts", {})
        for key in ("success", "failure"):
            if key in contacts.get("properties", {}):
                contacts["properties"][key] = {
                    "type": "array", "items": {"type": ["string", "integer"]},
                }
    ops["POST /events/batch"]["responses"] = {
        "202": {"type": "object", "required": ["message", "count"],
                "properties": {"message": {"type": "string"}, "count": {"type": "integer"}}},
    }


def apply_overlay(subset: dict[str, Any]) -> dict[str, Any]:
    """The extracted operations with the 2026 changes (notes §11, brevo-python 5.1.0) applied."""
    ops = copy.deepcopy(subset["operations"])
    create = ops["POST /contacts"]["body"]["properties"]
    create["forceMerge"] = {"type": "boolean", "default": False}
    create["getId"] = {"type": "boolean", "default": False}
    ops["PUT /contacts/{identifier}"]["body"]["properties"]["forceMerge"] = {
        "type": "boolean",
        "default": False,
    }
    ops["POST /contacts/import"]["body"]["properties"]["consentGroupIds"] = {
        "type": "array",
        "items": {"type": "integer", "format": "int64"},
    }
    # The add/remove bodies are a oneOf of objects without `required`, so every object is valid
    # under all of them; merge them (the handler enforces "exactly one of").
    for action in ("add", "remove"):
        key = f"POST /contacts/lists/{{listId}}/contacts/{action}"
        merged: dict[str, Any] = {"type": "object", "properties": {}}
        for alt in ops[key]["body"]["oneOf"]:
            merged["properties"].update(alt["properties"])
        ops[key]["body"] = merged
    # Identifiers in paths are strings (an id is a string of digits).
    for op in ops.values():
        for prm in op["parameters"]:
            if prm["in"] == "path" and "oneOf" in prm["schema"]:
                prm["schema"] = {"type": "string"}
    status = next(
        p for p in ops["GET /emailCampaigns"]["parameters"] if p["name"] == "status"
    )
    status["schema"]["enum"] = [
        *status["schema"]["enum"],
        *[s for s in ("inReview", "cancelling", "cancelled") if s not in status["schema"]["enum"]],
    ]
    ops["GET /emailCampaigns"]["parameters"].append(
        {"name": "excludePdfAttachment", "in": "query", "required": False,
         "schema": {"type": "boolean"}}
    )
    for key in ("POST /emailCampaigns", "PUT /emailCampaigns/{campaignId}"):
        props = ops[key]["body"]["properties"]
        for utm in ("utmContent", "utmId", "utmMedium", "utmSource", "utmTerm"):
            props[utm] = {"type": "string"}
    event = _event_schema(ops["POST /events"]["body"])
    ops["POST /events"]["body"] = event
    ops["POST /events/batch"] = {
        "operationId": "createBatchEvents",
        "parameters": [],
        "body": {
            "type": "object",
            "required": ["events"],
            "properties": {"events": {"type": "array", "minItems": 1, "items": {"type": "object"}}},
        },
        "bodyRequired": True,
        "itemSchema": event,
        "responses": {},
    }
    _overlay_responses(ops)
    return ops


def _load_operations() -> dict[str, Any]:
    if not SUBSET_FILE.exists():  # only while bootstrapping with `main`
        return {}
    with SUBSET_FILE.open("rb") as fh:
        subset = json.load(fh)
    return apply_overlay(subset)


OPERATIONS: dict[str, Any] = _load_operations()


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("email")
def _check_email(value: object) -> bool:
    return not isinstance(value, str) or is_valid_email(value)


class RequestInvalid(Exception):
    """A request the spec does not allow; becomes Brevo's 400 body."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Compiled:
    params: list[tuple[str, str, bool, dict[str, Any], Draft7Validator]]
    body: Draft7Validator | None
    body_required: bool
    item: Draft7Validator | None


def _validator(schema: dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(schema, format_checker=FORMAT_CHECKER)


def _compile(op: dict[str, Any]) -> _Compiled:
    params = [
        (p["name"], p["in"], p["required"], p["schema"], _validator(p["schema"]))
        for p in op["parameters"]
    ]
    body_schema = op["body"]
    if body_schema is not None and op.get("operationId") == "importContacts":
        # jsonBody rows are checked by a fast hand-written pass (imports can hold 100k rows).
        body_schema = copy.deepcopy(body_schema)
        body_schema["properties"]["jsonBody"] = {"type": "array"}
    return _Compiled(
        params=params,
        body=_validator(body_schema) if body_schema is not None else None,
        body_required=op["bodyRequired"],
        item=_validator(op["itemSchema"]) if "itemSchema" in op else None,
    )


COMPILED: dict[str, _Compiled] = {key: _compile(op) for key, op in OPERATIONS.items()}

_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
}


def _field(path: Iterable[Any], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    for p in path:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts).replace(".[", "[")


def error_from(err: ValidationError, prefix: str = "") -> RequestInvalid:
    """Brevo's 400 for one jsonschema error."""
    where = _field(err.absolute_path, prefix)
    if err.validator == "required":
        instance = err.instance if isinstance(err.instance, dict) else {}
        missing = next((r for r in err.validator_value if r not in instance), "?")
        name = f"{where}.{missing}" if where else str(missing)
        return RequestInvalid("missing_parameter", f"{name} is missing")
    name = where or "body"
    if err.validator == "type":
        expected = err.validator_value
        if isinstance(expected, list):
            expected = expected[0]
        return RequestInvalid(
            "invalid_parameter", f"{name} should be {_TYPE_NAMES.get(expected, expected)}"
        )
    if err.validator == "enum":
        allowed = ", ".join(json.dumps(v) for v in err.validator_value)
        return RequestInvalid(
            "invalid_parameter", f"{name} has an invalid value {json.dumps(err.instance)}; "
            f"expected one of {allowed}",
        )
    if err.validator == "format":
        if err.validator_value == "email":
            return RequestInvalid("invalid_parameter", f"{name}: invalid email address")
        return RequestInvalid("invalid_parameter", f"{name} is not a valid {err.validator_value}")
    if err.validator in ("maximum", "minimum"):
        return RequestInvalid(
            "invalid_parameter",
            f"{name} is out of range ({err.validator} {err.validator_value})",
        )
    if err.validator in ("maxItems", "minItems"):
        bound = "at most" if err.validator == "maxItems" else "at least"
        return RequestInvalid(
            "invalid_parameter", f"{name} must hold {bound} {err.validator_value} items"
        )
    if err.validator == "minProperties":
        return RequestInvalid("missing_parameter", f"{name} must not be empty")
    if err.validator in ("oneOf", "anyOf"):
        return RequestInvalid("invalid_parameter", f"{name} has an invalid type or value")
    return RequestInvalid("invalid_parameter", f"{name} is invalid")


def _coerce_query(raw: list[str], schema: Mapping[str, Any], name: str) -> Any:
    t = schema.get("type")
    if t == "array":
        values: list[str] = []
        for r in raw:
            values.extend(x for x in r.split(",") if x != "")
        item = schema.get("items", {})
        return [_coerce_scalar(v, item, name) for v in values]
    return _coerce_scalar(raw[-1], schema, name)


def _coerce_scalar(value: str, schema: Mapping[str, Any], name: str) -> Any:
    t = schema.get("type")
    if t == "integer":
        if not re.fullmatch(r"-?\d+", value.strip()):
            raise RequestInvalid("invalid_parameter", f"{name} should be an integer")
        return int(value)
    if t == "number":
        try:
            return float(value)
        except ValueError:
            raise RequestInvalid("invalid_parameter", f"{name} should be a number") from None
    if t == "boolean":
        low = value.lower()
        if low not in ("true", "false"):
            raise RequestInvalid("invalid_parameter", f"{name} should be a boolean")
        return low == "true"
    return value


def validate_parameters(
    op_key: str, query: Mapping[str, list[str]], path: Mapping[str, str]
) -> dict[str, Any]:
    """The typed query and path parameters of ``op_key``; raises ``RequestInvalid``.

    ``query`` maps each name to all its values (``listIds=1&listIds=2`` and ``listIds=1,2`` are
    both accepted). Parameters the spec doesn't declare are ignored, as Brevo ignores them.
    """
    compiled = COMPILED[op_key]
    out: dict[str, Any] = {}
    for name, where, required, schema, validator in compiled.params:
        if where == "path":
            if name not in path:
                raise RequestInvalid("missing_parameter", f"{name} is missing")
            value: Any = _coerce_scalar(path[name], schema, name)
        elif where == "query":
            if name not in query or not query[name]:
                if required:
                    raise RequestInvalid("missing_parameter", f"{name} is missing")
                continue
            value = _coerce_query(list(query[name]), schema, name)
        else:
            continue
        err = best_match(validator.iter_errors(value))
        if err is not None:
            raise error_from(err, name)
        out[name] = value
    return out


def validate_body(op_key: str, body: Any) -> None:
    """Check a decoded JSON body against ``op_key``'s request schema; raises ``RequestInvalid``."""
    compiled = COMPILED[op_key]
    if compiled.body is None:
        return
    if body is None:
        if compiled.body_required:
            raise RequestInvalid("missing_parameter", "Request body is missing")
        return
    err = best_match(compiled.body.iter_errors(body))
    if err is not None:
        raise error_from(err)
    if op_key == "POST /contacts/import" and isinstance(body.get("jsonBody"), list):
        check_import_rows(body["jsonBody"])


def check_import_rows(rows: list[Any]) -> None:
    """The spec's ``jsonBody`` item schema, checked by hand for speed."""
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise RequestInvalid("invalid_parameter", f"jsonBody[{i}] should be an object")
        email = row.get("email")
        if email is not None and not isinstance(email, str):
            raise RequestInvalid("invalid_parameter", f"jsonBody[{i}].email should be a string")
        attrs = row.get("attributes")
        if attrs is not None and not isinstance(attrs, dict):
            raise RequestInvalid(
                "invalid_parameter", f"jsonBody[{i}].attributes should be an object"
            )


def event_errors(event: Any) -> RequestInvalid | None:
    """The first spec error of one ``/events/batch`` item, or None."""
    compiled = COMPILED["POST /events/batch"]
    assert compiled.item is not None
    err = best_match(compiled.item.iter_errors(event))
    return error_from(err) if err is not None else None


_RESPONSE_VALIDATORS: dict[tuple[str, str], Draft7Validator] = {}


def response_error(op_key: str, status: int, body: Any) -> str | None:
    """Why a 2xx JSON response breaks the spec's response schema (None when it fits or when
    the spec declares no schema for that status)."""
    schema = OPERATIONS.get(op_key, {}).get("responses", {}).get(str(status))
    if schema is None:
        return None
    key = (op_key, str(status))
    validator = _RESPONSE_VALIDATORS.get(key)
    if validator is None:
        validator = _RESPONSE_VALIDATORS[key] = _validator(schema)
    err = best_match(validator.iter_errors(body))
    if err is None:
        return None
    return f"{_field(err.absolute_path) or 'body'}: {err.message}"


def schema_for(op_key: str) -> dict[str, Any] | None:
    """The effective request-body schema of an operation (for tests and tooling)."""
    body: dict[str, Any] | None = OPERATIONS[op_key]["body"]
    return body


def is_valid_request_body(op_key: str, body: Any) -> bool:
    """Whether ``body`` satisfies the effective schema (the import rows included)."""
    try:
        validate_body(op_key, body)
    except RequestInvalid:
        return False
    return True


def main(argv: list[str]) -> int:
    """Regenerate ``openapi_subset.json`` from the full spec file."""
    if len(argv) != 1:
        print("usage: python -m sandbox.brevo.validation PATH/brevo-openapi.yaml", file=sys.stderr)
        return 2
    subset = extract_subset(Path(argv[0]))
    SUBSET_FILE.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")
    print(f"wrote {SUBSET_FILE} ({len(subset['operations'])} operations)")
    return 0


__all__ = [
    "OPERATIONS",
    "RequestInvalid",
    "event_errors",
    "extract_subset",
    "validate_body",
    "validate_parameters",
]

if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
