//! The audit log: written inside each change's transaction, read newest first.

use crate::store::db::{sql, Conn};
use crate::store::{AuditEvent, AuditFilter, AuditMeta, AuditRow, Page, Store, StoreError, Timestamp};

/// Records `event` on the connection (a transaction's, so it commits with the change).
pub(super) async fn insert_audit(
    c: &mut Conn<'_>,
    event: AuditEvent,
    user_id: Option<&str>,
    detail: &serde_json::Value,
    now: Timestamp,
    audit: &AuditMeta,
) -> Result<(), StoreError> {
    let q = sql("INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
                 VALUES ($1, $2, $3, (SELECT username FROM users WHERE id = $3), $4, $5, $6, $7)");
    let detail = detail.to_string();
    let q = q.bind(now).bind(event.as_str()).bind(user_id).bind(audit.actor_id.as_deref());
    c.execute(q.bind(&audit.client.ip).bind(&audit.client.user_agent).bind(&detail)).await?;
    Ok(())
}

impl Store {
    /// An event that changes nothing else (`login_failed`, `throttled`).
    pub async fn record_audit(
        &self,
        event: AuditEvent,
        user_id: Option<&str>,
        detail: &serde_json::Value,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        insert_audit(&mut self.read().await?.conn(), event, user_id, detail, now, audit).await
    }

    /// Newest first.
    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<AuditRow>, StoreError> {
        let wanted = "WHERE ($1 IS NULL OR user_id = $1 \
             OR user_id = (SELECT id FROM users WHERE username_key = $2) \
             OR ($2 IS NOT NULL AND lower(username) = $2)) \
             AND ($3 IS NULL OR event = $3)";
        // `$1` alone cannot tell an id from a name: both are tried.
        let id = filter.user_id.as_deref().or(filter.username_key.as_deref());
        let (key, event) = (filter.username_key.as_deref(), filter.event.as_deref());
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let count_sql = format!("SELECT COUNT(*) FROM audit_log {wanted}");
        let count: i64 = c.scalar(sql(&count_sql).bind(id).bind(key).bind(event)).await?;
        let page_sql = format!(
            "SELECT id, time, event, user_id, username, actor_id, ip, user_agent, detail \
             FROM audit_log {wanted} ORDER BY id DESC LIMIT $4 OFFSET $5"
        );
        let rows = c.all(sql(&page_sql).bind(id).bind(key).bind(event).bind(limit).bind(offset)).await?;
        Ok(Page { count, rows })
    }
}
