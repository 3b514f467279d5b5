//! The identity provider's signer: id tokens and client access tokens (RFC 9068), which
//! other parties verify against the JWKS, so always with a key pair. Its claims are the
//! OpenID Connect and OAuth ones, not the service's own `Claims`.

use std::sync::{Arc, RwLock};

use jsonwebtoken::{decode, decode_header, Validation};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::codec::{CodecError, MAX_TOKEN_BYTES};
use super::keys::KeyRing;

/// `typ` of a client access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";
/// `typ` of an id token.
pub const ID_TOKEN_TYP: &str = "JWT";

/// The algorithm of id tokens: RS256, the one every OpenID Connect relying party must
/// accept and assumes when it registered none (OIDC Core §3.1.3.7, Discovery §3).
pub const ID_TOKEN_ALGORITHM: jsonwebtoken::Algorithm = jsonwebtoken::Algorithm::RS256;

#[derive(Default)]
pub struct ProviderKeys {
    /// Signs client access tokens: the service's own key pair, or ES256 beside HMAC (fast
    /// to sign, so `client_credentials` keeps up). `None` until loaded.
    access: RwLock<Option<Arc<KeyRing>>>,
    /// Signs id tokens (RS256): the same ring when the service signs with RS256. `None`
    /// until a client is registered.
    id: RwLock<Option<Arc<KeyRing>>>,
}

fn read(lock: &RwLock<Option<Arc<KeyRing>>>) -> Option<Arc<KeyRing>> {
    match lock.read() {
        Ok(r) => r.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    }
}

fn write(lock: &RwLock<Option<Arc<KeyRing>>>, ring: Option<Arc<KeyRing>>) {
    match lock.write() {
        Ok(mut current) => *current = ring,
        Err(poisoned) => *poisoned.into_inner() = ring,
    }
}

impl ProviderKeys {
    pub fn install(&self, access: Arc<KeyRing>, id: Option<Arc<KeyRing>>) {
        write(&self.access, Some(access));
        write(&self.id, id);
    }

    /// The ring that signs and verifies tokens of `typ`.
    fn ring(&self, typ: &str) -> Result<Arc<KeyRing>, CodecError> {
        let lock = if typ == ID_TOKEN_TYP { &self.id } else { &self.access };
        read(lock).ok_or_else(|| CodecError::Invalid("no provider key loaded yet".into()))
    }

    /// Whether both key pairs are loaded (tokens can be issued).
    pub fn ready(&self) -> bool {
        read(&self.access).is_some() && read(&self.id).is_some()
    }

    /// Whether the access ring is loaded: documents others verify against the JWKS (the
    /// revocation feed) can be signed.
    pub fn can_sign_access(&self) -> bool {
        read(&self.access).is_some()
    }

    /// The public keys of both rings, each once.
    pub fn jwks(&self) -> Vec<serde_json::Value> {
        let mut keys: Vec<serde_json::Value> = Vec::new();
        for ring in [read(&self.access), read(&self.id)].into_iter().flatten() {
            for jwk in &ring.jwks {
                if !keys.iter().any(|k| k.get("kid") == jwk.get("kid")) {
                    keys.push(jwk.clone());
                }
            }
        }
        keys
    }

    pub fn sign<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, CodecError> {
        self.ring(typ)?.sign(typ, claims).map_err(CodecError::Invalid)
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
        let ring = self.ring(typ)?;
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
