#!/usr/bin/env bash
# Builds the uniffi bindings, generates the Kotlin (and Swift) sources, compiles the Kotlin test
# program against JNA and runs it. Installs what is missing: kotlinc from npm (kotlin-compiler)
# into a cache folder, JNA from Debian (libjna-java).
#
#   ./scripts/test-kotlin.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
KOTLIN_HOME="$CACHE/kotlin/package"
WORK="$CACHE/kotlin-test"

step() { printf '\n--> %s\n' "$*"; }

# kotlinc (the npm package kotlin-compiler ships it, with the coroutines jar).
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
  step "installing kotlinc (npm package kotlin-compiler) into $CACHE/kotlin"
  mkdir -p "$CACHE/kotlin"
  (cd "$CACHE/kotlin" && rm -rf package kotlin-compiler-*.tgz \
    && npm pack --silent kotlin-compiler >/dev/null \
    && tar xzf kotlin-compiler-*.tgz && rm -f kotlin-compiler-*.tgz)
  chmod +x "$KOTLIN_HOME"/bin/*
fi
KOTLINC="$KOTLIN_HOME/bin/kotlinc"
KOTLIN_LIB="$KOTLIN_HOME/lib"
COROUTINES_JAR="$(ls "$KOTLIN_LIB"/kotlinx-coroutines-core-jvm*.jar | head -n1)"
STDLIB_JAR="$KOTLIN_LIB/kotlin-stdlib.jar"

# JNA, which the generated Kotlin uses to call the library.
find_jna() { dpkg -L libjna-java 2>/dev/null | grep 'jna\.jar$' | head -n1 || true; }
JNA_JAR="$(find_jna)"
if [ -z "$JNA_JAR" ] || [ ! -f "$JNA_JAR" ]; then
  step "installing libjna-java"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libjna-java >/dev/null
  JNA_JAR="$(find_jna)"
fi

step "building the uniffi library"
cargo build -p appointment-uniffi --lib --bins
LIB="$CARGO_TARGET_DIR/debug/libappointment_uniffi.so"

step "generating the Kotlin and Swift bindings"
rm -rf "$WORK"
mkdir -p "$WORK/kotlin" "$WORK/swift"
BINDGEN="$CARGO_TARGET_DIR/debug/uniffi-bindgen"
"$BINDGEN" generate --library "$LIB" --language kotlin --out-dir "$WORK/kotlin" --no-format
"$BINDGEN" generate --library "$LIB" --language swift --out-dir "$WORK/swift" --no-format
# The committed Swift sources must be what the library generates today.
if ! diff -r "$WORK/swift" "$ROOT/bindings/uniffi/swift" >/dev/null; then
  echo "bindings/uniffi/swift is out of date; regenerate it with:" >&2
  echo "  $BINDGEN generate --library $LIB --language swift --out-dir bindings/uniffi/swift --no-format" >&2
  exit 1
fi

step "compiling the Kotlin test program"
"$KOTLINC" -nowarn -cp "$JNA_JAR:$COROUTINES_JAR" \
  "$WORK/kotlin" "$ROOT/bindings/uniffi/tests/kotlin/BookingTest.kt" \
  -d "$WORK/test.jar" 2>&1 | grep -v '^warning:' || true
[ -f "$WORK/test.jar" ] || { echo "kotlinc failed" >&2; exit 1; }

step "running the Kotlin test program"
java -Djna.library.path="$(dirname "$LIB")" \
  -cp "$WORK/test.jar:$JNA_JAR:$STDLIB_JAR:$COROUTINES_JAR" BookingTestKt
