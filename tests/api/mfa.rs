//! TOTP and recovery codes over the API, with codes computed here from the enrolled
//! secret (RFC 6238, by `totp-rs`, as an authenticator app would).

use authenticon::auth::accounts::Registration;
use authenticon::domain::Secret;
use authenticon::store::{AuditFilter, AuditMeta};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

fn invalid_code() -> Value {
    json!({"code": ["Invalid code."]})
}

/// The code an authenticator shows `offset_steps` steps from now.
pub(crate) fn code(secret: &str, offset_steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("x")
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset_steps * 30;
    totp.generate(now as u64).to_string()
}

/// Enrols TOTP for a fresh user; returns (access, secret, recovery codes).
pub(crate) async fn enrolled(app: &TestApp, username: &str) -> (String, String, Vec<String>) {
    app.register(username).await;
    let (access, _) = app.login(username).await;
    let r =
        app.request(Method::POST, "/api/mfa/totp/", Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = str_of(&r.body["secret"]);
    let r = app
        .request(
            Method::POST,
            "/api/mfa/totp/confirm/",
            Some(json!({"code": code(&secret, 0)})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes = r.body["recovery_codes"].as_array().unwrap().iter().map(str_of).collect();
    (access, secret, codes)
}

/// The password step; returns the `mfa_token`.
async fn password_step(app: &TestApp, path: &str, username: &str) -> String {
    let r = app.post(path, json!({"username": username, "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
    assert_eq!(r.body["code"], "mfa_required", "{}", r.body);
    assert_eq!(r.body["detail"], "Confirm it is you with your second factor.");
    assert_eq!(r.body["methods"], json!(["totp", "recovery_code"]));
    str_of(&r.body["mfa_token"])
}

async fn events(app: &TestApp) -> Vec<String> {
    let page = app.state.store.list_audit(&AuditFilter::default(), 0, 200).await.unwrap();
    page.rows.into_iter().map(|r| r.event).collect()
}

#[tokio::test]
async fn enrolling_totp_turns_on_a_second_login_step() {
    let app = spawn().await;
    app.register("alice").await;
    let (access, refresh) = app.login("alice").await;
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}));

    let r =
        app.request(Method::POST, "/api/mfa/totp/", Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let secret = str_of(&r.body["secret"]);
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let url = str_of(&r.body["otpauth_url"]);
    assert!(url.starts_with("otpauth://totp/Authenticon:alice?"), "{url}");
    assert!(url.contains(&format!("secret={secret}")) && url.contains("issuer=Authenticon"), "{url}");

    // Until confirmed, nothing changes for logins; a wrong first code is refused.
    app.login("alice").await;
    let confirm = |c: String| {
        app.request(Method::POST, "/api/mfa/totp/confirm/", Some(json!({"code": c})), Some(&access))
    };
    let wrong = if code(&secret, 0) == "000000" { "111111" } else { "000000" };
    let r = confirm(wrong.to_string()).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()));
    let first = code(&secret, 0);
    let r = confirm(first.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes: Vec<String> = r.body["recovery_codes"].as_array().unwrap().iter().map(str_of).collect();
    assert_eq!(codes.len(), 10);
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10);
    assert!(codes.iter().all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'), "{codes:?}");
    let r =
        app.request(Method::POST, "/api/mfa/totp/", Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.body, json!({"detail": "An authenticator app is already on."}));
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": true, "passkeys": 0, "recovery_codes_left": 10}));
    // Sessions from before stay (turning MFA on is not a password change).
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": refresh})).await.status, StatusCode::OK);

    // The password step now stops short of tokens.
    let token = password_step(&app, "/api/token/", "alice").await;
    assert!(app
        .post("/api/token/", json!({"username": "alice", "password": PASSWORD}))
        .await
        .body
        .get("access")
        .is_none());
    // The confirming code's step is spent: replaying it fails.
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": first})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()));
    // The next step's code is accepted (one step of skew), once.
    let next = code(&secret, 1);
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": next})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let pair = r.body;
    assert_eq!(app.get("/protected-resource/", Some(&str_of(&pair["access"]))).await.status, StatusCode::OK);
    // The mfa_token is spent with the login.
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": codes[0]})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"mfa_token": ["This login has expired or was already completed. Sign in again."]})
        )
    );
    let token = password_step(&app, "/api/token/", "alice").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": next})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()), "a code works once");

    // A recovery code, typed loosely, works once; the web app's step sets the cookie.
    let token = password_step(&app, "/api/session/login/", "alice").await;
    let loose = format!(" {} ", codes[0].to_uppercase());
    let r = app.post("/api/session/mfa/", json!({"mfa_token": token, "code": loose})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.header("set-cookie").unwrap().starts_with("authenticon_refresh="));
    assert_eq!(r.body["user"]["username"], "alice");
    let token = password_step(&app, "/api/token/", "alice").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": codes[0]})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()));
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body["recovery_codes_left"], 9);

    let log = events(&app).await;
    for e in ["mfa_enabled", "mfa_used", "mfa_failed"] {
        assert!(log.iter().any(|x| x == e), "{e} in {log:?}");
    }
}

#[tokio::test]
async fn five_wrong_codes_lock_the_factor_for_a_minute() {
    let app = spawn().await;
    let (_, secret, _) = enrolled(&app, "bob").await;
    let token = password_step(&app, "/api/token/", "bob").await;
    let right = code(&secret, 1);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    for _ in 0..4 {
        let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": wrong})).await;
        assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()));
    }
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": "not-a-code"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.header("retry-after"), Some("60"));
    // Five wrong codes spent this login: it starts again with the password.
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": right})).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"mfa_token": ["This login has expired or was already completed. Sign in again."]})
        )
    );
    // Locked: even the right code of a new login waits.
    let token = password_step(&app, "/api/token/", "bob").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": right})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn recovery_codes_are_replaced_and_admins_reset_factors() {
    let app = spawn().await;
    let (access, secret, old_codes) = enrolled(&app, "carol").await;
    let r = app
        .request(
            Method::POST,
            "/api/mfa/recovery-codes/",
            Some(json!({"code": code(&secret, 1)})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new_codes: Vec<String> = r.body["recovery_codes"].as_array().unwrap().iter().map(str_of).collect();
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));
    let token = password_step(&app, "/api/token/", "carol").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": old_codes[1]})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()), "the old set is revoked");
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": new_codes[1]})).await;
    assert_eq!(r.status, StatusCode::OK);

    // An administrator resets the factors of a user who lost their device.
    let carol_id = str_of(&app.get("/api/me/", Some(&access)).await.body["id"]);
    let admin = Registration {
        username: "root".into(),
        email: String::new(),
        password: Some(Secret::new(PASSWORD)),
        is_superuser: true,
        roles: Default::default(),
    };
    app.state.accounts.create_user(admin, &AuditMeta::default()).await.unwrap();
    let (root, _) = app.login("root").await;
    let path = format!("/api/users/{carol_id}/mfa/");
    let r = app.request(Method::DELETE, &path, None, Some(&access)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "carol lacks users.manage");
    let r = app.request(Method::DELETE, &path, None, Some(&root)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.request(Method::DELETE, &path, None, Some(&root)).await;
    assert_eq!((r.status, r.body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    app.login("carol").await;
    assert!(events(&app).await.iter().any(|e| e == "mfa_reset"));
}

#[tokio::test]
async fn turning_totp_off_needs_a_code() {
    let app = spawn().await;
    let (access, secret, _) = enrolled(&app, "dave").await;
    let off = |c: &str| {
        app.request(Method::POST, "/api/mfa/totp/disable/", Some(json!({"code": c})), Some(&access))
    };
    let wrong = if code(&secret, 1) == "999999" { "888888" } else { "999999" };
    let r = off(wrong).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, invalid_code()));
    let r = off(&code(&secret, 1)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    app.login("dave").await;
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}));
    let r = off("123456").await;
    assert_eq!(r.body, json!({"detail": "The authenticator app is off."}));
}

#[tokio::test]
async fn with_a_factor_on_a_password_alone_proves_no_presence() {
    let app = spawn().await;
    let (access, secret, codes) = enrolled(&app, "zoe").await;
    let patch = |body: Value| app.request(Method::PATCH, "/api/me/", Some(body), Some(&access));
    // A thief with the access token and a phished password still lacks the factor.
    let r = patch(json!({"email": "thief@evil.example", "password": PASSWORD})).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"code": [authenticon::auth::presence::SECOND_FACTOR_NEEDED]}))
    );
    let r = patch(json!({"email": "zoe@example.com", "password": PASSWORD, "code": "000000"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The password and a code, or a code alone (the factor's holder), prove it.
    let r = patch(json!({"email": "zoe@example.com", "password": PASSWORD, "code": codes[0]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .request(
            Method::POST,
            "/api/me/reauthenticate/",
            Some(json!({"code": code(&secret, 1)})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(patch(json!({"email": "zoe@example.org"})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_lock_filled_by_a_token_thief_leaves_the_owner_a_recovery_code() {
    let app = spawn().await;
    let (access, secret, codes) = enrolled(&app, "una").await;
    let right = code(&secret, 1);
    let wrong = if right == "123456" { "654321" } else { "123456" };
    // With only the access token, wrong codes at "turn off" fill the factor's lock.
    for _ in 0..5 {
        app.request(Method::POST, "/api/mfa/totp/disable/", Some(json!({"code": wrong})), Some(&access))
            .await;
    }
    let token = password_step(&app, "/api/token/", "una").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": right})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // The owner's recovery code still gets in, and clears the lock.
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": codes[0]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let token = password_step(&app, "/api/token/", "una").await;
    let r = app.post("/api/token/mfa/", json!({"mfa_token": token, "code": code(&secret, 0)})).await;
    assert_ne!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}
