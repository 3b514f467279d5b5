//! Deleting what expired: refresh tokens, sessions, audit entries past their retention —
//! in bounded batches, never what is still live.

use std::time::Duration;

use authenticon::app::cleanup::{Cleanup, Deleted};
use authenticon::domain::Clock;
use authenticon::store::AuditFilter;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// Refreshes `refresh` `times` times; returns the last token.
async fn refreshed(app: &TestApp, mut refresh: String, times: usize) -> String {
    for _ in 0..times {
        let r = app.post("/api/token/refresh/", json!({ "refresh": refresh })).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        refresh = str_of(&r.body["refresh"]);
    }
    refresh
}

async fn audit_users(app: &TestApp) -> Vec<String> {
    let page = app.state.store.list_audit(&AuditFilter::default(), 0, 1000).await.unwrap();
    let mut users: Vec<String> = page.rows.iter().filter_map(|r| r.username.clone()).collect();
    users.dedup();
    users
}

#[tokio::test]
async fn cleanup_deletes_in_batches_what_expired_and_keeps_what_lives() {
    let app = spawn_with(|c| c.refresh_token_lifetime = Duration::from_secs(60)).await;
    // Two hours ago alice and bob signed in and refreshed four times each (five tokens,
    // one session each, all long expired).
    app.clock.advance(-7200);
    let (_, _, alice) = app.user_with_tokens("alice").await;
    let alice = refreshed(&app, alice, 4).await;
    let (_, _, bob) = app.user_with_tokens("bob").await;
    refreshed(&app, bob, 4).await;
    app.clock.advance(7200);
    // Carol now: one session, two tokens (one spent), all live.
    let (_, _, carol) = app.user_with_tokens("carol").await;
    let carol = refreshed(&app, carol, 1).await;
    let before = app.state.store.list_audit(&AuditFilter::default(), 0, 1000).await.unwrap().count;

    // Batches of three: ten tokens take four statements, which the totals cannot tell
    // from one, but a loop that stopped after its first batch would leave seven.
    let cleanup =
        Cleanup { batch: 3, audit_retention: Some(Duration::from_secs(3600)), pause: Duration::ZERO };
    let deleted = cleanup.run(&app.state.store, app.clock.now()).await.unwrap();
    // alice's and bob's registrations, logins and 4 refreshes each: 12 entries.
    assert_eq!(deleted, Deleted { tokens: 10, sessions: 2, audit: 12 });
    let after = app.state.store.list_audit(&AuditFilter::default(), 0, 1000).await.unwrap().count;
    assert_eq!(before - after, 12);
    assert_eq!(audit_users(&app).await, vec!["carol".to_string()]);

    // Nothing live went: carol refreshes on; alice's last token is gone (and expired).
    refreshed(&app, carol, 1).await;
    let r = app.post("/api/token/refresh/", json!({ "refresh": alice })).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    // Nothing left to do is no work; without a retention the audit log stays whole.
    let cleanup = Cleanup { batch: 3, audit_retention: None, pause: Duration::ZERO };
    app.clock.advance(86_400);
    let deleted = cleanup.run(&app.state.store, app.clock.now()).await.unwrap();
    assert_eq!(deleted, Deleted { tokens: 3, sessions: 1, audit: 0 });
    assert_eq!(audit_users(&app).await, vec!["carol".to_string()]);
}

#[tokio::test]
async fn serve_runs_the_cleanup_on_its_interval() {
    // Tokens that expired an hour ago, written through an instance on a moved clock; a
    // serving instance (the system's clock) with a one-second interval deletes them.
    let app = spawn_with(|c| c.refresh_token_lifetime = Duration::from_secs(60)).await;
    app.clock.advance(-3600);
    app.user_with_tokens("alice").await;
    app.clock.advance(3600);
    app.user_with_tokens("bob").await;
    let server = serve(
        &app.database_url,
        &[("AUTHENTICON_CLEANUP_INTERVAL", "1s"), ("AUTHENTICON_SECRET_KEY", SECRET)],
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(log.contains("expired records deleted") && log.contains("tokens=1 sessions=1"), "{log}");
    // bob's session is live.
    let r = app.post("/api/token/", json!({"username": "bob", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK);
    let cleanup = Cleanup { batch: 100, audit_retention: None, pause: Duration::ZERO };
    assert_eq!(cleanup.run(&app.state.store, app.clock.now()).await.unwrap(), Deleted::default());
}

#[tokio::test]
async fn audit_retention_keeps_what_a_webhook_is_still_to_hear_of() {
    let app = spawn().await;
    app.clock.advance(-3 * 86_400);
    let (_, root) = superuser(&app, "root").await;
    let before_endpoint = app.state.store.list_audit(&AuditFilter::default(), 0, 1000).await.unwrap().count;
    // An endpoint made three days ago, whose deliveries were never made (no instance
    // ran the fan-out): every entry since is still to be sent; those before, never.
    let body = json!({"url": "https://hooks.example.com/in", "events": ["user.created"]});
    let r = app.request(reqwest::Method::POST, "/api/webhooks/", Some(body), Some(&root)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.user_with_tokens("alice").await;
    app.clock.advance(3 * 86_400);
    let cleanup =
        Cleanup { batch: 100, audit_retention: Some(Duration::from_secs(86_400)), pause: Duration::ZERO };
    let deleted = cleanup.run(&app.state.store, app.clock.now()).await.unwrap();
    assert_eq!(deleted.audit, before_endpoint as u64);
    assert!(audit_users(&app).await.contains(&"alice".to_string()));
    // Once the endpoint is gone, nobody waits for them.
    let id = str_of(&r.body["id"]);
    let (root, _) = app.login("root").await;
    let r = app.request(reqwest::Method::DELETE, &format!("/api/webhooks/{id}/"), None, Some(&root)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let deleted = cleanup.run(&app.state.store, app.clock.now()).await.unwrap();
    assert!(deleted.audit >= 3, "{deleted:?}");
    assert!(!audit_users(&app).await.contains(&"alice".to_string()));
}

#[tokio::test]
async fn a_rotation_found_spent_by_itself_stands_and_another_is_reuse() {
    use authenticon::store::{AuditMeta, NewRefresh, RotateOutcome, RotationRules};
    let app = spawn().await;
    let (_, _, refresh) = app.user_with_tokens("alice").await;
    let jti = str_of(&parts(&refresh).1["jti"]);
    let now = app.clock.now();
    let rules = RotationRules { reuse_interval: 0, max_session_age: 86_400 };
    let next = |jti: &str| NewRefresh { jti: jti.into(), issued_at: now, expires_at: now + 3600 };
    let rotate = |n: NewRefresh| {
        let (store, jti) = (&app.state.store, jti.clone());
        async move { store.rotate_refresh(&jti, None, n, now, rules, &AuditMeta::default()).await.unwrap() }
    };
    assert!(matches!(rotate(next("successor-1")).await, RotateOutcome::Rotated(_)));
    // The same rotation again (its batch committed, its answer was lost): it stands.
    assert!(matches!(rotate(next("successor-1")).await, RotateOutcome::Rotated(_)));
    let sessions = app.state.store.list_sessions(&str_of(&parts(&refresh).1["user_id"]), now).await.unwrap();
    assert_eq!(sessions.len(), 1);
    // Any other spend of the token is reuse: the family ends.
    assert!(matches!(rotate(next("successor-2")).await, RotateOutcome::ReuseDetected(_)));
    let sessions = app.state.store.list_sessions(&str_of(&parts(&refresh).1["user_id"]), now).await.unwrap();
    assert!(sessions.is_empty());
}

/// The `count` of an audit page by event alone (or of the whole log), read from the
/// counters the database keeps, and the entries' own count.
async fn counts(app: &TestApp, event: Option<&str>) -> (i64, i64) {
    let by_counters = AuditFilter { event: event.map(str::to_string), ..Default::default() };
    // Any time filter makes the page count its entries one by one.
    let by_entries = AuditFilter { since: Some(i64::MIN), ..by_counters.clone() };
    let store = &app.state.store;
    (
        store.list_audit(&by_counters, 0, 1).await.unwrap().count,
        store.list_audit(&by_entries, 0, 1).await.unwrap().count,
    )
}

/// Runs `statement` on the test's database, beside the service.
async fn execute(app: &TestApp, statement: &str) {
    if on_postgres() {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
}

/// A page of one event, or of the whole log, takes its `count` from counters kept as
/// entries come and go, so a page of a million matches does not count them one by one.
/// They must agree with the entries whatever wrote them (a change's transaction, a batch
/// of rotations, a failed login on its own) or deleted them (retention), and on
/// PostgreSQL the cleanup folds each event's rows into one.
#[tokio::test]
async fn audit_counts_agree_with_the_entries_through_writes_deletes_and_folds() {
    let app = spawn_with(|c| c.refresh_token_lifetime = Duration::from_secs(60)).await;
    app.clock.advance(-7200);
    let (_, _, alice) = app.user_with_tokens("alice").await;
    refreshed(&app, alice, 3).await;
    let r = app.post("/api/token/", json!({"username": "alice", "password": "not it"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.clock.advance(7200);
    let (_, _, bob) = app.user_with_tokens("bob").await;
    refreshed(&app, bob, 2).await;
    let events =
        [None, Some("register"), Some("login"), Some("refresh"), Some("login_failed"), Some("logout")];
    for event in events {
        let (kept, counted) = counts(&app, event).await;
        assert_eq!(kept, counted, "{event:?}");
    }
    assert_eq!(counts(&app, Some("refresh")).await, (5, 5));
    assert_eq!(counts(&app, Some("login_failed")).await, (1, 1));
    assert_eq!(counts(&app, Some("logout")).await, (0, 0));
    // The page does read the counters (a page that counted its entries would pass the
    // checks above too).
    execute(&app, "INSERT INTO audit_counts (event, n) VALUES ('logout', 7)").await;
    assert_eq!(counts(&app, Some("logout")).await, (7, 0));
    execute(&app, "DELETE FROM audit_counts WHERE event = 'logout'").await;

    // Alice's entries are past an hour's retention.
    let cleanup =
        Cleanup { batch: 2, audit_retention: Some(Duration::from_secs(3600)), pause: Duration::ZERO };
    let deleted = cleanup.run(&app.state.store, app.clock.now()).await.unwrap();
    assert!(deleted.audit >= 5, "{deleted:?}");
    for event in events {
        let (kept, counted) = counts(&app, event).await;
        assert_eq!(kept, counted, "{event:?}");
    }
    assert_eq!(counts(&app, Some("refresh")).await, (2, 2));
    assert_eq!(counts(&app, Some("login_failed")).await, (0, 0));

    if on_postgres() {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        let (rows, distinct): (i64, i64) =
            sqlx::query_as("SELECT COUNT(*), COUNT(DISTINCT event) FROM audit_counts")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(rows, distinct, "one row per event once folded");
        assert!(rows >= 3, "{rows}");
        // Folds beside new entries lose none of them.
        let writes = async {
            for i in 0..8 {
                app.user_with_tokens(&format!("carol{i}")).await;
            }
        };
        let folds = async {
            for _ in 0..20 {
                app.state.store.fold_audit_counts().await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        };
        tokio::join!(writes, folds);
        for event in events {
            let (kept, counted) = counts(&app, event).await;
            assert_eq!(kept, counted, "{event:?}");
        }
    }
}
