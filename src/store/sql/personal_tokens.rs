//! Personal access tokens: create, look up by digest, list, revoke, and the batched
//! record of their use.

use super::audit::insert_audit;
use crate::store::db::sql;
use crate::store::{AuditEvent, AuditMeta, PersonalTokenRow, Store, StoreError, Timestamp, TokenUse};

const COLUMNS: &str = "id, user_id, name, prefix, digest, permissions, created_at, expires_at, \
                       last_used_at, last_used_ip, revoked_at";

/// What an audit entry says of a token: never its digest.
fn described(t: &PersonalTokenRow) -> serde_json::Value {
    serde_json::json!({
        "token_id": t.id, "name": t.name, "prefix": t.prefix,
        "permissions": t.permission_list(), "expires_at": t.expires_at,
    })
}

impl Store {
    /// Stores a new token unless its user already has `max_live` live ones (then
    /// `false`, nothing written). Audited as `personal_token_created`.
    pub async fn insert_personal_token(
        &self,
        t: &PersonalTokenRow,
        max_live: i64,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        // The user's row, locked, orders concurrent creations: the count below holds.
        let q = format!("SELECT id FROM users WHERE id = $1{}", c.backend().for_update());
        if c.optional_scalar::<String>(sql(&q).bind(&t.user_id)).await?.is_none() {
            return Err(StoreError::Conflict { constraint: "personal_tokens_user_id_fkey".into() });
        }
        let q = sql("SELECT COUNT(*) FROM personal_tokens WHERE user_id = $1 AND revoked_at IS NULL \
                     AND (expires_at IS NULL OR expires_at > $2)");
        if c.scalar::<i64>(q.bind(&t.user_id).bind(t.created_at)).await? >= max_live {
            return Ok(false);
        }
        let q = format!(
            "INSERT INTO personal_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let q = sql(&q).bind(&t.id).bind(&t.user_id).bind(&t.name).bind(&t.prefix).bind(&t.digest);
        let q = q.bind(&t.permissions).bind(t.created_at).bind(t.expires_at).bind(t.last_used_at);
        c.execute(q.bind(&t.last_used_ip).bind(t.revoked_at)).await?;
        let detail = described(t);
        insert_audit(
            &mut c,
            AuditEvent::PersonalTokenCreated,
            Some(&t.user_id),
            &detail,
            t.created_at,
            audit,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A token by the SHA-256 of its text, revoked or expired ones included.
    pub async fn personal_token_by_digest(
        &self,
        digest: &str,
    ) -> Result<Option<PersonalTokenRow>, StoreError> {
        let q = format!("SELECT {COLUMNS} FROM personal_tokens WHERE digest = $1");
        self.read().await?.conn().optional(sql(&q).bind(digest)).await
    }

    /// A user's tokens that were not revoked (expired ones included), newest first.
    pub async fn personal_tokens_of(&self, user_id: &str) -> Result<Vec<PersonalTokenRow>, StoreError> {
        let q = format!(
            "SELECT {COLUMNS} FROM personal_tokens WHERE user_id = $1 AND revoked_at IS NULL \
             ORDER BY created_at DESC, id"
        );
        self.read().await?.conn().all(sql(&q).bind(user_id)).await
    }

    /// Revokes one of a user's tokens; the token as it was, or `None` when it is not
    /// theirs or was revoked already. Audited as `personal_token_revoked`.
    pub async fn revoke_personal_token(
        &self,
        user_id: &str,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<PersonalTokenRow>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!(
            "UPDATE personal_tokens SET revoked_at = $3 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL \
             RETURNING {COLUMNS}"
        );
        let Some(token) = c.optional::<PersonalTokenRow>(sql(&q).bind(id).bind(user_id).bind(now)).await?
        else {
            return Ok(None);
        };
        let detail = described(&token);
        insert_audit(&mut c, AuditEvent::PersonalTokenRevoked, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    /// Revokes every live token of a user (an administrator answering an incident); how
    /// many. Audited as one `personal_token_revoked` with `"all": true`.
    pub async fn revoke_all_personal_tokens(
        &self,
        user_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE personal_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
        let count = c.execute(q.bind(now).bind(user_id)).await?;
        let detail = serde_json::json!({ "all": true, "count": count });
        insert_audit(&mut c, AuditEvent::PersonalTokenRevoked, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Writes a batch of last uses (a use older than the one stored, from another
    /// instance's late batch, does not overwrite it).
    pub async fn record_personal_token_uses(&self, uses: &[TokenUse]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        for u in uses {
            let q = sql("UPDATE personal_tokens SET last_used_at = $2, last_used_ip = $3 \
                         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2)");
            c.execute(q.bind(&u.token_id).bind(u.at).bind(&u.ip)).await?;
        }
        tx.commit().await
    }

    /// Remembers that a token was used from `ip`; the first time (on any instance) it is
    /// audited as `personal_token_used` and `true` comes back.
    pub async fn note_personal_token_address(
        &self,
        token: &PersonalTokenRow,
        ip: &str,
        at: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q =
            sql("INSERT INTO personal_token_addresses (token_id, ip, first_seen_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (token_id, ip) DO NOTHING");
        if c.execute(q.bind(&token.id).bind(ip).bind(at)).await? == 0 {
            return Ok(false);
        }
        let detail = described(token);
        insert_audit(&mut c, AuditEvent::PersonalTokenUsed, Some(&token.user_id), &detail, at, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
