//! Signing keys. HMAC algorithms use the configured secret. Asymmetric ones (RS256,
//! ES256, EdDSA) use key pairs kept in the store: the private half encrypted with
//! ChaCha20-Poly1305 under a key derived (HKDF-SHA256) from the secret, the public half
//! as a JWK (RFC 7517), named by its RFC 7638 thumbprint.
//!
//! A key's life: `published` (in the JWKS, verifies, does not sign yet) → `active` (signs)
//! → `retired` (still verifies and stays in the JWKS until every token it signed has
//! expired) → gone.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::config::JwtAlgorithm;
use crate::crypto::SealError;
use crate::domain::Secret;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error("bad key material: {0}")]
    Invalid(String),
}

/// A new key pair, ready to store.
pub struct NewKey {
    pub kid: String,
    pub algorithm: JwtAlgorithm,
    /// PKCS#8 PEM.
    pub private_pem: Secret,
    /// The public JWK, with `kid`, `alg` and `use`.
    pub public_jwk: Value,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// RFC 7638: SHA-256 over the required members, in lexicographic order, no spaces.
fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical: Vec<String> = members.iter().map(|m| format!("\"{m}\":{}", jwk[*m])).collect();
    b64(&Sha256::digest(format!("{{{}}}", canonical.join(","))))
}

fn rsa_jwk(key: &rsa::RsaPrivateKey) -> Value {
    use rsa::traits::PublicKeyParts;
    let public = key.to_public_key();
    json!({"kty": "RSA", "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be())})
}

fn ec_jwk(key: &p256::SecretKey) -> Result<Value, KeyError> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = key.public_key().to_encoded_point(false);
    let (Some(x), Some(y)) = (point.x(), point.y()) else {
        return Err(KeyError::Invalid("P-256 point without coordinates".into()));
    };
    Ok(json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)}))
}

fn ed_jwk(key: &ed25519_dalek::SigningKey) -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes())})
}

/// Names the key by its thumbprint and completes its public JWK.
fn finish(algorithm: JwtAlgorithm, pem: String, mut jwk: Value) -> NewKey {
    let kid = thumbprint(&jwk);
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(algorithm.name());
    jwk["use"] = json!("sig");
    NewKey { kid, algorithm, private_pem: Secret::new(pem), public_jwk: jwk }
}

/// Generates a key pair for `algorithm` (an asymmetric one).
pub fn generate(algorithm: JwtAlgorithm) -> Result<NewKey, KeyError> {
    use pkcs8_pem::*;
    let err = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
    let mut rng = rand_core_06::OsRng;
    let (pem, jwk) = match algorithm {
        JwtAlgorithm::RS256 => {
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| err(&e))?;
            (key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(&e))?.to_string(), rsa_jwk(&key))
        }
        JwtAlgorithm::ES256 => {
            let key = p256::SecretKey::random(&mut rng);
            (key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(&e))?.to_string(), ec_jwk(&key)?)
        }
        JwtAlgorithm::EdDSA => {
            let key = ed25519_dalek::SigningKey::generate(&mut rng);
            (key.to_pkcs8_pem(LineEnding::LF).map_err(|e| err(&e))?.to_string(), ed_jwk(&key))
        }
        other => return Err(KeyError::Generate(format!("{other:?} uses the secret, not a key pair"))),
    };
    Ok(finish(algorithm, pem, jwk))
}

/// A key pair from an operator's PKCS#8 PEM private key (the public half is derived).
pub fn from_pem(algorithm: JwtAlgorithm, pem: &Secret) -> Result<NewKey, KeyError> {
    use rsa::pkcs8::DecodePrivateKey;
    let err = |e: &dyn std::fmt::Display| KeyError::Invalid(format!("{} private key: {e}", algorithm.name()));
    let text = pem.expose();
    let jwk = match algorithm {
        JwtAlgorithm::RS256 => rsa_jwk(&rsa::RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| err(&e))?),
        JwtAlgorithm::ES256 => ec_jwk(&p256::SecretKey::from_pkcs8_pem(text).map_err(|e| err(&e))?)?,
        JwtAlgorithm::EdDSA => ed_jwk(&ed25519_dalek::SigningKey::from_pkcs8_pem(text).map_err(|e| err(&e))?),
        other => return Err(KeyError::Invalid(format!("{other:?} uses the secret, not a key file"))),
    };
    Ok(finish(algorithm, text.to_string(), jwk))
}

/// The traits the three key types share for PEM export.
mod pkcs8_pem {
    pub use rsa::pkcs8::{EncodePrivateKey, LineEnding};
}

/// A verifying key from a public JWK, as any outside verifier would build it.
pub fn decoding_key(jwk: &Value) -> Result<DecodingKey, KeyError> {
    let s = |k: &str| jwk[k].as_str().ok_or_else(|| KeyError::Invalid(format!("JWK without {k}")));
    let key = match jwk["kty"].as_str() {
        Some("RSA") => DecodingKey::from_rsa_components(s("n")?, s("e")?),
        Some("EC") => DecodingKey::from_ec_components(s("x")?, s("y")?),
        Some("OKP") => DecodingKey::from_ed_components(s("x")?),
        _ => return Err(KeyError::Invalid("unknown kty".into())),
    };
    key.map_err(|e| KeyError::Invalid(e.to_string()))
}

pub fn encoding_key(algorithm: JwtAlgorithm, private_pem: &Secret) -> Result<EncodingKey, KeyError> {
    let pem = private_pem.expose().as_bytes();
    let key = match algorithm {
        JwtAlgorithm::RS256 => EncodingKey::from_rsa_pem(pem),
        JwtAlgorithm::ES256 => EncodingKey::from_ec_pem(pem),
        JwtAlgorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        _ => return Err(KeyError::Invalid("not an asymmetric algorithm".into())),
    };
    key.map_err(|e| KeyError::Invalid(e.to_string()))
}

/// One key the codec verifies with.
pub struct VerifyingKey {
    pub algorithm: Algorithm,
    pub key: DecodingKey,
}

/// The keys in force: one to sign with, every one still trusted to verify, and the
/// public JWKS.
pub struct KeyRing {
    pub signing_kid: String,
    pub signing_algorithm: Algorithm,
    pub signing_key: SigningKey,
    pub verifying: HashMap<String, VerifyingKey>,
    pub jwks: Vec<Value>,
}

/// The key a ring signs with, parsed once. `jsonwebtoken::encode` rebuilds an asymmetric
/// key from its DER on every call: for ES256 that derives the public point again, a
/// second scalar multiplication per token, and for RS256 it re-checks the key; measured,
/// that halved the identity provider's `client_credentials` rate. HMAC goes through the
/// library unchanged.
pub enum SigningKey {
    Hmac(EncodingKey),
    Rs256(Box<rsa::pkcs1v15::SigningKey<Sha256>>),
    Es256(Box<p256::ecdsa::SigningKey>),
    EdDsa(Box<ed25519_dalek::SigningKey>),
}

impl SigningKey {
    /// The key of `algorithm` in `private_pem` (PKCS#8).
    pub fn from_pem(algorithm: JwtAlgorithm, private_pem: &Secret) -> Result<Self, KeyError> {
        use rsa::pkcs8::DecodePrivateKey;
        let err =
            |e: &dyn std::fmt::Display| KeyError::Invalid(format!("{} private key: {e}", algorithm.name()));
        let text = private_pem.expose();
        Ok(match algorithm {
            JwtAlgorithm::RS256 => {
                let key = rsa::RsaPrivateKey::from_pkcs8_pem(text).map_err(|e| err(&e))?;
                SigningKey::Rs256(Box::new(rsa::pkcs1v15::SigningKey::new(key)))
            }
            JwtAlgorithm::ES256 => SigningKey::Es256(Box::new(
                p256::ecdsa::SigningKey::from_pkcs8_pem(text).map_err(|e| err(&e))?,
            )),
            JwtAlgorithm::EdDSA => SigningKey::EdDsa(Box::new(
                ed25519_dalek::SigningKey::from_pkcs8_pem(text).map_err(|e| err(&e))?,
            )),
            _ => return Err(KeyError::Invalid("not an asymmetric algorithm".into())),
        })
    }

    /// The JWS signature of `input` (`header.payload`), base64url.
    fn signature(&self, input: &[u8]) -> Result<String, String> {
        use p256::ecdsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
        let failed = |e: p256::ecdsa::signature::Error| format!("signing failed: {e}");
        Ok(match self {
            SigningKey::Hmac(_) => return Err("an HMAC key signs through jsonwebtoken::encode".into()),
            // Blinded (the RSA private operation's timing tells nothing).
            SigningKey::Rs256(key) => {
                b64(&key.try_sign_with_rng(&mut rand_core_06::OsRng, input).map_err(failed)?.to_bytes())
            }
            // RFC 6979 deterministic nonces; `r || s` as JWS wants (RFC 7518 §3.4).
            SigningKey::Es256(key) => {
                let signature: p256::ecdsa::Signature = key.try_sign(input).map_err(failed)?;
                b64(&signature.to_bytes())
            }
            SigningKey::EdDsa(key) => b64(&key.try_sign(input).map_err(failed)?.to_bytes()),
        })
    }

    /// The JWS `alg` of the key.
    fn algorithm(&self) -> Option<&'static str> {
        match self {
            SigningKey::Hmac(_) => None,
            SigningKey::Rs256(_) => Some("RS256"),
            SigningKey::Es256(_) => Some("ES256"),
            SigningKey::EdDsa(_) => Some("EdDSA"),
        }
    }
}

impl KeyRing {
    /// A compact JWS of `claims` with this ring's signing key: header `alg`, `typ`, `kid`.
    pub fn sign<T: serde::Serialize>(&self, typ: &str, claims: &T) -> Result<String, String> {
        if let SigningKey::Hmac(key) = &self.signing_key {
            let mut header = jsonwebtoken::Header::new(self.signing_algorithm);
            header.typ = Some(typ.into());
            header.kid = Some(self.signing_kid.clone());
            return jsonwebtoken::encode(&header, claims, key).map_err(|e| e.to_string());
        }
        let alg = self.signing_key.algorithm().ok_or("no asymmetric key")?;
        let header = json!({"typ": typ, "alg": alg, "kid": self.signing_kid});
        let payload = serde_json::to_vec(claims).map_err(|e| e.to_string())?;
        let input = format!("{}.{}", b64(header.to_string().as_bytes()), b64(&payload));
        let signature = self.signing_key.signature(input.as_bytes())?;
        Ok(format!("{input}.{signature}"))
    }
}

impl KeyRing {
    /// HMAC: the secret signs and verifies; nothing is published. The `kid` names the
    /// secret without revealing it, so tokens of a replaced secret fail cleanly.
    pub fn hmac(algorithm: JwtAlgorithm, secret: &Secret) -> Self {
        let kid = format!("hs-{}", &hex::encode(Sha256::digest(secret.expose().as_bytes()))[..16]);
        let alg = algorithm.as_jsonwebtoken();
        let mut verifying = HashMap::new();
        verifying.insert(
            kid.clone(),
            VerifyingKey { algorithm: alg, key: DecodingKey::from_secret(secret.expose().as_bytes()) },
        );
        KeyRing {
            signing_kid: kid,
            signing_algorithm: alg,
            signing_key: SigningKey::Hmac(EncodingKey::from_secret(secret.expose().as_bytes())),
            verifying,
            jwks: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify_through_their_jwk() {
        for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA, JwtAlgorithm::RS256] {
            let key = generate(alg).unwrap();
            assert_eq!(key.public_jwk["kid"], json!(key.kid));
            assert!(!key.public_jwk.to_string().contains("\"d\""), "no private member in {}", key.public_jwk);
            let enc = encoding_key(alg, &key.private_pem).unwrap();
            let dec = decoding_key(&key.public_jwk).unwrap();
            let mut header = jsonwebtoken::Header::new(alg.as_jsonwebtoken());
            header.kid = Some(key.kid.clone());
            let claims = json!({"sub": "x", "exp": jsonwebtoken::get_current_timestamp() + 60});
            let token = jsonwebtoken::encode(&header, &claims, &enc).unwrap();
            let mut v = jsonwebtoken::Validation::new(alg.as_jsonwebtoken());
            v.validate_aud = false;
            assert!(jsonwebtoken::decode::<Value>(&token, &dec, &v).is_ok(), "{alg:?}");
        }
    }

    #[test]
    fn a_rings_own_signatures_verify_with_the_library_and_the_published_key() {
        for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA, JwtAlgorithm::RS256] {
            let key = generate(alg).unwrap();
            let ring = KeyRing {
                signing_kid: key.kid.clone(),
                signing_algorithm: alg.as_jsonwebtoken(),
                signing_key: SigningKey::from_pem(alg, &key.private_pem).unwrap(),
                verifying: HashMap::new(),
                jwks: vec![key.public_jwk.clone()],
            };
            let claims = json!({"sub": "x", "exp": jsonwebtoken::get_current_timestamp() + 60});
            let token = ring.sign("at+jwt", &claims).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(
                (header.alg, header.typ.as_deref(), header.kid.as_deref()),
                (alg.as_jsonwebtoken(), Some("at+jwt"), Some(key.kid.as_str()))
            );
            let mut v = jsonwebtoken::Validation::new(alg.as_jsonwebtoken());
            v.validate_aud = false;
            let dec = decoding_key(&key.public_jwk).unwrap();
            assert_eq!(jsonwebtoken::decode::<Value>(&token, &dec, &v).unwrap().claims, claims, "{alg:?}");
            // Another key of the same algorithm does not verify it.
            let other = decoding_key(&generate(alg).unwrap().public_jwk).unwrap();
            assert!(jsonwebtoken::decode::<Value>(&token, &other, &v).is_err(), "{alg:?}");
        }
    }

    #[test]
    fn a_pem_file_gives_back_the_same_key() {
        for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA] {
            let generated = generate(alg).unwrap();
            let loaded = from_pem(alg, &generated.private_pem).unwrap();
            assert_eq!((loaded.kid, loaded.public_jwk), (generated.kid, generated.public_jwk));
        }
        assert!(from_pem(JwtAlgorithm::ES256, &Secret::new("not a key")).is_err());
    }

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
