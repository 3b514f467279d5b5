//! The audit log: written inside each change's transaction, read newest first.

use super::roles::same_set;
use super::users::roles_and_permissions;
use crate::store::db::{sql, Conn, Query};
use crate::store::{
    AuditEvent, AuditFilter, AuditMeta, AuditRow, EventCount, Judged, Page, Store, StoreError, Timestamp,
    CHANGED_MEANWHILE,
};

/// Records `event` on the connection (a transaction's, so it commits with the change).
pub(super) async fn insert_audit(
    c: &mut Conn<'_>,
    event: AuditEvent,
    user_id: Option<&str>,
    detail: &serde_json::Value,
    now: Timestamp,
    audit: &AuditMeta,
) -> Result<(), StoreError> {
    if let Some(judged) = audit.judged.as_ref().filter(|j| Some(j.user_id.as_str()) == user_id) {
        still_as_judged(c, judged).await?;
    }
    let q = sql("INSERT INTO audit_log (time, event, user_id, username, actor_id, ip, user_agent, detail) \
                 VALUES ($1, $2, $3, (SELECT username FROM users WHERE id = $3), $4, $5, $6, $7)");
    let detail = detail.to_string();
    let q = q.bind(now).bind(event.as_str()).bind(user_id).bind(audit.actor_id.as_deref());
    c.execute(q.bind(&audit.client.ip).bind(&audit.client.user_agent).bind(&detail)).await?;
    Ok(())
}

/// `Conflict { CHANGED_MEANWHILE }` unless the user still stands as judged. The user's row
/// is locked first (PostgreSQL; SQLite's write lock covers it), as `set_user_roles` locks
/// it: a promotion either committed before (and is seen here) or waits for this change.
async fn still_as_judged(c: &mut Conn<'_>, judged: &Judged) -> Result<(), StoreError> {
    let q = format!("SELECT is_superuser FROM users WHERE id = $1{}", c.backend().for_update());
    let is_superuser = c.optional_scalar::<bool>(sql(&q).bind(&judged.user_id)).await?;
    let (_, permissions) = roles_and_permissions(c, &judged.user_id).await?;
    if is_superuser != Some(judged.is_superuser) || !same_set(&permissions, &judged.permissions) {
        return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
    }
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
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let count_sql = format!("SELECT COUNT(*) FROM audit_log a {AUDIT_FILTER}");
        let count: i64 = c.scalar(with_filter(sql(&count_sql), filter)).await?;
        let page_sql = format!(
            "SELECT {AUDIT_COLUMNS} {AUDIT_FROM} {AUDIT_FILTER} ORDER BY a.id DESC LIMIT $8 OFFSET $9"
        );
        let rows = c.all(with_filter(sql(&page_sql), filter).bind(limit).bind(offset)).await?;
        Ok(Page { count, rows })
    }

    /// Up to `limit` entries older than the entry `before` (all when `None`), newest
    /// first: an export reads the log a page at a time, whatever its size, without
    /// holding a connection between pages.
    pub async fn audit_after(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let q = format!(
            "SELECT {AUDIT_COLUMNS} {AUDIT_FROM} {AUDIT_FILTER} AND ($8 IS NULL OR a.id < $8) ORDER BY a.id DESC LIMIT $9"
        );
        self.read().await?.conn().all(with_filter(sql(&q), filter).bind(before).bind(limit)).await
    }

    /// How many of `events` happened in each `bucket_secs` from `since` until `until`.
    pub async fn count_events(
        &self,
        events: &[AuditEvent],
        since: Timestamp,
        until: Timestamp,
        bucket_secs: i64,
    ) -> Result<Vec<EventCount>, StoreError> {
        let mut counts = Vec::new();
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        for event in events {
            let q = sql("SELECT event, (time - $2) / $4 AS bucket, COUNT(*) AS count FROM audit_log \
                         WHERE event = $1 AND time >= $2 AND time < $3 GROUP BY event, bucket ORDER BY bucket")
            .bind(event.as_str())
            .bind(since)
            .bind(until)
            .bind(bucket_secs.max(1));
            counts.extend(c.all::<EventCount>(q).await?);
        }
        Ok(counts)
    }
}

const AUDIT_COLUMNS: &str =
    "a.id, a.time, a.event, a.user_id, a.username, a.actor_id, u.username AS actor_username, a.ip, a.user_agent, a.detail";
const AUDIT_FROM: &str = "FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id";

/// The subject ($1 an id or username key, $2 the key: `$1` alone cannot tell an id from
/// a name, so both are tried), the event ($3), the actor ($4 id, $5 username key) and
/// the time range ($6 from, $7 before).
const AUDIT_FILTER: &str = "WHERE ($1 IS NULL OR a.user_id = $1 \
     OR a.user_id = (SELECT id FROM users WHERE username_key = $2) \
     OR ($2 IS NOT NULL AND lower(a.username) = $2)) \
     AND ($3 IS NULL OR a.event = $3) \
     AND ($4 IS NULL OR a.actor_id = $4 OR a.actor_id = (SELECT id FROM users WHERE username_key = $5)) \
     AND ($6 IS NULL OR a.time >= $6) AND ($7 IS NULL OR a.time < $7)";

fn with_filter<'q>(q: Query<'q>, f: &'q AuditFilter) -> Query<'q> {
    q.bind(f.user_id.as_deref().or(f.username_key.as_deref()))
        .bind(f.username_key.as_deref())
        .bind(f.event.as_deref())
        .bind(f.actor_id.as_deref().or(f.actor_key.as_deref()))
        .bind(f.actor_key.as_deref())
        .bind(f.since)
        .bind(f.until)
}
