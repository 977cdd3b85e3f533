#!/usr/bin/env bash
# Builds the Kotlin/JVM artifact: ONE jar with the compiled Kotlin bindings (package
# com.appointmentmaster) and the engine's native library inside it, at JNA's resource path for
# this platform (linux-x86-64/libappointment_uniffi.so on x86-64 Linux). A Kotlin program then
# needs only this jar, JNA, the Kotlin standard library and kotlinx-coroutines on its classpath:
# JNA finds no library on the system's paths and extracts the one in the jar.
#
#   ./scripts/build-kotlin-jar.sh             # release build of the engine (the artifact)
#   ./scripts/build-kotlin-jar.sh --debug     # debug build (scripts/test-kotlin.sh: the same
#                                             # jar layout, from the build the tests already make)
#
# The jar is written to $DIST/kotlin/appointment-master-kotlin-<version>.jar and its path printed
# on the last line. kotlinc (npm kotlin-compiler) and JNA (Debian libjna-java) are installed when
# missing (scripts/lib/kotlin-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
DIST="${APPOINTMENT_MASTER_DIST:-$CACHE/dist}/kotlin"
WORK="$CACHE/kotlin-jar"

step() { printf '\n--> %s\n' "$*"; }
fail() {
  echo "build-kotlin-jar: $*" >&2
  exit 1
}

PROFILE=release
case "${1:-}" in
  "") ;;
  --debug) PROFILE=debug ;;
  *) fail "unknown argument $1 (only --debug)" ;;
esac

# JNA's resource prefix for this platform (com.sun.jna.Platform.RESOURCE_PREFIX).
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PREFIX=linux-x86-64 ;;
  Linux-aarch64) PREFIX=linux-aarch64 ;;
  *) fail "no JNA resource prefix known here for $(uname -s) $(uname -m)" ;;
esac

# shellcheck source=scripts/lib/kotlin-env.sh
source "$ROOT/scripts/lib/kotlin-env.sh"

step "building the uniffi library ($PROFILE)"
if [ "$PROFILE" = release ]; then
  cargo build -p appointment-uniffi --lib --bins --release
else
  cargo build -p appointment-uniffi --lib --bins
fi
LIB="$CARGO_TARGET_DIR/$PROFILE/libappointment_uniffi.so"
BINDGEN="$CARGO_TARGET_DIR/$PROFILE/uniffi-bindgen"

step "generating the Kotlin sources"
rm -rf "$WORK"
mkdir -p "$WORK/src" "$WORK/classes/$PREFIX" "$DIST"
"$BINDGEN" generate --library "$LIB" --language kotlin --out-dir "$WORK/src" --no-format

step "compiling the Kotlin bindings"
"$KOTLINC" -nowarn -cp "$JNA_JAR:$COROUTINES_JAR" "$WORK/src" -d "$WORK/classes" 2>&1 \
  | { grep -v '^warning:' || true; }
[ -d "$WORK/classes/com/appointmentmaster" ] || fail "kotlinc produced no classes"

step "packing the jar"
# Without its debug information (the symbols JNA calls stay): a debug build's library shrinks from
# about 150 MB to about 25 MB.
strip --strip-debug -o "$WORK/classes/$PREFIX/$(basename "$LIB")" "$LIB"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n1)"
JAR="$DIST/appointment-master-kotlin-$VERSION.jar"
printf 'Implementation-Title: appointment-master-kotlin\nImplementation-Version: %s\n' \
  "$VERSION" >"$WORK/manifest.txt"
rm -f "$DIST"/appointment-master-kotlin-*.jar
jar --create --file "$JAR" --manifest "$WORK/manifest.txt" -C "$WORK/classes" .
# (Read into a variable first: `grep -q` on a pipe can end the writer early, a failure under
# pipefail.)
contents="$(jar --list --file "$JAR")"
grep -qx "$PREFIX/libappointment_uniffi.so" <<<"$contents" \
  || fail "the jar lacks $PREFIX/libappointment_uniffi.so"
grep -qx 'com/appointmentmaster/Scheduler.class' <<<"$contents" \
  || fail "the jar lacks com/appointmentmaster/Scheduler.class"
echo "$JAR"
