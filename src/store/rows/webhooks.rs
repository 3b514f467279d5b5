//! Webhook endpoints and their deliveries.

use crate::domain::Timestamp;

/// A registered endpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookEndpointRow {
    pub id: String,
    pub url: String,
    pub description: String,
    /// Event types, space-separated.
    pub events: String,
    /// `standard` (Standard Webhooks) or `set` (Security Event Tokens, RFC 8935 push).
    pub format: String,
    /// The signing secret, sealed.
    pub secret_sealed: String,
    pub enabled: bool,
    /// It hears of audit entries after this one.
    pub after_audit_id: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookEndpointRow {
    pub fn event_types(&self) -> impl Iterator<Item = &str> {
        self.events.split_whitespace()
    }
}

/// What may change of an endpoint; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<String>,
    pub enabled: Option<bool>,
}

/// One delivery, for the log.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookDeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub seq: i64,
    pub event: String,
    pub payload: String,
    pub created_at: Timestamp,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status: Option<i64>,
    pub last_error: String,
    pub delivered_at: Option<Timestamp>,
}

/// A delivery to make from an audit entry.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: String,
    pub endpoint_id: String,
    pub seq: i64,
    pub event: String,
    pub payload: String,
}

/// A delivery whose turn has come (the oldest pending one of its endpoint), leased.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DueDelivery {
    pub id: String,
    pub endpoint_id: String,
    pub url: String,
    pub format: String,
    pub secret_sealed: String,
    pub payload: String,
    pub attempts: i64,
}

/// What turning the audit log into deliveries reads: the cursor, the enabled endpoints,
/// and the audit entries after the cursor (`AuditRow`s, oldest first).
#[derive(Debug, Clone)]
pub struct WebhookBacklog {
    pub cursor: i64,
    pub endpoints: Vec<WebhookEndpointRow>,
    pub entries: Vec<super::AuditRow>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Refused for good, or out of retries: kept for replay.
    Dead,
    RetryAt(Timestamp),
}
