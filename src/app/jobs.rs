//! What a serving instance runs beside the requests: reloading signing keys rotated
//! elsewhere, and sending the mail outbox.

use std::sync::Arc;
use std::time::Duration;

use tracing::warn;

use super::AppState;

/// How often keys rotated by an operator (on any instance) are picked up here.
const KEY_RELOAD: Duration = Duration::from_secs(30);

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
    state.notices.mailer().start_outbox();
}
