"""Faults injected on both sandboxes: the run completes and Brevo ends exactly right."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e_support import Pipeline, control, dump, request_counts, set_faults
from tests.expected import check_brevo, expected_from_ac

AC_FAULTS = ["429", "500", "502", "503", "reset", "empty", "truncated", "403"]
BREVO_FAULTS = ["429", "500", "502", "503", "524", "425", "reset", "reset_after"]
OK = ("200", "201", "202", "204")


def _faulted(url: str) -> int:
    return sum(n for s, n in request_counts(url)["by_status"].items() if s not in OK)


def _assert_exact_and_idempotent(p: Pipeline) -> None:
    problems = check_brevo(expected_from_ac(dump(p.ac_url)), dump(p.brevo_url))
    assert problems == [], "\n".join(problems[:40])
    # A rerun over the same data, faults still on, changes nothing and creates nothing.
    before = dump(p.brevo_url)
    again = p.run()
    assert again.returncode == 0, again.output[-4000:]
    after = dump(p.brevo_url)
    assert sorted(c["id"] for c in after["contacts"]) == sorted(c["id"] for c in before["contacts"])
    assert sorted(x["id"] for x in after["lists"]) == sorted(x["id"] for x in before["lists"])
    assert len(after["campaigns"]) == len(before["campaigns"])
    assert len(after["attributes"]) == len(before["attributes"])
    assert check_brevo(expected_from_ac(dump(p.ac_url)), after) == []


def test_five_percent_random_faults_on_both_sides(make_pipeline: Any) -> None:
    p = make_pipeline(
        contacts=1500,
        ac={"fault_rate": 0.05, "faults": ",".join(AC_FAULTS), "fault_seed": 3, "rate_limit": 40},
        brevo={"fault_rate": 0.05, "faults": ",".join(BREVO_FAULTS), "fault_seed": 5},
    )
    result = p.run()
    assert result.returncode == 0, result.output[-4000:]
    assert _faulted(p.ac_url) >= 1
    assert _faulted(p.brevo_url) >= 1
    _assert_exact_and_idempotent(p)


@pytest.mark.parametrize("side", ["activecampaign", "brevo"])
def test_every_fault_kind_once(make_pipeline: Any, side: str) -> None:
    """Each fault kind of a side is served once, early in the run (a scripted sequence)."""
    p = make_pipeline(contacts=300)
    kinds = AC_FAULTS if side == "activecampaign" else BREVO_FAULTS
    url = p.ac_url if side == "activecampaign" else p.brevo_url
    script = [k for kind in kinds for k in ("ok", kind)]
    set_faults(url, {"script": script})
    result = p.run()
    assert result.returncode == 0, result.output[-4000:]
    # Every scripted fault was served (empty and truncated bodies are logged as 200s).
    assert requests.get(control(url) + "/faults", timeout=10).json()["script"] == []
    assert _faulted(url) >= len([k for k in kinds if k not in ("empty", "truncated")])
    set_faults(url, None)
    _assert_exact_and_idempotent(p)
