//! The audit log as CSV, streamed: each chunk of the body is one page read from the store
//! (keyset by id, newest first), so an export of any size holds one page in memory and no
//! connection between pages.

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;

use super::AuditEntry;
use crate::app::AppState;
use crate::store::{AuditFilter, ExportCursor};

/// Entries read from the store per chunk.
const PAGE: i64 = 500;

const HEADER: &str = "id,time,event,user_id,username,actor_id,actor_username,ip,user_agent,detail\r\n";

/// Where the export stands between chunks.
enum Next {
    Header,
    Page(ExportCursor),
}

pub fn stream(app: AppState, filter: AuditFilter) -> Body {
    let chunks = stream::unfold((Next::Header, app, filter), |(next, app, filter)| async move {
        let cursor = match next {
            Next::Header => {
                let start = Next::Page(ExportCursor::Start);
                return Some((Ok(Bytes::from_static(HEADER.as_bytes())), (start, app, filter)));
            }
            Next::Page(ExportCursor::Done) => return None,
            Next::Page(cursor) => cursor,
        };
        match app.audit.export_page(&filter, cursor, PAGE).await {
            Ok((rows, _)) if rows.is_empty() => None,
            Ok((rows, next)) => {
                let text: String = rows.into_iter().map(|r| line(&AuditEntry::from(r))).collect();
                Some((Ok(Bytes::from(text)), (Next::Page(next), app, filter)))
            }
            Err(e) => {
                // The answer has started: all that is left is to end it short (the client
                // sees a broken transfer, not a complete-looking file).
                tracing::error!(error = %e, "audit export stopped");
                Some((
                    Err(std::io::Error::other("audit export stopped")),
                    (Next::Page(ExportCursor::Done), app, filter),
                ))
            }
        }
    });
    Body::from_stream(chunks)
}

fn line(e: &AuditEntry) -> String {
    let fields = [
        e.id.to_string(),
        e.time.clone(),
        e.event.clone(),
        e.user_id.clone().unwrap_or_default(),
        e.username.clone().unwrap_or_default(),
        e.actor_id.clone().unwrap_or_default(),
        e.actor_username.clone().unwrap_or_default(),
        e.ip.clone(),
        e.user_agent.clone(),
        e.detail.to_string(),
    ];
    let mut out = fields.iter().map(|f| field(f)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// One RFC 4180 field. SECURITY: a value a spreadsheet would run as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return, after any spaces a spreadsheet
/// may trim, Unicode ones included; a username or a user agent may) gets a leading `'`,
/// as OWASP advises against CSV injection.
fn field(value: &str) -> String {
    let first = value.chars().find(|c| !c.is_whitespace() || matches!(c, '\t' | '\r'));
    let value = match first {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("alice"), "alice");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(field("-alice"), "'-alice");
        assert_eq!(field("@bob"), "'@bob");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
        // Spaces a spreadsheet may trim on import do not hide a formula.
        assert_eq!(field(" =1+1"), "' =1+1");
        assert_eq!(field("\u{a0}=HYPERLINK(x)"), "'\u{a0}=HYPERLINK(x)");
        assert_eq!(field("\u{3000}@SUM(A1)"), "'\u{3000}@SUM(A1)");
        assert_eq!(field("a - b"), "a - b");
    }
}
