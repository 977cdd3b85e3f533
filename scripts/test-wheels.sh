#!/usr/bin/env bash
# The Python package as a user gets it: builds the wheel and the sdist (scripts/build-wheels.sh),
# installs the wheel into a FRESH virtualenv with no Rust toolchain on PATH, and runs the Python
# suite (blocking and asyncio, bindings/python/tests) against the installed package, not the
# source tree or an editable build. Then `mypy --strict` checks the Python examples against the
# type stub the wheel ships.
#
#   ./scripts/test-wheels.sh [pytest args…]
#
# The suite runs against memory, a SQLite temp file, and Postgres when TEST_POSTGRES_URL is set.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
DIST="${APPOINTMENT_MASTER_DIST:-$CACHE/dist}/python"
FRESH="$CACHE/wheel-test-venv"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

step() { printf '\n--> %s\n' "$*"; }
fail() {
  echo "test-wheels: $*" >&2
  exit 1
}

bash "$ROOT/scripts/build-wheels.sh"
shopt -s nullglob
wheels=("$DIST"/*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $DIST, found ${#wheels[@]}"
WHEEL="${wheels[0]}"

# PATH without any directory that holds cargo, rustc or rustup: nothing below can compile Rust.
NO_RUST_PATH=""
IFS=: read -r -a path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [ -n "$dir" ] || continue
  if [ -e "$dir/cargo" ] || [ -e "$dir/rustc" ] || [ -e "$dir/rustup" ]; then
    continue
  fi
  NO_RUST_PATH="${NO_RUST_PATH:+$NO_RUST_PATH:}$dir"
done
no_rust() { env -u CARGO_TARGET_DIR -u CARGO_BUILD_JOBS PATH="$NO_RUST_PATH" "$@"; }
if no_rust sh -c 'command -v cargo || command -v rustc' >/dev/null; then
  fail "a Rust toolchain is still on the restricted PATH"
fi

step "creating the fresh virtualenv $FRESH"
rm -rf "$FRESH"
make_venv "$FRESH"

step "pip install $(basename "$WHEEL")[test] mypy (binaries only, no Rust toolchain on PATH)"
# --only-binary :all: forbids building anything from source, the wheel's own package included.
no_rust "$FRESH/bin/python" -m pip install --quiet --disable-pip-version-check \
  --only-binary :all: "${WHEEL}[test]" "mypy>=1.10"

# A working directory outside the source tree, so that only the installed package can be found.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

step "pytest bindings/python/tests against the installed wheel"
# The package is imported (and its location checked) before pytest starts, in the same
# interpreter, so every test uses the module found here.
no_rust "$FRESH/bin/python" - "$ROOT/bindings/python/tests" -q -p no:cacheprovider "$@" <<'PY'
import os
import sys

import appointment_master

venv = os.path.realpath(sys.prefix) + os.sep
location = os.path.realpath(appointment_master.__file__)
if not location.startswith(venv):
    sys.exit(f"appointment_master was imported from {location}, not from the fresh venv {venv}")
print(f"appointment_master from {location}")

import pytest

sys.exit(pytest.main(sys.argv[1:]))
PY

step "mypy --strict on the Python examples, against the installed wheel's type stub"
examples=("$ROOT"/examples/*.py)
[ "${#examples[@]}" -gt 0 ] || fail "no Python examples in examples/"
no_rust "$FRESH/bin/python" -m mypy --strict --cache-dir "$WORK/mypy-cache" "${examples[@]}"
