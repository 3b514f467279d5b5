//! The audit log: written inside each change's transaction, read newest first.

use super::audit_counts::{
    count_matches, counted_by_event, ALL_COUNT, EVENT_COUNT, FOLD_COUNTS, FOLD_DAY_COUNTS,
};
use super::audit_filters::{audit_names, audit_page_filters, Named};
use super::roles::same_set;
use super::users::roles_and_permissions;
use super::Filters;
use crate::store::db::{sql, Backend, Conn};
use crate::store::{
    AuditEvent, AuditFilter, AuditMeta, AuditRow, DeletedBatch, EventCount, ExportCursor, Judged, Page,
    Store, StoreError, Timestamp, CHANGED_MEANWHILE,
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
        let (subject, actor) = audit_names(&mut c, filter).await?;
        let (count, ids) = match counted_by_event(filter) {
            Some(Some(event)) => (c.scalar(sql(EVENT_COUNT).bind(event)).await?, None),
            Some(None) => (c.scalar(sql(ALL_COUNT)).await?, None),
            None => count_matches(&mut c, filter, subject, actor).await?,
        };
        if offset >= count {
            return Ok(Page { count, rows: Vec::new() });
        }
        let f = audit_page_filters(filter, subject, actor, ids);
        let page_sql = audit_page_sql(&f, c.backend());
        let rows = c.all(f.bind(sql(&page_sql)).bind(limit).bind(offset)).await?;
        Ok(Page { count, rows })
    }

    /// Folds the counters' rows into one per event (PostgreSQL, where every statement that
    /// writes entries adds a row of its own; see migration 0018). Run every minute by a
    /// serving instance, and by each cleanup; readers see the sum before or after, never
    /// between. Instances folding at once wait for each other's rows, then skip them.
    pub async fn fold_audit_counts(&self) -> Result<(), StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        if c.backend() == Backend::Postgres {
            c.execute(sql(FOLD_COUNTS)).await?;
            c.execute(sql(FOLD_DAY_COUNTS)).await?;
        }
        Ok(())
    }

    /// Up to `limit` entries from `cursor` on, newest first, and where the next page
    /// starts: an export reads the log a page at a time, whatever its size, without
    /// holding a connection between pages. With a user, an actor or a time range, the
    /// first page finds the oldest and newest match as a counted page does (one pass over
    /// an index); every page then walks the id index back between them, so that neither a
    /// time range nor the end of the export reads entries outside the matches (the plans
    /// test checks both statements).
    pub async fn audit_after(
        &self,
        filter: &AuditFilter,
        cursor: ExportCursor,
        limit: i64,
    ) -> Result<(Vec<AuditRow>, ExportCursor), StoreError> {
        if cursor == ExportCursor::Done {
            return Ok((Vec::new(), ExportCursor::Done));
        }
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let (subject, actor) = audit_names(&mut c, filter).await?;
        let (oldest, newest) = match cursor {
            ExportCursor::Done => return Ok((Vec::new(), ExportCursor::Done)),
            ExportCursor::Between(oldest, newest) => (oldest, newest),
            // By event alone, or everything: the event's index (or the log's) is read in
            // id order and holds nothing else, so there is nothing to bound, and no reason
            // to count the whole log first.
            ExportCursor::Start if counted_by_event(filter).is_some() => (i64::MIN, i64::MAX),
            ExportCursor::Start => match count_matches(&mut c, filter, subject, actor).await?.1 {
                Some(ids) => ids,
                None => return Ok((Vec::new(), ExportCursor::Done)),
            },
        };
        let (f, q) = export_page_statement(filter, subject, actor, (oldest, newest), c.backend());
        let rows: Vec<AuditRow> = c.all(f.bind(sql(&q)).bind(limit).bind(0i64)).await?;
        let next = match rows.last() {
            Some(last) if rows.len() as i64 == limit && last.id > oldest => {
                ExportCursor::Between(oldest, last.id - 1)
            }
            _ => ExportCursor::Done,
        };
        Ok((rows, next))
    }

    /// Deletes up to `limit` of the oldest audit entries recorded before `before`;
    /// returns how many went (audit retention, a bounded batch at a time).
    pub async fn delete_audit_before(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<DeletedBatch, StoreError> {
        // None that a webhook endpoint is still to hear of.
        let heard: Option<i64> = self.read().await?.conn().scalar(sql(HEARD_BY_ALL)).await?;
        let text = delete_audit_before_sql(limit);
        self.delete_batch(sql(&text).bind(before).bind(heard.unwrap_or(i64::MAX))).await
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

/// Up to `limit` of the oldest entries recorded before $1, up to entry $2 (the limit
/// written in, as for expired tokens).
pub(super) fn delete_audit_before_sql(limit: i64) -> String {
    let limit = limit.max(1);
    format!(
        "DELETE FROM audit_log WHERE id IN \
         (SELECT id FROM audit_log WHERE time < $1 AND id <= $2 ORDER BY time LIMIT {limit}) AND time < $1"
    )
}

/// The last entry every webhook endpoint has heard of: its fan-out reads the log behind a
/// cursor, each endpoint from its start on. NULL without endpoints.
const HEARD_BY_ALL: &str = "SELECT MIN(CASE WHEN e.after_audit_id > c.audit_id THEN e.after_audit_id \
     ELSE c.audit_id END) FROM webhook_endpoints e, webhook_cursor c WHERE c.id = 1";

const AUDIT_COLUMNS: &str =
    "a.id, a.time, a.event, a.user_id, a.username, a.actor_id, u.username AS actor_username, a.ip, a.user_agent, a.detail";
const AUDIT_FROM: &str = "FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id";

/// A page of the entries `f` selects, newest first (then `LIMIT`, `OFFSET`).
///
/// On PostgreSQL the page's ids are found first, alone, then their entries: asked for
/// whole entries of one event newest first, the planner walks the log's own id index back
/// and skips every entry of other events (it takes them to be evenly spread), where the
/// newest ones are often thousands of refreshes: 5.8 ms for a page of `password_changed`
/// behind 40,000 of them. Asked for ids only, it reads them from the event's (or the
/// user's, or the actor's) index alone, in id order, and stops at the page's end
/// (0.2 ms). SQLite's planner takes the event's index for the whole page already.
pub(super) fn audit_page_sql(f: &Filters<'_>, backend: Backend) -> String {
    let n = f.next();
    let (filters, limit, offset) = (f.sql(), n, n + 1);
    match backend {
        Backend::Sqlite => {
            format!("SELECT {AUDIT_COLUMNS} {AUDIT_FROM} {filters} ORDER BY a.id DESC LIMIT ${limit} OFFSET ${offset}")
        }
        Backend::Postgres => format!(
            "SELECT {AUDIT_COLUMNS} FROM (SELECT a.id FROM audit_log a {filters} \
               ORDER BY a.id DESC LIMIT ${limit} OFFSET ${offset}) page \
             JOIN audit_log a ON a.id = page.id LEFT JOIN users u ON u.id = a.actor_id ORDER BY page.id DESC"
        ),
    }
}

/// An export's page between the ids of `ids` (then `LIMIT`, and an `OFFSET` of 0): a
/// counted page's statement, as the plans test checks it.
pub(super) fn export_page_statement(
    f: &AuditFilter,
    subject: Option<Named>,
    actor: Option<Named>,
    ids: (i64, i64),
    backend: Backend,
) -> (Filters<'_>, String) {
    let w = audit_page_filters(f, subject, actor, Some(ids));
    let q = audit_page_sql(&w, backend);
    (w, q)
}
