//! `/metrics`: Prometheus text format, parsed here by a real parser; the counters move
//! with what happens. The recorder is process-wide and tests run in parallel, so checks
//! are "at least this much more".

use prometheus_parse::{Scrape, Value};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn histogram_count(scrape: &Scrape, name: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .map(|s| match &s.value {
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn counters_move_with_logins_refreshes_and_reuse() {
    let app = spawn().await;
    app.register("alice").await;
    // The recorder exists from the first request on; take the baseline after one.
    let before = scrape(&app).await;
    app.post("/api/token/", json!({"username": "alice", "password": "wrong password"})).await;
    let (access, refresh) = app.login("alice").await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    // Before the reuse: it ends the session, and with it this access token.
    app.get("/protected-resource/", Some(&access)).await;
    app.post("/api/token/refresh/", json!({"refresh": refresh})).await; // reuse
    let after = scrape(&app).await;

    let grew = |name: &str, labels: &[(&str, &str)], by: f64| {
        let (b, a) = (value(&before, name, labels), value(&after, name, labels));
        assert!(a >= b + by, "{name}{labels:?}: {b} -> {a}");
    };
    grew("authenticon_logins_total", &[("outcome", "success")], 1.0);
    grew("authenticon_logins_total", &[("outcome", "failure")], 1.0);
    grew("authenticon_refreshes_total", &[("outcome", "rotated")], 1.0);
    grew("authenticon_refreshes_total", &[("outcome", "reuse_detected")], 1.0);
    grew("authenticon_refresh_reuse_detected_total", &[], 1.0);
    grew(
        "authenticon_http_requests_total",
        &[("route", "/api/token/"), ("status", "200"), ("method", "POST")],
        1.0,
    );
    grew("authenticon_http_requests_total", &[("route", "/api/token/"), ("status", "401")], 1.0);
    grew("authenticon_http_requests_total", &[("route", "/protected-resource/"), ("status", "200")], 1.0);
    assert!(histogram_count(&after, "authenticon_http_request_duration_seconds") >= 5.0);
    assert!(histogram_count(&after, "authenticon_password_hash_seconds") >= 2.0);
    assert!(after.samples.iter().any(|s| s.metric == "authenticon_db_pool_connections"));
    // Nothing secret in the page.
    let text = app.client.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(!text.contains(&access) && !text.contains("alice"), "metrics leak request data");
}

#[tokio::test]
async fn throttled_attempts_are_counted() {
    let app = spawn_with(|c| c.throttle.login_per_user_and_address = 1).await;
    let before = scrape(&app).await;
    for _ in 0..2 {
        app.post("/api/token/", json!({"username": "bob", "password": "wrong password"})).await;
    }
    let after = scrape(&app).await;
    let name = "authenticon_throttled_total";
    assert!(value(&after, name, &[("scope", "login")]) >= value(&before, name, &[("scope", "login")]) + 1.0);
}

#[tokio::test]
async fn metrics_can_move_to_their_own_address() {
    let app = spawn_with(|c| c.metrics_bind = Some("127.0.0.1:0".parse().unwrap())).await;
    let r = app.get("/metrics", None).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
}
