//! Personal access tokens: a user's own API keys, kept as digests.

use crate::domain::Timestamp;

/// A personal access token as stored (its digest, never the token).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PersonalTokenRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The token's first characters, shown in lists.
    pub prefix: String,
    /// SHA-256 of the token, hex.
    pub digest: String,
    /// Space-separated permission names.
    pub permissions: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub last_used_ip: String,
    pub revoked_at: Option<Timestamp>,
}

impl PersonalTokenRow {
    pub fn permission_list(&self) -> Vec<String> {
        self.permissions.split(' ').filter(|p| !p.is_empty()).map(String::from).collect()
    }

    /// Neither revoked nor past its expiry at `now`.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// The last use of a token seen by this instance since the previous batch was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub token_id: String,
    pub at: Timestamp,
    pub ip: String,
}
