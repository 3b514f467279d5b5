//! Login and registration throttling (API.md "Throttling"), in process and in Redis.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;
use authenticon::config::ThrottleLimits;

async fn attempt(app: &TestApp, user: &str, password: &str) -> Reply {
    app.post("/api/token/", json!({"username": user, "password": password})).await
}

fn assert_throttled(r: &Reply) -> u64 {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    let wait: u64 = r.header("retry-after").expect("Retry-After").parse().unwrap();
    assert_eq!(
        r.body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    wait
}

#[tokio::test]
async fn five_failures_for_a_username_and_address_throttle_the_next_attempt() {
    let app = spawn().await;
    app.register("alice").await;
    for _ in 0..5 {
        assert_eq!(attempt(&app, "alice", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits: the window decides, not the guess.
    let wait = assert_throttled(&attempt(&app, "alice", PASSWORD).await);
    assert!((890..=900).contains(&wait), "{wait}");
    // Variants of the name are the same account.
    assert_throttled(&attempt(&app, "ALICE", PASSWORD).await);
    // Other accounts from the same address are not held back by it.
    app.register("bob").await;
    app.login("bob").await;
}

#[tokio::test]
async fn wrong_passwords_behind_an_access_token_count_like_failed_logins() {
    let app = spawn_with(|c| c.throttle.login_per_user_and_address = 2).await;
    app.register("alice").await;
    let (access, _) = app.login("alice").await;
    let change = |old: &'static str| {
        let body = json!({"old_password": old, "new_password": "a third long passphrase"});
        app.request(reqwest::Method::POST, "/api/me/password/", Some(body), Some(&access))
    };
    let wrong =
        json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]});
    for _ in 0..2 {
        let r = change("not the password").await;
        assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, wrong.clone()));
    }
    // The third try waits, even with the right password, and so does the login form.
    assert_throttled(&change(PASSWORD).await);
    assert_throttled(&attempt(&app, "alice", PASSWORD).await);
    // Removing a passkey asks for the password the same way.
    let r = app
        .request(
            reqwest::Method::DELETE,
            "/api/mfa/passkeys/x/",
            Some(json!({"password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_throttled(&r);
}

#[tokio::test]
async fn a_success_resets_the_username_and_address_count() {
    let app = spawn().await;
    app.register("alice").await;
    for _ in 0..4 {
        attempt(&app, "alice", "wrong password").await;
    }
    app.login("alice").await;
    for _ in 0..4 {
        assert_eq!(attempt(&app, "alice", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    app.login("alice").await;
}

#[tokio::test]
async fn per_username_and_per_address_limits_hold_on_their_own() {
    let app = spawn_with(|c| {
        c.throttle = ThrottleLimits {
            login_per_user_and_address: 0,
            login_per_user: 3,
            login_per_address: 5,
            ..ThrottleLimits::default()
        }
    })
    .await;
    for _ in 0..3 {
        attempt(&app, "carol", "wrong password").await;
    }
    assert_throttled(&attempt(&app, "carol", "wrong password").await);
    // Two more failures on other names fill the address's five.
    attempt(&app, "dave", "wrong password").await;
    attempt(&app, "erin", "wrong password").await;
    assert_throttled(&attempt(&app, "frank", "wrong password").await);
}

#[tokio::test]
async fn registrations_per_address_are_limited() {
    let app = spawn_with(|c| c.throttle.registrations_per_address = 2).await;
    app.register("one").await;
    app.register("two").await;
    let r = app.post("/register/", json!({"username": "three", "password": PASSWORD})).await;
    let wait = assert_throttled(&r);
    assert!(wait > 3_000 && wait <= 3_600, "{wait}");
}

fn redis_prefix() -> String {
    format!("authenticon-test-{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn with_redis_the_count_is_shared_between_instances() {
    let prefix = redis_prefix();
    let a = spawn_with(|c| {
        c.redis_url = Some(authenticon::domain::Secret::new("redis://127.0.0.1:6379"));
        c.redis_key_prefix = prefix.clone();
    })
    .await;
    let b = spawn_with(|c| {
        c.redis_url = Some(authenticon::domain::Secret::new("redis://127.0.0.1:6379"));
        c.redis_key_prefix = prefix.clone();
    })
    .await;
    for i in 0..5 {
        let app = if i % 2 == 0 { &a } else { &b };
        assert_eq!(attempt(app, "alice", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_throttled(&attempt(&a, "alice", "wrong password").await);
    assert_throttled(&attempt(&b, "alice", "wrong password").await);
}

#[tokio::test]
async fn with_redis_down_logins_go_on_and_local_counts_take_over() {
    let app = spawn_with(|c| {
        // Nothing listens on port 1.
        c.redis_url = Some(authenticon::domain::Secret::new("redis://127.0.0.1:1"));
        c.redis_key_prefix = redis_prefix();
    })
    .await;
    app.register("alice").await;
    app.login("alice").await;
    for _ in 0..5 {
        assert_eq!(attempt(&app, "alice", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_throttled(&attempt(&app, "alice", PASSWORD).await);
}

#[tokio::test]
async fn browser_logins_share_the_throttle() {
    let app = spawn().await;
    app.register("alice").await;
    for _ in 0..3 {
        attempt(&app, "alice", "wrong password").await;
    }
    for _ in 0..2 {
        let r =
            app.post("/api/session/login/", json!({"username": "alice", "password": "wrong password"})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.post("/api/session/login/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_throttled(&r);
    assert!(r.header("set-cookie").is_none());
}
