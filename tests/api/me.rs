//! The caller's own profile and password; service endpoints.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn me_shows_the_current_user() {
    let app = spawn().await;
    let user = app.register("alice").await;
    let (access, _) = app.login("alice").await;
    let r = app.get("/api/me/", Some(&access)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["id"], user["id"]);
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["date_joined"], user["date_joined"]);
    let r = app.get("/api/me/", None).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Authentication credentials were not provided."}))
    );
}

#[tokio::test]
async fn patch_me_changes_only_the_email() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let r = app
        .request(
            Method::PATCH,
            "/api/me/",
            Some(json!({"email": "new@example.com", "username": "mallory", "is_superuser": true, "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["email"], "new@example.com");
    assert_eq!(r.body["username"], "alice");
    assert_eq!(r.body["is_superuser"], false);
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["email"], "new@example.com");
    let r =
        app.request(Method::PATCH, "/api/me/", Some(json!({"email": "not an email"})), Some(&access)).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"email": ["Enter a valid email address."]}))
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_other_session() {
    let app = spawn().await;
    let (_, access, current_refresh) = app.user_with_tokens("alice").await;
    let (_, other_refresh) = app.login("alice").await;
    let change = |old: &str, new: &str| {
        app.request(
            Method::POST,
            "/api/me/password/",
            Some(json!({"old_password": old, "new_password": new})),
            Some(&access),
        )
    };
    let r = change("wrong old password", "another long passphrase").await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
        )
    );
    let r = change(PASSWORD, "alice").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"new_password": [
            "The password is too similar to the username.",
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
        ]})
    );
    // Missing fields.
    let r = app.request(Method::POST, "/api/me/password/", Some(json!({})), Some(&access)).await;
    assert_eq!(
        r.body,
        json!({"old_password": ["This field is required."], "new_password": ["This field is required."]})
    );
    let r = change(PASSWORD, "another long passphrase").await;
    assert_eq!((r.status, r.body), (StatusCode::NO_CONTENT, serde_json::Value::Null));

    let r = app.post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    app.login_with("alice", "another long passphrase").await;
    let r = app.post("/api/token/refresh/", json!({"refresh": other_refresh})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
    let r = app.post("/api/token/refresh/", json!({"refresh": current_refresh})).await;
    assert_eq!(r.status, StatusCode::OK, "the session that changed the password stays");
}

#[tokio::test]
async fn health_readiness_and_schema() {
    let app = spawn().await;
    let r = app.get("/healthz", None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"status": "ok"})));
    let r = app.get("/readyz", None).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"status": "ok"})));

    let r = app.get("/api/schema/", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    let expected = [
        ("/register/", "post"),
        ("/api/token/", "post"),
        ("/api/token/refresh/", "post"),
        ("/api/token/verify/", "post"),
        ("/api/token/blacklist/", "post"),
        ("/protected-resource/", "get"),
        ("/api/me/", "get"),
        ("/api/me/", "patch"),
        ("/api/me/password/", "post"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/schema/", "get"),
        ("/api/me/sessions/", "get"),
        ("/api/me/sessions/{id}/", "delete"),
        ("/api/me/sessions/revoke-all/", "post"),
        ("/api/session/login/", "post"),
        ("/api/session/refresh/", "post"),
        ("/api/session/logout/", "post"),
        ("/api/roles/", "get"),
        ("/api/roles/", "post"),
        ("/api/roles/{name}/", "get"),
        ("/api/roles/{name}/", "patch"),
        ("/api/roles/{name}/", "delete"),
        ("/api/users/", "get"),
        ("/api/users/{id}/", "get"),
        ("/api/users/{id}/", "patch"),
        ("/api/users/{id}/roles/", "put"),
        ("/api/audit/", "get"),
        ("/api/reports/", "get"),
        ("/api/mfa/", "get"),
        ("/api/mfa/passkeys/", "get"),
        ("/api/mfa/passkeys/", "post"),
        ("/api/mfa/passkeys/confirm/", "post"),
        ("/api/mfa/passkeys/{id}/", "delete"),
        ("/api/token/mfa/", "post"),
        ("/api/token/mfa/passkey/", "post"),
        ("/api/passkeys/login/", "post"),
        ("/api/token/passkey/", "post"),
        ("/api/session/passkey/", "post"),
    ];
    for (path, method) in expected {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path} missing from the schema");
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path}");
    }
    let register = &paths["/register/"]["post"];
    assert!(register["requestBody"].is_object());
    assert!(register["responses"]["400"].is_object());
    let schemas = r.body["components"]["schemas"].as_object().unwrap();
    for name in ["UserResponse", "TokenPairResponse", "Detail", "CodedDetail", "FieldErrorsBody"] {
        assert!(schemas.contains_key(name), "{name}");
    }
    assert_eq!(r.body["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
