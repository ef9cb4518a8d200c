"""Fixtures the sandbox tests share: one sandbox per test module, a clean account per test.

A module picks its sandbox's flags (keyword arguments of `SandboxProcess`, i.e. CLI flags) with a
module-level `AC_SANDBOX = {"contacts": 60, "seed": 5}` or `BREVO_SANDBOX = {...}`; they are laid
over the defaults below (rate limits off, instant imports). A module that needs more set-up
overrides the fixture under the same name and takes the shared one as its argument.

- `ac`: a module-scoped ActiveCampaign sandbox; `clean_ac`: reset data, faults and request log
  before a test (use it with `pytestmark = pytest.mark.usefixtures("clean_ac")`).
- `sandbox`: a module-scoped Brevo sandbox; `api`: a `BrevoClient` on an account reset (data and
  request log) before the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox.brevo.testkit import BrevoClient
from sandbox.testing import SandboxProcess

AC_DEFAULTS: dict[str, Any] = {"contacts": 200, "rate_limit": 0}
BREVO_DEFAULTS: dict[str, Any] = {"rate_scale": 0, "import_delay": 0}


def module_flags(request: pytest.FixtureRequest, name: str,
                 defaults: dict[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with the test module's own `name` dict, if it has one."""
    return {**defaults, **getattr(request.module, name, {})}


@pytest.fixture(scope="module")
def ac(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    flags = module_flags(request, "AC_SANDBOX", AC_DEFAULTS)
    with SandboxProcess("activecampaign", **flags) as sb:
        yield sb


@pytest.fixture
def clean_ac(ac: SandboxProcess) -> None:
    ac.control.reset()
    ac.control.clear_faults()
    ac.control.reset_requests()


@pytest.fixture(scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    flags = module_flags(request, "BREVO_SANDBOX", BREVO_DEFAULTS)
    with SandboxProcess("brevo", **flags) as sb:
        yield sb


@pytest.fixture
def api(sandbox: SandboxProcess) -> Iterator[BrevoClient]:
    sandbox.control.reset()
    sandbox.control.reset_requests()
    client = BrevoClient(sandbox)
    yield client
    client.close()
