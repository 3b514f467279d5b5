//! The identity provider: OAuth 2.1 and OpenID Connect for other applications, held to
//! RFC 9700. Clients are registered (`clients`); a browser asks `/oauth/authorize`, the
//! web app signs the user in through the one login flow and asks their consent
//! (`authorize`); the client exchanges the code, refreshes and revokes (`token`), and
//! reads userinfo or introspects (`resource`). Grants are sessions of their own, so the
//! service's revocation, reuse detection and audit apply to them unchanged.

mod authorize;
mod claims;
pub mod clients;
mod errors;
pub mod redirect;
mod resource;
pub mod scopes;
mod token;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub use authorize::{AnswerError, Answerer, AuthorizeParams, AuthorizeStart, Decision, RequestView};
pub use claims::{AccessClaims, IdClaims};
pub use clients::{ClientError, ClientSpec, Clients, WithSecret};
pub use errors::OAuthError;
pub use resource::{Introspection, LogoutEnd, LogoutRequest, INTROSPECT_ANY};
pub use token::{ClientCredentials, TokenRequest, TokenResponse};

use crate::domain::Clock;
use crate::store::Store;
use crate::throttle::Throttle;
use crate::tokens::TokenService;

/// How long a code may wait for its exchange (RFC 9700 §4.5 wants it short).
const CODE_TTL: i64 = 60;
/// How long the user has to sign in and answer a request.
const REQUEST_TTL: i64 = 600;

pub struct Provider {
    store: Arc<Store>,
    tokens: Arc<TokenService>,
    throttle: Arc<Throttle>,
    clock: Arc<dyn Clock>,
    issuer: String,
}

impl Provider {
    pub fn new(
        store: Arc<Store>,
        tokens: Arc<TokenService>,
        throttle: Arc<Throttle>,
        clock: Arc<dyn Clock>,
        issuer: String,
    ) -> Self {
        Self { store, tokens, throttle, clock, issuer }
    }

    /// The `iss` of every token and answer (RFC 9207), as discovery states it.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }
}

/// PKCE S256 (RFC 7636 §4.2): `BASE64URL(SHA256(verifier))`.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters (a challenge of S256 is 43).
fn pkce_shaped(value: &str) -> bool {
    (43..=128).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
