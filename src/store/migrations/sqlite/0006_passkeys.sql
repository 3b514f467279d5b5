-- Passkeys (WebAuthn credentials) and the server side of WebAuthn ceremonies.

CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- base64url of the authenticator's credential id: how an assertion finds its key.
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- The verified public key and signature counter, as webauthn-rs serialises them.
    passkey       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- A started registration or login: the challenge the browser must sign, kept here so
-- any instance can finish it. Each is taken (deleted) by the request that finishes it.
CREATE TABLE webauthn_ceremonies (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
