//! The statements that must stay fast however large the tables grow, and the plans the
//! database makes for them: a test (on both stores) and `authenticon check` refuse a
//! plan that reads a whole table.

use super::audit::{audit_page_sql, delete_audit_before_sql, export_page_statement};
use super::audit_counts::{audit_count_statement, counted_by_event, EVENT_COUNT};
use super::audit_filters::{audit_page_filters, Named};
use super::revocations::FEED_PAGE;
use super::rotation::locked_states_sql;
use super::sessions::{
    delete_expired_sessions_sql, delete_expired_tokens_sql, token_state_sql, LIST_SESSIONS,
};
use super::user_search::Search;
use super::users::{list_statements, USER_BY_KEY};
use crate::store::db::{sql, Arg, Backend, Conn};
use crate::store::{AuditFilter, Store, StoreError, UserFilter};

/// A hot statement's plan.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    pub name: &'static str,
    pub plan: Vec<String>,
}

impl QueryPlan {
    /// Whether a step reads a whole table (SQLite `SCAN t`; PostgreSQL `Seq Scan`),
    /// rather than searching an index.
    pub fn reads_whole_table(&self) -> bool {
        // SQLite reads a subquery's few rows as `SCAN <name>` after making them
        // (`CO-ROUTINE <name>`, `MATERIALIZE <name>`): no table is read there.
        let made: Vec<&str> = self
            .plan
            .iter()
            .filter_map(|line| line.strip_prefix("CO-ROUTINE ").or_else(|| line.strip_prefix("MATERIALIZE ")))
            .collect();
        self.plan.iter().any(|line| {
            let line = line.trim_start_matches([' ', '-', '>']);
            if line.strip_prefix("SCAN ").is_some_and(|name| made.contains(&name)) {
                return false;
            }
            // A virtual table (the trigram index) searched by MATCH shows as
            // `SCAN s VIRTUAL TABLE INDEX 0:M…`: its own index serves it.
            let searched_virtual = line.contains(" VIRTUAL TABLE INDEX ") && line.contains(":M");
            line.contains("Seq Scan")
                || (line.starts_with("SCAN ") && !line.starts_with("SCAN CONSTANT ROW") && !searched_virtual)
        })
    }

    /// Whether a step sorts what it read (SQLite `USE TEMP B-TREE FOR ORDER BY`;
    /// PostgreSQL `Sort`): a page planned so reads every match to return a few.
    pub fn sorts(&self) -> bool {
        self.plan.iter().any(|line| line.contains("TEMP B-TREE FOR ORDER BY") || line.contains("Sort"))
    }
}

impl Store {
    /// The plans of the statements on the hot paths (login, rotation, the sessions page,
    /// the audit log, the feed, cleanup). On PostgreSQL sequential scans and sorts are
    /// priced out while planning, so that an empty table (where a scan and a sort are
    /// cheapest) still shows whether an index could serve.
    pub async fn hot_query_plans(&self) -> Result<Vec<QueryPlan>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let backend = c.backend();
        match backend {
            Backend::Postgres => {
                c.execute(sql("SET LOCAL enable_seqscan = off")).await?;
                // Likewise sorts: a page that an index could read in order shows so.
                c.execute(sql("SET LOCAL enable_sort = off")).await?
            }
            // A plan is made from the schema the connection last read; reading the
            // schema table makes it notice indexes made or dropped by others since.
            Backend::Sqlite => c.execute(sql("SELECT COUNT(*) FROM sqlite_master")).await?,
        };
        let (id, key, t): (&str, &str, i64) =
            ("00000000-0000-0000-0000-000000000000", "alice", 1_700_000_000);
        let rotation = locked_states_sql(backend, 3);
        let (tokens, sessions, audit_log) =
            (delete_expired_tokens_sql(500), delete_expired_sessions_sql(500), delete_audit_before_sql(500));
        let token = token_state_sql(backend, true);
        let mut plans = Vec::new();
        let fixed: [(&'static str, &str, Vec<Arg<'_>>); 9] = [
            ("user by username", USER_BY_KEY, vec![key.into()]),
            ("refresh token by jti", &token, vec![id.into()]),
            ("rotation batch read", &rotation, vec![id.into(), key.into(), "x".into()]),
            ("session list", LIST_SESSIONS, vec![id.into(), t.into()]),
            ("revocation feed page", FEED_PAGE, vec![0i64.into(), t.into(), 1000i64.into()]),
            ("expired tokens cleanup", &tokens, vec![t.into()]),
            ("expired sessions cleanup", &sessions, vec![t.into()]),
            ("audit retention", &audit_log, vec![t.into(), i64::MAX.into()]),
            ("audit count by event", EVENT_COUNT, vec!["login".into()]),
        ];
        for (name, text, args) in fixed {
            plans.push(plan(&mut c, name, text, &args).await?);
        }
        let audit = [
            (
                "audit by user",
                AuditFilter {
                    user_id: Some(key.into()),
                    username_key: Some(key.into()),
                    ..Default::default()
                },
            ),
            ("audit by event", AuditFilter { event: Some("login".into()), ..Default::default() }),
            (
                "audit by actor",
                AuditFilter { actor_id: Some(key.into()), actor_key: Some(key.into()), ..Default::default() },
            ),
            ("audit by time", AuditFilter { since: Some(t), until: Some(t + 3600), ..Default::default() }),
            (
                "audit by event and time",
                AuditFilter { event: Some("login".into()), since: Some(t), ..Default::default() },
            ),
        ];
        let filter = UserFilter { search: "alice".into(), ..Default::default() };
        let search = Search::new(&filter.search, &Default::default());
        let (f, count, page) = list_statements(backend, &filter, &search);
        let steps = c.plan(f.bind(sql(&count))).await?;
        plans.push(QueryPlan { name: "user search count", plan: steps });
        let steps = c.plan(f.bind(sql(&page)).bind(50i64).bind(0i64)).await?;
        plans.push(QueryPlan { name: "user search page", plan: steps });
        // Users named as they usually are: by the username of an account that exists.
        for (name, filter) in &audit {
            // Between the oldest and newest match whenever they were counted, as served.
            let ids = counted_by_event(filter).is_none().then_some((1, i64::MAX));
            let f = audit_page_filters(filter, Some(Named::ByName), Some(Named::ByName), ids);
            let q = audit_page_sql(&f, backend);
            let steps = c.plan(f.bind(sql(&q)).bind(50i64).bind(0i64)).await?;
            plans.push(QueryPlan { name, plan: steps });
        }
        // An export by event, and one over a time range past its first page.
        let exports = [
            (
                "audit export by event",
                AuditFilter { event: Some("login".into()), ..Default::default() },
                i64::MIN,
            ),
            (
                "audit export by event and time",
                AuditFilter { event: Some("login".into()), since: Some(t), ..Default::default() },
                1,
            ),
        ];
        for (name, filter, oldest) in &exports {
            let (f, q) = export_page_statement(filter, None, None, (*oldest, i64::MAX), backend);
            let steps = c.plan(f.bind(sql(&q)).bind(500i64).bind(0i64)).await?;
            plans.push(QueryPlan { name, plan: steps });
        }
        // Counts over a time range: whole days from the day counters, the part-days at the
        // ends entry by entry; a range within a day entry by entry.
        let counts = [
            (
                "audit count by event and time",
                AuditFilter { event: Some("login".into()), since: Some(t), ..Default::default() },
            ),
            (
                "audit count by time",
                AuditFilter { since: Some(t), until: Some(t + 30 * 86_400), ..Default::default() },
            ),
            (
                "audit count by event within a day",
                AuditFilter {
                    event: Some("login".into()),
                    since: Some(t),
                    until: Some(t + 3600),
                    ..Default::default()
                },
            ),
        ];
        for (name, filter) in &counts {
            let (f, q) = audit_count_statement(filter, None, None);
            let steps = c.plan(f.bind(sql(&q))).await?;
            plans.push(QueryPlan { name, plan: steps });
        }
        Ok(plans)
    }
}

async fn plan(
    c: &mut Conn<'_>,
    name: &'static str,
    text: &str,
    args: &[Arg<'_>],
) -> Result<QueryPlan, StoreError> {
    let mut q = sql(text);
    for a in args {
        q = q.bind(*a);
    }
    Ok(QueryPlan { name, plan: c.plan(q).await? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(steps: &[&str]) -> QueryPlan {
        QueryPlan { name: "t", plan: steps.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn a_subquery_read_back_is_not_a_table_read() {
        let union = ["CO-ROUTINE parts", "SEARCH a USING INDEX audit_log_time (time>?)", "SCAN parts"];
        assert!(!plan(&union).reads_whole_table());
        assert!(!plan(&["MATERIALIZE m", "SEARCH a USING INDEX i (x=?)", "SCAN m"]).reads_whole_table());
        // A table of the subquery's name, or any other, still counts.
        assert!(plan(&["CO-ROUTINE parts", "SCAN audit_log", "SCAN parts"]).reads_whole_table());
        assert!(plan(&["SCAN parts"]).reads_whole_table());
        assert!(plan(&["  ->  Seq Scan on users"]).reads_whole_table());
    }
}
