"""`python -m sandbox activecampaign|brevo [flags]` (also the `connector-sandbox` script).

Each service module provides `add_arguments(parser)` (its own flags; the common ones come from
`sandbox.server.add_common_arguments`) and `build_app(args) -> aiohttp.web.Application` (built
with `sandbox.server.create_app`). Both are imported lazily so one service never loads the other.

Note: run it from outside the repository root (or with `python -P -m sandbox`), because the
`sandbox/` distribution directory at the root would otherwise shadow the package.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sandbox.server import add_common_arguments, run_app

SERVICES = {
    "activecampaign": "sandbox.activecampaign.app",
    "brevo": "sandbox.brevo.app",
}


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in SERVICES:
        print(f"usage: python -m sandbox {{{','.join(SERVICES)}}} [flags]", file=sys.stderr)
        raise SystemExit(2)
    name = argv[0]
    module = importlib.import_module(SERVICES[name])
    parser = argparse.ArgumentParser(prog=f"python -m sandbox {name}")
    add_common_arguments(parser)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    args.service = name
    app = module.build_app(args)
    run_app(app, args.host, args.port)


if __name__ == "__main__":
    main()
