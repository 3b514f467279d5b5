//! What a protected route checks of an access token beyond its signature: that its user
//! exists and is active, that it was signed after the last password change, and that its
//! session still stands (revocation reaches access tokens; stricter than simplejwt).
//! Users and session states come from a short-lived cache, so a busy route makes no query
//! per request; when the store cannot answer promptly, a validly signed token is accepted
//! on its own rather than every request waiting out the pool's timeout.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::claims::{Claims, TokenType};
use super::service::TokenService;
use crate::store::{StoreError, UserWithRoles};

/// How long a protected request waits for the user lookup before trusting the token.
pub(super) const LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed lookup, how long lookups are skipped (one request per period probes).
const STORE_DOWN_BACKOFF_MS: i64 = 2_000;

/// Why an access token is refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// Bad signature, expired, wrong type, from before a password change, or of a revoked
    /// session.
    #[error("access token not valid")]
    NotValid,
    #[error("user inactive")]
    UserInactive,
    #[error("user not found")]
    UserNotFound,
    /// Too many personal access tokens naming nothing from this address: wait this many
    /// seconds.
    #[error("throttled")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The caller behind a valid access token.
pub struct Caller {
    pub claims: Claims,
    /// The user as stored a moment ago; `None` only while the store is down.
    pub user: Option<Arc<UserWithRoles>>,
}

/// Milliseconds on the system clock: the outage back-off is about the store's health in
/// real time, not the service's business time.
fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl TokenService {
    /// The protected routes' check: signature and lifetime, then the user and session.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AccessError> {
        let claims = self
            .codec
            .verify(token, Some(TokenType::Access), self.now_u64())
            .map_err(|_| AccessError::NotValid)?;
        let user = self.check_access(&claims).await?;
        Ok(Caller { claims, user })
    }

    /// The checks of a verified access token's claims; the user, unless the store is down.
    pub(super) async fn check_access(
        &self,
        claims: &Claims,
    ) -> Result<Option<Arc<UserWithRoles>>, AccessError> {
        let Some(user) = self.user_for_token(&claims.user_id).await? else { return Ok(None) };
        if !user.user.is_active {
            return Err(AccessError::UserInactive);
        }
        // SECURITY: a password change ends every access token issued before it (the
        // changing session gets a new one at its next refresh).
        if (claims.iat as i64) < user.user.password_changed_at {
            return Err(AccessError::NotValid);
        }
        // SECURITY: a revoked session (logout, revoke, reuse) ends its access tokens too.
        if self.session_is_live(&claims.user_id, &claims.sid).await? == Some(false) {
            return Err(AccessError::NotValid);
        }
        Ok(Some(user))
    }

    pub(super) fn store_is_down(&self) -> bool {
        now_ms() < self.store_down_until.load(Ordering::Relaxed)
    }

    fn note_store_down(&self, reason: &str) {
        warn!(%reason, "store unavailable; accepting access tokens on their signature alone");
        self.store_down_until.store(now_ms() + STORE_DOWN_BACKOFF_MS, Ordering::Relaxed);
    }

    /// The user behind a verified access token, from the cache when fresh. `Ok(None)`
    /// when the store cannot answer promptly.
    pub(super) async fn user_for_token(&self, id: &str) -> Result<Option<Arc<UserWithRoles>>, AccessError> {
        if let Some(user) = self.cache.get(id) {
            return Ok(Some(user));
        }
        if self.store_is_down() {
            return Ok(None);
        }
        let seen = self.cache.epoch();
        match tokio::time::timeout(LOOKUP_TIMEOUT, self.store.user_by_id(id)).await {
            Ok(Ok(Some(user))) => {
                let user = Arc::new(user);
                self.cache.put(&user, seen);
                Ok(Some(user))
            }
            Ok(Ok(None)) => Err(AccessError::UserNotFound),
            Ok(Err(StoreError::Unavailable(reason))) => {
                self.note_store_down(&reason);
                Ok(None)
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                self.note_store_down("user lookup timed out");
                Ok(None)
            }
        }
    }

    /// Whether the session an access token names still stands. A revocation on this
    /// instance drops the cached answer at once, one elsewhere is seen within the cache
    /// lifetime. `None` when the store cannot answer.
    async fn session_is_live(&self, user_id: &str, session_id: &str) -> Result<Option<bool>, AccessError> {
        if let Some(live) = self.cache.session(user_id, session_id) {
            return Ok(Some(live));
        }
        if self.store_is_down() {
            return Ok(None);
        }
        let seen = self.cache.epoch();
        match tokio::time::timeout(LOOKUP_TIMEOUT, self.store.session_state(session_id)).await {
            Ok(Ok(state)) => {
                // SECURITY: a session that is gone, revoked, or someone else's ends the token.
                let live = state.is_some_and(|s| s.revoked_at.is_none() && s.user_id == user_id);
                self.cache.put_session(user_id, session_id, live, seen);
                Ok(Some(live))
            }
            Ok(Err(StoreError::Unavailable(reason))) => {
                self.note_store_down(&reason);
                Ok(None)
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                self.note_store_down("session lookup timed out");
                Ok(None)
            }
        }
    }
}
