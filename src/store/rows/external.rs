//! Sign-in with external providers: linked identities, trips to a provider, and offers
//! to link an identity to an existing account.

use crate::domain::Timestamp;

/// An account's identity at an external provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExternalIdentityRow {
    pub id: String,
    pub user_id: String,
    pub provider: String,
    /// The OpenID issuer (or GitHub's address) the subject belongs to.
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A browser's trip to a provider, stored from start to callback.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ExternalLoginRow {
    pub state_hash: String,
    pub provider: String,
    pub binding_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub link_user_id: Option<String>,
    pub next_path: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// An identity waiting to be linked to the account its verified address names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LinkOfferRow {
    pub token_hash: String,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// What unlinking an identity came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlinked {
    Done,
    NotFound,
    /// It is the account's last way to sign in (no usable password, no passkey, no other
    /// identity): kept.
    LastWay,
}

/// Roles an external provider's claim maps to, applied at each sign-in: `managed` are
/// every role the mapping can give (only these are ever added or removed), `wanted` those
/// the claim gives now.
#[derive(Debug, Clone, Default)]
pub struct MappedRoles {
    pub managed: Vec<String>,
    pub wanted: Vec<String>,
}
