-- Sign-in with external identity providers (Google, GitLab, GitHub, any OpenID provider).

-- An account's identity at a provider: the provider's subject, linked to one user.
CREATE TABLE external_identities (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- The provider's name in the settings ([external_providers.<name>]).
    provider   TEXT NOT NULL,
    -- Who vouches: the OpenID issuer, or GitHub's address. A subject means something
    -- only with its issuer (OIDC Core §5.7): a provider's settings moved to another
    -- instance must not sign its user 42 in as the old one's.
    issuer     TEXT NOT NULL,
    -- The provider's stable id of the person (OIDC `sub`, GitHub's numeric id).
    subject    TEXT NOT NULL,
    -- The address the provider vouched for when the identity was last used.
    email      TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    UNIQUE (provider, issuer, subject)
);
CREATE INDEX external_identities_user ON external_identities(user_id);

-- A browser's trip to a provider, from start to callback: looked up by the SHA-256 of
-- `state`, taken (deleted) once, and only with the cookie of the browser that started it.
CREATE TABLE external_logins (
    state_hash   TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    -- SHA-256 of the random value in the starting browser's cookie.
    binding_hash TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- Set when a signed-in user links a provider from the account page.
    link_user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    -- Where the web app goes afterwards (a path of its own).
    next_path    TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

-- An external identity whose verified address is an existing account's: linked only
-- after the browser that holds the offer's cookie signs in to that account.
CREATE TABLE external_link_offers (
    token_hash TEXT PRIMARY KEY,
    provider   TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
