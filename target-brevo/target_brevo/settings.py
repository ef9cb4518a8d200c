"""The target's settings: their JSON schema (each default declared once, here) and `Settings`.

`CONFIG_SCHEMA` is what `TargetBrevo.config_jsonschema` publishes (Meltano, `--about`);
`Settings.from_config(config)` turns a validated config into one frozen, typed object whose
defaults are read from that schema, so a default is never written a second time in the code.
A value of the wrong type fails with a `ConfigValidationError` naming the setting.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

DELETE_POLICIES = ("ignore", "mark", "delete")

SENDER = th.ObjectType(
    th.Property("name", th.StringType, description="Sender name shown in the draft."),
    th.Property("email", th.StringType, description="A sender address verified in Brevo."),
    th.Property("id", th.IntegerType, description="Or the id of a Brevo sender."),
)


CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "api_key",
        th.StringType,
        required=True,
        secret=True,
        description="Brevo API key (`xkeysib-…`). Never logged.",
    ),
    th.Property(
        "api_url",
        th.StringType,
        default="https://api.brevo.com/v3",
        description="Brevo API base URL; `http` is accepted only for loopback hosts.",
    ),
    th.Property(
        "stream_mapping",
        th.ObjectType(additional_properties=True),
        default={},
        description=(
            'Stream name → object: `{"kind": KIND, ...options}`; KIND is one of contacts, '
            "contact_attribute_values, list_memberships, lists, attributes, "
            "attribute_options, campaigns, campaign_messages, events, ignore. Merged over "
            "the ActiveCampaign defaults (see README). Contacts options: `email`, `phone`, "
            "`fields` (source field → attribute name or `{attribute, type}`; omitted = "
            "every other property, typed from the schema), `tags`, `tags_attribute`, "
            "`blocklist_when`, `ext_id_prefix`. Events options: `event_name` or "
            "`event_name_field`, `contact_field` (→ ext_id) and/or `email_field`, "
            "`date_field`. Memberships: `contact`, `list`, `status`, `status_map`."
        ),
    ),
    th.Property(
        "use_default_mapping",
        th.BooleanType,
        default=True,
        description="Apply the ActiveCampaign defaults to streams named like the AC tap's.",
    ),
    th.Property(
        "default_kind",
        th.StringType,
        default="ignore",
        description="Kind for streams with no mapping (e.g. `contacts` or `ignore`).",
    ),
    th.Property(
        "list_folder",
        th.StringType,
        default="ActiveCampaign",
        description="Brevo folder holding the synced lists.",
    ),
    th.Property(
        "ext_id_prefix",
        th.StringType,
        default="ac-",
        description="Prefix of EXT_ID and of the `[key]` suffix of list/campaign names.",
    ),
    th.Property(
        "default_phone_region",
        th.StringType,
        default="US",
        description="Region (ISO 3166 alpha-2) for phone numbers without a country code.",
    ),
    th.Property(
        "campaign_sender",
        SENDER,
        description=(
            "Sender of the campaign drafts: a sender verified in Brevo (`name` + `email`, "
            "or its `id`; see GET /senders). Required for campaign drafts: without it "
            "campaign and message records are rejects (`missing_sender`)."
        ),
    ),
    th.Property(
        "unlinked_messages_as_drafts",
        th.BooleanType,
        default=False,
        description=(
            "Messages no campaign of the run links to become drafts of their own "
            "(`[ac-message-<id>]`); off: they wait for their campaign."
        ),
    ),
    th.Property(
        "rejects_file",
        th.StringType,
        default="target-brevo-rejects.jsonl",
        description="JSON-lines file of rejected records and dropped values.",
    ),
    th.Property(
        "max_rejects",
        th.IntegerType,
        default=1000,
        description=(
            "The run fails (no STATE) when more records than this were not written or lost "
            "a value (notes such as a dropped phone number do not count); -1 = no limit."
        ),
    ),
    th.Property(
        "dry_run",
        th.BooleanType,
        default=False,
        description="Log the planned writes (counts and a sample); send no request.",
    ),
    th.Property(
        "verify_values",
        th.BooleanType,
        default=True,
        description="Read written contacts back and reject values Brevo did not store.",
    ),
    th.Property(
        "import_max_bytes",
        th.IntegerType,
        default=7_500_000,
        description="Maximum jsonBody size of one `/contacts/import` (Brevo: < 8 MB).",
    ),
    th.Property(
        "membership_import_min_rows",
        th.IntegerType,
        default=300,
        description=(
            "A list (or set of lists) with fewer new members than this gets them by "
            "150-per-call adds rather than an import."
        ),
    ),
    th.Property(
        "poll_initial_seconds",
        th.NumberType,
        default=1.0,
        description="Wait before the first `/processes` poll (plus the per-row estimate).",
    ),
    th.Property(
        "poll_seconds_per_1000_rows",
        th.NumberType,
        default=0.5,
        description="Estimated import time per 1,000 rows, waited before the first poll.",
    ),
    th.Property(
        "poll_max_seconds",
        th.NumberType,
        default=120.0,
        description="Longest wait between two polls of an import.",
    ),
    th.Property(
        "import_timeout_seconds",
        th.NumberType,
        default=3600.0,
        description="Fail the run when an import has not completed by then.",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=60.0,
        description="HTTP timeout per request, in seconds.",
    ),
    th.Property(
        "max_tries",
        th.IntegerType,
        default=5,
        description="Tries per request for 5xx, 524, 425, timeouts and resets.",
    ),
    th.Property(
        "retry_base_seconds",
        th.NumberType,
        default=1.0,
        description="First backoff wait; doubles per retry (with jitter).",
    ),
    th.Property(
        "batch_size_rows",
        th.IntegerType,
        default=25_000,
        description=(
            "Contacts per ordered flush (their values and memberships may be 20 times "
            "as many rows); a full sink flushes every sink, in dependency order."
        ),
    ),
    th.Property(
        "events_batch_size",
        th.IntegerType,
        default=100,
        description="Events per `POST /events/batch`.",
    ),
    th.Property(
        "delete_policy",
        th.StringType,
        default="mark",
        allowed_values=list(DELETE_POLICIES),
        description=(
            "What happens, when a complete version of a stream arrives (ACTIVATE_VERSION, "
            "the reconciliation's id scans), to the Brevo objects this pipeline created "
            "that the version lacks: `mark` (default: contacts get AC_DELETED_AT and leave "
            "every synced list; lists are emptied and drafts renamed `[deleted in "
            "ActiveCampaign] …`), `delete` (deleted in Brevo), `ignore`."
        ),
    ),
    th.Property(
        "delete_guard_percent",
        th.IntegerType,
        default=90,
        description=(
            "A version smaller than this percentage of the live objects the pipeline holds "
            "in Brevo for that stream (or empty) handles nothing and stops the run before "
            "STATE; 0 disables the guard."
        ),
    ),
    th.Property(
        "delete_guard_min_count",
        th.IntegerType,
        default=3,
        description="The guard lets a version through that would handle at most this many.",
    ),
    # declared here so the SDK's built-in (default append-only) is not shown: it means
    # nothing to this target
    th.Property(
        "load_method",
        th.StringType,
        default="upsert",
        allowed_values=["upsert", "append-only", "overwrite"],
        description=(
            "Ignored: every write is an upsert keyed by the stream's primary keys "
            "(contacts by EXT_ID, lists and drafts by their [key] suffix)."
        ),
    ),
).to_dict()

#: Each setting's default, as the schema declares it.
DEFAULTS: dict[str, t.Any] = {
    name: prop["default"] for name, prop in CONFIG_SCHEMA["properties"].items() if "default" in prop
}


def _default(name: str) -> t.Any:
    """The schema's default of an immutable setting (a dataclass field default)."""
    return DEFAULTS[name]


@dataclasses.dataclass(frozen=True)
class Settings:
    """The validated config, typed; every field not given takes the schema's default."""

    api_key: str = ""
    api_url: str = _default("api_url")
    stream_mapping: dict[str, t.Any] = dataclasses.field(
        default_factory=lambda: dict(DEFAULTS["stream_mapping"])
    )
    use_default_mapping: bool = _default("use_default_mapping")
    default_kind: str = _default("default_kind")
    list_folder: str = _default("list_folder")
    ext_id_prefix: str = _default("ext_id_prefix")
    default_phone_region: str = _default("default_phone_region")
    campaign_sender: dict[str, t.Any] | None = None
    unlinked_messages_as_drafts: bool = _default("unlinked_messages_as_drafts")
    rejects_file: str = _default("rejects_file")
    max_rejects: int = _default("max_rejects")
    dry_run: bool = _default("dry_run")
    verify_values: bool = _default("verify_values")
    import_max_bytes: int = _default("import_max_bytes")
    membership_import_min_rows: int = _default("membership_import_min_rows")
    poll_initial_seconds: float = _default("poll_initial_seconds")
    poll_seconds_per_1000_rows: float = _default("poll_seconds_per_1000_rows")
    poll_max_seconds: float = _default("poll_max_seconds")
    import_timeout_seconds: float = _default("import_timeout_seconds")
    request_timeout: float = _default("request_timeout")
    max_tries: int = _default("max_tries")
    retry_base_seconds: float = _default("retry_base_seconds")
    batch_size_rows: int = _default("batch_size_rows")
    events_batch_size: int = _default("events_batch_size")
    delete_policy: str = _default("delete_policy")
    delete_guard_percent: int = _default("delete_guard_percent")
    delete_guard_min_count: int = _default("delete_guard_min_count")
    load_method: str = _default("load_method")

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """The settings of `config`: a missing or null value (or an empty string where the
        default is not empty) takes the default; a value of the wrong type, or outside the
        allowed values, raises `ConfigValidationError` naming the setting."""
        values: dict[str, t.Any] = {}
        for f in dataclasses.fields(cls):
            raw = config.get(f.name)
            if raw is None or (raw == "" and DEFAULTS.get(f.name)):
                continue
            values[f.name] = _coerce(f.name, raw, CONFIG_SCHEMA["properties"][f.name])
        return cls(**values)

    @classmethod
    def of(cls, config: Settings | t.Mapping[str, t.Any]) -> Settings:
        """`config` itself when it already is `Settings`, else `from_config(config)` (the
        sinks still hand over the raw config mapping)."""
        return config if isinstance(config, Settings) else cls.from_config(config)


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _coerce(name: str, raw: t.Any, prop: t.Mapping[str, t.Any]) -> t.Any:
    """`raw` as the schema's type for setting `name` (strings from an environment included)."""
    kinds = [k for k in prop.get("type", []) if k != "null"]
    kind = kinds[0] if kinds else "string"
    value: t.Any
    try:
        if kind == "boolean":
            if isinstance(raw, bool):
                value = raw
            elif isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
                value = raw.strip().lower() in _TRUE
            else:
                raise TypeError
        elif kind == "integer":
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise TypeError
            value = int(raw)
        elif kind == "number":
            if isinstance(raw, bool):
                raise TypeError
            value = float(raw)
        elif kind == "object":
            if not isinstance(raw, t.Mapping):
                raise TypeError
            value = dict(raw)
        else:
            if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
                raise TypeError
            value = str(raw)
    except (TypeError, ValueError):
        shown = "a value (not shown: a secret)" if prop.get("secret") else repr(raw)
        msg = f"target-brevo setting {name!r}: expected {kind}, got {shown}"
        raise ConfigValidationError(msg, errors=[msg]) from None
    allowed = prop.get("enum")
    if allowed and value not in allowed:
        msg = f"target-brevo setting {name!r} must be one of {', '.join(allowed)}, not {value!r}"
        raise ConfigValidationError(msg, errors=[msg])
    return value
