#!/usr/bin/env bash
# The README's test command, and exactly what CI runs (.ci/run calls it):
# set everything up from this repository's pinned files, lint, type-check, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The webhook queue's PostgreSQL tests need a real server (Debian's package; the tests start a
# throwaway cluster): install it when missing, as CI's fresh Debian machine (root) has none.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  else
    echo "PostgreSQL is missing: apt-get install -y postgresql (the webhook queue tests need it)" >&2
  fi
fi
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
