//! Logging: human-readable by default, JSON on request; always to stderr.

use std::io::IsTerminal;

use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::EnvFilter;

use super::log_format::{PlainFields, PlainText};
use super::log_writer::{self, BatchedWriterGuard};
use crate::config::LogFormat;

/// Installs the global subscriber and returns what must live until the process ends
/// (dropping it writes out the lines still queued). `filter` is an `EnvFilter` directive
/// (`AUTHENTICON_LOG`); by default `info`, with SQL statements at `warn` so no bound
/// value reaches a log.
///
/// For `serve` (`queued`), lines are formatted where they are logged but written by a
/// thread of their own, in batches (`log_writer`): written one `write` each on the
/// request's thread, the request line cost a twelfth of the fastest route's throughput.
/// Lines still pending when the process is killed (not stopped) are lost. One-shot
/// commands write straight to stderr, in order with what they print themselves.
pub fn init(format: LogFormat, filter: Option<&str>, queued: bool) -> Option<BatchedWriterGuard> {
    let filter =
        filter.and_then(|f| EnvFilter::try_new(f).ok()).unwrap_or_else(|| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::stderr().is_terminal();
    let (writer, guard) = match queued.then(|| log_writer::batched(std::io::stderr())) {
        Some(Ok((writer, guard))) => (BoxMakeWriter::new(writer), Some(guard)),
        // No thread to be had (or a one-shot command): straight to stderr.
        _ => (BoxMakeWriter::new(std::io::stderr), None),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    let _ = match format {
        // In colour (a terminal), the default look with values escaped as below;
        // otherwise the same line, cheaper.
        LogFormat::Text if ansi => builder.fmt_fields(PlainFields).try_init(),
        LogFormat::Text => builder.event_format(PlainText).fmt_fields(PlainFields).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    guard
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
