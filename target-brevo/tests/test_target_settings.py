"""Settings: defaults come from the one schema, bad values name their setting."""

from __future__ import annotations

import dataclasses
import pathlib

import pytest
from singer_sdk.exceptions import ConfigValidationError
from target_brevo.client import BrevoClient
from target_brevo.settings import CONFIG_SCHEMA, DEFAULTS, Settings
from target_brevo.target import TargetBrevo

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "target_brevo"


def test_defaults_are_the_schema_defaults() -> None:
    settings = Settings.from_config({"api_key": "xkeysib-test"})
    assert TargetBrevo.config_jsonschema is CONFIG_SCHEMA
    assert settings.api_key == "xkeysib-test"
    assert settings.api_url == "https://api.brevo.com/v3"
    assert settings.ext_id_prefix == "ac-"
    assert settings.delete_policy == "mark"
    assert settings.delete_guard_percent == 90
    assert settings.max_rejects == 1000
    assert settings.campaign_sender is None
    for field in dataclasses.fields(Settings):
        if field.name in DEFAULTS:
            assert getattr(settings, field.name) == DEFAULTS[field.name], field.name
    assert set(DEFAULTS) <= {f.name for f in dataclasses.fields(Settings)}


def test_given_values_are_typed_and_nulls_take_the_default() -> None:
    settings = Settings.from_config(
        {
            "api_key": "k",
            "api_url": None,
            "ext_id_prefix": "",
            "max_tries": "7",
            "request_timeout": 5,
            "dry_run": "true",
            "stream_mapping": {"x": {"kind": "contacts"}},
        }
    )
    assert settings.api_url == DEFAULTS["api_url"]
    assert settings.ext_id_prefix == DEFAULTS["ext_id_prefix"]
    assert settings.max_tries == 7
    assert settings.request_timeout == 5.0
    assert isinstance(settings.request_timeout, float)
    assert settings.dry_run is True
    assert settings.stream_mapping == {"x": {"kind": "contacts"}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.max_tries = 3
    assert Settings.of(settings) is settings


def test_default_mapping_is_not_shared_between_instances() -> None:
    first = Settings.from_config({})
    first.stream_mapping["x"] = {"kind": "contacts"}
    assert Settings.from_config({}).stream_mapping == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_tries", "five"),
        ("max_tries", 2.5),
        ("dry_run", "maybe"),
        ("request_timeout", True),
        ("stream_mapping", ["contacts"]),
        ("delete_policy", "purge"),
    ],
)
def test_a_bad_value_names_its_setting(key: str, value: object) -> None:
    with pytest.raises(ConfigValidationError, match=f"setting '{key}'"):
        Settings.from_config({"api_key": "k", key: value})


def test_a_bad_secret_is_not_shown() -> None:
    with pytest.raises(ConfigValidationError, match="'api_key'") as info:
        Settings.from_config({"api_key": ["xkeysib-secret"]})
    assert "xkeysib-secret" not in str(info.value)


@pytest.mark.parametrize("key", ["api_url", "ext_id_prefix"])
def test_each_default_literal_is_written_once(key: str) -> None:
    literal = f'"{DEFAULTS[key]}"'
    found = {
        str(path.relative_to(PACKAGE)): path.read_text(encoding="utf-8").count(literal)
        for path in PACKAGE.rglob("*.py")
    }
    assert sum(found.values()) == 1, {k: n for k, n in found.items() if n}
    assert found["settings.py"] == 1


def test_the_client_takes_its_settings() -> None:
    settings = Settings.from_config(
        {"api_key": "k", "api_url": "http://127.0.0.1:1/v3/", "max_tries": 2,
         "request_timeout": 7, "retry_base_seconds": 0.25}
    )
    client = BrevoClient.from_settings(settings)
    try:
        assert client.api_url == "http://127.0.0.1:1/v3"
        assert (client.max_tries, client.timeout, client.retry_base) == (2, 7.0, 0.25)
        default = BrevoClient.from_settings(Settings.from_config({"api_key": "k"}))
        assert default.api_url == DEFAULTS["api_url"]
        assert (default.max_tries, default.timeout) == (DEFAULTS["max_tries"], 60.0)
        default.close()
    finally:
        client.close()
