//! Sessions and their tokens: a login's pair, rotation with reuse detection (RFC 9700
//! §4.14.2), logout, the sessions page, and `/api/token/verify/`.

use std::sync::Arc;

use tracing::{info, warn};

use super::claims::{Claims, TokenType};
use super::codec::JwtCodec;
use super::user_cache::UserCache;
use super::TokenError;
use crate::config::{Config, JwtAlgorithm};
use crate::domain::{ClientInfo, Clock, Secret};
use crate::notify::Notices;
use crate::store::{
    AuditMeta, NewRefresh, NewSession, RevokeOutcome, RotateOutcome, RotationRules, SessionRow, Store,
    UserWithRoles,
};
use crate::throttle::Throttle;

/// A refresh token spent and its successor issued.
pub(super) struct Rotated {
    pub user: UserWithRoles,
    pub session_id: String,
    pub refresh: String,
}

#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
    pub session_id: String,
    pub user: UserWithRoles,
}

pub struct TokenService {
    pub(super) codec: JwtCodec,
    pub(super) store: Arc<Store>,
    pub(super) clock: Arc<dyn Clock>,
    access_ttl: u64,
    refresh_ttl: u64,
    reuse_interval: i64,
    pub(super) algorithm: JwtAlgorithm,
    /// An operator-managed key file, used instead of the stored keys.
    pub(super) key_file: Option<std::path::PathBuf>,
    /// Decrypts stored private keys.
    pub(super) secret: Secret,
    /// How long a retired key keeps verifying: the longest token lifetime plus slack.
    pub(super) retired_key_horizon: i64,
    /// Told of every detected reuse (the theft alert).
    notices: Arc<Notices>,
    /// The absolute session lifetime, in seconds.
    max_session_age: i64,
    /// What access-token checks read; revocations drop the user's entries here, so their
    /// access tokens stop at once on this instance.
    pub(super) cache: Arc<UserCache>,
    /// Until when (Unix ms) access checks skip the store after it failed to answer.
    pub(super) store_down_until: std::sync::atomic::AtomicI64,
    /// The identity provider's signer (id tokens, client access tokens).
    pub(super) provider_keys: super::provider_keys::ProviderKeys,
    /// Personal access tokens' uses not written yet.
    pub(super) usage: super::personal::UsageLog,
    /// `AUTHENTICON_PERSONAL_TOKEN_MAX_LIFETIME` in seconds, applied at each use too.
    pub(super) personal_max_lifetime: Option<i64>,
    /// Counts personal access tokens that named nothing, per address.
    pub(super) throttle: Arc<Throttle>,
    pub(super) failed_lookups: super::personal::FailedLookups,
    /// The revocation feed's cached mark and signed answers.
    pub(super) feed: super::revocation_feed::RevocationFeed,
}

/// A new session or grant id (`sid`): 32 random hex digits (a UUIDv4's). Random rather
/// than time-ordered: the public revocation feed lists revoked sessions by this id, and a
/// time-ordered one would tell anyone when each was signed in.
pub(super) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A new token id (`jti`): 32 hex digits, time-ordered (a UUIDv7's: the millisecond, then
/// a counter seeded at random each millisecond and at least 32 fresh random bits), so
/// that the refresh-token rows each rotation adds land at the end of their index, on
/// pages already being written, instead of on a random page of an index of millions of
/// tokens (whose first write after a checkpoint logs the whole page). Never a secret: it
/// is inside a signed token, whose `iat` tells the same time; ids only need to be unique.
pub(super) fn new_token_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

impl TokenService {
    pub fn new(
        config: &Config,
        secret: Secret,
        store: Arc<Store>,
        cache: Arc<UserCache>,
        notices: Arc<Notices>,
        throttle: Arc<Throttle>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let longest = config.access_token_lifetime.max(config.refresh_token_lifetime).as_secs();
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self {
            codec: JwtCodec::new(config, &secret),
            store,
            clock,
            access_ttl: config.access_token_lifetime.as_secs(),
            refresh_ttl: config.refresh_token_lifetime.as_secs(),
            reuse_interval: secs(config.refresh_reuse_interval),
            algorithm: config.jwt_algorithm,
            key_file: config.jwt_private_key_file.clone(),
            secret,
            retired_key_horizon: i64::try_from(longest + config.jwt_leeway.as_secs() + 5).unwrap_or(i64::MAX),
            notices,
            max_session_age: secs(config.session_absolute_lifetime),
            cache,
            store_down_until: std::sync::atomic::AtomicI64::new(0),
            provider_keys: Default::default(),
            usage: Default::default(),
            personal_max_lifetime: config.personal_token_max_lifetime.map(secs),
            throttle,
            failed_lookups: Default::default(),
            feed: super::revocation_feed::RevocationFeed::new(config),
        }
    }

    /// Seconds an access token lives.
    pub fn access_lifetime(&self) -> i64 {
        i64::try_from(self.access_ttl).unwrap_or(i64::MAX)
    }

    pub(super) fn now_u64(&self) -> u64 {
        u64::try_from(self.clock.now()).unwrap_or_default()
    }

    /// A new session (refresh-token family) for a user who just proved who they are, and
    /// how (`amr`, OpenID Connect's values: `pwd`, `otp`, `hwk`…).
    pub async fn start_session(
        &self,
        user: UserWithRoles,
        amr: &[&str],
        client: ClientInfo,
    ) -> Result<TokenPair, TokenError> {
        let now = self.clock.now();
        let session_id = new_id();
        let (refresh, record) = self.sign_refresh(&user.user.id, &session_id, now)?;
        let session = NewSession {
            id: session_id.clone(),
            user_id: user.user.id.clone(),
            client,
            now,
            expires_at: record.expires_at,
            first_token: Some(record),
            amr: amr.join(" "),
            auth_time: now,
            grant: None,
        };
        if !self.store.start_session(session, user.user.password_changed_at).await? {
            return Err(TokenError::NoActiveAccount);
        }
        let access = self.sign_access(&user, &session_id, now)?;
        Ok(TokenPair { access, refresh, session_id, user })
    }

    /// Spends `refresh` and returns a new pair in the same family. A spent token presented
    /// again revokes the family (RFC 9700 §4.14.2): the thief and the victim both lose it.
    pub async fn refresh(&self, refresh: &str, client: ClientInfo) -> Result<TokenPair, TokenError> {
        let rotated = self.rotate(refresh, None, client).await?;
        let access = self.sign_access(&rotated.user, &rotated.session_id, self.clock.now())?;
        Ok(TokenPair { access, refresh: rotated.refresh, session_id: rotated.session_id, user: rotated.user })
    }

    /// Spends a refresh token of `owner`'s (a client application; `None`: first-party)
    /// and issues its successor.
    pub(super) async fn rotate(
        &self,
        refresh: &str,
        owner: Option<&str>,
        client: ClientInfo,
    ) -> Result<Rotated, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh), self.now_u64())?;
        let now = self.clock.now();
        let (new_refresh, record) = self.sign_refresh(&claims.user_id, &claims.sid, now)?;
        let replay = client.clone();
        let audit = AuditMeta::client(client);
        let outcome = self
            .store
            .rotate_refresh(
                &claims.jti,
                owner,
                record,
                now,
                RotationRules { reuse_interval: self.reuse_interval, max_session_age: self.max_session_age },
                &audit,
            )
            .await?;
        match outcome {
            RotateOutcome::Rotated(user) => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "rotated").increment(1);
                Ok(Rotated { user: *user, session_id: claims.sid, refresh: new_refresh })
            }
            RotateOutcome::Replayed { user, successor } => {
                metrics::counter!("authenticon_refreshes_total", "outcome" => "replayed").increment(1);
                let refresh = self.sign_refresh_as(&claims.user_id, &claims.sid, &successor)?;
                Ok(Rotated { user: *user, session_id: claims.sid, refresh })
            }
            RotateOutcome::ReuseDetected(reuse) => {
                warn!(user_id = %reuse.user_id, session_id = %reuse.session_id, "refresh token reuse detected; session revoked");
                self.cache.invalidate(&reuse.user_id);
                self.notices.alert_reuse(reuse, replay);
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
        self.revoke_family(refresh, None, client).await
    }

    /// Revokes the family of a refresh token of `owner`'s (`None`: first-party); its id.
    pub(super) async fn revoke_family(
        &self,
        refresh: &str,
        owner: Option<&str>,
        client: ClientInfo,
    ) -> Result<String, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh), self.now_u64())?;
        let replay = client.clone();
        let audit = AuditMeta::client(client);
        match self.store.revoke_by_refresh(&claims.jti, owner, self.clock.now(), &audit).await? {
            RevokeOutcome::Revoked { user_id } => {
                self.cache.invalidate(&user_id);
                info!(%user_id, session_id = %claims.sid, "session logged out");
                Ok(claims.sid)
            }
            RevokeOutcome::ReuseDetected(reuse) => {
                self.cache.invalidate(&reuse.user_id);
                warn!(user_id = %reuse.user_id, session_id = %reuse.session_id,
                    "spent refresh token presented for logout; session revoked");
                self.notices.alert_reuse(reuse, replay);
                metrics::counter!("authenticon_refresh_reuse_detected_total").increment(1);
                Err(TokenError::Invalid("refresh token reused".into()))
            }
            RevokeOutcome::Invalid => Err(TokenError::Invalid("refresh token spent or revoked".into())),
        }
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, TokenError> {
        Ok(self.store.list_sessions(user_id, self.clock.now()).await?)
    }

    /// Revokes one of the user's own sessions; false when they have no live one by that id.
    pub async fn revoke_session(
        &self,
        user_id: &str,
        session_id: &str,
        client: ClientInfo,
    ) -> Result<bool, TokenError> {
        let audit = AuditMeta::actor(user_id, client);
        let revoked = self.store.revoke_user_session(user_id, session_id, self.clock.now(), &audit).await?;
        self.cache.invalidate(user_id);
        Ok(revoked)
    }

    /// Logout everywhere: every session of the user, the caller's included.
    pub async fn revoke_all_sessions(&self, user_id: &str, client: ClientInfo) -> Result<u64, TokenError> {
        let audit = AuditMeta::actor(user_id, client);
        let n = self.store.revoke_all_sessions(user_id, self.clock.now(), &audit).await?;
        self.cache.invalidate(user_id);
        info!(%user_id, sessions = n, "logged out everywhere");
        Ok(n)
    }

    /// `/api/token/verify/`: any valid token. A refresh token must also be unspent and
    /// live; an access token passes the checks of a protected route (SECURITY: a revoked
    /// session's, a deactivated user's or one from before a password change verifies no
    /// more here than there, so services that ask this endpoint see revocation too).
    pub async fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.codec.verify(token, None, self.now_u64())?;
        match claims.token_type {
            TokenType::Refresh => {
                // A client application's refresh token is not one of the service's own.
                if !self.store.refresh_is_live(&claims.jti, None, self.clock.now()).await? {
                    return Err(TokenError::Invalid("refresh token spent or revoked".into()));
                }
            }
            TokenType::Access => match self.check_access(&claims).await {
                Ok(_) => {}
                Err(super::AccessError::Store(e)) => return Err(e.into()),
                Err(other) => return Err(TokenError::Invalid(other.to_string())),
            },
        }
        Ok(claims)
    }

    fn sign_access(&self, user: &UserWithRoles, sid: &str, now: i64) -> Result<String, TokenError> {
        let claims = Claims {
            token_type: TokenType::Access,
            exp: (now as u64).saturating_add(self.access_ttl),
            iat: now as u64,
            jti: new_token_id(),
            user_id: user.user.id.clone(),
            sub: user.user.id.clone(),
            sid: sid.to_string(),
            username: Some(user.user.username.clone()),
            roles: Some(user.roles.clone()),
            iss: None,
            aud: None,
            nbf: None,
        };
        self.codec.sign(claims).map_err(TokenError::Signing)
    }

    pub(super) fn sign_refresh(
        &self,
        user_id: &str,
        sid: &str,
        now: i64,
    ) -> Result<(String, NewRefresh), TokenError> {
        let exp = (now as u64).saturating_add(self.refresh_ttl);
        let record = NewRefresh { jti: new_token_id(), issued_at: now, expires_at: exp as i64 };
        let token = self.sign_refresh_as(user_id, sid, &record)?;
        Ok((token, record))
    }

    /// The refresh token a record stands for (the same claims sign the same token again).
    pub(super) fn sign_refresh_as(
        &self,
        user_id: &str,
        sid: &str,
        record: &NewRefresh,
    ) -> Result<String, TokenError> {
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
            nbf: None,
        };
        self.codec.sign(claims).map_err(TokenError::Signing)
    }
}

#[cfg(test)]
mod tests {
    use super::{new_id, new_token_id};

    /// 2,000 ids as made, and the same sorted without repeats; every one 32 hex digits.
    fn made(new: fn() -> String) -> (Vec<String>, Vec<String>) {
        let ids: Vec<String> = (0..2_000).map(|_| new()).collect();
        assert!(ids
            .iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))));
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        (ids, sorted)
    }

    #[test]
    fn session_ids_are_random_hex() {
        let (ids, sorted) = made(new_id);
        assert_eq!(sorted.len(), ids.len(), "none twice");
        // Not in the order they were made: nothing in a sid tells when it was made.
        assert_ne!(sorted, ids);
    }

    #[test]
    fn token_ids_are_unique_hex_in_the_order_they_were_made() {
        let (ids, sorted) = made(new_token_id);
        assert_eq!(sorted, ids, "made in order, sorted in order, none twice");
    }
}
