//! The SQL of every store method, one file per area, each written once for both
//! backends (see `store::db`).

mod audit;
mod audit_counts;
mod audit_filters;
mod external;
mod keys;
mod mail;
mod mfa;
mod oauth;
mod passkeys;
mod personal_tokens;
mod plans;
mod revocations;
mod roles;
pub(super) mod rotation;
mod sessions;
pub(super) mod user_search;
mod users;
mod webhooks;

pub use plans::QueryPlan;

use crate::store::db::{Arg, Query};

/// A `WHERE` made of the filters that are set, each with its own `$N` (numbered in the
/// order they are added). A filter left out is not in the statement at all: written as
/// `($1 IS NULL OR col = $1)` it would hide every index from SQLite's planner, and a
/// million-row table would be scanned for one user's entries.
#[derive(Default)]
pub(super) struct Filters<'q> {
    clauses: Vec<String>,
    args: Vec<Arg<'q>>,
}

impl<'q> Filters<'q> {
    /// Adds `clause`, whose `?` marks are numbered from the next free `$N`, with `args`.
    fn and<const N: usize>(&mut self, clause: &str, args: [Arg<'q>; N]) {
        let mut out = String::with_capacity(clause.len() + 8);
        for (i, part) in clause.split('?').enumerate() {
            if i > 0 {
                out.push_str(&format!("${}", self.args.len() + i));
            }
            out.push_str(part);
        }
        debug_assert_eq!(clause.matches('?').count(), N, "{clause}");
        self.clauses.push(out);
        self.args.extend(args);
    }

    /// `WHERE a AND b …`, or nothing.
    fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// The `WHERE` of the clauses added since the last call, which it forgets; their
    /// arguments stay, so that the next clauses number on. One statement's several
    /// `WHERE`s (a `UNION ALL`'s), bound together by `bind`.
    fn take_where(&mut self) -> String {
        let text = self.sql();
        self.clauses.clear();
        text
    }

    /// The `$N` the next argument after the filters' takes.
    fn next(&self) -> usize {
        self.args.len() + 1
    }

    fn bind(&self, mut q: Query<'q>) -> Query<'q> {
        for a in &self.args {
            q = q.bind(*a);
        }
        q
    }
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\'` pattern.
fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
