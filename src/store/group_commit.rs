//! Group commit for refresh-token rotations. Every rotation is a write, and writes are
//! serialised (SQLite has one writer; on PostgreSQL each costs round trips under a row
//! lock): one transaction per rotation capped refreshes at a few thousand a second. Here
//! rotations queue, and a writer takes all that are waiting (up to a bound,
//! `AUTHENTICON_ROTATION_BATCH`, 64 by default) into one
//! transaction: one `BEGIN`, one read of their tokens and sessions (locked), one read
//! of their users with roles, one statement of writes, one `COMMIT`. A rotation never waits for company: one that finds the writer idle goes at
//! once, alone; those that arrive while a batch commits go together in the next, so the
//! longest a rotation waits is the batch ahead of it.
//!
//! If a batch fails, each of its rotations is tried again alone, so one bad request
//! never fails the others. A rotation finding its token spent by itself (the batch
//! committed, but the answer was lost) stands as rotated, not as reuse.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, Mutex};

use super::sql::rotation::{rotate_batch, RotationRequest};
use super::{begin_write, Pools, RotateOutcome, StoreError};

/// Rotations waiting beyond this many make their callers wait to queue (back-pressure).
const QUEUE: usize = 4_096;

struct Pending {
    req: RotationRequest,
    reply: oneshot::Sender<Result<RotateOutcome, StoreError>>,
}

/// The queue in front of the rotation writers. Dropping it stops them.
pub struct RotationQueue {
    tx: mpsc::Sender<Pending>,
}

impl RotationQueue {
    /// Starts `writers` writers on `pools` (one for SQLite, which writes one transaction at
    /// a time anyway; a few for PostgreSQL, whose row locks let batches of different
    /// tokens commit side by side).
    /// Batches take at most `max_batch` rotations.
    pub fn start(pools: Pools, writers: usize, max_batch: usize) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..writers.max(1) {
            tokio::spawn(writer(pools.clone(), Arc::clone(&rx), max_batch.max(1)));
        }
        Self { tx }
    }

    pub async fn rotate(&self, req: RotationRequest) -> Result<RotateOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the rotation writer stopped".into());
        self.tx.send(Pending { req, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn writer(pools: Pools, rx: Arc<Mutex<mpsc::Receiver<Pending>>>, max_batch: usize) {
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            batch
        };
        // A caller that gave up (its request timed out, its client left) is not
        // rotated for: its client would never learn the successor, and presenting the
        // spent token again would then look like theft.
        let (reqs, replies): (Vec<_>, Vec<_>) =
            batch.into_iter().filter(|p| !p.reply.is_closed()).map(|p| (p.req, p.reply)).unzip();
        if reqs.is_empty() {
            continue;
        }
        metrics::histogram!("authenticon_rotation_batch_size").record(reqs.len() as f64);
        let results = match commit(&pools, &reqs).await {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(_) if reqs.len() > 1 => {
                let mut results = Vec::with_capacity(reqs.len());
                for (req, reply) in reqs.iter().zip(&replies) {
                    if reply.is_closed() {
                        results.push(Err(StoreError::Unavailable("the caller left".into())));
                        continue;
                    }
                    results.push(commit(&pools, std::slice::from_ref(req)).await.map(|mut o| o.remove(0)));
                }
                results
            }
            Err(e) => vec![Err(e)],
        };
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// One transaction for `reqs`; their outcomes in order.
async fn commit(pools: &Pools, reqs: &[RotationRequest]) -> Result<Vec<RotateOutcome>, StoreError> {
    let mut tx = begin_write(pools).await?;
    let outcomes = rotate_batch(&mut tx.conn(), reqs).await?;
    tx.commit().await?;
    Ok(outcomes)
}
