# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this
# Sourced by the Kotlin scripts, with CACHE set: installs what is missing and sets
#   KOTLINC         kotlinc from the npm package kotlin-compiler, unpacked into $CACHE/kotlin
#   STDLIB_JAR      the Kotlin standard library that ships with it
#   COROUTINES_JAR  kotlinx-coroutines-core-jvm, which ships with it too
#   JNA_JAR         JNA from Debian's libjna-java, which the generated Kotlin calls the library with

KOTLIN_HOME="$CACHE/kotlin/package"
if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
  printf '\n--> %s\n' "installing kotlinc (npm package kotlin-compiler) into $CACHE/kotlin"
  mkdir -p "$CACHE/kotlin"
  (cd "$CACHE/kotlin" && rm -rf package kotlin-compiler-*.tgz \
    && npm pack --silent kotlin-compiler >/dev/null \
    && tar xzf kotlin-compiler-*.tgz && rm -f kotlin-compiler-*.tgz)
  chmod +x "$KOTLIN_HOME"/bin/*
fi
KOTLINC="$KOTLIN_HOME/bin/kotlinc"
STDLIB_JAR="$KOTLIN_HOME/lib/kotlin-stdlib.jar"
_coroutines=("$KOTLIN_HOME"/lib/kotlinx-coroutines-core-jvm*.jar)
COROUTINES_JAR="${_coroutines[0]}"

find_jna() { dpkg -L libjna-java 2>/dev/null | grep 'jna\.jar$' | head -n1 || true; }
JNA_JAR="$(find_jna)"
if [ -z "$JNA_JAR" ] || [ ! -f "$JNA_JAR" ]; then
  printf '\n--> %s\n' "installing libjna-java"
  _sudo=""
  [ "$(id -u)" -ne 0 ] && _sudo="sudo"
  $_sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $_sudo apt-get install -y -qq libjna-java >/dev/null
  JNA_JAR="$(find_jna)"
  if [ -z "$JNA_JAR" ] || [ ! -f "$JNA_JAR" ]; then
    echo "libjna-java installed no jna.jar" >&2
    exit 1
  fi
fi
