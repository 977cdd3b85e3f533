#!/usr/bin/env bash
# Runs the integration suite: the real server binary, driven from Python, checked with
# independent implementations (the Standard Webhooks reference verifier for webhook
# signatures, the `icalendar` package for calendars, a real SMTP server, aiosmtpd, for email).
# Creates its virtualenv (pytest, the checkers and the SMTP server, from PyPI) when missing.
#
#   ./scripts/test-integration.sh [pytest args…]
#
# Each test runs against memory, a SQLite temp file, and Postgres when TEST_POSTGRES_URL is set
# (REQUIRE_POSTGRES=1 turns a missing Postgres into a failure).
#
# The browser tests (test_pages.py, test_owner_pages.py) drive Debian's headless `chromium`
# through Debian's `chromium-driver` with Python's `selenium`; both are installed here (apt) when
# missing. Without them those tests say they are skipped, a failure when CI=true or
# REQUIRE_BROWSER=1. Their accessibility check injects axe-core, installed with npm into the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="${APPOINTMENT_MASTER_INTEGRATION_VENV:-$CACHE/venv-integration}"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"

step() { printf '\n--> %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating the virtualenv $VENV"
  make_venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pytest, standardwebhooks, icalendar, aiosmtpd' >/dev/null 2>&1; then
  step "installing pytest, standardwebhooks, icalendar and aiosmtpd into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pytest>=7" \
    "standardwebhooks>=1,<2" "icalendar>=6,<8" "aiosmtpd>=1.4,<2"
fi

if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1; then
  step "installing selenium into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "selenium>=4.11,<5"
fi

# shellcheck source=scripts/lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"
if ! ensure_apt_command chromium chromium || ! ensure_apt_command chromedriver chromium-driver; then
  if [ "${CI:-}" = "true" ] || [ "${REQUIRE_BROWSER:-0}" = "1" ]; then
    echo "chromium and chromium-driver are required (CI=true or REQUIRE_BROWSER=1)" >&2
    exit 1
  fi
  echo "chromium or chromium-driver could not be installed: the browser tests will be skipped" >&2
fi

# axe-core (npm) for the accessibility check of the pages, in the cache, never at run time.
AXE_DIR="$CACHE/axe-core"
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  if command -v npm >/dev/null 2>&1 || ensure_apt_command npm npm; then
    step "installing axe-core into $AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --silent "axe-core@^4.10" \
      || echo "axe-core could not be installed: the accessibility check will be skipped" >&2
  fi
fi
if [ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ]; then
  export AXE_JS="$AXE_DIR/node_modules/axe-core/axe.min.js"
fi

step "building the server (cargo build -p appointment-server --all-features, as the workspace tests build it)"
cargo build --quiet -p appointment-server --all-features --bin appointment-server
export AM_SERVER_BIN="$CARGO_TARGET_DIR/debug/appointment-server"

step "pytest tests/integration"
cd "$ROOT/tests/integration"
"$VENV/bin/python" -m pytest -q -rs -p no:cacheprovider . "$@"
