//! How many audit entries a filter selects, from the counters the database keeps (per
//! event, and per event and day) where it can, entry by entry where it must; and the ids
//! a page's walk back through the log is bounded by.

use super::audit_filters::{audit_filters_named, Named, TimeTerms};
use super::Filters;
use crate::store::db::{sql, Conn};
use crate::store::{AuditFilter, StoreError, Timestamp};

/// `Some(event)` when a page's `count` can come from the counters the triggers keep
/// (a filter by event alone, or none), `None` when the matching entries must be counted.
pub(super) fn counted_by_event(f: &AuditFilter) -> Option<Option<&str>> {
    // Every field named, so a filter added later cannot be forgotten here.
    let AuditFilter { user_id, username_key: _, actor_id, actor_key: _, event, since, until } = f;
    let only_event = user_id.is_none() && actor_id.is_none() && since.is_none() && until.is_none();
    only_event.then_some(event.as_deref())
}

/// The number of entries of one event, from the counters (migration 0018).
pub(super) const EVENT_COUNT: &str =
    "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM audit_counts WHERE event = $1";
/// The number of entries in the log, from the counters.
pub(super) const ALL_COUNT: &str = "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM audit_counts";
/// One statement, so a reader sees every row or the folded ones; rows added meanwhile by
/// others are not in its snapshot and stay.
pub(super) const FOLD_COUNTS: &str = "WITH gone AS (DELETE FROM audit_counts RETURNING event, n) \
     INSERT INTO audit_counts (event, n) SELECT event, SUM(n) FROM gone GROUP BY event HAVING SUM(n) <> 0";

/// The same for the day counters (migration 0022), for the days with more than one row
/// (today's, and those entries were deleted from since): the rest of the table, one row
/// a day, is read and left alone. A day's deleted entries lower its count, and its ids
/// stay bounds of what is left.
pub(super) const FOLD_DAY_COUNTS: &str =
    "WITH split AS (SELECT event, day FROM audit_day_counts GROUP BY event, day HAVING COUNT(*) > 1), \
     gone AS (DELETE FROM audit_day_counts c USING split s WHERE c.event = s.event AND c.day = s.day \
     RETURNING c.event, c.day, c.n, c.min_id, c.max_id) \
     INSERT INTO audit_day_counts (event, day, n, min_id, max_id) \
     SELECT event, day, SUM(n), MIN(min_id), MAX(max_id) FROM gone GROUP BY event, day HAVING SUM(n) <> 0";

/// Seconds in one of the day counters' days (UTC): an entry's day is `time / 86400`.
const DAY: i64 = 86_400;

/// A time range cut at midnight (UTC): the whole days in it, which the day counters
/// answer, and the part of a day at either end, whose entries are counted one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DaySplit {
    /// Before the first whole day: from `since` (`None`: from the start), when `since`
    /// is not at midnight.
    pub head: Option<(Option<Timestamp>, Timestamp)>,
    /// The whole days, by number: the first (1 at the earliest), and the one after the
    /// last (`None`: the range is open).
    pub days: (i64, Option<i64>),
    /// From the end of the last whole day to `until`, when `until` is not at midnight.
    pub tail: Option<(Timestamp, Timestamp)>,
}

/// How `f`'s matches are counted from the day counters, when they can be: a time range
/// that holds a whole day, about any user and by any actor (a user's or an actor's
/// entries are counted one by one, on their own index).
pub(super) fn day_split(f: &AuditFilter) -> Option<DaySplit> {
    // Every field named, so a filter added later cannot be forgotten here.
    let AuditFilter { user_id, username_key: _, actor_id, actor_key: _, event: _, since, until } = f;
    if user_id.is_some() || actor_id.is_some() || (since.is_none() && until.is_none()) {
        return None;
    }
    // The counters' days start at day 1: SQL's `time / 86400` rounds toward zero, so day
    // 0 would also hold the day before 1970. Entries before day 1 (there are none: they
    // bear the server's clock) are counted one by one, as part of the head.
    let first = match *since {
        Some(s) => s.checked_add(DAY - 1)?.div_euclid(DAY).max(1),
        None => 1,
    };
    let end = until.map(|u| u.div_euclid(DAY));
    if end.is_some_and(|end| first >= end) {
        return None;
    }
    let start = first * DAY;
    Some(DaySplit {
        head: since.is_none_or(|s| s < start).then_some((*since, start)),
        days: (first, end),
        tail: until.zip(end).filter(|&(u, end)| end * DAY < u).map(|(u, end)| (end * DAY, u)),
    })
}

/// How many entries `f` selects, and the ids of the oldest and newest of them, or bounds
/// of those (never inside the matches): see `audit_count_statement`.
pub(super) async fn count_matches(
    c: &mut Conn<'_>,
    f: &AuditFilter,
    subject: Option<Named>,
    actor: Option<Named>,
) -> Result<(i64, Option<(i64, i64)>), StoreError> {
    let (w, q) = audit_count_statement(f, subject, actor);
    let (count, oldest, newest): (i64, Option<i64>, Option<i64>) = c.one(w.bind(sql(&q))).await?;
    Ok((count, oldest.zip(newest)))
}

/// `COUNT, oldest id, newest id` of `f`'s matches. Over a range that holds whole days
/// (`day_split`), those days come from the day counters and only the part-days at the
/// ends are read entry by entry: a year of one event is 365 counter rows and two days'
/// entries instead of the year's. The counters' ids are their days' lowest and highest
/// at the time, so the two ids are bounds of the oldest and newest match (exact unless
/// entries were deleted since), which is all a page's walk needs.
pub(super) fn audit_count_statement(
    f: &AuditFilter,
    subject: Option<Named>,
    actor: Option<Named>,
) -> (Filters<'_>, String) {
    let Some(split) = day_split(f) else {
        let w = audit_filters_named(f, subject, actor, TimeTerms::Indexed);
        let q = audit_count_sql(&w);
        return (w, q);
    };
    let mut w = Filters::default();
    let mut parts = Vec::new();
    let tail = split.tail.map(|(from, to)| (Some(from), to));
    for (from, to) in [split.head, tail].into_iter().flatten() {
        if let Some(event) = f.event.as_deref() {
            w.and("a.event = ?", [event.into()]);
        }
        if let Some(from) = from {
            w.and("a.time >= ?", [from.into()]);
        }
        w.and("a.time < ?", [to.into()]);
        parts.push(format!(
            "SELECT COUNT(*) AS n, MIN(a.id) AS oldest, MAX(a.id) AS newest FROM audit_log a {}",
            w.take_where()
        ));
    }
    if let Some(event) = f.event.as_deref() {
        w.and("event = ?", [event.into()]);
    }
    w.and("day >= ?", [split.days.0.into()]);
    if let Some(end) = split.days.1 {
        w.and("day < ?", [end.into()]);
    }
    parts.push(format!(
        "SELECT CAST(SUM(n) AS BIGINT) AS n, MIN(min_id) AS oldest, MAX(max_id) AS newest FROM audit_day_counts {}",
        w.take_where()
    ));
    let q = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT), MIN(oldest), MAX(newest) FROM ({}) parts",
        parts.join(" UNION ALL ")
    );
    (w, q)
}

/// How many entries `f` selects, counted, and the oldest and newest of them: the page
/// then walks back through the log from the newest and stops at the oldest at the latest.
pub(super) fn audit_count_sql(f: &Filters<'_>) -> String {
    format!("SELECT COUNT(*), MIN(a.id), MAX(a.id) FROM audit_log a {}", f.sql())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(since: Option<i64>, until: Option<i64>) -> Option<DaySplit> {
        day_split(&AuditFilter { event: Some("login".into()), since, until, ..Default::default() })
    }

    #[test]
    fn a_range_is_cut_at_midnight_into_whole_days_and_the_parts_at_its_ends() {
        let d = |n: i64| n * DAY;
        // Both ends inside a day: the part-days and the whole days between.
        let s = split(Some(d(10) + 5), Some(d(13) + 7)).unwrap();
        assert_eq!(s.head, Some((Some(d(10) + 5), d(11))));
        assert_eq!(s.days, (11, Some(13)));
        assert_eq!(s.tail, Some((d(13), d(13) + 7)));
        // At midnight: no part-days.
        let s = split(Some(d(10)), Some(d(11))).unwrap();
        assert_eq!((s.head, s.days, s.tail), (None, (10, Some(11)), None));
        // One second on either side of a whole day.
        let s = split(Some(d(10) - 1), Some(d(11) + 1)).unwrap();
        assert_eq!(
            (s.head, s.days, s.tail),
            (Some((Some(d(10) - 1), d(10))), (10, Some(11)), Some((d(11), d(11) + 1)))
        );
        // Open ends: before the first whole day is everything from day 1 back.
        let s = split(Some(d(10) + 1), None).unwrap();
        assert_eq!((s.head, s.days, s.tail), (Some((Some(d(10) + 1), d(11))), (11, None), None));
        let s = split(None, Some(d(10) + 1)).unwrap();
        assert_eq!((s.head, s.days, s.tail), (Some((None, d(1))), (1, Some(10)), Some((d(10), d(10) + 1))));
        // Day 0, and before 1970, are read entry by entry (SQL's day 0 holds the day before).
        let s = split(Some(0), Some(d(3))).unwrap();
        assert_eq!((s.head, s.days, s.tail), (Some((Some(0), d(1))), (1, Some(3)), None));
        let s = split(Some(-5), Some(d(3))).unwrap();
        assert_eq!((s.head, s.days, s.tail), (Some((Some(-5), d(1))), (1, Some(3)), None));
        let s = split(Some(i64::MIN), Some(d(2))).unwrap();
        assert_eq!((s.head, s.days), (Some((Some(i64::MIN), d(1))), (1, Some(2))));
        // No whole day in it: counted one by one.
        assert_eq!(split(Some(d(10) + 1), Some(d(11) + 5)), None);
        assert_eq!(split(Some(d(10) + 1), Some(d(10) + 5)), None);
        assert_eq!(split(Some(d(11)), Some(d(10))), None);
        assert_eq!(split(None, Some(d(1) + 5)), None);
        assert_eq!(split(Some(-d(3)), Some(-5)), None);
        // Nor without a range, or where midnight is past the largest time.
        assert_eq!(split(None, None), None);
        assert_eq!(split(Some(i64::MAX - 5), None), None);
        assert_eq!(split(None, Some(i64::MAX)).map(|s| s.days), Some((1, Some(i64::MAX / DAY))));
        // Nor a user's or an actor's entries: their own index counts them.
        let f = AuditFilter {
            user_id: Some("u".into()),
            since: Some(d(1)),
            until: Some(d(5)),
            ..Default::default()
        };
        assert_eq!(day_split(&f), None);
        let f = AuditFilter { actor_id: Some("u".into()), since: Some(d(1)), ..Default::default() };
        assert_eq!(day_split(&f), None);
    }
}
