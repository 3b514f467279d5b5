//! Logging: human-readable by default, JSON on request; always to stderr.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `AUTHENTICON_LOG` takes an `EnvFilter` directive
/// (default `info`); SQL statements stay at `warn` so no bound value reaches a log.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("AUTHENTICON_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
