#!/usr/bin/env bash
# The load benchmark of the REST service on Postgres; writes BENCHMARKS.md and benchmarks.png.
#
#   ./scripts/bench-load.sh           # run it (a few minutes)
#   ./scripts/bench-load.sh report    # rewrite the report and chart from the last run's results
#   ./scripts/bench-load.sh holds     # only the party drop with holds (about 2 minutes)
#   ./scripts/bench-load.sh outbox    # only the outbox and webhooks (about a minute)
#
# `holds`: a 5,000-seat party whose holds last 1 minute; 256 clients make 20,000 attempts to hold
# a seat, a holder books with the token after a random 0 to 200 ms, and a fifth of the holders
# abandon; a client refused `slot_full` joins the party's waiting list (once). Once the abandoned
# holds have expired, the waiting clients look at their places and book the seats offered to
# them, in join order, with the offers' tokens; then the same clients book without holds until
# the party is full. On its own fresh database and release server; it writes only its section of
# BENCHMARKS.md (between <!-- holds:begin --> and <!-- holds:end -->) and leaves the rest of the
# file and benchmarks.png as they are (the full run keeps that section). BENCH_HOLDS_SEED=N
# replays a run's random choices; the seed is in the report. Exits non-zero if a check fails.
#
# Booking through HTTP against pgbench running the same transaction on the same database, a party
# drop (5,000 seats, 20,000 attempts, 256 clients), the read path (a week of slots) against a
# trivial endpoint, and the server's footprint, all in one run (see reliability/src/bin/am-bench.rs
# for the knobs: BENCH_SECONDS, BENCH_CONNECTIONS, …). Postgres: TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres); a fresh database is created for the run.
# Needs wrk (installed with apt-get when missing), pgbench, and python3 for the chart (`holds`
# needs none of them).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
MODE="${1:-}"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
VENV="${BENCH_VENV:-$CACHE/venv-bench}"

step() { printf '\n--> %s\n' "$*"; }

if [ "$MODE" = holds ]; then
  :  # only the server and Postgres
elif ! command -v wrk >/dev/null 2>&1; then
  step "installing wrk"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null; }
fi
if [ "$MODE" != holds ]; then
  command -v pgbench >/dev/null 2>&1 || { echo "pgbench is needed (Debian: postgresql-contrib / postgresql-client)" >&2; exit 1; }
fi
if [ "$MODE" != holds ] && [ "$MODE" != outbox ] && { [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import matplotlib' 2>/dev/null; }; then
  step "installing matplotlib into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "matplotlib>=3.8,<4"
fi

step "building release binaries"
cargo build -q --release -p appointment-server --features postgres
cargo build -q --release -p reliability --bin am-bench

OUT="$CARGO_TARGET_DIR/bench-load"
mkdir -p "$OUT"
step "running the benchmark ${1:-(a few minutes)}"
APPOINTMENT_SERVER_BIN="$CARGO_TARGET_DIR/release/appointment-server" \
BENCH_OUT="$OUT" BENCH_MD="${BENCH_MD:-$ROOT/BENCHMARKS.md}" BENCH_NOTES="$ROOT/scripts/bench/notes.md" \
BENCH_PGBENCH_SCRIPT="$ROOT/scripts/bench/book.pgbench.sql" \
  "$CARGO_TARGET_DIR/release/am-bench" "$@"

if [ "$MODE" = holds ] || [ "$MODE" = outbox ]; then
  step "wrote the $MODE section of BENCHMARKS.md (the chart is left as it is)"
  exit 0
fi
step "drawing benchmarks.png"
"$VENV/bin/python" scripts/bench/chart.py "$OUT/results.json" "${BENCH_CHART:-$ROOT/benchmarks.png}"
step "wrote BENCHMARKS.md and benchmarks.png"
