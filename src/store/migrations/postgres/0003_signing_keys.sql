-- Asymmetric signing keys: the private half encrypted under a key derived from the
-- secret, the public half as a JWK. Status: published -> active -> retired.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    private_key  TEXT NOT NULL,
    public_jwk   TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'published',
    created_at   BIGINT NOT NULL,
    activated_at BIGINT,
    retired_at   BIGINT
);
