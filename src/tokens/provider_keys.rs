//! The identity provider's signer: id tokens and client access tokens (RFC 9068), which
//! other parties verify against the JWKS, so always with a key pair. Its claims are the
//! OpenID Connect and OAuth ones, not the service's own `Claims`.

use std::sync::{Arc, RwLock};

use jsonwebtoken::{decode, decode_header, encode, Header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec::{CodecError, MAX_TOKEN_BYTES};
use super::keys::KeyRing;

/// `typ` of a client access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// `typ` of an id token.
pub const ID_TOKEN_TYP: &str = "JWT";

#[derive(Default)]
pub struct ProviderKeys {
    /// `None` until a key pair is loaded: no client is registered yet.
    ring: RwLock<Option<Arc<KeyRing>>>,
}

impl ProviderKeys {
    pub fn install(&self, ring: Arc<KeyRing>) {
        if let Ok(mut current) = self.ring.write() {
            *current = Some(ring);
        }
    }

    fn ring(&self) -> Result<Arc<KeyRing>, CodecError> {
        let ring = match self.ring.read() {
            Ok(r) => r.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        ring.ok_or_else(|| CodecError::Invalid("no provider key loaded yet".into()))
    }

    pub fn jwks(&self) -> Vec<serde_json::Value> {
        self.ring().map(|r| r.jwks.clone()).unwrap_or_default()
    }

    /// The JWS algorithm tokens are signed with (for discovery); `None` before a key.
    pub fn algorithm(&self) -> Option<jsonwebtoken::Algorithm> {
        self.ring().ok().map(|r| r.signing_algorithm)
    }

    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, CodecError> {
        let ring = self.ring()?;
        let mut header = Header::new(ring.signing_algorithm);
        header.typ = Some(typ.into());
        header.kid = Some(ring.signing_kid.clone());
        encode(&header, claims, &ring.signing_key).map_err(|e| CodecError::Invalid(e.to_string()))
    }

    /// Verifies signature, algorithm and `typ` (SECURITY: an id token is never taken as an
    /// access token, nor the reverse: RFC 8725 §3.11). Lifetime, issuer and audience are
    /// the caller's to check against its clock and its client.
    pub fn verify<T: DeserializeOwned>(&self, token: &str, typ: &str) -> Result<T, CodecError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(CodecError::Invalid("token too long".into()));
        }
        let header = decode_header(token).map_err(|e| CodecError::Invalid(e.to_string()))?;
        if !header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
            return Err(CodecError::WrongType);
        }
        let ring = self.ring()?;
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| ring.verifying.get(kid))
            .filter(|k| k.algorithm == header.alg)
            .ok_or_else(|| CodecError::Invalid("unknown or retired kid".into()))?;
        let mut validation = Validation::new(key.algorithm);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        decode::<T>(token, &key.key, &validation)
            .map(|d| d.claims)
            .map_err(|e| CodecError::Invalid(e.to_string()))
    }
}
