//! Signing keys as stored.

use crate::domain::Timestamp;

/// A stored signing key pair.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    /// Encrypted (see `tokens::keys::seal`).
    pub private_key: String,
    pub public_jwk: String,
    /// `published`, `active`, `retired` or `revoked`.
    pub status: String,
    pub created_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub retired_at: Option<Timestamp>,
}
