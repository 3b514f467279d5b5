-- Multi-factor authentication: a TOTP factor and single-use recovery codes per user.

CREATE TABLE totp_factors (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- The shared secret, sealed (ChaCha20-Poly1305 under a key derived from the
    -- service secret): TOTP needs the secret itself, so it cannot be hashed.
    secret       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    -- NULL until the user proves their authenticator with a first code.
    confirmed_at INTEGER,
    -- The last time step accepted: a code is good once, even within its window.
    last_step    INTEGER NOT NULL DEFAULT 0,
    -- Wrong codes in a row; five lock the factor until locked_until.
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER NOT NULL DEFAULT 0
);

-- Only the SHA-256 of each code is kept; a used code stays, marked, until the set is
-- replaced.
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (user_id, code_hash)
);
