//! The provider's one error type: RFC 6749 §5.2's error codes (and OpenID Connect's for
//! the authorize endpoint), with a description safe to show the client.

use crate::store::StoreError;
use crate::tokens::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Unknown client, or bad or missing credentials (`401`).
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// A code, refresh token or verifier that is not (or no longer) good.
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(String),
    /// The access token presented to userinfo (RFC 6750 §3.1).
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// A valid token without the scope asked for (RFC 6750 §3.1, `403`).
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
    /// Too many failed client authentications: wait this many seconds.
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed, or another fault of ours.
    #[error("server error: {0}")]
    Server(String),
}

impl OAuthError {
    /// The `error` code of the answer.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::UnsupportedTokenType(_) => "unsupported_token_type",
            OAuthError::InvalidToken(_) => "invalid_token",
            OAuthError::InsufficientScope(_) => "insufficient_scope",
            OAuthError::Throttled(_) => "invalid_client",
            OAuthError::Store(_) | OAuthError::Server(_) => "server_error",
        }
    }

    /// The `error_description`: what the client did wrong, never an internal detail.
    pub fn description(&self) -> String {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidClient(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::UnsupportedGrantType(d)
            | OAuthError::InvalidScope(d)
            | OAuthError::UnsupportedTokenType(d)
            | OAuthError::InvalidToken(d)
            | OAuthError::InsufficientScope(d) => d.clone(),
            OAuthError::Throttled(secs) => format!("Too many failed attempts; try again in {secs} seconds."),
            OAuthError::Store(_) | OAuthError::Server(_) => {
                "The server could not complete the request.".into()
            }
        }
    }
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid(_) | TokenError::NoActiveAccount => {
                OAuthError::InvalidGrant("The refresh token is invalid, expired or revoked.".into())
            }
            TokenError::Store(e) => OAuthError::Store(e),
            other => OAuthError::Server(other.to_string()),
        }
    }
}
