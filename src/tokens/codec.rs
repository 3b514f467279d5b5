//! Signing and verifying JWTs with the configured algorithm and key (jsonwebtoken).
//! Stateless: verification needs no database.

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{decode_header, Algorithm};

use super::claims::{Claims, TokenType};
use super::keys::KeyRing;
use super::verified::VerifiedTokens;
use crate::config::{Config, JwtAlgorithm};
use crate::domain::Secret;

/// SECURITY: real tokens are well under 2 KiB; refusing longer ones before any parsing
/// bounds the work an attacker can make us do per request.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("token expired")]
    Expired,
    #[error("token invalid: {0}")]
    Invalid(String),
    #[error("token has wrong type")]
    WrongType,
}

pub struct JwtCodec {
    /// Swapped whole when keys rotate; readers clone the `Arc` and never wait long.
    installed: RwLock<Arc<Installed>>,
    /// Access tokens that passed every check, per thread.
    verified: VerifiedTokens,
    /// The one algorithm accepted (the configured one), whatever a ring's keys hold.
    algorithm: Algorithm,
    issuer: Option<String>,
    audience: Option<String>,
    access_ttl: u64,
    refresh_ttl: u64,
    leeway: u64,
}

/// A ring in force, with the header its own tokens start with.
struct Installed {
    ring: Arc<KeyRing>,
    /// The base64url header segment `sign` writes (`typ` JWT, the ring's algorithm and
    /// signing `kid`). A token whose header segment is exactly these bytes has exactly
    /// that header, so it is not decoded and parsed again for each token; any other
    /// header is.
    own_header: Option<String>,
}

impl Installed {
    fn new(ring: Arc<KeyRing>) -> Arc<Self> {
        let own_header = ring
            .sign("JWT", &serde_json::json!({}))
            .ok()
            .and_then(|token| token.split_once('.').map(|(header, _)| header.to_string()))
            // Only if parsing it gives what the shortcut assumes.
            .filter(|header| {
                decode_header(format!("{header}.e30.x")).is_ok_and(|parsed| {
                    parsed.alg == ring.signing_algorithm && parsed.kid.as_deref() == Some(&ring.signing_kid)
                })
            });
        Arc::new(Self { ring, own_header })
    }

    /// Whether `other` holds the same keys: then tokens verified with one verify with
    /// the other alike (a `kid` names one key: a digest of the secret, or a stored key's
    /// own id).
    fn same_keys(&self, other: &KeyRing) -> bool {
        let ring = &self.ring;
        ring.signing_kid == other.signing_kid
            && ring.signing_algorithm == other.signing_algorithm
            && ring.verifying.len() == other.verifying.len()
            && ring
                .verifying
                .iter()
                .all(|(kid, key)| other.verifying.get(kid).is_some_and(|k| k.algorithm == key.algorithm))
    }
}

/// Clock difference tolerated between issuing and checking instances, beyond the leeway.
const CLOCK_SLACK_SECS: u64 = 60;

impl JwtCodec {
    /// A codec for the configured algorithm. With an HMAC algorithm it is ready; with an
    /// asymmetric one it signs nothing until `install` gives it the stored keys.
    pub fn new(config: &Config, secret: &Secret) -> Self {
        // Until the stored keys are loaded, an asymmetric codec holds an HMAC ring of a
        // random secret: it verifies nothing anyone else signed.
        let ring = if config.jwt_algorithm.is_hmac() {
            KeyRing::hmac(config.jwt_algorithm, secret)
        } else {
            let mut random = [0u8; 32];
            rand::fill(&mut random);
            KeyRing::hmac(JwtAlgorithm::HS256, &Secret::new(hex::encode(random)))
        };
        Self {
            installed: RwLock::new(Installed::new(Arc::new(ring))),
            verified: VerifiedTokens::new(),
            algorithm: config.jwt_algorithm.as_jsonwebtoken(),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            access_ttl: config.access_token_lifetime.as_secs(),
            refresh_ttl: config.refresh_token_lifetime.as_secs(),
            leeway: config.jwt_leeway.as_secs(),
        }
    }

    /// Puts a new set of keys in force (shared with the identity provider's signer).
    /// Instances reload their keys every few seconds; the same keys again keep the
    /// verified tokens.
    pub fn install(&self, ring: Arc<KeyRing>) {
        let changed = !self.installed().same_keys(&ring);
        let installed = Installed::new(ring);
        if let Ok(mut current) = self.installed.write() {
            *current = installed;
        }
        // SECURITY: after the swap, so that a verification which read the generation
        // before this point (and may have used the old ring) cannot add to the cache,
        // and one that reads it after sees the new ring (`verify` reads the generation
        // before `decode` reads the ring).
        if changed {
            self.verified.forget_all();
        }
    }

    fn installed(&self) -> Arc<Installed> {
        match self.installed.read() {
            Ok(r) => Arc::clone(&r),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.installed().ring)
    }

    /// The public keys tokens may be verified with (RFC 7517 JWKs; empty for HMAC).
    pub fn jwks(&self) -> Vec<serde_json::Value> {
        self.ring().jwks.clone()
    }

    pub fn signing_kid(&self) -> String {
        self.ring().signing_kid.clone()
    }

    pub fn sign(&self, mut claims: Claims) -> Result<String, CodecError> {
        claims.iss = self.issuer.clone();
        claims.aud = self.audience.clone();
        self.ring().sign("JWT", &claims).map_err(CodecError::Invalid)
    }

    /// Verifies signature, algorithm, lifetime at `now` (Unix seconds), issuer/audience
    /// and, when given, the type.
    pub fn verify(&self, token: &str, expected: Option<TokenType>, now: u64) -> Result<Claims, CodecError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(CodecError::Invalid("token too long".into()));
        }
        let generation = self.verified.generation();
        let cached = self.verified.get(token);
        let fresh = cached.is_none();
        let claims = match cached {
            Some(claims) => claims,
            None => self.decode(token)?,
        };
        // As jsonwebtoken would with its own clock: expired once `exp` is past by more
        // than the leeway; not yet valid while `nbf` is ahead by more than it.
        if claims.exp < now.saturating_sub(self.leeway) {
            return Err(CodecError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(self.leeway)) {
            return Err(CodecError::Invalid("token not yet valid".into()));
        }
        if claims.user_id != claims.sub {
            return Err(CodecError::Invalid("sub and user_id differ".into()));
        }
        if expected.is_some_and(|t| t != claims.token_type) {
            return Err(CodecError::WrongType);
        }
        // SECURITY: we never issue tokens from the future or living longer than their
        // type's lifetime; one that claims to is not ours to trust (RFC 8725 §3.10).
        let ttl = match claims.token_type {
            TokenType::Access => self.access_ttl,
            TokenType::Refresh => self.refresh_ttl,
        };
        let slack = self.leeway + CLOCK_SLACK_SECS;
        if claims.iat > now + slack || claims.exp > now.saturating_add(ttl + slack) || claims.exp < claims.iat
        {
            return Err(CodecError::Invalid("lifetime outside the configured bounds".into()));
        }
        // Refresh tokens are spent once: remembering them would only push others out.
        if fresh && claims.token_type == TokenType::Access {
            self.verified.put(token, &claims, generation);
        }
        Ok(claims)
    }

    /// The signature checked with the key the `kid` names, then the claims parsed once.
    /// (`jsonwebtoken::decode` parses the header twice and the claims twice, which the
    /// protected route felt; this is the same checks from the crate's own parts.)
    ///
    /// SECURITY: exactly one accepted algorithm, so `none` and algorithm confusion cannot
    /// get through; `jku`/`x5u`/`jwk`/`x5c` headers are never consulted, and `kid` only
    /// picks among our own keys. Issuer and audience, when configured, must be present
    /// and equal.
    fn decode(&self, token: &str) -> Result<Claims, CodecError> {
        let invalid = |why: &str| CodecError::Invalid(why.to_string());
        let (message, signature) = token.rsplit_once('.').ok_or_else(|| invalid("not a JWT"))?;
        let (header, payload) = message.split_once('.').ok_or_else(|| invalid("not a JWT"))?;
        if payload.contains('.') {
            return Err(invalid("not a JWT"));
        }
        let installed = self.installed();
        let ring = &installed.ring;
        let parsed;
        let (alg, kid) = if installed.own_header.as_deref() == Some(header) {
            (ring.signing_algorithm, Some(ring.signing_kid.as_str()))
        } else {
            parsed = decode_header(token).map_err(|e| CodecError::Invalid(e.to_string()))?;
            (parsed.alg, parsed.kid.as_deref())
        };
        if alg != self.algorithm {
            return Err(invalid("InvalidAlgorithm"));
        }
        let key = kid
            .and_then(|kid| ring.verifying.get(kid))
            .filter(|k| k.algorithm == alg)
            .ok_or_else(|| invalid("unknown or retired kid"))?;
        let signed = jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.key, alg)
            .map_err(|e| CodecError::Invalid(e.to_string()))?;
        if !signed {
            return Err(invalid("InvalidSignature"));
        }
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|e| CodecError::Invalid(e.to_string()))?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|e| CodecError::Invalid(e.to_string()))?;
        if self.issuer.is_some() && claims.iss != self.issuer {
            return Err(invalid("InvalidIssuer"));
        }
        if self.audience.is_some() && claims.aud != self.audience {
            return Err(invalid("InvalidAudience"));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(token_type: TokenType, exp: u64) -> Claims {
        Claims::example(token_type, exp, "u")
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn codec(secret: &str) -> JwtCodec {
        JwtCodec::new(&Config::default(), &Secret::new(secret))
    }

    fn soon() -> u64 {
        now() + 120
    }

    #[test]
    fn round_trip_and_type_check() {
        let c = codec("k".repeat(40).as_str());
        let t = c.sign(claims(TokenType::Access, soon())).unwrap();
        assert_eq!(c.verify(&t, Some(TokenType::Access), now()).unwrap().user_id, "u");
        assert_eq!(c.verify(&t, Some(TokenType::Refresh), now()), Err(CodecError::WrongType));
        assert!(c.verify(&t, None, now()).is_ok());
    }

    #[test]
    fn exp_and_nbf_are_read_against_the_given_time_with_the_leeway() {
        let secret = Secret::new("k".repeat(40));
        let strict = codec("k".repeat(40).as_str());
        let lenient = JwtCodec::new(
            &Config { jwt_leeway: std::time::Duration::from_secs(30), ..Config::default() },
            &secret,
        );
        let now = now();
        let exp = strict.sign(claims(TokenType::Access, now + 60)).unwrap();
        // Valid up to and including `exp`; then only within the leeway.
        assert!(strict.verify(&exp, None, now + 60).is_ok());
        assert_eq!(strict.verify(&exp, None, now + 61), Err(CodecError::Expired));
        assert!(lenient.verify(&exp, None, now + 90).is_ok());
        assert_eq!(lenient.verify(&exp, None, now + 91), Err(CodecError::Expired));
        // Not before `nbf`, but for the leeway.
        let mut early = claims(TokenType::Access, now + 120);
        early.nbf = Some(now + 60);
        let early = strict.sign(early).unwrap();
        assert!(matches!(strict.verify(&early, None, now + 59), Err(CodecError::Invalid(_))));
        assert!(strict.verify(&early, None, now + 60).is_ok());
        assert!(lenient.verify(&early, None, now + 30).is_ok());
        assert!(matches!(lenient.verify(&early, None, now + 29), Err(CodecError::Invalid(_))));
    }

    #[test]
    fn refuses_expired_foreign_and_oversized_tokens() {
        let c = codec("k".repeat(40).as_str());
        let expired = c.sign(claims(TokenType::Access, 100)).unwrap();
        assert_eq!(c.verify(&expired, None, now()), Err(CodecError::Expired));
        let other = codec("z".repeat(40).as_str()).sign(claims(TokenType::Access, soon())).unwrap();
        assert!(matches!(c.verify(&other, None, now()), Err(CodecError::Invalid(_))));
        let huge = "a".repeat(MAX_TOKEN_BYTES + 1);
        assert!(matches!(c.verify(&huge, None, now()), Err(CodecError::Invalid(_))));
    }

    #[test]
    fn tokens_outliving_their_lifetime_or_from_the_future_are_refused() {
        let c = codec("k".repeat(40).as_str());
        let now = now();
        let mut far = claims(TokenType::Access, now + 10 * 365 * 86_400);
        far.iat = now;
        assert!(matches!(c.verify(&c.sign(far).unwrap(), None, now), Err(CodecError::Invalid(_))));
        let mut future = claims(TokenType::Access, now + 3_600 + 200);
        future.iat = now + 3_600;
        assert!(matches!(c.verify(&c.sign(future).unwrap(), None, now), Err(CodecError::Invalid(_))));
        // A refresh token may live its (longer) lifetime.
        let mut day = claims(TokenType::Refresh, now + 86_000);
        day.iat = now;
        assert!(c.verify(&c.sign(day).unwrap(), None, now).is_ok());
    }

    #[test]
    fn issuer_and_audience_are_enforced_when_configured() {
        let cfg = Config {
            jwt_issuer: Some("https://auth.example".into()),
            jwt_audience: Some("api".into()),
            ..Config::default()
        };
        let secret = Secret::new("k".repeat(40));
        let strict = JwtCodec::new(&cfg, &secret);
        let plain = JwtCodec::new(&Config::default(), &secret);
        let good = strict.sign(claims(TokenType::Access, soon())).unwrap();
        assert!(strict.verify(&good, None, now()).is_ok());
        let bare = plain.sign(claims(TokenType::Access, soon())).unwrap();
        assert!(matches!(strict.verify(&bare, None, now()), Err(CodecError::Invalid(_))));
        // Present but other than configured: refused just the same.
        for (iss, aud) in [("https://evil.example", "api"), ("https://auth.example", "other")] {
            let mut c = claims(TokenType::Access, soon());
            c.iss = Some(iss.into());
            c.aud = Some(aud.into());
            let token = strict.ring().sign("JWT", &c).unwrap();
            assert_eq!(
                strict.verify(&token, None, now()),
                Err(CodecError::Invalid(format!(
                    "Invalid{}",
                    if iss == "https://evil.example" { "Issuer" } else { "Audience" }
                )))
            );
        }
    }

    /// The checks `jsonwebtoken::decode` made, now made here: the signature covers header
    /// and payload, the header's algorithm is the configured one, and the shape is three
    /// parts exactly.
    #[test]
    fn signature_algorithm_and_shape_are_checked() {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let secret = "k".repeat(40);
        let c = codec(&secret);
        let good = c.sign(claims(TokenType::Access, soon())).unwrap();
        let parts: Vec<&str> = good.split('.').collect();
        let invalid = |t: &str| c.verify(t, None, now()).unwrap_err();
        // A payload swapped under the genuine signature.
        let mut other = claims(TokenType::Access, soon());
        other.user_id = "admin".into();
        other.sub = "admin".into();
        let forged_payload = c.sign(other).unwrap();
        let swapped = format!("{}.{}.{}", parts[0], forged_payload.split('.').nth(1).unwrap(), parts[2]);
        assert_eq!(invalid(&swapped), CodecError::Invalid("InvalidSignature".into()));
        // The same secret and kid under another HMAC algorithm.
        let mut header = Header::new(jsonwebtoken::Algorithm::HS512);
        header.kid = Some(c.signing_kid());
        let hs512 =
            encode(&header, &claims(TokenType::Access, soon()), &EncodingKey::from_secret(secret.as_bytes()))
                .unwrap();
        assert_eq!(invalid(&hs512), CodecError::Invalid("InvalidAlgorithm".into()));
        // Unsigned, extra parts, a missing signature.
        let none = format!("{}.{}.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#), parts[1]);
        assert!(matches!(invalid(&none), CodecError::Invalid(_)));
        assert_eq!(invalid(&format!("{good}.x")), CodecError::Invalid("not a JWT".into()));
        assert_eq!(invalid(&format!("{}.{}", parts[0], parts[1])), CodecError::Invalid("not a JWT".into()));
        assert_eq!(
            invalid(&format!("{}.{}.", parts[0], parts[1])),
            CodecError::Invalid("InvalidSignature".into())
        );
        assert!(c.verify(&good, None, now()).is_ok());
    }

    /// A token seen before is still held to the time checks and to the ring in force.
    #[test]
    fn a_token_verified_before_is_checked_again_against_time_and_keys() {
        let c = codec(&"k".repeat(40));
        let t = c.sign(claims(TokenType::Access, soon())).unwrap();
        assert!(c.verify(&t, Some(TokenType::Access), now()).is_ok());
        assert!(c.verified.get(&t).is_some(), "remembered after passing");
        assert_eq!(c.verify(&t, Some(TokenType::Refresh), now()).unwrap_err(), CodecError::WrongType);
        assert_eq!(c.verify(&t, None, soon() + 3600).unwrap_err(), CodecError::Expired);
        assert!(c.verify(&t, None, now()).is_ok());
        // A refresh token is not remembered.
        let r = c.sign(claims(TokenType::Refresh, soon())).unwrap();
        assert!(c.verify(&r, None, now()).is_ok());
        assert!(c.verified.get(&r).is_none());
        // The same keys again (a periodic reload): still remembered.
        c.install(Arc::new(KeyRing::hmac(JwtAlgorithm::HS256, &Secret::new("k".repeat(40)))));
        assert!(c.verified.get(&t).is_some());
        // A new ring without the old kid: the remembered token is refused.
        c.install(Arc::new(KeyRing::hmac(JwtAlgorithm::HS256, &Secret::new("n".repeat(40)))));
        assert_eq!(
            c.verify(&t, None, now()).unwrap_err(),
            CodecError::Invalid("unknown or retired kid".into())
        );
    }

    /// SECURITY: once `install` has put in a ring without a token's key, no verification
    /// that starts afterwards accepts the token on any thread, also where threads kept
    /// verifying (and remembering) it meanwhile. Fails if the cache is forgotten before
    /// the swap instead of after.
    #[test]
    fn no_verification_after_a_key_change_accepts_a_token_of_the_old_ring() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        let secrets = [Secret::new("k".repeat(40)), Secret::new("n".repeat(40))];
        let (c, late_accepts) = (codec(&"k".repeat(40)), AtomicUsize::new(0));
        for round in 0..200 {
            c.install(Arc::new(KeyRing::hmac(JwtAlgorithm::HS256, &secrets[round % 2])));
            let (token, installed) =
                (c.sign(claims(TokenType::Access, soon())).unwrap(), AtomicBool::new(false));
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(|| {
                        for _ in 0..20_000 {
                            let after = installed.load(SeqCst);
                            if c.verify(&token, None, now()).is_ok() && after {
                                late_accepts.fetch_add(1, SeqCst);
                            }
                            if after {
                                return;
                            }
                        }
                    });
                }
                c.install(Arc::new(KeyRing::hmac(JwtAlgorithm::HS256, &secrets[(round + 1) % 2])));
                installed.store(true, SeqCst);
            });
        }
        assert_eq!(late_accepts.load(SeqCst), 0);
    }

    /// Tokens with the ring's own header skip parsing it; every other header is parsed
    /// and held to the same rules, so both paths accept and refuse alike.
    #[test]
    fn the_own_header_shortcut_accepts_and_refuses_as_parsing_does() {
        use jsonwebtoken::{encode, EncodingKey, Header};
        let secret = "k".repeat(40);
        let c = codec(&secret);
        let own = c.installed().own_header.clone().unwrap();
        let good = c.sign(claims(TokenType::Access, soon())).unwrap();
        assert!(good.starts_with(&format!("{own}.")), "{good}");
        // The same claims, key and kid under a header spelled otherwise: parsed, accepted.
        let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(c.signing_kid());
        header.cty = Some("x".into());
        let other =
            encode(&header, &claims(TokenType::Access, soon()), &EncodingKey::from_secret(secret.as_bytes()))
                .unwrap();
        assert!(!other.starts_with(&own));
        assert_eq!(c.verify(&other, None, now()).unwrap().sub, "u");
        // The own header over another key's signature is still refused.
        let foreign = codec(&"z".repeat(40)).sign(claims(TokenType::Access, soon())).unwrap();
        let parts: Vec<&str> = foreign.split('.').collect();
        let grafted = format!("{own}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            c.verify(&grafted, None, now()).unwrap_err(),
            CodecError::Invalid("InvalidSignature".into())
        );
        // After a rotation the old header is no longer the own one: an old token is parsed,
        // and refused once its kid has left the ring.
        c.install(Arc::new(KeyRing::hmac(JwtAlgorithm::HS256, &Secret::new("n".repeat(40)))));
        assert_ne!(c.installed().own_header.as_deref(), Some(own.as_str()));
        assert_eq!(
            c.verify(&good, None, now()).unwrap_err(),
            CodecError::Invalid("unknown or retired kid".into())
        );
    }
}
