#!/usr/bin/env bash
# Start, stop or show both local sandboxes on the ports the `sandbox` Meltano environment uses:
#   ./scripts/sandbox.sh start    ActiveCampaign on :18080 (1,000 contacts, seed 42) and Brevo on
#                                 :18081 (its database in output/sandbox/brevo.sqlite3, kept
#                                 across restarts; `start --fresh` empties it first)
#   ./scripts/sandbox.sh status   what runs (exit 0 only when both do)
#   ./scripts/sandbox.sh stop     stop both
# Pidfiles and logs are in output/sandbox/ (git-ignored). SANDBOX_CONTACTS changes the number of
# seeded contacts; SANDBOX_AC_PORT and SANDBOX_BREVO_PORT move the ports (the tests do).
# Needs the environment built by ./scripts/setup.sh (or ./scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=output/sandbox
AC_PORT=${SANDBOX_AC_PORT:-18080}
BREVO_PORT=${SANDBOX_BREVO_PORT:-18081}
PY=.venv/bin/python

names=(activecampaign brevo)
port_of() { if [ "$1" = activecampaign ]; then echo "$AC_PORT"; else echo "$BREVO_PORT"; fi; }
pid_of() {  # the pid of a sandbox this script started and that still runs, or nothing
  local file="$DIR/$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$file"; fi
}
url_of() {  # where a sandbox started by this script listens (its port may differ from now's)
  cat "$DIR/$1.url" 2>/dev/null || echo "http://127.0.0.1:$(port_of "$1")"
}
healthy() {  # the service answers on its port
  "$PY" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/__sandbox/health", timeout=2).read()
EOF
}

start_one() {  # name, flags...
  local name=$1 port pid log
  shift
  port=$(port_of "$name")
  log="$DIR/$name.log"
  pid=$(pid_of "$name")
  if [ -n "$pid" ]; then
    echo "$name sandbox already running: $(url_of "$name") (pid $pid)"
    return 0
  fi
  if healthy "$port"; then
    echo "port $port already serves a sandbox this script did not start (./scripts/demo.sh" \
      "running?); stop that one first" >&2
    return 1
  fi
  nohup "$PY" -P -m sandbox "$name" --port "$port" "$@" >"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DIR/$name.pid"
  echo "http://127.0.0.1:$port" >"$DIR/$name.url"
  for _ in $(seq 1 300); do
    if grep -q '^SANDBOX_READY' "$log"; then
      echo "$name sandbox running: http://127.0.0.1:$port (pid $pid, log $log)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$DIR/$name.pid"
      echo "the $name sandbox did not start:" >&2
      tail -n 5 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "the $name sandbox did not start within 30 s; see $log" >&2
  return 1
}

stop_one() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if [ -z "$pid" ]; then
    echo "$name sandbox not running"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$DIR/$name.pid"
  echo "$name sandbox stopped"
}

case "${1:-}" in
  start)
    if [ ! -x "$PY" ]; then
      echo "no .venv here: run ./scripts/setup.sh first" >&2
      exit 1
    fi
    mkdir -p "$DIR"
    if [ "${2:-}" = "--fresh" ]; then
      [ -z "$(pid_of brevo)" ] || { echo "stop the sandboxes before start --fresh" >&2; exit 1; }
      rm -f "$DIR/brevo.sqlite3"
    fi
    start_one activecampaign --contacts "${SANDBOX_CONTACTS:-1000}" --seed 42
    start_one brevo --db "$DIR/brevo.sqlite3"
    ;;
  stop)
    for name in "${names[@]}"; do stop_one "$name"; done
    ;;
  status)
    rc=0
    for name in "${names[@]}"; do
      pid=$(pid_of "$name")
      port=$(port_of "$name")
      if [ -n "$pid" ]; then
        echo "$name sandbox running: $(url_of "$name") (pid $pid)"
      elif healthy "$port"; then
        echo "$name sandbox running: http://127.0.0.1:$port (not started by this script)"
      else
        echo "$name sandbox not running (./scripts/sandbox.sh start)"
        rc=3
      fi
    done
    exit "$rc"
    ;;
  *)
    echo "usage: $0 start [--fresh] | stop | status" >&2
    exit 2
    ;;
esac
