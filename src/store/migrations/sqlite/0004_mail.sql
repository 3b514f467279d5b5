-- Account recovery, email verification and theft alerts.

ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
-- Password-reset requests find accounts by email, case-insensitively.
CREATE INDEX users_email_lower ON users(lower(email));

-- Where a refresh token was spent from: the theft alert names it when the token returns.
ALTER TABLE refresh_tokens ADD COLUMN used_ip TEXT;
ALTER TABLE refresh_tokens ADD COLUMN used_user_agent TEXT;

-- Single-use tokens sent in mails, as `<id>.<verifier>`: the row is found by its id and
-- the verifier's SHA-256 compared in constant time, so neither the index lookup nor the
-- comparison leaks anything of the secret part, and a copy of the database cannot reset
-- anyone's password.
CREATE TABLE mail_tokens (
    id            TEXT PRIMARY KEY,
    verifier_hash TEXT NOT NULL,
    -- 'password_reset' or 'email_verification'
    purpose    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The address the mail went to: verifying it proves only that address.
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX mail_tokens_user ON mail_tokens(user_id);
