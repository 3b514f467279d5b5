//! Sessions and their refresh tokens: login, rotation with reuse detection, logout,
//! revocation, the sessions page, cleanup.

use super::audit::insert_audit;
use super::rotation::RotationRequest;
use crate::store::db::{sql, Backend, Conn};
use crate::store::{
    AuditEvent, AuditMeta, DeletedBatch, NewRefresh, NewSession, Reuse, RevokeOutcome, RotateOutcome,
    RotationRules, SessionRow, SessionState, Store, StoreError, Timestamp,
};

/// A refresh token's record joined with its family, as rotation and logout need it.
#[derive(Clone, sqlx::FromRow)]
pub(super) struct TokenState {
    pub jti: String,
    pub session_id: String,
    pub used_at: Option<Timestamp>,
    pub used_ip: Option<String>,
    pub used_user_agent: Option<String>,
    pub expires_at: Timestamp,
    pub user_id: String,
    pub revoked_at: Option<Timestamp>,
    pub session_created_at: Timestamp,
    pub replaced_by: Option<String>,
    pub client_id: Option<String>,
}

impl TokenState {
    pub fn into_reuse(self) -> Reuse {
        Reuse {
            user_id: self.user_id,
            session_id: self.session_id,
            first_used_at: self.used_at.unwrap_or_default(),
            first_ip: self.used_ip.unwrap_or_default(),
            first_user_agent: self.used_user_agent.unwrap_or_default(),
        }
    }
}

/// A user's live sign-ins, most recently used first ($1 user, $2 now). Applications'
/// grants are listed with the applications, not as sign-ins.
pub(super) const LIST_SESSIONS: &str = "SELECT id, created_at, last_used_at, user_agent, ip FROM sessions \
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND client_id IS NULL \
     ORDER BY last_used_at DESC, created_at DESC";

/// Up to `limit` refresh-token records expired by $1. The expiry is checked again on the
/// row deleted: on PostgreSQL a row that changed while the delete waited for it is judged
/// as it now is. The limit is written into the statement, not bound: PostgreSQL plans
/// a known small batch as index lookups, and an unknown one (a generic plan) once took
/// 4.5 s over twenty million rows.
pub(super) fn delete_expired_tokens_sql(limit: i64) -> String {
    let limit = limit.max(1);
    format!(
        "DELETE FROM refresh_tokens WHERE jti IN \
         (SELECT jti FROM refresh_tokens WHERE expires_at <= $1 LIMIT {limit}) AND expires_at <= $1"
    )
}

/// Up to `limit` sessions expired by $1 (checked again, as above: a rotation may extend one).
pub(super) fn delete_expired_sessions_sql(limit: i64) -> String {
    let limit = limit.max(1);
    format!(
        "DELETE FROM sessions WHERE id IN \
         (SELECT id FROM sessions WHERE expires_at <= $1 LIMIT {limit}) AND expires_at <= $1"
    )
}

/// `TokenState`'s columns (then a `WHERE` on `rt`).
pub(super) const TOKEN_STATE_SELECT: &str = "SELECT rt.jti, rt.session_id, rt.used_at, rt.used_ip, \
     rt.used_user_agent, rt.expires_at, s.user_id, s.revoked_at, s.created_at AS session_created_at, \
     rt.replaced_by, s.client_id FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id";

/// A token's state by jti ($1); `lock` as in `token_state`.
pub(super) fn token_state_sql(backend: Backend, lock: bool) -> String {
    format!("{TOKEN_STATE_SELECT} WHERE rt.jti = $1{}", if lock { backend.for_update_of_token() } else { "" })
}

/// `lock` takes the row lock that serialises rotations of one token across connections
/// and instances.
async fn token_state(c: &mut Conn<'_>, jti: &str, lock: bool) -> Result<Option<TokenState>, StoreError> {
    let q = token_state_sql(c.backend(), lock);
    c.optional(sql(&q).bind(jti)).await
}

/// The state of `jti` if it belongs to a family that is neither revoked nor past its
/// expiry, and is `client`'s (`None`: a first-party session), locked for the
/// transaction: what rotation and logout start from. SECURITY: a client's refresh token
/// is spent only by that client, and never at the first-party endpoints, nor theirs by it.
async fn live_token_state(
    c: &mut Conn<'_>,
    jti: &str,
    client: Option<&str>,
    now: Timestamp,
) -> Result<Option<TokenState>, StoreError> {
    Ok(token_state(c, jti, true)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now && s.client_id.as_deref() == client))
}

/// Inserts a session and its first refresh token (if any).
pub(super) async fn insert_session(c: &mut Conn<'_>, s: &NewSession) -> Result<(), StoreError> {
    let (client_id, scope, browser_session) = match &s.grant {
        Some(g) => (Some(g.client_id.as_str()), g.scope.as_str(), g.browser_session.as_deref()),
        None => (None, "", None),
    };
    let q = sql("INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, user_agent, ip, \
                 client_id, scope, amr, auth_time, browser_session_id) \
                 VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    let q = q.bind(&s.id).bind(&s.user_id).bind(s.now).bind(s.expires_at).bind(&s.client.user_agent);
    let q = q.bind(&s.client.ip).bind(client_id).bind(scope).bind(&s.amr).bind(s.auth_time);
    c.execute(q.bind(browser_session)).await?;
    if let Some(t) = &s.first_token {
        let q = sql(
            "INSERT INTO refresh_tokens (jti, session_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
        );
        c.execute(q.bind(&t.jti).bind(&s.id).bind(t.issued_at).bind(t.expires_at)).await?;
    }
    Ok(())
}

pub(super) async fn revoke_session(
    c: &mut Conn<'_>,
    session_id: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let q = sql("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL");
    c.execute(q.bind(now).bind(session_id)).await?;
    Ok(())
}

impl Store {
    /// Records a login: a new session, its first refresh token, and `last_login`.
    /// Audited as `login`. False (and nothing written) when the user was deactivated, or
    /// their password changed, since `password_changed_at` was read: SECURITY: a login
    /// under way (its password check takes a while) must not outlive a deactivation or a
    /// reset that committed meanwhile, or a thief keeps the account through its owner's reset.
    pub async fn start_session(
        &self,
        s: NewSession,
        password_changed_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE users SET last_login = $1 WHERE id = $2 AND is_active = TRUE AND password_changed_at = $3");
        if c.execute(q.bind(s.now).bind(&s.user_id).bind(password_changed_at)).await? == 0 {
            return Ok(false);
        }
        insert_session(&mut c, &s).await?;
        let detail = serde_json::json!({ "session_id": s.id });
        let audit = AuditMeta::client(s.client.clone());
        insert_audit(&mut c, AuditEvent::Login, Some(&s.user_id), &detail, s.now, &audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Spends `jti` and records `next` in its family, or detects reuse, in one transaction
    /// (shared with the rotations that arrive together: see `store::group_commit`).
    /// Audited as `refresh` or `refresh_reuse_detected`.
    pub async fn rotate_refresh(
        &self,
        jti: &str,
        client: Option<&str>,
        next: NewRefresh,
        now: Timestamp,
        rules: RotationRules,
        audit: &AuditMeta,
    ) -> Result<RotateOutcome, StoreError> {
        let req = RotationRequest {
            jti: jti.to_string(),
            client: client.map(str::to_string),
            next,
            now,
            rules,
            audit: audit.clone(),
        };
        self.rotations.rotate(req).await
    }

    /// Revokes the family of `jti` (logout). Audited as `logout` or `refresh_reuse_detected`.
    pub async fn revoke_by_refresh(
        &self,
        jti: &str,
        client: Option<&str>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<RevokeOutcome, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let Some(state) = live_token_state(&mut c, jti, client, now).await? else {
            return Ok(RevokeOutcome::Invalid);
        };
        revoke_session(&mut c, &state.session_id, now).await?;
        let (event, detail) = match state.used_at {
            Some(_) => (
                AuditEvent::RefreshReuseDetected,
                serde_json::json!({ "session_id": state.session_id, "presented_at": "logout" }),
            ),
            None => (AuditEvent::Logout, serde_json::json!({ "session_id": state.session_id })),
        };
        insert_audit(&mut c, event, Some(&state.user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(match state.used_at {
            Some(_) => RevokeOutcome::ReuseDetected(state.into_reuse()),
            None => RevokeOutcome::Revoked { user_id: state.user_id },
        })
    }

    /// Whether `jti` is an unspent token of a live family (for `/api/token/verify/`).
    pub async fn refresh_is_live(
        &self,
        jti: &str,
        client: Option<&str>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let state = token_state(&mut self.read().await?.conn(), jti, false).await?;
        Ok(matches!(state, Some(s) if s.used_at.is_none() && s.revoked_at.is_none() && s.expires_at > now
            && s.client_id.as_deref() == client))
    }

    /// A session by id, revoked or not; `None` once it is gone.
    pub async fn session_state(&self, session_id: &str) -> Result<Option<SessionState>, StoreError> {
        let q = sql("SELECT user_id, created_at, revoked_at, reauthenticated_at, client_id, scope, amr, \
                     auth_time, expires_at, browser_session_id FROM sessions WHERE id = $1");
        self.read().await?.conn().optional(q.bind(session_id)).await
    }

    /// Records a proof of presence in a live session of the user; false when there is none.
    pub async fn mark_reauthenticated(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let q = sql("UPDATE sessions SET reauthenticated_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL");
        Ok(self.read().await?.conn().execute(q.bind(now).bind(session_id).bind(user_id)).await? > 0)
    }

    /// The user's sessions that are neither revoked nor expired, most recently used first.
    pub async fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<SessionRow>, StoreError> {
        self.read().await?.conn().all(sql(LIST_SESSIONS).bind(user_id).bind(now)).await
    }

    /// Revokes one live session of the user; false when there is none by that id.
    /// Audited as `session_revoked`.
    pub async fn revoke_user_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE sessions SET revoked_at = $1 \
                     WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL AND expires_at > $1");
        let revoked = c.execute(q.bind(now).bind(session_id).bind(user_id)).await? > 0;
        if revoked {
            let detail = serde_json::json!({ "session_id": session_id });
            insert_audit(&mut c, AuditEvent::SessionRevoked, Some(user_id), &detail, now, audit).await?;
        }
        tx.commit().await?;
        Ok(revoked)
    }

    /// Revokes every live session of the user (logout everywhere); returns how many.
    /// Audited as `session_revoked`.
    pub async fn revoke_all_sessions(
        &self,
        user_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q =
            sql("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id");
        let ids: Vec<String> = c.scalars(q.bind(now).bind(user_id)).await?;
        let detail = serde_json::json!({ "all": true, "sessions": ids });
        insert_audit(&mut c, AuditEvent::SessionRevoked, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// Deletes up to `limit` refresh-token records that expired by `now`; returns how many
    /// went. Bounded, so that each statement holds the write lock briefly: cleanup runs
    /// beside live rotations.
    pub async fn delete_expired_tokens(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<DeletedBatch, StoreError> {
        self.delete_batch(sql(&delete_expired_tokens_sql(limit)).bind(now)).await
    }

    /// Deletes up to `limit` sessions that expired by `now` (a family whose last token
    /// expired is over; any token of it left goes with it); returns how many went.
    pub async fn delete_expired_sessions(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<DeletedBatch, StoreError> {
        self.delete_batch(sql(&delete_expired_sessions_sql(limit)).bind(now)).await
    }
}
