//! The signing keys of asymmetric algorithms: loaded from the store (or an operator's
//! key file), generated on first start, rotated, retired, revoked; published as a JWKS.

use tracing::{info, warn};

use super::keys;
use super::service::TokenService;
use super::TokenError;
use crate::config::JwtAlgorithm;
use crate::crypto::{open, seal};
use crate::domain::Secret;
use crate::store::SigningKeyRow;

impl TokenService {
    /// Loads the signing keys from the store and puts them in force. With an asymmetric
    /// algorithm and no active key yet (first start), generates and activates one. Run at
    /// start and then periodically, so keys rotated elsewhere reach this instance.
    ///
    /// With an HMAC algorithm the service's own tokens need no key pair, but an identity
    /// provider's do (id tokens and client access tokens are verified by others): once a
    /// client application is registered, an ES256 key pair is kept for access tokens the
    /// same way, and an RS256 one for id tokens unless the service signs with RS256.
    pub async fn load_keys(&self) -> Result<(), TokenError> {
        let provider = self.store.has_clients().await?;
        if self.algorithm.is_hmac() && !provider {
            return Ok(());
        }
        let own = std::sync::Arc::new(match (&self.key_file, self.algorithm.is_hmac()) {
            (Some(path), false) => self.file_ring(path)?,
            _ => self.stored_ring(self.key_algorithm()).await?,
        });
        if !self.algorithm.is_hmac() {
            self.codec.install(std::sync::Arc::clone(&own));
        }
        let id = match (provider, own.signing_algorithm == super::provider_keys::ID_TOKEN_ALGORITHM) {
            (false, _) => None,
            (true, true) => Some(std::sync::Arc::clone(&own)),
            (true, false) => Some(std::sync::Arc::new(self.stored_ring(JwtAlgorithm::RS256).await?)),
        };
        self.provider_keys.install(own, id);
        Ok(())
    }

    /// The operator's key file: one key pair, signing and verifying.
    fn file_ring(&self, path: &std::path::Path) -> Result<keys::KeyRing, TokenError> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| keys::KeyError::Invalid(format!("{}: {e}", path.display())))?;
        let key = keys::from_pem(self.algorithm, &Secret::new(pem))?;
        let verifying = keys::VerifyingKey {
            algorithm: self.algorithm.as_jsonwebtoken(),
            key: keys::decoding_key(&key.public_jwk)?,
        };
        Ok(keys::KeyRing {
            signing_kid: key.kid.clone(),
            signing_algorithm: self.algorithm.as_jsonwebtoken(),
            signing_key: keys::SigningKey::from_pem(self.algorithm, &key.private_pem)?,
            verifying: std::collections::HashMap::from([(key.kid, verifying)]),
            jwks: vec![key.public_jwk],
        })
    }

    /// The stored keys of `algorithm`: the active one signs, every live one verifies. The
    /// first active key is generated here.
    async fn stored_ring(&self, algorithm: JwtAlgorithm) -> Result<keys::KeyRing, TokenError> {
        let mut rows = self.live_keys(algorithm).await?;
        // Twice at most: the key another instance activated meanwhile may be retired
        // or revoked by an operator before this one reads it.
        for _ in 0..2 {
            if rows.iter().any(|k| k.status == "active") {
                break;
            }
            let key = self.generate_key(algorithm).await?;
            self.store.activate_first_signing_key(&key.kid, self.clock.now()).await?;
            info!(kid = %key.kid, algorithm = algorithm.name(), "generated a first signing key");
            rows = self.live_keys(algorithm).await?;
        }
        let active = rows
            .iter()
            .find(|k| k.status == "active")
            .ok_or_else(|| TokenError::KeyRefused("no active signing key".into()))?;
        let private = open(&active.private_key, &self.secret).map_err(keys::KeyError::from)?;
        let mut verifying = std::collections::HashMap::new();
        let mut jwks = Vec::new();
        for row in &rows {
            let jwk: serde_json::Value =
                serde_json::from_str(&row.public_jwk).map_err(|e| keys::KeyError::Invalid(e.to_string()))?;
            let key =
                keys::VerifyingKey { algorithm: algorithm.as_jsonwebtoken(), key: keys::decoding_key(&jwk)? };
            verifying.insert(row.kid.clone(), key);
            jwks.push(jwk);
        }
        Ok(keys::KeyRing {
            signing_kid: active.kid.clone(),
            signing_algorithm: algorithm.as_jsonwebtoken(),
            signing_key: keys::SigningKey::from_pem(algorithm, &private)?,
            verifying,
            jwks,
        })
    }

    /// The algorithm of the stored key pairs: the configured one, or ES256 for the
    /// identity provider's access tokens when the service's own are HMAC-signed (fast to
    /// sign, so `client_credentials` keeps up).
    pub fn key_algorithm(&self) -> JwtAlgorithm {
        if self.algorithm.is_hmac() {
            JwtAlgorithm::ES256
        } else {
            self.algorithm
        }
    }

    /// Keys of `algorithm` that still verify: published, active, or retired so recently
    /// that tokens they signed may be alive.
    async fn live_keys(&self, algorithm: JwtAlgorithm) -> Result<Vec<SigningKeyRow>, TokenError> {
        let now = self.clock.now();
        Ok(self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .filter(|k| k.algorithm == algorithm.name())
            .filter(|k| k.status != "revoked")
            .filter(|k| {
                k.status != "retired" || k.retired_at.is_some_and(|t| t + self.retired_key_horizon > now)
            })
            .collect())
    }

    /// Every stored key, for operators.
    pub async fn list_keys(&self) -> Result<Vec<SigningKeyRow>, TokenError> {
        Ok(self.store.signing_keys().await?)
    }

    /// A new key pair, published (in the JWKS) but not yet signing.
    pub async fn generate_key(&self, algorithm: JwtAlgorithm) -> Result<SigningKeyRow, TokenError> {
        let key = tokio::task::spawn_blocking(move || keys::generate(algorithm))
            .await
            .map_err(|e| keys::KeyError::Generate(e.to_string()))??;
        let row = SigningKeyRow {
            kid: key.kid,
            algorithm: algorithm.name().into(),
            private_key: seal(&key.private_pem, &self.secret).map_err(keys::KeyError::from)?,
            public_jwk: key.public_jwk.to_string(),
            status: "published".into(),
            created_at: self.clock.now(),
            activated_at: None,
            retired_at: None,
        };
        self.store.insert_signing_key(&row).await?;
        Ok(row)
    }

    /// Makes a published key the signing key; the previous one retires.
    pub async fn activate_key(&self, kid: &str) -> Result<(), TokenError> {
        if self.store.activate_signing_key(kid, self.clock.now()).await? {
            Ok(())
        } else {
            Err(TokenError::KeyRefused(format!("no published key {kid}")))
        }
    }

    /// Retires a key that does not sign. Retiring the signing key would leave none:
    /// activate its successor instead.
    pub async fn retire_key(&self, kid: &str) -> Result<(), TokenError> {
        let keys = self.store.signing_keys().await?;
        match keys.iter().find(|k| k.kid == kid) {
            None => Err(TokenError::KeyRefused(format!("no key {kid}"))),
            Some(k) if k.status == "active" => Err(TokenError::KeyRefused(format!(
                "{kid} is the signing key: generate and activate its successor instead"
            ))),
            Some(_) => {
                self.store.retire_signing_key(kid, self.clock.now()).await?;
                Ok(())
            }
        }
    }

    /// Drops a key at once (a leaked one): it leaves the JWKS and every token it signed
    /// fails, on this instance now and on the others at their next key reload (30 s). The
    /// signing key may be revoked too: a new one is generated and signs from then on.
    pub async fn revoke_key(&self, kid: &str) -> Result<(), TokenError> {
        if self.algorithm.is_hmac() && !self.store.has_clients().await? {
            return Err(TokenError::KeyRefused(format!(
                "{} tokens are signed with AUTHENTICON_SECRET_KEY, not stored keys: rotate the secret to end them",
                self.algorithm.name()
            )));
        }
        // The key file's key lives outside the store; the id-token key beside it does not.
        let beside_the_file = |k: &SigningKeyRow| k.kid == kid && k.algorithm != self.algorithm.name();
        if self.key_file.is_some() && !self.store.signing_keys().await?.iter().any(beside_the_file) {
            return Err(TokenError::KeyRefused(
                "tokens are signed with AUTHENTICON_JWT_PRIVATE_KEY_FILE: replace that key to end them"
                    .into(),
            ));
        }
        if !self.store.revoke_signing_key(kid, self.clock.now()).await? {
            return Err(TokenError::KeyRefused(format!("no key {kid}")));
        }
        warn!(%kid, "signing key revoked: tokens it signed no longer verify");
        self.load_keys().await
    }

    /// The public keys, as published at `/.well-known/jwks.json`: the service's own
    /// (when asymmetric) and the identity provider's, each once.
    pub fn jwks(&self) -> Vec<serde_json::Value> {
        self.provider_keys.jwks()
    }

    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }
}
