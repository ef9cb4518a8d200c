"""Bad credentials on either side stop the run with a clear message and no STATE saved."""

from __future__ import annotations

from typing import Any


def test_wrong_brevo_key_stops_the_run_before_state(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=50)
    p.extra_env["TARGET_BREVO_API_KEY"] = "xkeysib-not-the-right-key"
    result = p.run()
    assert result.returncode != 0
    assert p.state_rows() == [] or p.state() == {}
    out = result.output
    assert "401" in out
    assert "api_key" in out or "unauthorized" in out.lower()
    assert "xkeysib-not-the-right-key" not in out


def test_wrong_activecampaign_token_stops_the_run_before_state(make_pipeline: Any) -> None:
    p = make_pipeline(contacts=50)
    p.extra_env["TAP_ACTIVECAMPAIGN_API_TOKEN"] = "not-the-right-token"
    result = p.run()
    assert result.returncode != 0
    assert p.state() == {}
    assert "check api_token" in result.output
    assert "not-the-right-token" not in result.output
