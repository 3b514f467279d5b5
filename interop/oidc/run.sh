#!/usr/bin/env bash
# Runs one relying-party test (the command given) against a fresh `authenticon serve`:
# a throwaway SQLite database, the clients the test uses registered with the CLI, and a
# user to sign in as. The test learns where and who from the OIDC_* variables below; the
# server and its folder go when the command ends.
# Usage: interop/oidc/run.sh COMMAND... (AUTHENTICON_BIN names the binary)
set -euo pipefail
bin=$(realpath "${AUTHENTICON_BIN:-target/debug/authenticon}")
dir=$(mktemp -d)
pid=
trap '[ -z "$pid" ] || { kill "$pid"; wait "$pid"; } 2>/dev/null; rm -rf "$dir"' EXIT

cli() { "$bin" "$@" 2>>"$dir/log" || { cat "$dir/log" >&2; return 1; }; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
issuer=http://127.0.0.1:$(free_port)
export AUTHENTICON_DATABASE_URL="sqlite://$dir/oidc.db" AUTHENTICON_SECRET_KEY="$(head -c 33 /dev/urandom | base64)" \
  AUTHENTICON_BIND=${issuer#http://} AUTHENTICON_PUBLIC_URL=$issuer
export OIDC_ISSUER=$issuer OIDC_CALLBACK=http://127.0.0.1:$(free_port) OIDC_USERNAME=alice \
  OIDC_PASSWORD='a long passphrase'
AUTHENTICON_SUPERUSER_PASSWORD=$OIDC_PASSWORD cli createsuperuser --username root --no-input >/dev/null

# The application's own server-side client; a single-page app (public: PKCE alone, and a
# loopback redirect URI without a port, which may then name any: RFC 8252 §7.3); and a
# service signing in as itself.
user_scopes=(--scope openid --scope profile --scope email --scope offline_access)
OIDC_WEB=$(cli clients create --name 'Web app' "${user_scopes[@]}" \
  --redirect-uri "$OIDC_CALLBACK/callback" --post-logout-redirect-uri "$OIDC_CALLBACK/signed-out")
OIDC_SPA=$(cli clients create --name 'Single-page app' --public "${user_scopes[@]}" \
  --redirect-uri http://127.0.0.1/callback)
OIDC_SERVICE=$(cli clients create --name 'Report service' --grant client_credentials \
  --scope reports.read --permission reports.view)
export OIDC_WEB OIDC_SPA OIDC_SERVICE

"$bin" serve 2>>"$dir/log" &
pid=$!
for _ in $(seq 300); do
  curl -fsS "$issuer/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
user="{\"username\": \"$OIDC_USERNAME\", \"password\": \"$OIDC_PASSWORD\", \"email\": \"alice@example.com\"}"
curl -fsS -X POST "$issuer/register/" -H 'Content-Type: application/json' -d "$user" >/dev/null \
  || { echo "error: the server did not start"; cat "$dir/log"; exit 1; }
"$@" || { status=$?; echo "== the server's log"; tail -40 "$dir/log"; exit $status; }
