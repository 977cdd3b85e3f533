#!/usr/bin/env bash
# The Kotlin bindings as a user gets them: builds the jar (scripts/build-kotlin-jar.sh: compiled
# bindings plus the native library at JNA's resource path), compiles the Kotlin test program
# against that jar alone (plus JNA, the Kotlin standard library and kotlinx-coroutines), and runs
# it with no library path set, so JNA must load the engine from the jar. Also checks that the
# committed Swift sources are what the library generates today.
#
#   ./scripts/test-kotlin.sh
#
# The jar is built from the debug build of the engine, which the Rust tests already make: a
# release build for another copy of the engine would add minutes to every run and test nothing
# more about the packaging (`./scripts/build-kotlin-jar.sh` builds the release jar).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
DIST="${APPOINTMENT_MASTER_DIST:-$CACHE/dist}/kotlin"
WORK="$CACHE/kotlin-test"

step() { printf '\n--> %s\n' "$*"; }
fail() {
  echo "test-kotlin: $*" >&2
  exit 1
}

bash "$ROOT/scripts/build-kotlin-jar.sh" --debug
# shellcheck source=scripts/lib/kotlin-env.sh
source "$ROOT/scripts/lib/kotlin-env.sh"
shopt -s nullglob
jars=("$DIST"/appointment-master-kotlin-*.jar)
[ "${#jars[@]}" -eq 1 ] || fail "expected one jar in $DIST, found ${#jars[@]}"
JAR="${jars[0]}"
LIB="$CARGO_TARGET_DIR/debug/libappointment_uniffi.so"
BINDGEN="$CARGO_TARGET_DIR/debug/uniffi-bindgen"

step "checking the committed Swift sources"
rm -rf "$WORK"
mkdir -p "$WORK/swift"
"$BINDGEN" generate --library "$LIB" --language swift --out-dir "$WORK/swift" --no-format
if ! diff -r "$WORK/swift" "$ROOT/bindings/uniffi/swift" >/dev/null; then
  echo "bindings/uniffi/swift is out of date; regenerate it with:" >&2
  echo "  $BINDGEN generate --library $LIB --language swift --out-dir bindings/uniffi/swift --no-format" >&2
  exit 1
fi

step "compiling the Kotlin test program against $(basename "$JAR")"
"$KOTLINC" -nowarn -cp "$JAR:$JNA_JAR:$COROUTINES_JAR" \
  "$ROOT/bindings/uniffi/tests/kotlin/BookingTest.kt" -d "$WORK/test.jar" 2>&1 \
  | { grep -v '^warning:' || true; }
[ -f "$WORK/test.jar" ] || fail "kotlinc failed"

step "running the Kotlin test program (the library comes from the jar)"
# No jna.library.path and no LD_LIBRARY_PATH: JNA finds the library only as a resource of the
# jar. jna.debug_load logs where it was found; the run must say it came from the jar.
set +e
env -u LD_LIBRARY_PATH java -Djna.debug_load=true -Djna.tmpdir="$WORK" \
  -cp "$WORK/test.jar:$JAR:$JNA_JAR:$STDLIB_JAR:$COROUTINES_JAR" BookingTestKt 2>&1 \
  | tee "$WORK/run.log"
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || exit "$status"
grep -qF "Found library resource at jar:file:$JAR!/" "$WORK/run.log" \
  || fail "JNA did not load libappointment_uniffi.so from $(basename "$JAR")"
echo "JNA loaded libappointment_uniffi.so from $(basename "$JAR")"
