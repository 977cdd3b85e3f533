#!/usr/bin/env bash
# The library crates as crates.io would receive them, and every feature combination the README's
# feature table promises.
#
#   ./scripts/test-packages.sh
#   PACKAGE_VERIFY=0 ./scripts/test-packages.sh   # package without building the packages
#
# 1. `cargo package` for appointment-core, appointment-store and appointment-master together:
#    cargo packages them in dependency order into a local overlay registry, so each is verified
#    (built from its .crate file alone, default features) against the packaged versions of the
#    others, none of which is on crates.io. A working tree with uncommitted changes is packaged
#    with --allow-dirty (CI runs in a clean clone, where it is not needed).
# 2. The packages' file lists: the store ships every migration (sqlx::migrate! embeds them at
#    build time), nothing ships the workspace's scripts, benchmark results or bindings.
# 3. `cargo check` of the facade's library with no default features (memory only), SQLite,
#    Postgres and all features, and the memory-only build's dependency tree has no tokio.
# Any warning, in a verification build or a check, fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/appointment-master/target}"
export CARGO_TERM_COLOR=never
CRATES=(appointment-core appointment-store appointment-master)

step() { printf '\n--> %s\n' "$*"; }
fail() {
  echo "test-packages: $*" >&2
  exit 1
}

# Runs cargo with the given arguments; fails on a cargo failure or on any warning it prints.
cargo_no_warnings() {
  local log
  log="$(mktemp)"
  if ! cargo "$@" 2>&1 | tee "$log"; then
    rm -f "$log"
    fail "cargo $* failed"
  fi
  if grep -q '^warning' "$log"; then
    rm -f "$log"
    fail "cargo $* printed warnings"
  fi
  rm -f "$log"
}

# Cargo verifies each package against the others through a local overlay registry, whose
# crates it extracts under $CARGO_HOME/registry/src/-<hash>/ once per version and never again: a
# copy left by an earlier run of the same version would be compiled instead of this tree's.
# The overlay registry itself (target/package/tmp-registry) keeps the first .crate of a version
# too; both go.
CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
for crate in "${CRATES[@]}"; do
  rm -rf "$CARGO_HOME"/registry/src/-*/"$crate"-[0-9]* "$CARGO_HOME"/registry/cache/-*/"$crate"-[0-9]*
done
rm -rf "$CARGO_TARGET_DIR/package"
# Crates from a registry are taken to never change, so their compiled artifacts are reused
# without looking at their sources: the verification would link a stale build of the same
# version. Their artifacts go too (the workspace's own builds of these crates are rebuilt).
for crate in "${CRATES[@]}"; do
  lib="${crate//-/_}"
  rm -rf "$CARGO_TARGET_DIR"/debug/.fingerprint/"$crate"-* \
    "$CARGO_TARGET_DIR"/debug/deps/lib"$lib"-* "$CARGO_TARGET_DIR"/debug/deps/"$lib"-*
done

dirty=()
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then
  echo "(uncommitted changes: packaging with --allow-dirty)"
  dirty=(--allow-dirty)
fi
package_args=()
for crate in "${CRATES[@]}"; do
  package_args+=(-p "$crate")
done

step "file lists"
for crate in "${CRATES[@]}"; do
  list="$(cargo package --list -p "$crate" "${dirty[@]}")"
  [ -n "$list" ] || fail "$crate: empty file list"
  count="$(printf '%s\n' "$list" | wc -l)"
  echo "$crate: $count files"
  case "$crate" in
    appointment-store)
      for migration in $(git ls-files appointment-store/migrations | sed 's|^appointment-store/||'); do
        grep -qx "$migration" <<<"$list" || fail "$crate does not ship $migration"
      done
      ;;
    appointment-master)
      grep -qx 'README.crate.md' <<<"$list" || fail "$crate does not ship its README"
      grep -qx 'src/lib.rs' <<<"$list" || fail "$crate does not ship src/lib.rs"
      ;;
  esac
  for unwanted in '^scripts/' '^bindings/' '^reliability/' '^appointment-server/' \
    '^BENCHMARKS.md$' '^benchmarks.png$' '\.py$' '^\.ci/'; do
    if grep -q "$unwanted" <<<"$list"; then
      fail "$crate ships files it should not: $(printf '%s\n' "$list" | grep "$unwanted" | head -3)"
    fi
  done
done

step "cargo package ${package_args[*]} ${dirty[*]}"
verify=()
if [ "${PACKAGE_VERIFY:-1}" = "0" ]; then
  verify=(--no-verify)
fi
cargo_no_warnings package "${package_args[@]}" "${dirty[@]}" "${verify[@]}"
for crate in "${CRATES[@]}"; do
  ls -l "$CARGO_TARGET_DIR/package/$crate-"*.crate
done

# The rows of the feature table in README.md and README.crate.md.
check_facade() {
  step "cargo check -p appointment-master --lib $*"
  cargo_no_warnings check -p appointment-master --lib "$@"
}
check_facade --no-default-features
check_facade --no-default-features --features sqlite
check_facade --no-default-features --features postgres
check_facade --all-features

step "memory only: no tokio in the dependency tree"
if cargo tree -p appointment-master --no-default-features -e normal --prefix none |
  grep -q '^tokio '; then
  fail "appointment-master with no default features depends on tokio"
fi
echo "ok"

step "packages ok"
