//! An audit filter as SQL: how its user and actor are named, and its clauses for a count
//! and for a page.

use super::Filters;
use crate::store::db::{sql, Conn};
use crate::store::{AuditFilter, StoreError};

/// How a filter's user is named.
#[derive(Debug, Clone, Copy)]
pub(super) enum Named {
    /// A username (its key) of a user.
    ByName,
    /// The id of a user.
    ById,
    /// Neither (a deleted account, or a typo).
    Nobody,
}

async fn named(c: &mut Conn<'_>, value: &str, key: &str) -> Result<Named, StoreError> {
    let q = sql("SELECT (SELECT COUNT(*) FROM users WHERE username_key = $1), (SELECT COUNT(*) FROM users WHERE id = $2)");
    let (by_name, by_id): (i64, i64) = c.one(q.bind(key).bind(value)).await?;
    // SECURITY: the id first. Ids are the server's to give; a username is anyone's to
    // choose, and one registered as another user's id must not stand in for that user's
    // history.
    Ok(match (by_id, by_name) {
        (n, _) if n > 0 => Named::ById,
        (_, n) if n > 0 => Named::ByName,
        _ => Named::Nobody,
    })
}

/// How the filter's time range is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeTerms {
    /// As plain terms, which the time indexes serve: for counting, where the order of
    /// the matches does not matter.
    Indexed,
    /// As `+a.time`, which no index serves: for a page, read newest first in id order.
    /// A page planned on a time index sorts every match in the range to return fifty
    /// (1.4 s for 100,000 matches on SQLite); bounded by the ids of the oldest and the
    /// newest match instead (from the count), it walks an id index back from the newest
    /// and stops once the page is full, or at the oldest.
    Unindexed,
}

/// How the filter's subject and actor are named. A user (the subject, or the actor) may
/// be named by id or by username; each becomes one equality on an indexed column (`IN`
/// of both would read the log in id order instead, a million rows for a rare user).
/// Entries keep their username after an account is deleted, so a subject nobody holds
/// any more is also matched against those (without an index: a rare search for a
/// deleted account).
pub(super) async fn audit_names(
    c: &mut Conn<'_>,
    f: &AuditFilter,
) -> Result<(Option<Named>, Option<Named>), StoreError> {
    let subject = match f.user_id.as_deref() {
        Some(subject) => Some(named(c, subject, f.username_key.as_deref().unwrap_or(subject)).await?),
        None => None,
    };
    let actor = match f.actor_id.as_deref() {
        Some(actor) => Some(named(c, actor, f.actor_key.as_deref().unwrap_or(actor)).await?),
        None => None,
    };
    Ok((subject, actor))
}

/// A page's clauses: the filter's, and between the oldest and the newest match (their
/// ids) when the matches were counted.
pub(super) fn audit_page_filters(
    f: &AuditFilter,
    subject: Option<Named>,
    actor: Option<Named>,
    ids: Option<(i64, i64)>,
) -> Filters<'_> {
    let mut w = audit_filters_named(f, subject, actor, TimeTerms::Unindexed);
    if let Some((oldest, newest)) = ids {
        w.and("a.id >= ?", [oldest.into()]);
        w.and("a.id <= ?", [newest.into()]);
    }
    w
}

/// The filter's clauses, once it is known how the subject and the actor are named.
pub(super) fn audit_filters_named(
    f: &AuditFilter,
    subject: Option<Named>,
    actor: Option<Named>,
    time: TimeTerms,
) -> Filters<'_> {
    let mut w = Filters::default();
    if let (Some(value), Some(named)) = (f.user_id.as_deref(), subject) {
        let key = f.username_key.as_deref().unwrap_or(value);
        match named {
            Named::ByName => w.and("a.user_id = (SELECT id FROM users WHERE username_key = ?)", [key.into()]),
            Named::ById => w.and("a.user_id = ?", [value.into()]),
            Named::Nobody => w.and("(a.user_id = ? OR lower(a.username) = ?)", [value.into(), key.into()]),
        }
    }
    if let Some(event) = f.event.as_deref() {
        w.and("a.event = ?", [event.into()]);
    }
    if let (Some(value), Some(named)) = (f.actor_id.as_deref(), actor) {
        let key = f.actor_key.as_deref().unwrap_or(value);
        match named {
            Named::ByName => {
                w.and("a.actor_id = (SELECT id FROM users WHERE username_key = ?)", [key.into()])
            }
            Named::ById | Named::Nobody => w.and("a.actor_id = ?", [value.into()]),
        }
    }
    let column = if time == TimeTerms::Indexed { "a.time" } else { "+a.time" };
    if let Some(since) = f.since {
        w.and(&format!("{column} >= ?"), [since.into()]);
    }
    if let Some(until) = f.until {
        w.and(&format!("{column} < ?"), [until.into()]);
    }
    w
}
