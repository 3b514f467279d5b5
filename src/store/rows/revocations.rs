//! The revocation feed's entries.

use crate::domain::Timestamp;

/// One revocation: a session (`kind` `session`, `subject` its id) or every token of a
/// user issued before `at` (`kind` `user`, `subject` the user's id).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RevocationRow {
    pub seq: i64,
    pub kind: String,
    pub subject: String,
    pub at: Timestamp,
}

/// What the feed holds as a whole: its newest entry and how many there are. Changes with
/// every new entry, including one that commits after a newer one (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RevocationMark {
    pub newest: i64,
    pub count: i64,
}
