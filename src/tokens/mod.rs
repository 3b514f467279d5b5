//! Token service: issues access/refresh pairs, rotates refresh tokens with reuse
//! detection, revokes families (logout), verifies tokens.

pub mod claims;
pub mod codec;

use std::sync::Arc;

use tracing::{info, warn};

pub use claims::{Claims, TokenType};
pub use codec::{CodecError, JwtCodec};

use crate::config::Config;
use crate::store::SessionRow;
use crate::store::{
    AuditMeta, ClientInfo, NewRefresh, NewSession, RevokeOutcome, RotateOutcome, Store, StoreError,
    UserWithRoles,
};

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
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl TokenService {
    pub fn new(config: &Config, codec: JwtCodec, store: Arc<dyn Store>) -> Self {
        Self {
            codec,
            store,
            access_ttl: config.access_token_lifetime.as_secs(),
            refresh_ttl: config.refresh_token_lifetime.as_secs(),
            reuse_interval: i64::try_from(config.refresh_reuse_interval.as_secs()).unwrap_or(i64::MAX),
        }
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

    /// Spends `refresh` and returns a new pair in the same family. A spent token presented
    /// again revokes the family (RFC 9700 §4.14.2): the thief and the victim both lose it.
    pub async fn refresh(&self, refresh: &str, client: ClientInfo) -> Result<TokenPair, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh))?;
        let now = now();
        let (new_refresh, record) = self.sign_refresh(&claims.user_id, &claims.sid, now)?;
        let audit = AuditMeta::client(client);
        match self.store.rotate_refresh(&claims.jti, record, now, self.reuse_interval, &audit).await? {
            RotateOutcome::Rotated(user) => {
                let access = self.sign_access(&user, &claims.sid, now)?;
                Ok(TokenPair { access, refresh: new_refresh, session_id: claims.sid, user: *user })
            }
            RotateOutcome::ReuseDetected { user_id, session_id } => {
                warn!(%user_id, %session_id, "refresh token reuse detected; session revoked");
                Err(TokenError::Invalid("refresh token reused".into()))
            }
            RotateOutcome::Invalid => Err(TokenError::Invalid("refresh token spent or revoked".into())),
            RotateOutcome::UserInactive => Err(TokenError::NoActiveAccount),
        }
    }

    /// Logout: revokes the family of `refresh`.
    pub async fn blacklist(&self, refresh: &str, client: ClientInfo) -> Result<String, TokenError> {
        let claims = self.codec.verify(refresh, Some(TokenType::Refresh))?;
        match self.store.revoke_by_refresh(&claims.jti, now(), &AuditMeta::client(client)).await? {
            RevokeOutcome::Revoked { user_id } => {
                info!(%user_id, session_id = %claims.sid, "session logged out");
                Ok(claims.sid)
            }
            RevokeOutcome::ReuseDetected { user_id, session_id } => {
                warn!(%user_id, %session_id, "spent refresh token presented for logout; session revoked");
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
        Ok(self.store.revoke_user_session(user_id, session_id, now(), &audit).await?)
    }

    /// Logout everywhere: every session of the user, the caller's included.
    pub async fn revoke_all_sessions(&self, user_id: &str, client: ClientInfo) -> Result<u64, TokenError> {
        let audit = AuditMeta::actor(user_id, client);
        let n = self.store.revoke_all_sessions(user_id, now(), &audit).await?;
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
        let jti = new_id();
        let exp = (now as u64).saturating_add(self.refresh_ttl);
        let claims = Claims {
            token_type: TokenType::Refresh,
            exp,
            iat: now as u64,
            jti: jti.clone(),
            user_id: user_id.to_string(),
            sub: user_id.to_string(),
            sid: sid.to_string(),
            username: None,
            roles: None,
            iss: None,
            aud: None,
        };
        let token = self.codec.sign(claims).map_err(|e| TokenError::Signing(e.to_string()))?;
        let record = NewRefresh { jti, issued_at: now, expires_at: exp as i64 };
        Ok((token, record))
    }
}
