//! Deleting what has expired — refresh-token records, sessions, audit entries past their
//! retention — a bounded batch at a time, for `flushexpiredtokens` and for the job a
//! serving instance runs. Each batch is its own short transaction: a flush of ten million
//! rows never holds a lock that live refreshes would queue behind for long.

use std::time::{Duration, Instant};

use tracing::{info, warn};

use crate::store::{self, Store, StoreError, Timestamp};

/// Rows per statement, by default. A batch of refresh tokens (three indexes each) takes a
/// few milliseconds; BENCHMARKS.md measures refreshes beside a flush of fifteen million.
pub const BATCH: i64 = 500;

/// How often a long cleanup says how far it got.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// What a cleanup deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Deleted {
    pub tokens: u64,
    pub sessions: u64,
    pub audit: u64,
}

impl Deleted {
    pub fn total(&self) -> u64 {
        self.tokens + self.sessions + self.audit
    }
}

/// What to delete and how gently.
#[derive(Debug, Clone, Copy)]
pub struct Cleanup {
    /// Audit entries older than this go; `None` keeps them all.
    pub audit_retention: Option<Duration>,
    /// Rows per statement (`BATCH`).
    pub batch: i64,
    /// The least pause between batches, leaving the database to live traffic; a batch
    /// that took longer is followed by a pause as long as itself, so a cleanup never
    /// holds the database more than half the time (on SQLite, another process's writes
    /// wait for each batch to end).
    pub pause: Duration,
}

impl Cleanup {
    /// Deletes everything expired by `now`, batch by batch, with a progress line every
    /// few seconds while it lasts.
    pub async fn run(&self, store: &Store, now: Timestamp) -> Result<Deleted, StoreError> {
        let mut pace = Pace::new();
        // Tokens first: a session's delete would cascade to all of its tokens in one
        // statement, unbounded.
        let tokens = self.drain(&mut pace, "tokens", || store.delete_expired_tokens(now, self.batch)).await?;
        let sessions =
            self.drain(&mut pace, "sessions", || store.delete_expired_sessions(now, self.batch)).await?;
        let audit = match self.audit_retention {
            Some(keep) => {
                let before = now.saturating_sub(i64::try_from(keep.as_secs()).unwrap_or(i64::MAX));
                self.drain(&mut pace, "audit entries", || store.delete_audit_before(before, self.batch))
                    .await?
            }
            None => 0,
        };
        // Optional here (the serving instances fold every minute): a failure must not
        // hide what was deleted.
        if audit > 0 {
            if let Err(e) = store.fold_audit_counts().await {
                warn!(error = %e, "could not fold the audit log's counters");
            }
        }
        let deleted = Deleted { tokens, sessions, audit };
        if deleted.total() > 0 {
            info!(
                tokens = deleted.tokens,
                sessions = deleted.sessions,
                audit = deleted.audit,
                seconds = pace.started.elapsed().as_secs(),
                longest_batch_ms = pace.longest.as_millis() as u64,
                "cleanup finished"
            );
        }
        Ok(deleted)
    }

    /// Runs `batch` until one comes back short (nothing more is left); how many rows
    /// went. Between batches: a progress line now and then, and room for live traffic.
    async fn drain<F, Fut>(&self, pace: &mut Pace, what: &str, mut batch: F) -> Result<u64, StoreError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<store::DeletedBatch, StoreError>>,
    {
        let mut total = 0;
        loop {
            let n = pace.record(batch().await?);
            total += n;
            if n < self.batch.max(1) as u64 {
                return Ok(total);
            }
            pace.progress(what, total);
            tokio::time::sleep(self.pause.max(pace.last)).await;
        }
    }
}

/// How long a cleanup has run, the longest a batch held the write lock (waiting for the
/// lock is not counted: that is the cleanup giving way), and when it last said how far
/// it got.
struct Pace {
    started: Instant,
    said: Instant,
    longest: Duration,
    last: Duration,
}

impl Pace {
    fn new() -> Self {
        Self { started: Instant::now(), said: Instant::now(), longest: Duration::ZERO, last: Duration::ZERO }
    }

    /// Notes a batch's lock time; its rows.
    fn record(&mut self, batch: store::DeletedBatch) -> u64 {
        self.last = batch.held;
        self.longest = self.longest.max(batch.held);
        batch.rows
    }

    fn progress(&mut self, what: &str, deleted: u64) {
        if self.said.elapsed() >= PROGRESS_EVERY {
            self.said = Instant::now();
            info!(
                deleted,
                seconds = self.started.elapsed().as_secs(),
                longest_batch_ms = self.longest.as_millis() as u64,
                "cleanup under way: {what}"
            );
        }
    }
}
