"""Fixtures for the end-to-end tests: both sandboxes and a Meltano pipeline between them."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox.testing import SandboxProcess

from tests.e2e_support import Pipeline

PipelineFactory = Callable[..., Pipeline]


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Iterator[PipelineFactory]:
    """Start an ActiveCampaign and a Brevo sandbox with unguessable credentials; give a Pipeline.

    The credentials are random per test so that the leak checks can search every output for
    them: a fixed string could appear by coincidence, a random one only by a leak.
    """
    started: list[SandboxProcess] = []
    pipelines: list[Pipeline] = []

    def factory(
        *, contacts: int = 250, seed: int = 11, ac: dict[str, Any] | None = None,
        brevo: dict[str, Any] | None = None, env: dict[str, str] | None = None,
    ) -> Pipeline:
        ac_token = f"ac-{secrets.token_hex(12)}"
        brevo_key = f"xkeysib-{secrets.token_hex(16)}"
        ac_flags = {"contacts": contacts, "seed": seed, "rate_limit": 25, "token": ac_token}
        ac_flags.update(ac or {})
        brevo_flags = {"api_key": brevo_key, "import_delay": 0.3, "rate_scale": 20}
        brevo_flags.update(brevo or {})
        ac_sb = SandboxProcess("activecampaign", **ac_flags).start()
        started.append(ac_sb)
        br_sb = SandboxProcess("brevo", **brevo_flags).start()
        started.append(br_sb)
        workdir = tmp_path / f"pipeline-{len(started) // 2}"
        workdir.mkdir()
        pipeline = Pipeline(
            ac_url=ac_sb.base_url, ac_token=ac_token, brevo_url=br_sb.api_url,
            brevo_key=brevo_key, workdir=workdir, extra_env=dict(env or {}),
        )
        pipelines.append(pipeline)
        return pipeline

    yield factory
    for sb in started:
        sb.stop()
    for p in pipelines:
        assert_no_secret_leaked(p)


def assert_no_secret_leaked(p: Pipeline) -> None:
    """Neither credential appears in any output, log, rejects file, state or database.

    Meltano's own per-run plugin config (`.meltano/run/*/*.config.json`) is where credentials
    are meant to be, and is left out.
    """
    secrets_ = (p.ac_token.encode(), p.brevo_key.encode())
    blobs: list[tuple[str, bytes]] = [(f"run output {i}", o.encode()) for i, o in
                                      enumerate(p.outputs)]
    for path in p.workdir.rglob("*"):
        if path.is_file() and not path.is_symlink() and ".meltano/run" not in str(path):
            if any(part in ("extractors", "loaders") for part in path.relative_to(p.workdir).parts):
                continue
            blobs.append((str(path), path.read_bytes()))
    for where, blob in blobs:
        for secret in secrets_:
            assert secret not in blob, f"a credential leaked into {where}"
