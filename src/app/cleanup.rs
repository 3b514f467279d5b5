//! Deleting what has expired — refresh-token records, sessions, audit entries past their
//! retention — a bounded batch at a time, for `flushexpiredtokens` and for the job a
//! serving instance runs. Each batch is its own short transaction: a flush of ten million
//! rows never holds a lock that live refreshes would queue behind for long.

use std::time::{Duration, Instant};

use tracing::info;

use crate::store::{Store, StoreError, Timestamp};

/// Rows per statement, by default. A batch of refresh tokens (three indexes each) takes a few
/// milliseconds; BENCHMARKS.md measures refreshes beside a flush of ten million.
pub const BATCH: i64 = 2_000;

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
    /// A pause between batches, leaving the database to live traffic (zero from the
    /// command line, where an operator waits for the end).
    pub pause: Duration,
}

impl Cleanup {
    /// Deletes everything expired by `now`, batch by batch, with a progress line every
    /// few seconds while it lasts.
    pub async fn run(&self, store: &Store, now: Timestamp) -> Result<Deleted, StoreError> {
        let mut deleted = Deleted::default();
        let mut pace = Pace::new();
        // Tokens first: a session's delete would cascade to all of its tokens in one
        // statement, unbounded.
        loop {
            let n = pace.time(store.delete_expired_tokens(now, self.batch)).await?;
            deleted.tokens += n;
            if !self.full(n) {
                break;
            }
            self.rest(&mut pace, &deleted).await;
        }
        loop {
            let n = pace.time(store.delete_expired_sessions(now, self.batch)).await?;
            deleted.sessions += n;
            if !self.full(n) {
                break;
            }
            self.rest(&mut pace, &deleted).await;
        }
        if let Some(keep) = self.audit_retention {
            let before = now.saturating_sub(i64::try_from(keep.as_secs()).unwrap_or(i64::MAX));
            loop {
                let n = pace.time(store.delete_audit_before(before, self.batch)).await?;
                deleted.audit += n;
                if !self.full(n) {
                    break;
                }
                self.rest(&mut pace, &deleted).await;
            }
        }
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

    /// A full batch: more may be left.
    fn full(&self, n: u64) -> bool {
        n >= self.batch.max(1) as u64
    }

    /// Between batches: a progress line now and then, and room for live traffic.
    async fn rest(&self, pace: &mut Pace, so_far: &Deleted) {
        pace.progress(so_far);
        if self.pause.is_zero() {
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(self.pause).await;
        }
    }
}

/// How long a cleanup has run, its slowest batch (each batch is one transaction: the
/// longest any lock was held), and when it last said how far it got.
struct Pace {
    started: Instant,
    said: Instant,
    longest: Duration,
}

impl Pace {
    fn new() -> Self {
        Self { started: Instant::now(), said: Instant::now(), longest: Duration::ZERO }
    }

    async fn time<T>(&mut self, batch: impl std::future::Future<Output = T>) -> T {
        let t0 = Instant::now();
        let out = batch.await;
        self.longest = self.longest.max(t0.elapsed());
        out
    }

    fn progress(&mut self, d: &Deleted) {
        if self.said.elapsed() >= PROGRESS_EVERY {
            self.said = Instant::now();
            info!(
                tokens = d.tokens,
                sessions = d.sessions,
                audit = d.audit,
                seconds = self.started.elapsed().as_secs(),
                "cleanup under way"
            );
        }
    }
}
