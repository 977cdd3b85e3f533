#!/usr/bin/env bash
# Renders the README's screenshots (desktop and phone) of the owner's page, a booking page and a
# manage page into docs/screenshots/, in headless Chromium, against the real server. Uses the
# integration suite's virtualenv, browser and driver (scripts/test-integration.sh installs them;
# run it once first on a new machine).
#
#   ./scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
VENV="${APPOINTMENT_MASTER_INTEGRATION_VENV:-$CACHE/venv-integration}"
if ! "$VENV/bin/python" -c 'import selenium' >/dev/null 2>&1 || ! command -v chromedriver >/dev/null; then
  echo "run ./scripts/test-integration.sh once first: it installs selenium, chromium and chromium-driver" >&2
  exit 1
fi
cargo build --quiet -p appointment-server --all-features --bin appointment-server
export AM_SERVER_BIN="$CARGO_TARGET_DIR/debug/appointment-server"
cd "$ROOT/tests/integration"
"$VENV/bin/python" screenshots.py
