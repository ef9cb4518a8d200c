#!/usr/bin/env bash
# The README's test command, and exactly what CI runs (.ci/run calls it):
# set everything up from this repository's pinned files, lint, type-check, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false

printf '\n==> ruff\n'
ruff check .
printf '\n==> mypy (the packages, then each test suite on its own: they share module names)\n'
mypy sandbox/sandbox tap-activecampaign/tap_activecampaign target-brevo/target_brevo
for tree in "tests bench" sandbox/tests tap-activecampaign/tests target-brevo/tests; do
  # shellcheck disable=SC2086
  mypy $tree
done
printf '\n==> pytest (sandboxes, tap, target, end to end through meltano)\n'
set +e
pytest -p no:cacheprovider -q -n "${PYTEST_WORKERS:-2}" --durations=15 "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing, a test run that runs nothing proves nothing" >&2
  exit 1
fi
exit "$rc"
