#!/usr/bin/env bash
# Schema-driven attack: schemathesis generates requests from the live /api/schema/ of a
# fresh server and checks that none gets a 5xx and every answer matches the schema.
# Run by `make test-schema`; SCHEMATHESIS names the tool, AUTHENTICON_BIN the binary.
set -euo pipefail
bin=${AUTHENTICON_BIN:-target/debug/authenticon}
st=${SCHEMATHESIS:-.venv/bin/schemathesis}
examples=${SCHEMATHESIS_EXAMPLES:-25}
dir=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

export AUTHENTICON_DATABASE_URL="sqlite://$dir/schemathesis.db"
export AUTHENTICON_SECRET_KEY=schemathesis-secret-0123456789-abcdefghijkl
export AUTHENTICON_BIND=127.0.0.1:0
export AUTHENTICON_ACCESS_TOKEN_LIFETIME=1h
# The tool fails logins on purpose; throttling would only answer 429 to everything.
export AUTHENTICON_THROTTLE_LOGIN_PER_USER_AND_ADDRESS=0 AUTHENTICON_THROTTLE_LOGIN_PER_USER=0 \
       AUTHENTICON_THROTTLE_LOGIN_PER_ADDRESS=0 AUTHENTICON_THROTTLE_REGISTRATIONS_PER_ADDRESS=0
password='schemathesis long passphrase'
AUTHENTICON_SUPERUSER_PASSWORD="$password" "$bin" createsuperuser --username root --no-input >/dev/null 2>&1

"$bin" serve 2>"$dir/server.log" &
pid=$!
url=
for _ in $(seq 300); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$dir/server.log" | head -1 | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "error: the server did not start"; cat "$dir/server.log"; exit 1; }

token=$(curl -fsS -X POST "$url/api/token/" -H 'Content-Type: application/json' \
  -d "{\"username\": \"root\", \"password\": \"$password\"}" | sed 's/.*"access":"\([^"]*\)".*/\1/')

"$st" run "$url/api/schema/" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance \
  --max-examples "$examples" \
  --generation-deterministic \
  --request-timeout 30
status=$?
if grep -q 'panicked' "$dir/server.log"; then
  echo "error: the server panicked during the run"; grep -m5 'panicked' "$dir/server.log"; exit 1
fi
exit $status
