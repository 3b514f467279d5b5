//! Reading the audit log: filtered pages, an export of any size a page at a time, and
//! the administrators' overview (events counted per hour or day). Events are written by
//! the store, inside the transaction of the change they record, so the log cannot
//! disagree with the data.

use std::sync::Arc;

use crate::domain::{
    normalize_username, rfc3339, username_key, Clock, FieldErrors, Timestamp, MAX_USERNAME_CHARS,
};
use crate::store::{AuditEvent, AuditFilter, AuditMeta, AuditRow, ExportCursor, Page, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("invalid filter")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to read of the log; every part optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The user the events are about: an id or a username.
    pub user: Option<String>,
    /// Who acted: an id or a username.
    pub actor: Option<String>,
    pub event: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
}

/// The overview's periods: the last day by the hour, the last month by the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Month,
}

impl Period {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "24h" => Some(Period::Day),
            "30d" => Some(Period::Month),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Day => "24h",
            Period::Month => "30d",
        }
    }

    /// (buckets, seconds per bucket)
    fn shape(self) -> (i64, i64) {
        match self {
            Period::Day => (24, 3_600),
            Period::Month => (30, 86_400),
        }
    }
}

/// The events the overview charts.
pub const OVERVIEW_EVENTS: [AuditEvent; 5] = [
    AuditEvent::Login,
    AuditEvent::LoginFailed,
    AuditEvent::Throttled,
    AuditEvent::RefreshReuseDetected,
    AuditEvent::Register,
];

/// Events per bucket over a period, oldest bucket first.
pub struct Overview {
    pub period: Period,
    pub bucket_secs: i64,
    /// The start of each bucket.
    pub buckets: Vec<Timestamp>,
    /// Per event, one count per bucket.
    pub series: Vec<(AuditEvent, Vec<i64>)>,
}

pub struct Audit {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
}

impl Audit {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Every event name, for filters.
    pub fn events() -> Vec<&'static str> {
        AuditEvent::ALL.iter().map(|e| e.as_str()).collect()
    }

    fn filter(q: &AuditQuery) -> Result<AuditFilter, AuditError> {
        if let Some(e) = &q.event {
            if !AuditEvent::ALL.iter().any(|known| known.as_str() == e) {
                return Err(AuditError::Invalid(FieldErrors::one(
                    "event",
                    format!("Select a valid choice. {e} is not one of the available choices."),
                )));
            }
        }
        let key = |u: &String| username_key(&normalize_username(u.trim()));
        Ok(AuditFilter {
            user_id: q.user.clone(),
            username_key: q.user.as_ref().map(key),
            actor_id: q.actor.clone(),
            actor_key: q.actor.as_ref().map(key),
            event: q.event.clone(),
            since: q.since,
            until: q.until,
        })
    }

    /// Newest first, a page at a time.
    pub async fn list(&self, q: &AuditQuery, offset: i64, limit: i64) -> Result<Page<AuditRow>, AuditError> {
        Ok(self.store.list_audit(&Self::filter(q)?, offset, limit).await?)
    }

    /// The filter an export reads with, checked before the export starts; the export is
    /// itself recorded (`audit_exported`, by the administrator, with the filters as
    /// applied): reading the log out is an access worth a trace of its own. It fails the
    /// export when it cannot be written: no export goes unrecorded.
    pub async fn start_export(&self, q: &AuditQuery, audit: &AuditMeta) -> Result<AuditFilter, AuditError> {
        let filter = Self::filter(q)?;
        let mut filters = serde_json::Map::new();
        for (name, value) in [("user", &q.user), ("actor", &q.actor), ("event", &q.event)] {
            if let Some(value) = value {
                // No longer than a username (a longer one matches nobody): the caller
                // does not choose how much the entry holds.
                let value: String = value.chars().take(MAX_USERNAME_CHARS).collect();
                filters.insert(name.into(), value.into());
            }
        }
        for (name, value) in [("since", q.since), ("until", q.until)] {
            if let Some(t) = value {
                filters.insert(name.into(), rfc3339(t).into());
            }
        }
        let detail = serde_json::json!({ "filters": filters });
        self.store.record_audit(AuditEvent::AuditExported, None, &detail, self.clock.now(), audit).await?;
        Ok(filter)
    }

    /// The next entries of an export from `cursor` on, newest first, and where the
    /// page after starts.
    pub async fn export_page(
        &self,
        filter: &AuditFilter,
        cursor: ExportCursor,
        limit: i64,
    ) -> Result<(Vec<AuditRow>, ExportCursor), AuditError> {
        Ok(self.store.audit_after(filter, cursor, limit).await?)
    }

    /// The overview: how many sign-ins, failures, throttled attempts, reuse alarms and
    /// registrations happened in each hour of the last day, or each day of the last 30.
    pub async fn overview(&self, period: Period) -> Result<Overview, AuditError> {
        let (count, secs) = period.shape();
        // Buckets end with the current one: the period is aligned to whole buckets.
        let until = (self.clock.now() / secs + 1) * secs;
        let since = until - count * secs;
        let rows = self.store.count_events(&OVERVIEW_EVENTS, since, until, secs).await?;
        let series = OVERVIEW_EVENTS
            .iter()
            .map(|event| {
                let mut counts = vec![0i64; count as usize];
                for r in rows.iter().filter(|r| r.event == event.as_str()) {
                    if let Some(slot) = usize::try_from(r.bucket).ok().and_then(|b| counts.get_mut(b)) {
                        *slot += r.count;
                    }
                }
                (*event, counts)
            })
            .collect();
        let buckets = (0..count).map(|i| since + i * secs).collect();
        Ok(Overview { period, bucket_secs: secs, buckets, series })
    }
}
