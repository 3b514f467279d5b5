#!/usr/bin/env bash
# Interop: for each asymmetric algorithm, a fresh server issues a token; PyJWT and jose,
# reading only the JWKS, verify it and see their own forgeries refused.
# Run by `make test-interop`; PYTHON names the venv's python, AUTHENTICON_BIN the binary.
set -euo pipefail
bin=${AUTHENTICON_BIN:-target/debug/authenticon}
python=${PYTHON:-.venv/bin/python}
for alg in ES256 EdDSA RS256; do
  dir=$(mktemp -d)
  AUTHENTICON_DATABASE_URL="sqlite://$dir/interop.db" AUTHENTICON_SECRET_KEY=interop-secret-0123456789-abcdefghijklmn \
  AUTHENTICON_BIND=127.0.0.1:0 AUTHENTICON_JWT_ALGORITHM=$alg "$bin" serve 2>"$dir/log" &
  pid=$!
  url=
  for _ in $(seq 300); do
    url=$(grep -o 'listening on http://[0-9.:]*' "$dir/log" | head -1 | sed 's/listening on //' || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "error: the server did not start"; cat "$dir/log"; kill $pid; exit 1; }
  body='{"username": "interop", "password": "a long passphrase"}'
  curl -fsS -X POST "$url/register/" -H 'Content-Type: application/json' -d "$body" >/dev/null
  token=$(curl -fsS -X POST "$url/api/token/" -H 'Content-Type: application/json' -d "$body" \
    | sed 's/.*"access":"\([^"]*\)".*/\1/')
  status=0
  "$python" tests/interop/pyjwt_check.py "$url" "$token" "$alg" || status=$?
  (cd web && node e2e/interop-jose.mjs "$url" "$token" "$alg") || status=$?
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
  [ "$status" = 0 ] || { echo "error: interop failed for $alg"; exit 1; }
done
