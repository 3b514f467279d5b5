//! Logging: human-readable by default, JSON on request; always to stderr.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber. `filter` is an `EnvFilter` directive
/// (`AUTHENTICON_LOG`); by default `info`, with SQL statements at `warn` so no bound
/// value reaches a log.
pub fn init(format: LogFormat, filter: Option<&str>) {
    let filter =
        filter.and_then(|f| EnvFilter::try_new(f).ok()).unwrap_or_else(|| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The metrics recorder is process-wide by the `metrics` crate's design (every
/// `counter!` reports to it), so it is installed once and its handle shared.
static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Latency buckets in seconds: sub-millisecond token checks up to multi-second logins.
const BUCKETS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The handle `/metrics` renders; `None` if another recorder got there first.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("seconds".into()), &BUCKETS)
                .ok()?
                .install_recorder()
                .ok()?;
            // Histograms keep raw samples until drained: without this, memory would grow
            // with traffic between scrapes (or forever, if nobody scrapes).
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("authenticon-metrics".into())
                .spawn(move || loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                })
                .ok()?;
            Some(handle)
        })
        .clone()
}
