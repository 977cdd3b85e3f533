#!/usr/bin/env bash
# The one command that runs every test: Rust (memory, SQLite, Postgres), Python, Kotlin.
#
#   ./scripts/test-all.sh
#
# Postgres: the Postgres tests use TEST_POSTGRES_URL (default below when a server answers on
# 127.0.0.1:5432); without a reachable server they print that they are skipped, unless
# REQUIRE_POSTGRES=1 (CI sets it), which turns a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/appointment-master/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ -z "${TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null 2>&1 \
    && pg_isready -q -h 127.0.0.1 -p 5432; then
  export TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:5432/postgres"
fi
if [ "${REQUIRE_POSTGRES:-0}" = "1" ] && [ -z "${TEST_POSTGRES_URL:-}" ]; then
  echo "REQUIRE_POSTGRES=1 but no Postgres answers and TEST_POSTGRES_URL is unset" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, all features, warnings are errors)"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "tools the tests call"
# shellcheck source=lib/apt.sh
source scripts/lib/apt.sh
# promtool checks a scrape of /metrics; without it that test says it skipped (a failure under CI).
ensure_apt_command promtool prometheus || echo "promtool could not be installed" >&2

step "cargo test (all crates, all features)"
cargo test --workspace --all-features

step "cargo doc (appointment-core, warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p appointment-core --all-features --no-deps

# Language bindings and other suites add themselves as scripts/test-*.sh.
for extra in scripts/test-packages.sh scripts/test-python.sh scripts/test-wheels.sh \
  scripts/test-kotlin.sh scripts/test-integration.sh scripts/test-fuzz.sh; do
  if [ -f "$extra" ]; then
    step "$extra"
    bash "$extra"
  fi
done

step "all tests passed"
