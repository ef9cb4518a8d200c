#!/usr/bin/env bash
# The README's demo command: set everything up, start both sandboxes with seeded data, run the
# pipeline, show what landed in Brevo, change data in ActiveCampaign, run again incrementally,
# show that only the changes moved, and stop the sandboxes. Nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export MELTANO_SEND_ANONYMOUS_USAGE_STATS=false

DATA=demo-data
CONTACTS=${DEMO_CONTACTS:-1000}
rm -rf "$DATA" && mkdir -p "$DATA"
# A fresh Meltano system database for the demo: its state store starts empty, so the first run
# is a full sync and the second one is incremental.
export MELTANO_DATABASE_URI="sqlite:///$PWD/$DATA/meltano.db"
export TARGET_BREVO_REJECTS_FILE="$PWD/$DATA/rejects.jsonl"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

start_sandbox() {  # name, log file, args...
  local name=$1 log=$2; shift 2
  python -P -m sandbox "$name" "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    if grep -q '^SANDBOX_READY' "$log"; then
      printf '    %s sandbox: %s\n' "$name" "$(grep -m1 '^SANDBOX_READY' "$log" | cut -d' ' -f2)"
      return 0
    fi
    if ! kill -0 "${pids[-1]}" 2>/dev/null; then cat "$log" >&2; return 1; fi
    sleep 0.1
  done
  echo "the $name sandbox did not start; see $log" >&2; return 1
}

printf '\n==> starting the sandboxes (ActiveCampaign with %s seeded contacts, an empty Brevo account)\n' "$CONTACTS"
start_sandbox activecampaign "$DATA/activecampaign.log" --port 18080 --contacts "$CONTACTS" --seed 42
start_sandbox brevo "$DATA/brevo.log" --port 18081 --db "$DATA/brevo.sqlite3"

printf '\n==> first run: meltano run tap-activecampaign target-brevo (full sync)\n'
meltano --log-level=warning run tap-activecampaign target-brevo
python scripts/demo_report.py --label "Brevo after the first run" --save "$DATA/after-first.json"

printf '\n==> changing data in the ActiveCampaign sandbox\n'
python scripts/demo_mutate.py

printf '\n==> second run: meltano run tap-activecampaign target-brevo (incremental)\n'
meltano --log-level=warning run tap-activecampaign target-brevo
python scripts/demo_report.py --label "Brevo after the incremental run" --compare "$DATA/after-first.json"

printf '\n==> stopping the sandboxes. Inspect what landed: sqlite3 %s/brevo.sqlite3 (see sandbox/README.md)\n' "$DATA"
