#!/usr/bin/env bash
# A real Django export moves over: every user logs in to Authenticon with the same
# password and their stored hash becomes Argon2id; a second import creates nothing.
# Run by `make test-import`; PYTHON names the venv's python, AUTHENTICON_BIN the binary.
set -euo pipefail
bin=${AUTHENTICON_BIN:-target/debug/authenticon}
python=${PYTHON:-.venv/bin/python}
password='a long passphrase 123'
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
"$python" tests/interop/django_export.py "$dir/dump.json" "$password"
export AUTHENTICON_DATABASE_URL="sqlite://$dir/authenticon.db" AUTHENTICON_SECRET_KEY=import-secret-0123456789-abcdefghijklmn
first=$("$bin" import-django "$dir/dump.json")
echo "$first"
echo "$first" | grep -q "5 user(s) created, 0 updated, 0 skipped; 1 role(s) created"
second=$("$bin" import-django "$dir/dump.json")
echo "$second" | grep -q "0 user(s) created, 5 updated, 0 skipped; 0 role(s) created" || { echo "error: not idempotent: $second"; exit 1; }

AUTHENTICON_BIND=127.0.0.1:0 "$bin" serve 2>"$dir/log" &
pid=$!
url=
for _ in $(seq 300); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$dir/log" | head -1 | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "error: the server did not start"; cat "$dir/log"; exit 1; }
for user in pbkdf2user argon2user bcryptsha bcryptuser djangoadmin; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/api/token/" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$user\", \"password\": \"$password\"}")
  [ "$code" = 200 ] || { echo "error: $user could not log in ($code)"; exit 1; }
done
"$python" - "$dir/authenticon.db" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT username, password_hash FROM users ORDER BY username").fetchall()
for username, hash_ in rows:
    assert hash_.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), (username, hash_[:30])
print(f"django import: {len(rows)} users logged in with their Django passwords; all hashes are now Argon2id")
PY
