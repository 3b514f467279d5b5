//! Token service: issues access/refresh pairs, rotates refresh tokens with reuse
//! detection, revokes families (logout), verifies tokens.

pub mod claims;
pub mod codec;
pub mod keys;

use std::sync::Arc;

use tracing::{info, warn};

pub use claims::{Claims, TokenType};
pub use codec::{CodecError, JwtCodec};

use crate::accounts::UserCache;
use crate::config::{Config, JwtAlgorithm};
use crate::secret::Secret;
use crate::store::{
    AuditMeta, ClientInfo, NewRefresh, NewSession, RevokeOutcome, RotateOutcome, Store, StoreError,
    UserWithRoles,
};
use crate::store::{Reuse, SessionRow, SigningKeyRow};

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
    #[error("signing failed: {0}")]
    Signing(String),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
    /// A key operation that makes no sense (retiring the signing key, unknown kid).
    #[error("{0}")]
    KeyRefused(String),
}

impl From<CodecError> for TokenError {
    fn from(e: CodecError) -> Self {
        TokenError::Invalid(e.to_string())
    }
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
    pub session_id: String,
    pub user: UserWithRoles,
}

pub struct TokenService {
    codec: JwtCodec,
    store: Arc<dyn Store>,
    access_ttl: u64,
    refresh_ttl: u64,
    reuse_interval: i64,
    algorithm: JwtAlgorithm,
    /// An operator-managed key file, used instead of the stored keys.
    key_file: Option<std::path::PathBuf>,
    /// Decrypts stored private keys.
    secret: Secret,
    /// How long a retired key keeps verifying: the longest token lifetime plus slack.
    retired_key_horizon: i64,
    /// Told of every detected reuse, with the replaying client (the theft alert).
    on_reuse: Option<ReuseAlert>,
    /// The absolute session lifetime, in seconds.
    max_session_age: i64,
    /// Revocations drop the user's cached sessions here, so their access tokens stop at
    /// once on this instance.
    cache: Arc<UserCache>,
}

/// Called when a spent refresh token comes back; must not block (it runs in the request).
pub type ReuseAlert = Arc<dyn Fn(Reuse, ClientInfo) + Send + Sync>;

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl TokenService {
    pub fn new(
        config: &Config,
        codec: JwtCodec,
        store: Arc<dyn Store>,
        secret: Secret,
        cache: Arc<UserCache>,
    ) -> Self {
        let longest = config.access_token_lifetime.max(config.refresh_token_lifetime).as_secs();
        Self {
            codec,
            store,
            access_ttl: config.access_token_lifetime.as_secs(),
            refresh_ttl: config.refresh_token_lifetime.as_secs(),
            reuse_interval: i64::try_from(config.refresh_reuse_interval.as_secs()).unwrap_or(i64::MAX),
            algorithm: config.jwt_algorithm,
            key_file: config.jwt_private_key_file.clone(),
            secret,
            retired_key_horizon: i64::try_from(longest + config.jwt_leeway.as_secs() + 5).unwrap_or(i64::MAX),
            on_reuse: None,
            max_session_age: i64::try_from(config.session_absolute_lifetime.as_secs()).unwrap_or(i64::MAX),
            cache,
        }
    }

    /// Loads the signing keys from the store and puts them in force. With an asymmetric
    /// algorithm and no active key yet (first start), generates and activates one. Run at
    /// start and then periodically, so keys rotated elsewhere reach this instance.
    pub async fn load_keys(&self) -> Result<(), TokenError> {
        if self.algorithm.is_hmac() {
            return Ok(());
        }
        if let Some(path) = &self.key_file {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| keys::KeyError::Invalid(format!("{}: {e}", path.display())))?;
            let key = keys::from_pem(self.algorithm, &Secret::new(pem))?;
            let verifying = keys::VerifyingKey {
                algorithm: self.algorithm.as_jsonwebtoken(),
                key: keys::decoding_key(&key.public_jwk)?,
            };
            self.codec.install(keys::KeyRing {
                signing_kid: key.kid.clone(),
                signing_algorithm: self.algorithm.as_jsonwebtoken(),
                signing_key: keys::encoding_key(self.algorithm, &key.private_pem)?,
                verifying: std::collections::HashMap::from([(key.kid, verifying)]),
                jwks: vec![key.public_jwk],
            });
            return Ok(());
        }
        let mut rows = self.live_keys().await?;
        if !rows.iter().any(|k| k.status == "active") {
            let key = self.generate_key(self.algorithm).await?;
            self.store.activate_signing_key(&key.kid, now()).await?;
            info!(kid = %key.kid, algorithm = self.algorithm.name(), "generated and activated a signing key");
            rows = self.live_keys().await?;
        }
        let active = rows
            .iter()
            .find(|k| k.status == "active")
            .ok_or_else(|| TokenError::KeyRefused("no active signing key".into()))?;
        let private = keys::open(&active.private_key, &self.secret)?;
        let mut verifying = std::collections::HashMap::new();
        let mut jwks = Vec::new();
        for row in &rows {
            let jwk: serde_json::Value =
                serde_json::from_str(&row.public_jwk).map_err(|e| keys::KeyError::Invalid(e.to_string()))?;
            let key = keys::VerifyingKey {
                algorithm: self.algorithm.as_jsonwebtoken(),
                key: keys::decoding_key(&jwk)?,
            };
            verifying.insert(row.kid.clone(), key);
            jwks.push(jwk);
        }
        self.codec.install(keys::KeyRing {
            signing_kid: active.kid.clone(),
            signing_algorithm: self.algorithm.as_jsonwebtoken(),
            signing_key: keys::encoding_key(self.algorithm, &private)?,
            verifying,
            jwks,
        });
        Ok(())
    }

    /// Keys of the configured algorithm that still verify: published, active, or retired
    /// so recently that tokens they signed may be alive.
    async fn live_keys(&self) -> Result<Vec<SigningKeyRow>, TokenError> {
        let now = now();
        Ok(self
            .store
            .signing_keys()
            .await?
            .into_iter()
            .filter(|k| k.algorithm == self.algorithm.name())
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
            private_key: keys::seal(&key.private_pem, &self.secret)?,
            public_jwk: key.public_jwk.to_string(),
            status: "published".into(),
            created_at: now(),
            activated_at: None,
            retired_at: None,
        };
        self.store.insert_signing_key(&row).await?;
        Ok(row)
    }

    /// Makes a published key the signing key; the previous one retires.
    pub async fn activate_key(&self, kid: &str) -> Result<(), TokenError> {
        if self.store.activate_signing_key(kid, now()).await? {
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
                self.store.retire_signing_key(kid, now()).await?;
                Ok(())
            }
        }
    }

    /// Drops a key at once (a leaked one): it leaves the JWKS and every token it signed
    /// fails, on this instance now and on the others at their next key reload (30 s). The
    /// signing key may be revoked too: a new one is generated and signs from then on.
    pub async fn revoke_key(&self, kid: &str) -> Result<(), TokenError> {
        if self.algorithm.is_hmac() {
            return Err(TokenError::KeyRefused(format!(
                "{} tokens are signed with AUTHENTICON_SECRET_KEY, not stored keys: rotate the secret to end them",
                self.algorithm.name()
            )));
        }
        if self.key_file.is_some() {
            return Err(TokenError::KeyRefused(
                "tokens are signed with AUTHENTICON_JWT_PRIVATE_KEY_FILE: replace that key to end them"
                    .into(),
            ));
        }
        if !self.store.revoke_signing_key(kid, now()).await? {
            return Err(TokenError::KeyRefused(format!("no key {kid}")));
        }
        warn!(%kid, "signing key revoked: tokens it signed no longer verify");
        self.load_keys().await
    }

    /// The public keys, as published at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Vec<serde_json::Value> {
        self.codec.jwks()
    }

    pub fn algorithm(&self) -> JwtAlgorithm {
        self.algorithm
    }

    /// A new session (refresh-token family) for a user who just proved who they are.
    pub async fn start_session(
        &self,
        user: UserWithRoles,
        client: ClientInfo,
    ) -> Result<TokenPair, TokenError> {
        let now = now();
        let session_id = new_id();
        let (refresh, record) = self.sign_refresh(&user.user.id, &session_id, now)?;
        self.store
            .start_session(NewSession {
                id: session_id.clone(),
                user_id: user.user.id.clone(),
                client,
                now,
                expires_at: record.expires_at,
                first_token: record,
            })
            .await?;
        let access = self.sign_access(&user, &session_id, now)?;
        Ok(TokenPair { access, refresh, session_id, user })
    }

    /// Whom to tell when a spent refresh token comes back.
    pub fn set_reuse_alert(&mut self, alert: ReuseAlert) {
        self.on_reuse = Some(alert);
    }

    fn alert(&self, reuse: Reuse, replay: ClientInfo) {
        if let Some(alert) = &self.on_reuse {
            alert(reuse, replay);
        }
    }

    /// Spends `refresh` and returns a new pair in the same family. A spent token presented
    /// again revokes the family (RFC 9700 §4.14.2): the thief and the victim both lose it.
    pub async fn refresh(&self, refresh: &str, client: ClientInfo) -> Result<TokenPair, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh))?;
        let now = now();
        let (new_refresh, record) = self.sign_refresh(&claims.user_id, &claims.sid, now)?;
        let replay = client.clone();
        let audit = AuditMeta::client(client);
        match self
            .store
            .rotate_refresh(&claims.jti, record, now, self.reuse_interval, self.max_session_age, &audit)
            .await?
        {
            RotateOutcome::Rotated(user) => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "rotated").increment(1);
                let access = self.sign_access(&user, &claims.sid, now)?;
                Ok(TokenPair { access, refresh: new_refresh, session_id: claims.sid, user: *user })
            }
            RotateOutcome::Replayed { user, successor } => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "replayed").increment(1);
                let refresh = self.sign_refresh_as(&claims.user_id, &claims.sid, &successor)?;
                let access = self.sign_access(&user, &claims.sid, now)?;
                Ok(TokenPair { access, refresh, session_id: claims.sid, user: *user })
            }
            RotateOutcome::ReuseDetected(reuse) => {
                warn!(user_id = %reuse.user_id, session_id = %reuse.session_id, "refresh token reuse detected; session revoked");
                self.cache.invalidate(&reuse.user_id);
                self.alert(reuse, replay);
                metrics::counter!("authenticon_refreshes_total", "outcome" => "reuse_detected").increment(1);
                metrics::counter!("authenticon_refresh_reuse_detected_total").increment(1);
                Err(TokenError::Invalid("refresh token reused".into()))
            }
            RotateOutcome::Invalid => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "invalid").increment(1);
                Err(TokenError::Invalid("refresh token spent or revoked".into()))
            }
            RotateOutcome::UserInactive => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "inactive").increment(1);
                Err(TokenError::NoActiveAccount)
            }
        }
    }

    /// Logout: revokes the family of `refresh`.
    pub async fn blacklist(&self, refresh: &str, client: ClientInfo) -> Result<String, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh))?;
        let replay = client.clone();
        match self.store.revoke_by_refresh(&claims.jti, now(), &AuditMeta::client(client)).await? {
            RevokeOutcome::Revoked { user_id } => {
                self.cache.invalidate(&user_id);
                info!(%user_id, session_id = %claims.sid, "session logged out");
                Ok(claims.sid)
            }
            RevokeOutcome::ReuseDetected(reuse) => {
                self.cache.invalidate(&reuse.user_id);
                warn!(user_id = %reuse.user_id, session_id = %reuse.session_id,
                    "spent refresh token presented for logout; session revoked");
                self.alert(reuse, replay);
                metrics::counter!("authenticon_refresh_reuse_detected_total").increment(1);
                Err(TokenError::Invalid("refresh token reused".into()))
            }
            RevokeOutcome::Invalid => Err(TokenError::Invalid("refresh token spent or revoked".into())),
        }
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, TokenError> {
        Ok(self.store.list_sessions(user_id, now()).await?)
    }

    /// Revokes one of the user's own sessions; false when they have no live one by that id.
    pub async fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        client: ClientInfo,
    ) -> Result<bool, TokenError> {
        let audit = AuditMeta::actor(user_id, client);
        let revoked = self.store.revoke_user_session(user_id, session_id, now(), &audit).await?;
        self.cache.invalidate(user_id);
        Ok(revoked)
    }

    /// Logout everywhere: every session of the user, the caller's included.
    pub async fn revoke_all_sessions(&self, user_id: &str, client: ClientInfo) -> Result<u64, TokenError> {
        let audit = AuditMeta::actor(user_id, client);
        let n = self.store.revoke_all_sessions(user_id, now(), &audit).await?;
        self.cache.invalidate(user_id);
        info!(%user_id, sessions = n, "logged out everywhere");
        Ok(n)
    }

    /// `/api/token/verify/`: any valid token; a refresh token must also be unspent and live.
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.codec.verify(token, None)?;
        if claims.token_type == TokenType::Refresh && !self.store.refresh_is_live(&claims.jti, now()).await? {
            return Err(TokenError::Invalid("refresh token spent or revoked".into()));
        }
        Ok(claims)
    }

    /// Stateless check of an access token (protected routes).
    pub fn verify_access(&self, token: &str) -> Result<Claims, CodecError> {
        self.codec.verify(token, Some(TokenType::Access))
    }

    fn sign_access(&self, user: &UserWithRoles, sid: &str, now: i64) -> Result<String, TokenError> {
        let claims = Claims {
            token_type: TokenType::Access,
            exp: (now as u64).saturating_add(self.access_ttl),
            iat: now as u64,
            jti: new_id(),
            user_id: user.user.id.clone(),
            sub: user.user.id.clone(),
            sid: sid.to_string(),
            username: Some(user.user.username.clone()),
            roles: Some(user.roles.clone()),
            iss: None,
            aud: None,
        };
        self.codec.sign(claims).map_err(|e| TokenError::Signing(e.to_string()))
    }

    fn sign_refresh(&self, user_id: &str, sid: &str, now: i64) -> Result<(String, NewRefresh), TokenError> {
        let exp = (now as u64).saturating_add(self.refresh_ttl);
        let record = NewRefresh { jti: new_id(), issued_at: now, expires_at: exp as i64 };
        let token = self.sign_refresh_as(user_id, sid, &record)?;
        Ok((token, record))
    }

    /// The refresh token a record stands for (the same claims sign the same token again).
    fn sign_refresh_as(&self, user_id: &str, sid: &str, record: &NewRefresh) -> Result<String, TokenError> {
        let claims = Claims {
            token_type: TokenType::Refresh,
            exp: record.expires_at as u64,
            iat: record.issued_at as u64,
            jti: record.jti.clone(),
            user_id: user_id.to_string(),
            sub: user_id.to_string(),
            sid: sid.to_string(),
            username: None,
            roles: None,
            iss: None,
            aud: None,
        };
        self.codec.sign(claims).map_err(|e| TokenError::Signing(e.to_string()))
    }
}
