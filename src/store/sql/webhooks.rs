//! Webhook endpoints, the cursor that turns the audit log into deliveries, and the
//! deliveries themselves (claimed per endpoint in order, leased, retried, kept).

use super::audit::insert_audit;
use crate::store::db::{sql, Backend, Conn};
use crate::store::{
    AttemptOutcome, AuditEvent, AuditMeta, DueDelivery, NewDelivery, Page, Store, StoreError, Timestamp,
    WebhookBacklog, WebhookChanges, WebhookDeliveryRow, WebhookEndpointRow,
};

const ENDPOINT_COLUMNS: &str =
    "id, url, description, events, format, secret_sealed, enabled, after_audit_id, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, endpoint_id, seq, event, payload, created_at, status, attempts, \
                                next_attempt_at, last_attempt_at, last_status, last_error, delivered_at";

/// What the audit log keeps of an endpoint: never its secret, and of its URL only the
/// origin (some receivers take a token in the path or the query).
fn endpoint_detail(e: &WebhookEndpointRow) -> serde_json::Value {
    let origin = url::Url::parse(&e.url).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization());
    serde_json::json!({ "webhook_id": e.id, "origin": origin, "events": e.events, "format": e.format, "enabled": e.enabled })
}

async fn endpoint(c: &mut Conn<'_>, id: &str) -> Result<Option<WebhookEndpointRow>, StoreError> {
    let q = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1");
    c.optional(sql(&q).bind(id)).await
}

impl Store {
    /// Registers an endpoint; it hears of what happens from now on. Audited as
    /// `webhook_created`.
    pub async fn create_webhook(
        &self,
        e: &WebhookEndpointRow,
        audit: &AuditMeta,
    ) -> Result<WebhookEndpointRow, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("INSERT INTO webhook_endpoints (id, url, description, events, secret_sealed, enabled, \
                     after_audit_id, created_at, updated_at, format) \
                     VALUES ($1, $2, $3, $4, $5, $6, (SELECT COALESCE(MAX(id), 0) FROM audit_log), $7, $7, $8)");
        let q = q.bind(&e.id).bind(&e.url).bind(&e.description).bind(&e.events).bind(&e.secret_sealed);
        c.execute(q.bind(e.enabled).bind(e.created_at).bind(&e.format)).await?;
        let made = endpoint(&mut c, &e.id).await?.ok_or(StoreError::Other("webhook vanished".into()))?;
        insert_audit(&mut c, AuditEvent::WebhookCreated, None, &endpoint_detail(&made), e.created_at, audit)
            .await?;
        tx.commit().await?;
        Ok(made)
    }

    pub async fn list_webhooks(&self) -> Result<Vec<WebhookEndpointRow>, StoreError> {
        let q = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id");
        self.read().await?.conn().all(sql(&q)).await
    }

    pub async fn webhook(&self, id: &str) -> Result<Option<WebhookEndpointRow>, StoreError> {
        endpoint(&mut self.read().await?.conn(), id).await
    }

    /// Applies `changes` (a new secret too, when given); `None` when there is no such
    /// endpoint. Audited as `webhook_updated`.
    pub async fn update_webhook(
        &self,
        id: &str,
        changes: &WebhookChanges,
        secret_sealed: Option<&str>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<WebhookEndpointRow>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql(
            "UPDATE webhook_endpoints SET url = COALESCE($2, url), description = COALESCE($3, description), \
                     events = COALESCE($4, events), enabled = COALESCE($5, enabled), \
                     secret_sealed = COALESCE($6, secret_sealed), updated_at = $7 WHERE id = $1",
        );
        let q = q.bind(id).bind(changes.url.as_deref()).bind(changes.description.as_deref());
        let q = q.bind(changes.events.as_deref()).bind(changes.enabled).bind(secret_sealed).bind(now);
        if c.execute(q).await? == 0 {
            return Ok(None);
        }
        let Some(updated) = endpoint(&mut c, id).await? else { return Ok(None) };
        let mut detail = endpoint_detail(&updated);
        if secret_sealed.is_some() {
            detail["secret_rotated"] = true.into();
        }
        insert_audit(&mut c, AuditEvent::WebhookUpdated, None, &detail, now, audit).await?;
        tx.commit().await?;
        Ok(Some(updated))
    }

    /// Removes an endpoint and its delivery log; false when there is none. Audited as
    /// `webhook_deleted`.
    pub async fn delete_webhook(
        &self,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let Some(gone) = endpoint(&mut c, id).await? else { return Ok(false) };
        c.execute(sql("DELETE FROM webhook_deliveries WHERE endpoint_id = $1").bind(id)).await?;
        c.execute(sql("DELETE FROM webhook_endpoints WHERE id = $1").bind(id)).await?;
        insert_audit(&mut c, AuditEvent::WebhookDeleted, None, &endpoint_detail(&gone), now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The cursor, every endpoint and up to `limit` audit entries after the cursor (or
    /// after the oldest endpoint's start, if later: nothing before an endpoint existed is
    /// read). A disabled endpoint's deliveries are made all the same and wait for it.
    pub async fn webhook_backlog(&self, limit: i64) -> Result<WebhookBacklog, StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let cursor: i64 = c.scalar(sql("SELECT audit_id FROM webhook_cursor WHERE id = 1")).await?;
        let q = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints");
        let endpoints: Vec<WebhookEndpointRow> = c.all(sql(&q)).await?;
        let Some(start) = endpoints.iter().map(|e| e.after_audit_id).min() else {
            return Ok(WebhookBacklog { cursor, endpoints, entries: Vec::new() });
        };
        let q =
            sql("SELECT a.id, a.time, a.event, a.user_id, a.username, a.actor_id, NULL AS actor_username, \
                     a.ip, a.user_agent, a.detail FROM audit_log a WHERE a.id > $1 ORDER BY a.id LIMIT $2");
        let entries = c.all(q.bind(cursor.max(start)).bind(limit)).await?;
        Ok(WebhookBacklog { cursor, endpoints, entries })
    }

    /// Moves the cursor from `from` to `to` and records the deliveries, at once; false
    /// (and nothing recorded) when another instance moved the cursor first.
    pub async fn record_webhook_deliveries(
        &self,
        from: i64,
        to: i64,
        deliveries: &[NewDelivery],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE webhook_cursor SET audit_id = $2 WHERE id = 1 AND audit_id = $1");
        if c.execute(q.bind(from).bind(to)).await? == 0 {
            return Ok(false);
        }
        for d in deliveries {
            let q = sql(
                "INSERT INTO webhook_deliveries (id, endpoint_id, seq, event, payload, created_at, status, \
                         next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6) \
                         ON CONFLICT (endpoint_id, seq) DO NOTHING",
            );
            let q = q.bind(&d.id).bind(&d.endpoint_id).bind(d.seq).bind(&d.event).bind(&d.payload).bind(now);
            c.execute(q).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Leases (until `lease_until`) up to `limit` deliveries whose turn has come: each the
    /// oldest pending delivery of an enabled endpoint, due, and not leased.
    pub async fn claim_webhook_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!(
            "SELECT d.id, d.endpoint_id, e.url, e.format, e.secret_sealed, d.payload, d.attempts \
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
             WHERE d.status = 'pending' AND e.enabled = TRUE AND d.next_attempt_at <= $1 AND d.leased_until <= $1 \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id \
                               AND p.status = 'pending' AND p.seq < d.seq) \
             ORDER BY d.seq LIMIT $2{}",
            match c.backend() {
                Backend::Sqlite => "",
                // Instances claiming at once take different deliveries.
                Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            }
        );
        let due: Vec<DueDelivery> = c.all(sql(&q).bind(now).bind(limit)).await?;
        for d in &due {
            c.execute(
                sql("UPDATE webhook_deliveries SET leased_until = $2 WHERE id = $1")
                    .bind(&d.id)
                    .bind(lease_until),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(due)
    }

    /// Records an attempt: `delivered`, or `dead`, or pending again at `retry_at`.
    pub async fn record_webhook_attempt(
        &self,
        id: &str,
        now: Timestamp,
        http_status: Option<i64>,
        error: &str,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let (status, next, delivered) = match outcome {
            AttemptOutcome::Delivered => ("delivered", now, Some(now)),
            AttemptOutcome::Dead => ("dead", now, None),
            AttemptOutcome::RetryAt(at) => ("pending", at, None),
        };
        let q = sql("UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, next_attempt_at = $3, \
                     leased_until = 0, last_attempt_at = $4, last_status = $5, last_error = $6, delivered_at = $7 \
                     WHERE id = $1");
        let q = q.bind(id).bind(status).bind(next).bind(now).bind(http_status).bind(error).bind(delivered);
        let mut tx = self.write().await?;
        tx.conn().execute(q).await?;
        tx.commit().await
    }

    /// An endpoint's deliveries, newest first; only those of `status` when given.
    pub async fn list_webhook_deliveries(
        &self,
        endpoint_id: &str,
        status: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<Page<WebhookDeliveryRow>, StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        const FILTER: &str = "WHERE endpoint_id = $1 AND ($2 IS NULL OR status = $2)";
        let count_sql = format!("SELECT COUNT(*) FROM webhook_deliveries {FILTER}");
        let count: i64 = c.scalar(sql(&count_sql).bind(endpoint_id).bind(status)).await?;
        let q = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries {FILTER} ORDER BY seq DESC LIMIT $3 OFFSET $4"
        );
        let rows = c.all(sql(&q).bind(endpoint_id).bind(status).bind(limit).bind(offset)).await?;
        Ok(Page { count, rows })
    }

    /// Sends dead deliveries of the endpoint again (one, or all when `delivery_id` is
    /// `None`), in their order, from now; how many. Audited as `webhook_replayed`.
    pub async fn replay_webhook_deliveries(
        &self,
        endpoint_id: &str,
        delivery_id: Option<&str>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, \
                     leased_until = 0, last_error = '' \
                     WHERE endpoint_id = $1 AND status = 'dead' AND ($2 IS NULL OR id = $2)");
        let replayed = c.execute(q.bind(endpoint_id).bind(delivery_id).bind(now)).await?;
        if replayed > 0 {
            let detail = serde_json::json!({ "webhook_id": endpoint_id, "delivery_id": delivery_id, "count": replayed });
            insert_audit(&mut c, AuditEvent::WebhookReplayed, None, &detail, now, audit).await?;
        }
        tx.commit().await?;
        Ok(replayed)
    }
}

impl Store {
    /// Drops delivered deliveries older than `delivered_before` and dead ones older than
    /// `dead_before`: the log keeps what an operator may still look at or replay.
    pub async fn prune_webhook_deliveries(
        &self,
        delivered_before: Timestamp,
        dead_before: Timestamp,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let q = sql("DELETE FROM webhook_deliveries WHERE (status = 'delivered' AND created_at < $1) \
                     OR (status = 'dead' AND created_at < $2)");
        let pruned = tx.conn().execute(q.bind(delivered_before).bind(dead_before)).await?;
        tx.commit().await?;
        Ok(pruned)
    }
}
