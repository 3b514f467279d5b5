//! Tokens: JWT claims, signing and verification, the signing keys, and the sessions
//! (refresh-token families) tokens are issued for: issue, rotate with reuse detection,
//! revoke, and check an access token against what happened since it was signed.

mod access;
pub mod claims;
pub mod codec;
mod grants;
pub mod keys;
pub mod personal;
mod provider_keys;
mod revocation_feed;
mod service;
mod signing_keys;
mod user_cache;
mod verified;

pub use access::{AccessError, Caller};
pub use claims::{Claims, TokenType};
pub use codec::{CodecError, JwtCodec};
pub use grants::{GrantRefreshed, NewGrant};
pub use personal::PersonalCaller;
pub use provider_keys::{ACCESS_TOKEN_TYP, ID_TOKEN_TYP};
pub use revocation_feed::{FeedPage, FEED_TYP};
pub use service::{TokenPair, TokenService};
pub use user_cache::UserCache;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Bad signature, expired, wrong type, spent, revoked, unknown: one answer for all.
    #[error("token invalid: {0}")]
    Invalid(String),
    /// The token is fine but its user is deactivated or gone.
    #[error("no active account for the token")]
    NoActiveAccount,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed: a fault of ours.
    #[error("signing failed: {0}")]
    Signing(#[source] CodecError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// A key operation that makes no sense (retiring the signing key, unknown kid); the
    /// text is for the operator.
    #[error("{0}")]
    KeyRefused(String),
}

impl From<CodecError> for TokenError {
    fn from(e: CodecError) -> Self {
        TokenError::Invalid(e.to_string())
    }
}
