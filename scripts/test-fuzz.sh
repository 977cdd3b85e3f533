#!/usr/bin/env bash
# Schema-based fuzzing of the REST service: schemathesis (from PyPI, in a virtualenv) generates
# requests from the service's own OpenAPI document and checks that no answer is a 5xx and every
# answer conforms to the document (status code, content type, body schema).
#
#   ./scripts/test-fuzz.sh            # FUZZ_EXAMPLES (default 100) examples per operation
#   FUZZ_CHECKS=all ./scripts/test-fuzz.sh   # every check schemathesis has
#
# The server runs on a SQLite file in a temp dir, on a free loopback port, with a logged-in
# user's token sent on every request so that the protected operations are fuzzed past the login.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${APPOINTMENT_MASTER_CACHE:-$HOME/.cache/appointment-master}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="${FUZZ_VENV:-$CACHE/venv-fuzz}"
EXAMPLES="${FUZZ_EXAMPLES:-100}"
# Every answer must be a documented status with the documented content type and body schema;
# FUZZ_CHECKS=all adds schemathesis's other checks (e.g. that invalid data is rejected).
CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}"
SCHEMATHESIS_SPEC="schemathesis>=4.32,<5"

step() { printf '\n--> %s\n' "$*"; }

if [ ! -x "$VENV/bin/schemathesis" ]; then
  step "installing schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "$SCHEMATHESIS_SPEC"
fi

step "building appointment-server"
cargo build -q -p appointment-server --all-features
BIN="$CARGO_TARGET_DIR/debug/appointment-server"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
step "starting the server on $BASE (SQLite in $WORK)"
(cd "$WORK" && DATABASE_URL="sqlite://$WORK/fuzz.db" HOST=127.0.0.1 PORT="$PORT" ENV=development \
  JWT_SECRET_KEY="fuzz-secret-fuzz-secret-fuzz-secret-0123" BCRYPT_COST=4 \
  LOGIN_RATE_PER_MINUTE=100000 RUST_LOG=warn exec "$BIN" serve >"$WORK/server.log" 2>&1) &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -fsS "$BASE/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "$BASE/health" >/dev/null

# A user and a token, so that protected operations are fuzzed beyond their 401.
EMAIL="fuzz-$(date +%s)@example.com"
curl -fsS -X POST "$BASE/users" -H 'content-type: application/json' \
  -d "{\"name\":\"Fuzz\",\"email\":\"$EMAIL\",\"password\":\"securepass123\"}" >/dev/null
TOKEN="$(curl -fsS -X POST "$BASE/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"securepass123\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

step "schemathesis: $EXAMPLES examples per operation"
status=0
cd "$WORK"  # schemathesis keeps its state in the working directory
# /logout is left out: fuzzing it would revoke the token the other operations use.
"$VENV/bin/schemathesis" run "$BASE/openapi.json" \
  --checks "$CHECKS" \
  --max-examples "$EXAMPLES" \
  --phases examples,coverage,fuzzing \
  --exclude-path /logout \
  --header "Authorization: Bearer $TOKEN" \
  --request-timeout 10 \
  --generation-deterministic \
  --workers 2 \
  --no-color || status=$?
if [ "$status" -ne 0 ]; then
  echo "schemathesis found failures (server log: last lines below)" >&2
  tail -n 40 "$WORK/server.log" >&2
  exit "$status"
fi
step "fuzzing passed"
