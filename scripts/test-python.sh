#!/usr/bin/env bash
# Builds the Python bindings with maturin into a virtualenv and runs their pytest suite.
# Creates the virtualenv (with maturin and pytest from PyPI) when it is missing.
#
#   ./scripts/test-python.sh [pytest args…]
#
# The suite runs against memory, a SQLite temp file, and Postgres when TEST_POSTGRES_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="${APPOINTMENT_MASTER_VENV:-$CACHE/venv}"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

step() { printf '\n--> %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtualenv $VENV"
  make_venv "$VENV"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
if ! python -c 'import maturin, pytest, pytest_asyncio, mypy' >/dev/null 2>&1; then
  step "installing maturin, pytest, pytest-asyncio and mypy into $VENV"
  python -m pip install --quiet --disable-pip-version-check "maturin>=1.16,<2" "pytest>=7" \
    "pytest-asyncio>=0.23" "mypy>=1.10"
fi

step "building appointment_master (maturin develop)"
(cd "$ROOT/bindings/python" && maturin develop --quiet)

step "checking the type stub (mypy.stubtest) and the tests against it (mypy)"
(cd "$ROOT/bindings/python" \
  && python -m mypy.stubtest appointment_master --ignore-missing-stub \
  && python -m mypy --cache-dir "$CACHE/mypy" tests)

step "pytest bindings/python/tests"
cd "$ROOT/bindings/python"
python -m pytest -q -p no:cacheprovider tests "$@"
