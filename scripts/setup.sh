#!/usr/bin/env bash
# Builds the development environment from this repository's own pinned files:
#   .venv/     the three packages (editable) and the dev tools
#   .meltano/  the tap and the target as Meltano plugins
# Safe to run again; it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
step() { printf '\n==> %s\n' "$*"; }

if [ ! -x .venv/bin/python ]; then
  step "creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
step "installing the sandbox, the tap, the target and the dev tools (pinned by constraints.txt)"
python -m pip install --quiet -c constraints.txt -r requirements-dev.txt \
  -e ./sandbox -e ./tap-activecampaign -e ./target-brevo
step "installing the Meltano plugins into .meltano/"
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false
meltano --log-level=warning install
step "environment ready: $(python --version), $(meltano --version)"
