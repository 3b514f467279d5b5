//! Trust (API.md "Trust rules"): each of the six account takeovers of the trust issue,
//! tried as an attacker would, and refused.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;
use authenticon::domain::Secret;

fn reauth_required() -> Value {
    json!({
        "detail": "Confirm it is you: send your password (or a code) with this request, or re-authenticate first.",
        "code": "reauthentication_required",
    })
}

fn wrong_password() -> Value {
    json!({"password": ["Your password was entered incorrectly. Please enter it again."]})
}

/// A user whose only role, `helpdesk`, holds `users.manage` and `users.view`; returns
/// (id, access).
async fn helpdesk(app: &TestApp, root: &str, username: &str) -> (String, String) {
    let r = app
        .request(
            Method::POST,
            "/api/roles/",
            Some(json!({"name": "helpdesk", "permissions": ["users.manage", "users.view"]})),
            Some(root),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, _, _) = app.user_with_tokens(username).await;
    let r = app
        .request(
            Method::PUT,
            &format!("/api/users/{id}/roles/"),
            Some(json!({"roles": ["helpdesk"]})),
            Some(root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (access, _) = app.login(username).await;
    (id, access)
}

async fn audit_events(app: &TestApp, root: &str, event: &str) -> Vec<Value> {
    let r = app.get(&format!("/api/audit/?event={event}"), Some(root)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["results"].as_array().unwrap().clone()
}

/// Attack 1: a parallel burst of guesses. Only the limit's worth reach the hash, and
/// one address's burst does not lock the account for another address.
async fn parallel_burst_is_held_to_the_limit(app: &TestApp) {
    app.register("alice").await;
    let burst: Vec<_> = (0..60).map(|_| login_from(app, "203.0.113.7", "a wrong guess")).collect();
    let answers = join_all(burst).await;
    let checked = answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let throttled = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, throttled), (5, 55), "{answers:?}");
    // The owner, elsewhere, still gets in: the burst spent only its own address's budget.
    assert_eq!(login_from(app, "198.51.100.9", PASSWORD).await, StatusCode::OK);
    // Another address may add its own five failures; the per-username limit (20) stays far.
    let second: Vec<_> = (0..30).map(|_| login_from(app, "192.0.2.44", "a wrong guess")).collect();
    let answers = join_all(second).await;
    assert_eq!(answers.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count(), 5);
    assert_eq!(login_from(app, "198.51.100.9", PASSWORD).await, StatusCode::OK);
}

#[tokio::test]
async fn a_parallel_burst_of_guesses_reaches_the_hash_only_five_times() {
    parallel_burst_is_held_to_the_limit(&spawn_with(localhost_trusted).await).await;
}

#[tokio::test]
async fn a_parallel_burst_is_held_to_the_limit_in_redis_too() {
    let prefix = format!("authenticon-trust-{}", uuid::Uuid::new_v4().simple());
    let app = spawn_with(|c| {
        localhost_trusted(c);
        c.redis_url = Some(Secret::new("redis://127.0.0.1:6379"));
        c.redis_key_prefix = prefix;
    })
    .await;
    parallel_burst_is_held_to_the_limit(&app).await;
}

#[tokio::test]
async fn ipv6_clients_share_the_budget_of_their_64() {
    let app = spawn_with(|c| {
        localhost_trusted(c);
        c.throttle.login_per_user_and_address = 2;
    })
    .await;
    app.register("alice").await;
    assert_eq!(login_from(&app, "2001:db8:1:2::1", "wrong").await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_from(&app, "2001:db8:1:2::2", "wrong").await, StatusCode::UNAUTHORIZED);
    // A third address of the same /64 is the same client.
    assert_eq!(login_from(&app, "2001:db8:1:2:ffff::3", PASSWORD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(login_from(&app, "2001:db8:1:3::1", PASSWORD).await, StatusCode::OK);
}

/// Attack 2: a delegate grants itself more than it holds.
#[tokio::test]
async fn a_delegate_cannot_assign_itself_a_role_it_does_not_hold() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let (me, delegate) = helpdesk(&app, &root, "helper").await;
    let r = app
        .request(
            Method::PUT,
            &format!("/api/users/{me}/roles/"),
            Some(json!({"roles": ["helpdesk", "admin"]})),
            Some(&delegate),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        r.body,
        json!({
            "detail": "You can only assign or remove roles whose permissions you hold yourself; you do not hold audit.view, roles.manage, roles.view.",
            "code": "permission_denied",
        })
    );
    let me_now = app.get("/api/me/", Some(&delegate)).await;
    assert_eq!(me_now.body["roles"], json!(["helpdesk"]));
    // Nor can it give that role to anyone else.
    let (other, _, _) = app.user_with_tokens("carol").await;
    let r = app
        .request(
            Method::PUT,
            &format!("/api/users/{other}/roles/"),
            Some(json!({"roles": ["admin"]})),
            Some(&delegate),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // What it holds itself, it may pass on.
    let r = app
        .request(
            Method::PUT,
            &format!("/api/users/{other}/roles/"),
            Some(json!({"roles": ["helpdesk"]})),
            Some(&delegate),
        )
        .await;
    assert_eq!((r.status, r.body["roles"].clone()), (StatusCode::OK, json!(["helpdesk"])));
    let denied = audit_events(&app, &root, "permission_denied").await;
    assert_eq!(denied.len(), 2, "{denied:?}");
    assert_eq!(denied[0]["actor_id"], json!(me));
    assert_eq!(denied[0]["detail"]["action"], json!("roles_assign"));
}

#[tokio::test]
async fn a_role_manager_cannot_add_permissions_it_does_not_hold() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let r = app
        .request(
            Method::POST,
            "/api/roles/",
            Some(json!({"name": "rolekeeper", "permissions": ["roles.manage", "roles.view"]})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (id, _, _) = app.user_with_tokens("keeper").await;
    app.request(
        Method::PUT,
        &format!("/api/users/{id}/roles/"),
        Some(json!({"roles": ["rolekeeper"]})),
        Some(&root),
    )
    .await;
    let (keeper, _) = app.login("keeper").await;
    let denied = json!({
        "detail": "You can only grant or remove permissions you hold yourself; you do not hold audit.view, users.manage.",
        "code": "permission_denied",
    });
    // Its own role,
    let r = app
        .request(
            Method::PATCH,
            "/api/roles/rolekeeper/",
            Some(json!({"permissions": ["roles.manage", "roles.view", "users.manage", "audit.view"]})),
            Some(&keeper),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, denied.clone()));
    // or a new one.
    let r = app
        .request(
            Method::POST,
            "/api/roles/",
            Some(json!({"name": "wider", "permissions": ["users.manage", "audit.view"]})),
            Some(&keeper),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, denied));
    let role = app.get("/api/roles/rolekeeper/", Some(&root)).await;
    assert_eq!(role.body["permissions"], json!(["roles.manage", "roles.view"]));
    // A role within what it holds is fine.
    let r = app
        .request(
            Method::POST,
            "/api/roles/",
            Some(json!({"name": "viewer", "permissions": ["roles.view"]})),
            Some(&keeper),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Attack 3: a delegate takes over a superuser through its email.
#[tokio::test]
async fn only_a_superuser_changes_a_superuser() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let (_, delegate) = helpdesk(&app, &root, "helper").await;
    let only_superuser =
        json!({"detail": "Only a superuser can change a superuser.", "code": "permission_denied"});
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/users/{root_id}/"),
            Some(json!({"email": "x@evil.example"})),
            Some(&delegate),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, only_superuser.clone()));
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/users/{root_id}/"),
            Some(json!({"is_active": false})),
            Some(&delegate),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, only_superuser.clone()));
    let r = app.request(Method::DELETE, &format!("/api/users/{root_id}/mfa/"), None, Some(&delegate)).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, only_superuser.clone()));
    let r = app
        .request(
            Method::PUT,
            &format!("/api/users/{root_id}/roles/"),
            Some(json!({"roles": []})),
            Some(&delegate),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, only_superuser));
    let root_now = app.get(&format!("/api/users/{root_id}/"), Some(&root)).await;
    assert_eq!(
        (root_now.body["email"].clone(), root_now.body["is_active"].clone()),
        (json!(""), json!(true))
    );
    assert_eq!(audit_events(&app, &root, "permission_denied").await.len(), 4);
    // Nor an administrator who holds more than the delegate does.
    let (admin, _, _) = app.user_with_tokens("admin2").await;
    app.request(
        Method::PUT,
        &format!("/api/users/{admin}/roles/"),
        Some(json!({"roles": ["admin"]})),
        Some(&root),
    )
    .await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/users/{admin}/"),
            Some(json!({"email": "x@evil.example"})),
            Some(&delegate),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(r.body["code"], json!("permission_denied"));
}

#[tokio::test]
async fn two_deactivations_at_once_leave_an_active_superuser() {
    let app = spawn().await;
    let (a, a_token) = superuser(&app, "root1").await;
    let (b, b_token) = superuser(&app, "root2").await;
    // Each deactivates the other, at the same moment.
    let (path_a, path_b) = (format!("/api/users/{a}/"), format!("/api/users/{b}/"));
    let (ra, rb) = tokio::join!(
        app.request(Method::PATCH, &path_b, Some(json!({"is_active": false})), Some(&a_token)),
        app.request(Method::PATCH, &path_a, Some(json!({"is_active": false})), Some(&b_token)),
    );
    let statuses = [ra.status, rb.status];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let supers = app.state.store.count_active_superusers().await.unwrap();
    assert_eq!(supers, 1, "{statuses:?} {} {}", ra.body, rb.body);
}

/// Attack 4: a stolen access token changes the email (then a reset takes the account).
#[tokio::test]
async fn an_email_change_needs_a_fresh_proof_of_presence() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let patch = |body: Value| app.request(Method::PATCH, "/api/me/", Some(body), Some(&access));
    let r = patch(json!({"email": "thief@evil.example"})).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    let r = patch(json!({"email": "thief@evil.example", "password": "a guess"})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, wrong_password()));
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["email"], json!(""));
    // The owner sends the password along,
    let r = patch(json!({"email": "alice@example.com", "password": PASSWORD})).await;
    assert_eq!((r.status, r.body["email"].clone()), (StatusCode::OK, json!("alice@example.com")));
    // and a bad address is still a field error first.
    let r = patch(json!({"email": "not an address"})).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"email": ["Enter a valid email address."]}))
    );
    // The same address again is no change, and needs nothing.
    assert_eq!(patch(json!({"email": "alice@example.com"})).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reauthenticating_covers_the_session_for_the_window_only() {
    let app = spawn_with(|c| {
        c.reauth_window = Duration::from_secs(300);
        c.access_token_lifetime = Duration::from_secs(3600);
    })
    .await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let (other_session, _) = app.login("alice").await;
    let reauth =
        |body: Value| app.request(Method::POST, "/api/me/reauthenticate/", Some(body), Some(&access));
    let r = reauth(json!({})).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"password": ["This field is required."]}))
    );
    let r = reauth(json!({"password": "wrong"})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, wrong_password()));
    let r = reauth(json!({"password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["reauthenticated_until"].as_str().unwrap().ends_with('Z'), "{}", r.body);
    let app_ref = &app;
    let change = move |token: String, email: String| async move {
        app_ref.request(Method::PATCH, "/api/me/", Some(json!({ "email": email })), Some(&token)).await
    };
    assert_eq!(change(access.clone(), "a@example.com".into()).await.status, StatusCode::OK);
    // Only this session: another login of the same user is not covered.
    let r = change(other_session.clone(), "b@example.com".into()).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    // And only for the window: a little before its end it still covers the session…
    app.clock.advance(290);
    assert_eq!(change(access.clone(), "c@example.com".into()).await.status, StatusCode::OK);
    // …and past it, not.
    app.clock.advance(11);
    let r = change(access.clone(), "d@example.com".into()).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
}

#[tokio::test]
async fn wrong_proofs_count_in_the_login_throttle() {
    let app = spawn_with(|c| c.throttle.login_per_user_and_address = 3).await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    for _ in 0..3 {
        let r = app
            .request(
                Method::POST,
                "/api/me/reauthenticate/",
                Some(json!({"password": "guess"})),
                Some(&access),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
    }
    let r = app
        .request(Method::POST, "/api/me/reauthenticate/", Some(json!({"password": PASSWORD})), Some(&access))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

/// Attack 5: a stolen access token enrols a factor (a backdoor, and a lock-out).
#[tokio::test]
async fn enrolling_a_factor_needs_a_fresh_proof_of_presence() {
    let app = spawn_with(|c| c.public_url = Some("http://localhost:8000".into())).await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let r = app.request(Method::POST, "/api/mfa/totp/", None, Some(&access)).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    let r = app
        .request(Method::POST, "/api/mfa/passkeys/", Some(json!({"name": "Backdoor"})), Some(&access))
        .await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Backdoor", "password": "x"})),
            Some(&access),
        )
        .await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, wrong_password()));
    // Nothing was enrolled: password logins still need nothing more.
    let r = app.get("/api/mfa/", Some(&access)).await;
    assert_eq!(r.body, json!({"totp": false, "passkeys": 0, "recovery_codes_left": 0}));
    app.login("alice").await;
    // With the password, the owner enrols.
    let r =
        app.request(Method::POST, "/api/mfa/totp/", Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .request(
            Method::POST,
            "/api/mfa/passkeys/",
            Some(json!({"name": "Laptop", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body["ceremony"].is_string());
}

/// Attack 6: a revoked session's access token keeps working.
#[tokio::test]
async fn a_revoked_session_ends_its_access_tokens_at_once() {
    let app = spawn().await;
    let (_, phone_access, phone_refresh) = app.user_with_tokens("alice").await;
    let (laptop, _) = app.login("alice").await;
    let sessions = app.get("/api/me/sessions/", Some(&laptop)).await.body;
    let phone =
        sessions.as_array().unwrap().iter().find(|s| s["current"] == json!(false)).unwrap()["id"].clone();
    assert_eq!(app.get("/protected-resource/", Some(&phone_access)).await.status, StatusCode::OK);
    let r = app
        .request(Method::DELETE, &format!("/api/me/sessions/{}/", str_of(&phone)), None, Some(&laptop))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // At once, on this instance: no waiting for the cache.
    let r = app.get("/protected-resource/", Some(&phone_access)).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, access_not_valid()));
    let r = app
        .request(
            Method::PATCH,
            "/api/me/",
            Some(json!({"email": "x@evil.example", "password": PASSWORD})),
            Some(&phone_access),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The laptop keeps working.
    assert_eq!(app.get("/protected-resource/", Some(&laptop)).await.status, StatusCode::OK);
    // Logout by refresh token, and logout everywhere, end access tokens the same way.
    let (access2, refresh2) = app.login("alice").await;
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh2})).await.status, StatusCode::OK);
    assert_eq!(app.get("/protected-resource/", Some(&access2)).await.status, StatusCode::UNAUTHORIZED);
    let r = app.request(Method::POST, "/api/me/sessions/revoke-all/", None, Some(&laptop)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/protected-resource/", Some(&laptop)).await.status, StatusCode::UNAUTHORIZED);
    // And so does refresh-token reuse: the thief's replay ends the family's access token.
    let (access3, refresh3) = app.login("alice").await;
    let rotated = app.post("/api/token/refresh/", json!({"refresh": refresh3})).await;
    let new_access = str_of(&rotated.body["access"]);
    assert_eq!(
        app.post("/api/token/refresh/", json!({"refresh": refresh3})).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.get("/protected-resource/", Some(&new_access)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/protected-resource/", Some(&access3)).await.status, StatusCode::UNAUTHORIZED);
    drop(phone_refresh);
}

#[tokio::test]
async fn revocation_reaches_every_instance_within_the_cache_lifetime() {
    let first = spawn().await;
    let shared = first.database_url.clone();
    let second = spawn_with(|c| c.database_url = shared.clone()).await;
    let third = spawn_with(|c| c.database_url = shared.clone()).await;
    let (_, access, refresh) = first.user_with_tokens("alice").await;
    for app in [&first, &second, &third] {
        assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
    }
    // Logged out through the second instance.
    assert_eq!(
        second.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status,
        StatusCode::OK
    );
    assert_eq!(second.get("/protected-resource/", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
    for app in [&first, &third] {
        let ended = eventually(Duration::from_secs(3), || async {
            app.get("/protected-resource/", Some(&access)).await.status == StatusCode::UNAUTHORIZED
        })
        .await;
        assert!(ended, "an instance kept accepting a revoked session's access token");
    }
}

#[tokio::test]
async fn reset_mail_goes_only_to_a_verified_address() {
    let app = spawn().await;
    let r = app
        .post("/register/", json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = app.post("/api/password-reset/", json!({"email": "alice@example.com"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    // The request is answered alike, but no reset mail is written for the unverified address.
    let mail_dir = app.state.config.mail_dir();
    let resets = || {
        std::fs::read_dir(&mail_dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_to_string(e.path())
                            .unwrap_or_default()
                            .contains("reset-password?token=")
                    })
                    .count()
            })
            .unwrap_or(0)
    };
    let verification_sent = eventually(Duration::from_secs(5), || async {
        let events = app.state.store.list_audit(&Default::default(), 0, 50).await.unwrap();
        events.rows.iter().any(|e| e.event == "email_verification_sent")
    })
    .await;
    assert!(verification_sent);
    // Once verified, the same request mails a link: and exactly one, so the first
    // request (long done by then, on the same path) mailed none.
    // The verification mail reaches its file a moment after its audit event.
    let verification_file = || {
        std::fs::read_dir(&mail_dir).ok()?.filter_map(Result::ok).find_map(|e| {
            // Quoted-printable: soft line breaks out, `=3D` back to `=`.
            let text = std::fs::read_to_string(e.path()).ok()?.replace("=\r\n", "").replace("=3D", "=");
            text.contains("verify-email?token=").then_some(text)
        })
    };
    assert!(eventually(Duration::from_secs(5), || async { verification_file().is_some() }).await);
    let verification = verification_file().expect("the verification mail");
    let token: String = verification
        .split("verify-email?token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    assert_eq!(app.post("/api/email/verify/", json!({"token": token})).await.status, StatusCode::OK);
    assert_eq!(
        app.post("/api/password-reset/", json!({"email": "alice@example.com"})).await.status,
        StatusCode::ACCEPTED
    );
    assert!(
        eventually(Duration::from_secs(5), || async { resets() == 1 }).await,
        "no reset mail once verified"
    );
    let events = app.state.store.list_audit(&Default::default(), 0, 50).await.unwrap();
    assert_eq!(events.rows.iter().filter(|e| e.event == "password_reset_requested").count(), 1);
}

#[tokio::test]
async fn the_cookie_is_secure_for_a_public_https_url_whatever_the_host_says() {
    let app = spawn_with(|c| c.public_url = Some("https://auth.example.com".into())).await;
    app.register("alice").await;
    let r = app
        .client
        .post(format!("{}/api/session/login/", app.url))
        .header("host", "localhost")
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let sc = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(sc.ends_with("; Secure"), "{sc}");
    // And discovery names the public URL, not the Host header.
    let r = app
        .client
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let doc: Value = r.json().await.unwrap();
    assert_eq!(doc["issuer"], json!("https://auth.example.com"));
    assert_eq!(doc["jwks_uri"], json!("https://auth.example.com/.well-known/jwks.json"));
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_is_refreshed() {
    let app = spawn_with(|c| c.session_absolute_lifetime = Duration::from_secs(3600)).await;
    app.register("alice").await;
    let (_, mut refresh) = app.login("alice").await;
    // Refreshed every twenty minutes: each rotation renews the token, not the session.
    for _ in 0..2 {
        app.clock.advance(20 * 60);
        let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        refresh = str_of(&r.body["refresh"]);
    }
    // An hour and a second after the login, a fresh refresh token is refused.
    app.clock.advance(20 * 60 + 1);
    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
}

#[tokio::test]
async fn an_administrator_changing_their_own_address_needs_the_same_proof() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let path = format!("/api/users/{root_id}/");
    let r =
        app.request(Method::PATCH, &path, Some(json!({"email": "thief@evil.example"})), Some(&root)).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    let r = app.request(Method::DELETE, &format!("/api/users/{root_id}/mfa/"), None, Some(&root)).await;
    assert_eq!((r.status, r.body), (StatusCode::FORBIDDEN, reauth_required()));
    let body = json!({"email": "root@example.com", "password": PASSWORD});
    let r = app.request(Method::PATCH, &path, Some(body), Some(&root)).await;
    assert_eq!((r.status, r.body["email"].clone()), (StatusCode::OK, json!("root@example.com")));
    // Someone else's address stays an administrator's call.
    let (bob, _, _) = app.user_with_tokens("bob").await;
    let r = app
        .request(
            Method::PATCH,
            &format!("/api/users/{bob}/"),
            Some(json!({"email": "bob@example.com"})),
            Some(&root),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn token_verify_refuses_an_access_token_of_a_revoked_session() {
    let app = spawn().await;
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    assert_eq!(app.post("/api/token/verify/", json!({"token": access})).await.status, StatusCode::OK);
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    let r = app.post("/api/token/verify/", json!({"token": access})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));
}

#[tokio::test]
async fn without_a_public_url_the_host_header_can_add_secure_but_not_drop_it() {
    let app = spawn().await;
    app.register("alice").await;
    let login = |host: &'static str| {
        app.client
            .post(format!("{}/api/session/login/", app.url))
            .header("host", host)
            .json(&json!({"username": "alice", "password": PASSWORD}))
            .send()
    };
    let sc = |r: reqwest::Response| r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(sc(login("auth.example.com").await.unwrap()).ends_with("; Secure"));
    assert!(!sc(login("localhost:8000").await.unwrap()).contains("Secure"));
}

#[tokio::test]
async fn a_change_decided_on_a_stale_read_is_refused_by_the_write() {
    use authenticon::store::{AuditMeta, StoreError, CHANGED_MEANWHILE};
    let app = spawn().await;
    let (bob, _, _) = app.user_with_tokens("bob").await;
    let (store, now, audit) = (&app.state.store, 1_800_000_000, AuditMeta::default());
    // A delegate judged bob's roles when he had none; meanwhile a superuser made him admin.
    store.set_user_roles(&bob, &["admin".into()], None, now, &audit).await.unwrap();
    let stale: &[String] = &[];
    let r = store.set_user_roles(&bob, &[], Some(stale), now, &audit).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE),
        "{r:?}"
    );
    assert_eq!(store.user_by_id(&bob).await.unwrap().unwrap().roles, vec!["admin".to_string()]);
    // The same for a role's permissions.
    let admin = store.role("admin").await.unwrap().unwrap();
    let r = store
        .update_role("admin", None, Some(&admin.permissions), Some(&["users.view".into()]), now, &audit)
        .await;
    assert!(
        matches!(&r, Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE),
        "{r:?}"
    );
    let r = store.update_role("admin", Some("Admins"), None, Some(&admin.permissions), now, &audit).await;
    assert!(r.unwrap().is_some());
}

#[tokio::test]
async fn two_grants_at_once_never_lose_one_another() {
    use authenticon::auth::rbac::{Actor, RoleError};
    use authenticon::store::AuditMeta;
    let app = spawn().await;
    let roles = &app.state.roles;
    let audit = AuditMeta::default();
    roles.create(Actor::Operator, "editors", "", &[], &audit).await.unwrap();
    for round in 0..5 {
        let (a, b) = (format!("a.p{round}"), format!("b.p{round}"));
        let (ra, rb) = tokio::join!(
            roles.change_permissions(Actor::Operator, "editors", std::slice::from_ref(&a), &[], &audit),
            roles.change_permissions(Actor::Operator, "editors", std::slice::from_ref(&b), &[], &audit),
        );
        let now = roles.get("editors").await.unwrap().permissions;
        for (result, permission) in [(ra, &a), (rb, &b)] {
            match result {
                // A grant that reported success is there…
                Ok(_) => assert!(now.contains(permission), "{permission} lost: {now:?}"),
                // …and one that lost the race says so instead.
                Err(RoleError::Invalid(e)) => assert!(e.has("non_field_errors"), "{e:?}"),
                Err(e) => panic!("{e}"),
            }
        }
    }
}
