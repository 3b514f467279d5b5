//! `authenticon serve`: migrate, load keys, start the background jobs, listen (the API,
//! and the metrics address if it has its own), and on SIGTERM stop accepting, finish
//! the requests in flight and the mails being sent.

use std::time::Duration;

use anyhow::Context;
use tracing::{info, warn};

use crate::app::{jobs, memory, AppState};
use crate::crypto::secret_key::SecretSource;
use crate::http::server::{self, ConnectionLimits};

/// How long a shutdown waits for the mails being sent.
const MAIL_DRAIN: Duration = Duration::from_secs(30);

fn report_secret(source: &SecretSource) {
    match source {
        SecretSource::Generated(path) => warn!(
            path = %path.display(),
            "no AUTHENTICON_SECRET_KEY set: generated a signing secret and saved it (mode 0600) beside the database"
        ),
        SecretSource::Ephemeral => {
            warn!("no AUTHENTICON_SECRET_KEY set: using a random secret for this in-memory database")
        }
        SecretSource::File(_) | SecretSource::Configured => {}
    }
}

pub async fn serve(state: AppState, secret_source: &SecretSource) -> anyhow::Result<()> {
    report_secret(secret_source);
    state.store.migrate().await.context("applying migrations")?;
    state.tokens.load_keys().await.context("loading signing keys")?;
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    memory::release_freed();
    let bind = state.config.bind;
    let listener =
        tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    info!(%addr, "listening on http://{addr}");
    let mailer = state.notices.mailer().clone();
    info!(mail = %mailer.describe(), "mail goes out by this route");
    if mailer.writes_files() {
        warn!(mail = %mailer.describe(),
            "no AUTHENTICON_SMTP_URL: mails are only written to files; set it before users rely on reset links");
    }
    jobs::start(&state);
    if let Some(warning) = state.config.public_url_warning() {
        warn!("{warning}");
    }
    let limits = ConnectionLimits::from(&*state.config);
    if let Some(metrics_addr) = state.config.metrics_bind {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {metrics_addr} (AUTHENTICON_METRICS_BIND)"))?;
        info!(addr = %metrics_listener.local_addr()?, "metrics on their own address");
        let router = crate::http::metrics_router(state.clone());
        tokio::spawn(server::serve_forever(metrics_listener, router, limits));
    }
    server::serve(listener, crate::http::app(state.clone()), limits, shutdown).await?;
    if let Err(e) = state.tokens.flush_personal_token_uses().await {
        warn!(error = %e, "could not write the last uses of personal access tokens");
    }
    let (mails, webhooks) = tokio::join!(mailer.drain(MAIL_DRAIN), state.webhooks.drain(MAIL_DRAIN));
    if !mails {
        warn!("gave up waiting for mails still being sent");
    }
    if !webhooks {
        warn!("gave up waiting for webhook deliveries under way; they will be sent again");
    }
    info!("shut down cleanly");
    Ok(())
}

/// SIGINT or SIGTERM: stop accepting, let in-flight requests finish. The handlers are
/// installed here, before the server says it is listening: a future that installed them
/// on its first poll left a window in which a prompt SIGTERM killed the process outright.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        info!("shutdown signal received; finishing in-flight requests");
    })
}
