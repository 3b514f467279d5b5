-- Personal access tokens: a user's own API keys for scripts and CI.

CREATE TABLE personal_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- The token's first characters, to tell tokens apart in a list.
    prefix       TEXT NOT NULL,
    -- SHA-256 of the whole token (hex): the token itself is never stored.
    digest       TEXT NOT NULL UNIQUE,
    -- The permissions it may use, space-separated; capped at the user's own at each use.
    permissions  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    -- Null only where no maximum lifetime is configured.
    expires_at   BIGINT,
    -- Written in batches, not on every request.
    last_used_at BIGINT,
    last_used_ip TEXT NOT NULL DEFAULT '',
    revoked_at   BIGINT
);
CREATE INDEX personal_tokens_user ON personal_tokens(user_id);

-- The addresses a token was used from: the first use from a new one is audited.
CREATE TABLE personal_token_addresses (
    token_id      TEXT NOT NULL REFERENCES personal_tokens(id) ON DELETE CASCADE,
    ip            TEXT NOT NULL,
    first_seen_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, ip)
);
