//! Many instances on one database and one Redis: the guarantees hold across processes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn three_instances_share_rotation_reuse_detection_and_throttling() {
    let db = TestDb::new();
    let prefix = format!("authenticon-test-{}", uuid::Uuid::new_v4().simple());
    let env = [
        ("AUTHENTICON_SECRET_KEY", SECRET),
        ("AUTHENTICON_REDIS_URL", "redis://127.0.0.1:6379"),
        ("AUTHENTICON_REDIS_KEY_PREFIX", prefix.as_str()),
    ];
    // Started together: they race to migrate one fresh database.
    let servers: Vec<Server> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3).map(|_| s.spawn(|| serve(&db.url, &env))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let client = crate::support::client_builder().timeout(Duration::from_secs(30)).build().unwrap();
    let post = |i: usize, path: &str, body: Value| {
        client.post(format!("{}{path}", servers[i % 3].url)).json(&body).send()
    };

    let r = post(0, "/register/", json!({"username": "alice", "password": PASSWORD})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let pair: Value = post(1, "/api/token/", json!({"username": "alice", "password": PASSWORD}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = str_of(&pair["refresh"]);

    // Twenty concurrent refreshes of one token, spread over the three instances.
    let attempts = (0..20).map(|i| post(i, "/api/token/refresh/", json!({"refresh": refresh})));
    let replies = futures::future::join_all(attempts).await;
    let mut winners = Vec::new();
    let mut refused = 0;
    for r in replies {
        let r = r.unwrap();
        match r.status() {
            StatusCode::OK => winners.push(r.json::<Value>().await.unwrap()),
            StatusCode::UNAUTHORIZED => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((winners.len(), refused), (1, 19));
    // The replays revoked the family on every instance, the winner's token included.
    let winner_refresh = str_of(&winners[0]["refresh"]);
    for i in 0..3 {
        let r = post(i, "/api/token/refresh/", json!({"refresh": winner_refresh})).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "instance {i}");
    }

    // Five failures spread over the instances throttle the sixth attempt on any of them.
    for i in 0..5 {
        let r =
            post(i, "/api/token/", json!({"username": "alice", "password": "wrong password"})).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    for i in 0..3 {
        let r = post(i, "/api/token/", json!({"username": "alice", "password": PASSWORD})).await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "instance {i}");
        assert!(r.headers().contains_key("retry-after"));
    }

    for server in servers {
        let (status, log) = server.terminate();
        assert!(status.success(), "{log}");
        assert!(!log.contains("Redis unreachable"), "{log}");
    }
}

#[tokio::test]
async fn with_redis_unreachable_an_instance_says_so_once_and_logins_go_on() {
    let db = TestDb::new();
    let server = serve(
        &db.url,
        &[("AUTHENTICON_REDIS_URL", "redis://127.0.0.1:1"), ("AUTHENTICON_SECRET_KEY", SECRET)],
    );
    let client = crate::support::new_client();
    let post = |path: &str, body: Value| client.post(format!("{}{path}", server.url)).json(&body).send();
    let r = post("/register/", json!({"username": "alice", "password": PASSWORD})).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    for _ in 0..3 {
        let r = post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (_, log) = server.terminate();
    assert_eq!(log.matches("Redis unreachable").count(), 1, "{log}");
}

#[tokio::test]
async fn hot_statements_search_indexes_instead_of_reading_whole_tables() {
    let app = spawn().await;
    let plans = app.state.store.hot_query_plans().await.unwrap();
    let names: Vec<&str> = plans.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "user by username",
            "refresh token by jti",
            "rotation batch read",
            "session list",
            "revocation feed page",
            "expired tokens cleanup",
            "expired sessions cleanup",
            "audit retention",
            "audit count by event",
            "user search count",
            "user search page",
            "audit by user",
            "audit by event",
            "audit by actor",
            "audit by time",
            "audit by event and time",
            "audit export by event",
            "audit export by event and time",
            "audit count by event and time",
            "audit count by time",
            "audit count by event within a day",
        ]
    );
    // Whole days are counted from the day counters, the part-days at the ends from the
    // index of events by time alone (not every entry in the range, nor every entry of
    // the event); a range within a day from that index alone.
    let plan = |name: &str| plans.iter().find(|p| p.name == name).unwrap();
    let reads = |name: &str, index: &str| plan(name).plan.iter().any(|step| step.contains(index));
    for (name, index) in [
        ("audit count by event and time", "audit_log_event_time"),
        ("audit count by event and time", "audit_day_counts"),
        ("audit count by time", "audit_log_time"),
        ("audit count by time", "audit_day_counts"),
        ("audit count by event within a day", "audit_log_event_time"),
    ] {
        assert!(reads(name, index), "{name}: {index}: {:#?}", plan(name));
    }
    assert!(
        !reads("audit count by event within a day", "audit_day_counts"),
        "{:#?}",
        plan("audit count by event within a day")
    );
    let scans: Vec<_> = plans.iter().filter(|p| p.reads_whole_table()).collect();
    assert!(scans.is_empty(), "{scans:#?}");
    // On PostgreSQL a search's count reads the one trigram index of both columns (its
    // page, with sorts priced out, is planned in username order here; on a large table
    // it is read from the same index and sorted).
    if app.database_url.starts_with("postgres") {
        let search = plans.iter().find(|p| p.name == "user search count").unwrap();
        assert!(search.plan.iter().any(|step| step.contains("users_search ")), "{search:#?}");
        // A page of one event (or user, or actor) takes its ids from that index alone,
        // in id order: not the log's own id index, skipping other events' entries (which
        // the planner takes to be evenly spread, and which are often a burst of refreshes).
        for (name, index) in [
            ("audit by event", "audit_log_event "),
            ("audit export by event", "audit_log_event "),
            ("audit by user", "audit_log_user "),
            ("audit by actor", "audit_log_actor "),
        ] {
            let only =
                |step: &String| step.contains("Index Only Scan Backward using ") && step.contains(index);
            assert!(plan(name).plan.iter().any(only), "{name}: {:#?}", plan(name));
        }
    }
    // A page of the log is read in id order from an index, never sorted: a page over a
    // wide time range would otherwise sort every entry in it to return fifty.
    let sorted: Vec<_> = plans
        .iter()
        .filter(|p| (p.name.starts_with("audit by") || p.name.starts_with("audit export")) && p.sorts())
        .collect();
    assert!(sorted.is_empty(), "{sorted:#?}");
    // Over a time range the index is searched between the oldest and the newest match, so
    // a page past the last match, or of a few recent entries, stops at the oldest.
    for name in ["audit by time", "audit by event and time", "audit export by event and time"] {
        let page = plans.iter().find(|p| p.name == name).unwrap();
        let bounded = |step: &String| {
            (step.contains("id>?") && step.contains("id<?"))
                || (step.contains("id >= ") && step.contains("id <= "))
        };
        assert!(page.plan.iter().any(bounded), "{page:#?}");
    }
    // The check can fail: without its index, the sessions cleanup reads every session.
    drop_index(&app.database_url, "sessions_expires").await;
    let plans = app.state.store.hot_query_plans().await.unwrap();
    let scans: Vec<&str> = plans.iter().filter(|p| p.reads_whole_table()).map(|p| p.name).collect();
    assert_eq!(scans, ["expired sessions cleanup"], "{plans:#?}");
}

async fn drop_index(url: &str, index: &str) {
    execute_on(url, &format!("DROP INDEX {index}")).await;
}

/// A log written before the day counters existed is counted into them by the migration
/// that makes them, as the triggers count entries written after it.
#[tokio::test]
async fn an_existing_audit_log_is_counted_into_the_day_counters_on_upgrade() {
    use sqlx::migrate::Migrator;
    use sqlx::Connection;
    let db = TestDb::new();
    let day = 86_400;
    // Two events over three days, ids out of time order on the middle one, and a second
    // before day 1.
    let times = [20_000 * day + 5, 20_001 * day + 70, 20_001 * day, 20_002 * day - 1, 20_003 * day, 30];
    let insert = |i: usize, t: i64| {
        let event = if i.is_multiple_of(2) { "login" } else { "logout" };
        format!("INSERT INTO audit_log (time, event, ip, user_agent, detail) VALUES ({t}, '{event}', '', '', '{{}}')")
    };
    let grouped = "SELECT event, time / 86400 AS day, COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi \
                   FROM audit_log GROUP BY event, time / 86400";
    let kept =
        "SELECT event, day, SUM(n), MIN(min_id), MAX(max_id) FROM audit_day_counts GROUP BY event, day";
    let differ = format!(
        "SELECT (SELECT COUNT(*) FROM ({grouped} EXCEPT {kept}) a) + (SELECT COUNT(*) FROM ({kept} EXCEPT {grouped}) b), \
         (SELECT COUNT(*) FROM audit_day_counts)"
    );
    // The migrations before the day counters' (PostgreSQL 0022, SQLite 0020), then the rest.
    let before = |all: Migrator, first_new: i64| Migrator {
        migrations: all
            .migrations
            .iter()
            .filter(|m| m.version < first_new)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..all
    };
    let (differing, rows): (i64, i64) = if on_postgres() {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        before(sqlx::migrate!("src/store/migrations/postgres"), 22).run(&mut c).await.unwrap();
        for (i, t) in times.iter().enumerate() {
            sqlx::query(&insert(i, *t)).execute(&mut c).await.unwrap();
        }
        sqlx::migrate!("src/store/migrations/postgres").run(&mut c).await.unwrap();
        sqlx::query_as(&differ).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&format!("{}?mode=rwc", db.url)).await.unwrap();
        before(sqlx::migrate!("src/store/migrations/sqlite"), 20).run(&mut c).await.unwrap();
        for (i, t) in times.iter().enumerate() {
            sqlx::query(&insert(i, *t)).execute(&mut c).await.unwrap();
        }
        sqlx::migrate!("src/store/migrations/sqlite").run(&mut c).await.unwrap();
        sqlx::query_as(&differ).fetch_one(&mut c).await.unwrap()
    };
    // Five rows: login on days 20000, 20001 and 20003; logout on day 20001 (two entries)
    // and day 0.
    assert_eq!((differing, rows), (0, 5));
}
