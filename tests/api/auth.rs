//! Registration and login.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn register_returns_the_user_object_and_no_secret() {
    let app = spawn().await;
    let r = app
        .post("/register/", json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let body = r.body.as_object().unwrap();
    let mut keys: Vec<&str> = body.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "date_joined",
            "email",
            "email_verified",
            "has_2fa",
            "id",
            "is_active",
            "is_superuser",
            "last_login",
            "permissions",
            "roles",
            "username"
        ]
    );
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["email"], "alice@example.com");
    assert_eq!(r.body["is_active"], true);
    assert_eq!(r.body["is_superuser"], false);
    assert_eq!(r.body["roles"], json!([]));
    assert_eq!(r.body["permissions"], json!([]));
    assert_eq!(r.body["last_login"], Value::Null);
    assert_eq!(r.body["email_verified"], false);
    let joined = str_of(&r.body["date_joined"]);
    assert!(time::OffsetDateTime::parse(&joined, &time::format_description::well_known::Rfc3339).is_ok());
    let text = r.body.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains("argon2"), "{text}");
}

#[tokio::test]
async fn usernames_are_unique_case_insensitively_and_after_nfkc() {
    let app = spawn().await;
    app.register("Alice").await;
    let taken = json!({"username": ["A user with that username already exists."]});
    for name in ["alice", "ALICE", "ＡＬＩＣＥ"] {
        let r = app.post("/register/", json!({"username": name, "password": PASSWORD})).await;
        assert_eq!((r.status, &r.body), (StatusCode::BAD_REQUEST, &taken), "{name}");
    }
    // The NFKC form is what is stored and shown.
    let r = app.post("/register/", json!({"username": "ﬁona", "password": PASSWORD})).await;
    assert_eq!(r.body["username"], "fiona");
}

#[tokio::test]
async fn password_rules_give_djangos_messages_under_password() {
    let app = spawn().await;
    let cases = [
        ("short", vec!["This password is too short. It must contain at least 8 characters."]),
        ("password123", vec!["This password is too common."]),
        ("83749261554", vec!["This password is entirely numeric."]),
        ("bobthebuilder", vec!["The password is too similar to the username."]),
    ];
    for (password, messages) in cases {
        let r = app.post("/register/", json!({"username": "bobthebuilder", "password": password})).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{password}");
        assert_eq!(r.body, json!({ "password": messages }), "{password}");
    }
    let r = app
        .post(
            "/register/",
            json!({"username": "carol", "password": "carolinecarol", "email": "caroline.carol@example.com"}),
        )
        .await;
    assert_eq!(r.body, json!({"password": ["The password is too similar to the email address."]}));
}

#[tokio::test]
async fn registration_field_errors() {
    let app = spawn().await;
    let r = app.post("/register/", json!({})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    let r = app.post("/register/", json!({"username": "bad name!", "password": PASSWORD})).await;
    assert_eq!(
        r.body,
        json!({"username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."]})
    );
    let r = app.post("/register/", json!({"username": "a".repeat(151), "password": PASSWORD})).await;
    assert_eq!(r.body, json!({"username": ["Ensure this field has no more than 150 characters."]}));
    let r = app.post("/register/", json!({"username": "a".repeat(150), "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.post("/register/", json!({"username": "dave", "password": PASSWORD, "email": "nope"})).await;
    assert_eq!(r.body, json!({"email": ["Enter a valid email address."]}));
    let r = app.post("/register/", json!({"username": "", "password": ""})).await;
    assert_eq!(
        r.body,
        json!({"username": ["This field may not be blank."], "password": ["This field may not be blank."]})
    );
}

#[tokio::test]
async fn registration_can_be_switched_off() {
    let app = spawn_with(|c| c.registration_open = false).await;
    let r = app.post("/register/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, json!({"detail": "You do not have permission to perform this action."}));
}

#[tokio::test]
async fn login_issues_a_pair_with_every_claim() {
    let app = spawn().await;
    let user = app.register("alice").await;
    let before = time::OffsetDateTime::now_utc().unix_timestamp();
    let (access, refresh) = app.login("alice").await;
    let (header, a) = parts(&access);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "JWT");
    assert!(header["kid"].is_string());
    assert_eq!(a["token_type"], "access");
    assert_eq!(a["user_id"], user["id"]);
    assert_eq!(a["sub"], user["id"]);
    assert_eq!(a["username"], "alice");
    assert_eq!(a["roles"], json!([]));
    let iat = a["iat"].as_i64().unwrap();
    assert!(iat >= before && iat <= before + 5);
    assert_eq!(a["exp"].as_i64().unwrap() - iat, 300);
    let (_, r) = parts(&refresh);
    assert_eq!(r["token_type"], "refresh");
    assert_eq!(r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(), 86_400);
    assert_eq!(r["sid"], a["sid"]);
    assert_eq!(r["user_id"], user["id"]);
    assert!(r.get("username").is_none() && r.get("roles").is_none());
    assert_ne!(r["jti"], a["jti"]);
    assert!(str_of(&a["jti"]).len() >= 32);

    // last_login is now set.
    let me = app.get("/api/me/", Some(&access)).await;
    assert!(me.body["last_login"].is_string(), "{}", me.body);
}

#[tokio::test]
async fn lifetimes_come_from_configuration() {
    let app = spawn_with(|c| {
        c.access_token_lifetime = Duration::from_secs(60);
        c.refresh_token_lifetime = Duration::from_secs(7_200);
    })
    .await;
    app.register("alice").await;
    let (access, refresh) = app.login("alice").await;
    let (_, a) = parts(&access);
    let (_, r) = parts(&refresh);
    assert_eq!(a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(), 60);
    assert_eq!(r["exp"].as_i64().unwrap() - r["iat"].as_i64().unwrap(), 7_200);
}

#[tokio::test]
async fn login_matches_usernames_like_registration() {
    let app = spawn().await;
    app.register("Alice").await;
    for name in ["alice", "ALICE", " alice ", "ＡＬＩＣＥ"] {
        let r = app.post("/api/token/", json!({"username": name, "password": PASSWORD})).await;
        assert_eq!(r.status, StatusCode::OK, "{name}: {}", r.body);
    }
}

#[tokio::test]
async fn wrong_user_wrong_password_and_inactive_user_fail_alike() {
    let app = spawn().await;
    let (id, _, _) = app.user_with_tokens("alice").await;
    app.register("bob").await;
    deactivate(&app, &id).await;
    let expected = json!({"detail": "No active account found with the given credentials"});
    for (user, pw) in [("nobody", PASSWORD), ("bob", "wrong password"), ("alice", PASSWORD)] {
        let r = app.post("/api/token/", json!({"username": user, "password": pw})).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &expected), "{user}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"api\""));
    }
}

#[tokio::test]
async fn login_needs_both_fields() {
    let app = spawn().await;
    let r = app.post("/api/token/", json!({"username": "alice"})).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"password": ["This field is required."]}))
    );
    let r = app.post("/api/token/", json!({"password": "x"})).await;
    assert_eq!(r.body, json!({"username": ["This field is required."]}));
}

/// Without the dummy hash an unknown username answers in ~1 ms against ~15 ms for a
/// wrong password; the ratio bound is loose so a noisy machine cannot fail it.
#[tokio::test]
async fn unknown_usernames_cost_a_full_hash() {
    let app = spawn_with(|c| c.throttle.login_per_user_and_address = 0).await;
    app.register("alice").await;
    async fn median(app: &TestApp, username: &str) -> Duration {
        let mut times = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            let r =
                app.post("/api/token/", json!({"username": username, "password": "wrong password"})).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
            times.push(started.elapsed());
        }
        times.sort();
        times[3]
    }
    let known = median(&app, "alice").await;
    let unknown = median(&app, "nobody-at-all").await;
    assert!(unknown * 2 >= known, "unknown {unknown:?} vs known {known:?}");
}
