"""The Meltano Hub definition (``meltano-hub.yml``) and the project's plugin stay in step with
the tap itself: same settings, descriptions, secrets and capabilities as ``--about``."""

from __future__ import annotations

import typing as t
from pathlib import Path

import yaml
from tap_activecampaign.tap import TapActiveCampaign

PACKAGE = Path(__file__).resolve().parents[1]
HUB: dict[str, t.Any] = yaml.safe_load((PACKAGE / "meltano-hub.yml").read_text())
PROJECT: dict[str, t.Any] = yaml.safe_load((PACKAGE.parent / "meltano.yml").read_text())


def about() -> dict[str, t.Any]:
    """The tap's settings schema."""
    return t.cast("dict[str, t.Any]", TapActiveCampaign.config_jsonschema)


def test_hub_settings_are_the_taps() -> None:
    """Every setting of ``--about`` (the SDK's built-in ones included)."""
    properties = TapActiveCampaign._get_about_info().settings["properties"]
    hub = {s["name"]: s for s in HUB["settings"]}
    assert set(hub) == set(properties)
    for name, prop in properties.items():
        assert hub[name]["description"] == prop.get("description"), name
        assert hub[name]["label"], name
        assert bool(hub[name].get("sensitive")) == bool(prop.get("secret")), name
    assert HUB["settings_group_validation"] == [sorted(about()["required"])]


def test_hub_capabilities_are_the_taps() -> None:
    declared = {str(c) for c in TapActiveCampaign._get_about_info().capabilities}
    assert set(HUB["capabilities"]) <= declared
    project = next(p for p in PROJECT["plugins"]["extractors"] if p["name"] == HUB["name"])
    assert set(HUB["capabilities"]) == set(project["capabilities"])


def test_hub_variant_installs_this_package_from_its_repo() -> None:
    """A new variant (the PyPI name ``tap-activecampaign`` is singer-io's): ``pip_url`` is
    this repository's ``tap-activecampaign/`` directory, and ``repo`` and ``docs`` name it too."""
    assert HUB["variant"]
    assert HUB["variant"] != "singer-io"
    assert HUB["repo"].startswith("https://github.com/")
    repo, _, subdirectory = HUB["pip_url"].partition("#subdirectory=")
    assert repo == f"git+{HUB['repo']}.git"
    assert (PACKAGE.parent / subdirectory) == PACKAGE
    assert 'name = "tap-activecampaign"' in (PACKAGE / "pyproject.toml").read_text()
    assert HUB["docs"].startswith(HUB["repo"] + "/")
    assert HUB["docs"].endswith(f"/{subdirectory}/README.md")


def test_hub_select_is_the_lean_brevo_pipeline() -> None:
    """The Hub's default ``select`` is meltano.yml's Brevo pipeline, and each of its streams is
    one target-brevo maps by default (none it would ignore)."""
    from target_brevo.mapping import DEFAULT_AC_MAPPING

    extractors = {p["name"]: p for p in PROJECT["plugins"]["extractors"]}
    assert HUB["select"] == extractors["tap-activecampaign"]["select"]
    for pattern in HUB["select"]:
        stream = pattern.split(".")[0]
        assert DEFAULT_AC_MAPPING[stream]["kind"] != "ignore", stream


def test_project_plugin_keeps_the_brevo_pipeline_lean() -> None:
    """The Brevo pipeline selects only what the target maps by default; the catalog streams
    are offered to other pipelines (``tap-activecampaign--all-streams``)."""
    extractors = {p["name"]: p for p in PROJECT["plugins"]["extractors"]}
    select = extractors["tap-activecampaign"]["select"]
    assert "contacts.*" in select
    assert not any(s.split(".")[0] in {"email_activities", "ecommerce_orders", "forms"}
                   for s in select)
    assert extractors["tap-activecampaign--all-streams"]["select"] == ["*.*"]
    ours = {s["name"] for s in extractors["tap-activecampaign"]["settings"]}
    sdk = {"stream_map_config", "faker_config", "batch_config", "flattening_max_key_length",
           "flattening_separator"}
    assert set(about()["properties"]) - sdk <= ours
