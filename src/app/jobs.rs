//! What a serving instance runs beside the requests: deleting expired tokens, sessions and
//! old audit entries, reloading signing keys rotated elsewhere, dropping expired authorization requests and external sign-ins, writing the
//! uses of personal access tokens, pruning the revocation feed, folding the audit log's counters, sending the mail outbox and delivering webhooks.

use std::sync::Arc;
use std::time::Duration;

use tracing::{info, warn};

use super::cleanup::{self, Cleanup};
use super::AppState;

/// How often keys rotated by an operator (on any instance) are picked up here.
const KEY_RELOAD: Duration = Duration::from_secs(30);

/// How often the uses of personal access tokens seen here are written.
const TOKEN_USE_FLUSH: Duration = Duration::from_secs(10);

/// How often revocations no live access token can concern are dropped from the feed (and
/// the audit log's counters folded).
const FEED_PRUNE: Duration = Duration::from_secs(60);

/// How often expired authorization requests and codes are dropped.
const AUTHORIZATION_FLUSH: Duration = Duration::from_secs(300);

/// Between two batches of the cleanup: live writes get the database in between.
const CLEANUP_PAUSE: Duration = Duration::from_millis(10);

/// Starts the background jobs. The keys must have been loaded once before.
pub fn start(state: &AppState) {
    if !state.config.cleanup_interval.is_zero() {
        let (store, clock) = (Arc::clone(&state.store), Arc::clone(&state.clock));
        let cleanup = Cleanup {
            batch: cleanup::BATCH,
            audit_retention: state.config.audit_retention,
            pause: CLEANUP_PAUSE,
        };
        let period = state.config.cleanup_interval;
        tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            every.tick().await;
            loop {
                every.tick().await;
                match cleanup.run(&store, clock.now()).await {
                    Ok(d) if d.total() > 0 => info!(
                        tokens = d.tokens,
                        sessions = d.sessions,
                        audit = d.audit,
                        "expired records deleted"
                    ),
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "cleanup stopped; it resumes at the next interval"),
                }
            }
        });
    }
    let tokens = Arc::clone(&state.tokens);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(KEY_RELOAD);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = tokens.load_keys().await {
                warn!(error = %e, "could not reload signing keys; keeping the current ones");
            }
        }
    });
    // Sign-in requests nobody answered, and spent codes, are dropped as they expire:
    // `/oauth/authorize` is open to anyone, so they must not wait for an operator.
    let (store, clock) = (Arc::clone(&state.store), Arc::clone(&state.clock));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(AUTHORIZATION_FLUSH);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = store.flush_authorizations(clock.now()).await {
                warn!(error = %e, "could not drop expired authorization requests");
            }
            // Trips to external providers never come back when the person gives up.
            if let Err(e) = store.flush_external_logins(clock.now()).await {
                warn!(error = %e, "could not drop expired external sign-ins");
            }
        }
    });
    let tokens = Arc::clone(&state.tokens);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TOKEN_USE_FLUSH);
        every.tick().await;
        loop {
            every.tick().await;
            // A failed batch is kept (and warned of) for the next tick.
            let _ = tokens.flush_personal_token_uses().await;
        }
    });
    let (tokens, webhooks, store) =
        (Arc::clone(&state.tokens), Arc::clone(&state.webhooks), Arc::clone(&state.store));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(FEED_PRUNE);
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = tokens.prune_revocation_feed().await {
                warn!(error = %e, "could not prune the revocation feed");
            }
            if let Err(e) = webhooks.prune().await {
                warn!(error = %e, "could not prune the webhook delivery log");
            }
            if let Err(e) = store.fold_audit_counts().await {
                warn!(error = %e, "could not fold the audit log's counters");
            }
        }
    });
    state.notices.mailer().start_outbox();
    state.webhooks.start();
}
