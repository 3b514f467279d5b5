//! The text log line, laid out as tracing-subscriber's default ("full") format lays it
//! out without colour:
//!
//! `2026-12-04T15:17:25.185366Z  INFO request{request_id=…}: authenticon::x: message key="value" n=1`
//!
//! Written here because the request line is logged at every request and the default
//! formatter was a tenth of the fastest route's CPU time: it formats the date afresh for
//! every line, styles every name and `=` (with empty styles when colour is off) and
//! escapes every string character by character. Here the date is formatted once a second
//! per thread and a plain string is copied as it is.
//!
//! Stricter than the default in one way: every value (not only the message) has its
//! control characters escaped, line breaks included, so one event is always one line and
//! nothing a client sends (a provider name, a `state`) can forge another.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The event layout (timestamp, level, spans, target, fields).
pub struct PlainText;

/// The field layout: `message` first as it is, then ` name=value` with values as
/// `Debug` shows them (strings quoted).
pub struct PlainFields;

impl<S, N> FormatEvent<S, N> for PlainText
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from crates logging through `log` carry their real target in fields.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        write_timestamp(&mut writer)?;
        writer.write_str(level_label(meta.level()))?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                    if !fields.is_empty() {
                        write!(writer, "{{{fields}}}")?;
                    }
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

fn level_label(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE ",
        Level::DEBUG => "DEBUG ",
        Level::INFO => " INFO ",
        Level::WARN => " WARN ",
        Level::ERROR => "ERROR ",
    }
}

thread_local! {
    /// The second last formatted on this thread and its `YYYY-MM-DDTHH:MM:SS.` text.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// `2026-12-04T15:17:25.185366Z ` (RFC 3339, UTC, microseconds), as the default does.
fn write_timestamp(writer: &mut Writer<'_>) -> fmt::Result {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let (secs, micros) = (now.as_secs(), now.subsec_micros());
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            *cached = secs;
            *text = second_text(secs);
        }
        writer.write_str(text)
    })?;
    let mut digits = *b"000000Z ";
    let mut rest = micros;
    for d in digits[..6].iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Six ASCII digits, 'Z' and a space.
    writer.write_str(std::str::from_utf8(&digits).unwrap_or("000000Z "))
}

/// `YYYY-MM-DDTHH:MM:SS.` for a Unix second, in UTC.
fn second_text(secs: u64) -> String {
    let t = i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl<'writer> FormatFields<'writer> for PlainFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = PlainVisitor { writer, empty: true, result: Ok(()) };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct PlainVisitor<'a> {
    writer: Writer<'a>,
    empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// The separator, then `name=` (nothing for the message); false for the fields `log`
    /// events carry their metadata in (already shown) and after an error.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        let mut result = if self.empty { Ok(()) } else { self.writer.write_char(' ') };
        self.empty = false;
        if name != "message" {
            let name = name.strip_prefix("r#").unwrap_or(name);
            result =
                result.and_then(|()| self.writer.write_str(name)).and_then(|()| self.writer.write_char('='));
        }
        self.result = result;
        self.result.is_ok()
    }

    fn escaped(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.start(field) {
            self.result = Escaping(&mut self.writer).write_fmt(value);
        }
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.escaped(field, format_args!("{value}"));
        } else if value.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
            // What `{:?}` would write, without going through it character by character.
            if self.start(field) {
                let w = &mut self.writer;
                self.result =
                    w.write_char('"').and_then(|()| w.write_str(value)).and_then(|()| w.write_char('"'));
            }
        } else {
            self.escaped(field, format_args!("{value:?}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        let name = field.name().strip_prefix("r#").unwrap_or(field.name());
        match value.source() {
            Some(source) => self.escaped(field, format_args!("{value} {name}.sources={:?}", Sources(source))),
            None => self.escaped(field, format_args!("{value}")),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.escaped(field, format_args!("{value:?}"));
    }
}

/// An error's chain of causes, as `["cause", "its cause"]`.
struct Sources<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        let mut current = Some(self.0);
        while let Some(error) = current {
            list.entry(&format_args!("{error}"));
            current = error.source();
        }
        list.finish()
    }
}

/// Control characters (C0, DEL, C1), line and paragraph separators, and the marks that
/// reorder text on screen (bidirectional overrides and isolates).
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Passes text through with the characters `needs_escape` names written as escapes.
struct Escaping<'a, 'w>(&'a mut Writer<'w>);

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(needs_escape) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            match c {
                '\n' => self.0.write_str("\\n")?,
                '\r' => self.0.write_str("\\r")?,
                '\t' => self.0.write_str("\\t")?,
                c if u32::from(c) < 0x80 => write!(self.0, "\\x{:02x}", u32::from(c))?,
                c => write!(self.0, "\\u{{{:x}}}", u32::from(c))?,
            }
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Lines {
        type Writer = Lines;
        fn make_writer(&'a self) -> Lines {
            self.clone()
        }
    }

    fn text(lines: &Lines) -> String {
        String::from_utf8(lines.0.lock().unwrap().clone()).unwrap()
    }

    /// Everything after the timestamp, which differs between the two subscribers.
    fn without_time(s: &str) -> Vec<String> {
        s.lines().map(|l| l.split_once(' ').expect("a timestamp").1.to_string()).collect()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner failed")]
    struct Inner;

    fn log_a_bit() {
        let span = tracing::info_span!("request", request_id = %"abc-1");
        let _entered = span.enter();
        tracing::info!(
            method = "GET",
            route = "/x/",
            user_id = Some("u1"),
            status = 200u16,
            duration_ms = 0.25,
            ok = true,
            "request"
        );
        tracing::warn!(quoted = "say \"hi\"\\", unicode = "é", n = -3i64, "second {}", 2);
        let error = Outer(Inner);
        tracing::error!(error = &error as &(dyn std::error::Error + 'static), "failed");
        tracing::info!(r#type = "x", "raw name");
    }

    /// What `f` logs through this module's layout.
    fn plain_lines(f: impl FnOnce()) -> String {
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines.clone())
            .with_ansi(false)
            .event_format(PlainText)
            .fmt_fields(PlainFields)
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        text(&lines)
    }

    #[test]
    fn lines_are_those_of_the_default_format_without_colour() {
        let ours = plain_lines(log_a_bit);
        let default = Lines::default();
        let subscriber = tracing_subscriber::fmt().with_writer(default.clone()).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, log_a_bit);
        let default = text(&default);
        assert_eq!(ours.lines().count(), 4, "{ours}");
        assert_eq!(without_time(&ours), without_time(&default));
        let first = ours.lines().next().unwrap();
        assert!(first.ends_with(
            r#" INFO request{request_id=abc-1}: authenticon::app::log_format::tests: request method="GET" route="/x/" user_id="u1" status=200 duration_ms=0.25 ok=true"#
        ), "{first}");
        // RFC 3339 in UTC with microseconds, then two spaces before INFO.
        let (stamp, _) = first.split_once("  INFO").unwrap();
        assert_eq!(stamp.len(), 27, "{stamp}");
        assert!(
            time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).is_ok(),
            "{stamp}"
        );
    }

    #[test]
    fn control_characters_in_any_value_cannot_break_the_line() {
        let text = plain_lines(|| {
            let provider = "evil\n2026-01-01T00:00:00.000000Z  INFO forged: admin signed in";
            tracing::warn!(provider = %provider, debug = ?provider, plain = provider, "bad\r\x1b[31mred\u{9b}");
            let span = tracing::info_span!("request", id = %"a\nb");
            let _in = span.enter();
            tracing::info!(name = %"right\u{202e}tfel\u{2028}", "in a span");
        });
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains(r"request{id=a\nb}: "), "{text}");
        assert!(text.contains(r"name=right\u{202e}tfel\u{2028}"), "{text}");
        assert!(text.contains(r"bad\r\x1b[31mred\u{9b} provider=evil\n2026"), "{text}");
        assert!(text.contains(r#"debug="evil\n2026"#) && text.contains(r#"plain="evil\n2026"#), "{text}");
    }

    #[test]
    fn the_date_is_that_of_the_current_second() {
        assert_eq!(second_text(0), "1970-01-01T00:00:00.");
        assert_eq!(second_text(1_796_397_278), "2026-12-04T15:14:38.");
        // A thread's cached second is used for that second only.
        SECOND.with_borrow_mut(|(secs, text)| {
            *secs = 1;
            *text = second_text(1);
        });
        let second = || SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let before = second();
        let mut line = String::new();
        write_timestamp(&mut Writer::new(&mut line)).unwrap();
        let after = second();
        assert!((before..=after).any(|s| line.starts_with(&second_text(s))), "{line}");
        assert!(line.ends_with("Z ") && line.len() == 28, "{line}");
    }
}
