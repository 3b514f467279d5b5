//! Client applications' grants. A grant is a session of its own (a refresh-token family,
//! `client_id` set), started by a code exchange and rotated with the same reuse
//! detection as the service's own sessions, by that client only. Its access tokens are
//! RFC 9068 JWTs signed with the provider's key pair; they name the grant (`sid`), so
//! ending the grant ends them (userinfo, introspection).

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::claims::{Claims, TokenType};
use super::service::{new_id, TokenService};
use super::TokenError;
use crate::domain::{ClientInfo, Timestamp};
use crate::store::{GrantOf, NewSession, SessionState, UserWithRoles};

/// A grant about to start: its session record, and the refresh token it comes with.
pub struct NewGrant {
    pub session: NewSession,
    pub refresh: Option<String>,
}

/// A client's refresh token spent and its successor issued.
pub struct GrantRefreshed {
    pub user: UserWithRoles,
    pub grant_id: String,
    pub refresh: String,
}

impl TokenService {
    /// The session a code exchange starts for `user_id` and `grant`. `offline` (the
    /// `offline_access` scope) gives it a refresh token; without one it lives as long as
    /// an access token.
    pub fn new_grant(
        &self,
        user_id: &str,
        grant: GrantOf,
        amr: String,
        auth_time: Timestamp,
        offline: bool,
        client: ClientInfo,
    ) -> Result<NewGrant, TokenError> {
        let now = self.clock.now();
        let id = new_id();
        let (refresh, first_token) = match offline {
            true => {
                let (token, record) = self.sign_refresh(user_id, &id, now)?;
                (Some(token), Some(record))
            }
            false => (None, None),
        };
        let expires_at =
            first_token.as_ref().map_or(now.saturating_add(self.access_lifetime()), |r| r.expires_at);
        let session = NewSession {
            id,
            user_id: user_id.to_string(),
            client,
            now,
            expires_at,
            first_token,
            amr,
            auth_time,
            grant: Some(grant),
        };
        Ok(NewGrant { session, refresh })
    }

    /// Rotates `client_id`'s refresh token.
    pub async fn refresh_grant(
        &self,
        refresh: &str,
        client_id: &str,
        client: ClientInfo,
    ) -> Result<GrantRefreshed, TokenError> {
        let rotated = self.rotate(refresh, Some(client_id), client).await?;
        Ok(GrantRefreshed { user: rotated.user, grant_id: rotated.session_id, refresh: rotated.refresh })
    }

    /// Ends the grant of `client_id`'s refresh token (RFC 7009); its id.
    pub async fn revoke_grant(
        &self,
        refresh: &str,
        client_id: &str,
        client: ClientInfo,
    ) -> Result<String, TokenError> {
        self.revoke_family(refresh, Some(client_id), client).await
    }

    /// The grant (or browser session) `sid` names, if it stands and is `user_id`'s.
    pub async fn live_session(&self, user_id: &str, sid: &str) -> Result<Option<SessionState>, TokenError> {
        let state = self.store.session_state(sid).await?;
        Ok(state
            .filter(|s| s.revoked_at.is_none() && s.user_id == user_id && s.expires_at > self.clock.now()))
    }

    /// Verifies one of the service's own tokens (signature, lifetime, type).
    pub fn verify_own(&self, token: &str, expected: TokenType) -> Result<Claims, TokenError> {
        Ok(self.codec.verify(token, Some(expected), self.now_u64())?)
    }

    /// Whether a refresh token (by `jti`) is unspent in a live family.
    pub async fn refresh_is_live(&self, jti: &str, client_id: &str) -> Result<bool, TokenError> {
        Ok(self.store.refresh_is_live(jti, Some(client_id), self.clock.now()).await?)
    }

    /// Drops what this instance cached of the user (a grant of theirs just ended).
    pub fn forget_user(&self, user_id: &str) {
        self.cache.invalidate(user_id);
    }

    /// Loads the provider's key pair now if this instance has none yet: a client was
    /// registered elsewhere (the command line, another instance) since the last reload.
    pub async fn provider_keys_ready(&self) -> Result<(), TokenError> {
        if !self.provider_keys.ready() {
            self.load_keys().await?;
        }
        Ok(())
    }

    /// Signs provider claims (`typ`: `at+jwt` or `JWT`).
    pub fn sign_provider<T: Serialize>(&self, typ: &str, claims: &T) -> Result<String, TokenError> {
        self.provider_keys.sign(typ, claims).map_err(TokenError::Signing)
    }

    /// Verifies a provider token's signature and `typ`; lifetime and audience are the
    /// caller's to check.
    pub fn verify_provider<T: DeserializeOwned>(&self, token: &str, typ: &str) -> Result<T, TokenError> {
        Ok(self.provider_keys.verify(token, typ)?)
    }
}
