#!/usr/bin/env bash
# Builds the Python package as a user installs it: one abi3 wheel (CPython 3.9 and newer) for
# manylinux2014 (glibc 2.17) on this machine's architecture, and an sdist, into $DIST.
#
#   ./scripts/build-wheels.sh        # prints the paths of the wheel and the sdist at the end
#
# - The wheel is linked with zig (`maturin build --zig`, zig from the PyPI package `ziglang`), which
#   targets glibc 2.17 whatever the build machine's glibc is, so no manylinux container is needed.
#   It is built with the release profile, stripped: the artifact a user installs, not a debug
#   stand-in. That costs a release build of the engine (on 2 cores: about 7.5 minutes with nothing
#   cached, about 2 minutes when only this workspace's crates changed; the dependencies stay cached
#   in $CARGO_TARGET_DIR/<target triple>/release).
# - `auditwheel show` (PyPI `auditwheel`) must find the wheel consistent with a manylinux tag, and
#   the wheel must be tagged abi3 and manylinux; otherwise the script fails.
# - The sdist (`maturin sdist`) carries the workspace crates it needs and Cargo.lock; the script
#   checks that its workspace resolves offline from that lock file at the locked versions, without
#   building it.
#
# maturin, ziglang and auditwheel are installed into the build virtualenv when missing (the same
# virtualenv as scripts/test-python.sh). scripts/test-wheels.sh installs the wheel into a fresh
# virtualenv and runs the Python suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="${APPOINTMENT_MASTER_VENV:-$CACHE/venv}"
DIST="${APPOINTMENT_MASTER_DIST:-$CACHE/dist}/python"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

step() { printf '\n--> %s\n' "$*"; }
fail() {
  echo "build-wheels: $*" >&2
  exit 1
}

if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtualenv $VENV"
  make_venv "$VENV"
fi
# shellcheck disable=SC1091
source "$VENV/bin/activate"
if ! python -c 'import maturin, ziglang, auditwheel' >/dev/null 2>&1; then
  step "installing maturin, ziglang and auditwheel into $VENV"
  python -m pip install --quiet --disable-pip-version-check "maturin>=1.16,<2" "ziglang>=0.13" \
    "auditwheel>=6"
fi

rm -rf "$DIST"
mkdir -p "$DIST"

step "building the wheel (maturin build --release --zig --compatibility manylinux2014)"
(cd "$ROOT/bindings/python" \
  && maturin build --release --strip --zig --compatibility manylinux2014 --out "$DIST")

step "building the sdist (maturin sdist)"
(cd "$ROOT/bindings/python" && maturin sdist --out "$DIST")

shopt -s nullglob
wheels=("$DIST"/*.whl)
sdists=("$DIST"/*.tar.gz)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $DIST, found ${#wheels[@]}"
[ "${#sdists[@]}" -eq 1 ] || fail "expected one sdist in $DIST, found ${#sdists[@]}"
WHEEL="${wheels[0]}"
SDIST="${sdists[0]}"

step "auditwheel show $(basename "$WHEEL")"
report="$(auditwheel show "$WHEEL")"
echo "$report"
# auditwheel wraps its lines; join them before matching.
joined="$(tr -s ' \n' '  ' <<<"$report")"
if ! grep -q 'consistent with the following platform tag: "manylinux_' <<<"$joined"; then
  fail "auditwheel does not find $(basename "$WHEEL") consistent with a manylinux tag"
fi
case "$(basename "$WHEEL")" in
  *-abi3-*manylinux*) ;;
  *) fail "$(basename "$WHEEL") is not tagged abi3 and manylinux" ;;
esac

step "checking the sdist resolves with its own Cargo.lock"
unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
tar xzf "$SDIST" -C "$unpacked"
sdist_root="$(echo "$unpacked"/*)"
for f in pyproject.toml Cargo.toml Cargo.lock bindings/python/Cargo.toml \
  python/appointment_master/__init__.py python/appointment_master/_native.pyi \
  python/appointment_master/py.typed appointment-core/Cargo.toml appointment-store/Cargo.toml; do
  [ -f "$sdist_root/$f" ] || fail "the sdist lacks $f"
done
# The sdist's workspace has fewer members than this one, so cargo drops the lock entries that only
# the others need; every package it keeps must stay at its locked version.
cp "$sdist_root/Cargo.lock" "$unpacked/Cargo.lock.shipped"
cargo metadata --offline --format-version 1 \
  --manifest-path "$sdist_root/bindings/python/Cargo.toml" >/dev/null \
  || fail "the sdist's workspace does not resolve offline from its Cargo.lock"
python - "$unpacked/Cargo.lock.shipped" "$sdist_root/Cargo.lock" <<'PY' \
  || fail "resolving the sdist's workspace changed its Cargo.lock"
import re
import sys

def packages(path):
    text = open(path, encoding="utf-8").read()
    return set(re.findall(r'\[\[package\]\]\nname = "([^"]+)"\nversion = "([^"]+)"', text))

shipped, resolved = packages(sys.argv[1]), packages(sys.argv[2])
if not resolved or not resolved <= shipped:
    sys.exit(f"not in the shipped Cargo.lock: {sorted(resolved - shipped)}")
print(f"{len(resolved)} of the {len(shipped)} locked packages are used, at their locked versions")
PY

step "built"
echo "wheel: $WHEEL"
echo "sdist: $SDIST"
