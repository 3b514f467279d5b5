-- OAuth 2.1 / OpenID Connect: the applications that sign their users in here, the
-- authorization requests and codes between them, and the users' consents.

CREATE TABLE oauth_clients (
    -- The client_id.
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- SHA-256 (hex) of the secret; NULL for a public client. A secret is 256 random
    -- bits, so a fast hash is enough: nothing can be guessed from it.
    secret_hash TEXT,
    -- JSON arrays of strings.
    redirect_uris             TEXT NOT NULL DEFAULT '[]',
    post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]',
    grant_types               TEXT NOT NULL DEFAULT '[]',
    scopes                    TEXT NOT NULL DEFAULT '[]',
    -- What the client itself holds with client_credentials (a service account).
    permissions               TEXT NOT NULL DEFAULT '[]',
    -- A first-party application: its users are not asked to consent.
    pre_consented INTEGER NOT NULL DEFAULT FALSE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A session of a client is one grant: its refresh-token family, rotated and revoked as
-- the web app's own sessions are. NULL: a first-party session (the API, the web app).
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES oauth_clients(id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT '';
-- How and when the user proved who they are for this session (OIDC `amr`, `auth_time`).
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN auth_time INTEGER;
CREATE INDEX sessions_client ON sessions(client_id);

-- An authorization request, from `/oauth/authorize` to its answer, and the code it
-- became. Looked up by the SHA-256 of the request handle and of the code.
CREATE TABLE oauth_authorizations (
    id             TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    state          TEXT,
    nonce          TEXT,
    code_challenge TEXT NOT NULL,
    prompt         TEXT NOT NULL DEFAULT '',
    max_age        INTEGER,
    login_hint     TEXT,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    -- Set once, when the request is answered (a code, or an error).
    answered_at    INTEGER,
    code_hash      TEXT UNIQUE,
    user_id        TEXT REFERENCES users(id) ON DELETE CASCADE,
    -- The browser session the user approved from: `sid`, `auth_time`, `amr`.
    browser_session_id TEXT,
    auth_time      INTEGER,
    amr            TEXT NOT NULL DEFAULT '',
    code_expires_at INTEGER,
    code_used_at   INTEGER,
    -- The grant the code's exchange started: revoked if the code comes back.
    grant_id       TEXT
);
CREATE INDEX oauth_authorizations_expires ON oauth_authorizations(expires_at);

CREATE TABLE oauth_consents (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    -- Space-separated, as in OAuth.
    scope      TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

