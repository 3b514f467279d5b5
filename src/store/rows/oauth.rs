//! The identity provider's rows: client applications, authorization requests and the
//! codes they become, and users' consents.

use crate::domain::Timestamp;

/// A registered client application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    /// SHA-256 (hex) of the secret; `None` for a public client.
    pub secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// What the client holds itself, with `client_credentials`.
    pub permissions: Vec<String>,
    /// First-party: users are not asked to consent.
    pub pre_consented: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl ClientRow {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// A client as stored: the lists are JSON arrays.
#[derive(sqlx::FromRow)]
pub(crate) struct StoredClient {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub grant_types: String,
    pub scopes: String,
    pub permissions: String,
    pub pre_consented: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<StoredClient> for ClientRow {
    fn from(s: StoredClient) -> Self {
        // Written only by `insert_client`/`update_client` from `Vec<String>`: never other JSON.
        let list = |text: &str| serde_json::from_str::<Vec<String>>(text).unwrap_or_default();
        ClientRow {
            redirect_uris: list(&s.redirect_uris),
            post_logout_redirect_uris: list(&s.post_logout_redirect_uris),
            grant_types: list(&s.grant_types),
            scopes: list(&s.scopes),
            permissions: list(&s.permissions),
            id: s.id,
            name: s.name,
            secret_hash: s.secret_hash,
            pre_consented: s.pre_consented,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A validated authorization request, waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuthorization {
    /// SHA-256 (hex) of the request handle the browser carries.
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: String,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// An authorization request as stored, with what its answer made of it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthorizationRow {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    pub prompt: String,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub answered_at: Option<Timestamp>,
    pub user_id: Option<String>,
    pub browser_session_id: Option<String>,
    pub auth_time: Option<Timestamp>,
    pub amr: String,
    pub code_expires_at: Option<Timestamp>,
    pub code_used_at: Option<Timestamp>,
    pub grant_id: Option<String>,
}

/// The user's yes to a request: who, from which browser session, and the code it makes.
#[derive(Debug, Clone)]
pub struct Approval {
    pub user_id: String,
    pub browser_session_id: String,
    pub auth_time: Timestamp,
    pub amr: String,
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    pub code_expires_at: Timestamp,
    /// Remember the consent for these scopes (none when the client is pre-consented).
    pub consent: Option<String>,
    pub now: Timestamp,
}

/// What the code exchange presents, checked against the code under its lock.
#[derive(Debug, Clone)]
pub struct Redemption {
    pub client_id: String,
    pub redirect_uri: String,
    /// `BASE64URL(SHA256(code_verifier))`, to compare with the stored challenge.
    pub challenge_of_verifier: String,
    pub now: Timestamp,
}

/// What became of a presented code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedeemOutcome {
    /// Spent now; the grant `grant_id` was started for it.
    Redeemed(Box<AuthorizationRow>),
    /// Spent before: the grant the first exchange started is revoked (RFC 9700 §4.5).
    Replayed { user_id: String },
    /// Unknown, expired, or not this client's, redirect URI's or verifier's: spent too.
    Invalid,
}

/// A user's consent to a client, with the client's name, for the account pages.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConsentRow {
    pub client_id: String,
    pub client_name: String,
    pub scope: String,
    pub granted_at: Timestamp,
    /// Live grants (refresh-token families) of the client for the user.
    pub grants: i64,
}
