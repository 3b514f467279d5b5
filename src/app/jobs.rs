//! What a serving instance runs beside the requests: reloading signing keys rotated
//! elsewhere, dropping expired authorization requests and external sign-ins, writing the
//! uses of personal access tokens, pruning the revocation feed, sending the mail outbox and delivering webhooks.

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::AppState;

/// How often keys rotated by an operator (on any instance) are picked up here.
const KEY_RELOAD: Duration = Duration::from_secs(30);

/// How often the uses of personal access tokens seen here are written.
const TOKEN_USE_FLUSH: Duration = Duration::from_secs(10);

/// How often revocations no live access token can concern are dropped from the feed.
const FEED_PRUNE: Duration = Duration::from_secs(60);

/// How often expired authorization requests and codes are dropped.
const AUTHORIZATION_FLUSH: Duration = Duration::from_secs(300);

/// Starts the background jobs. The keys must have been loaded once before.
pub fn start(state: &AppState) {
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
    let (tokens, webhooks) = (Arc::clone(&state.tokens), Arc::clone(&state.webhooks));
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
        }
    });
    state.notices.mailer().start_outbox();
    state.webhooks.start();
}
