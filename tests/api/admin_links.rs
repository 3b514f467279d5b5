//! Attacks on what an administrator's actions leave behind: invitation and reset links
//! that outlive the account they were made for, mails sent in bulk, and changes decided
//! on a read that a promotion overtook.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use authenticon::domain::Clock;

use crate::support::*;

const LINK_DEAD: &str = "This link is invalid or has expired.";

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>, token: &str) -> Reply {
    app.request(method, path, body, Some(token)).await
}

async fn link_state(app: &TestApp, token: &str) -> (StatusCode, Value) {
    let r = app.post("/api/password-reset/check/", json!({"token": token})).await;
    (r.status, r.body)
}

fn dead() -> (StatusCode, Value) {
    (StatusCode::BAD_REQUEST, json!({"token": [LINK_DEAD]}))
}

fn alive() -> (StatusCode, Value) {
    (StatusCode::OK, json!({"detail": "This link is valid."}))
}

#[tokio::test]
async fn an_invitation_opens_nothing_once_its_account_was_given_more() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    let (_, dave) = crate::admin::delegate(&app, &root, "dave").await;
    // The delegate invites "carol" at an address of its own…
    let body = json!({"username": "carol", "email": "dave+carol@example.com", "send_invitation": true});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &dave).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let carol = str_of(&r.body["id"]);
    let token = token_in(&sink.wait_for(1).await[0], "reset-password");
    assert_eq!(link_state(&app, &token).await, alive());
    // …and a superuser later makes carol an administrator.
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/users/{carol}/roles/"),
        Some(json!({"roles": ["admin"]})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The delegate's link no longer opens the account it could not manage now.
    assert_eq!(link_state(&app, &token).await, dead());
    let r = app.post("/api/password-reset/confirm/", json!({"token": token, "new_password": PASSWORD})).await;
    assert_eq!((r.status, r.body), dead());
    let r = app.post("/api/token/", json!({"username": "carol", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_reset_link_dies_when_the_address_or_the_password_changes() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    // An invitation to one address, then the address corrected: the old link is dead.
    let body = json!({"username": "gail", "email": "gail@old.example", "send_invitation": true});
    let gail = str_of(&call(&app, Method::POST, "/api/users/", Some(body), &root).await.body["id"]);
    let token = token_in(&sink.wait_for(1).await[0], "reset-password");
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{gail}/"),
        Some(json!({"email": "gail@new.example"})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(link_state(&app, &token).await, dead());

    // A reset link asked for, then the password changed by its owner: dead too.
    let ivy = register_with_email(&app, "ivy", "ivy@example.com").await;
    let verify = sink.wait_for_mail("ivy@example.com", "Confirm your email").await;
    let r = app.post("/api/email/verify/", json!({"token": token_in(&verify, "verify-email")})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r =
        call(&app, Method::POST, &format!("/api/users/{}/password-reset/", str_of(&ivy["id"])), None, &root)
            .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let token =
        token_in(&sink.wait_for_mail("ivy@example.com", "Reset your password").await, "reset-password");
    assert_eq!(link_state(&app, &token).await, alive());
    let (access, _) = app.login("ivy").await;
    let change = json!({"old_password": PASSWORD, "new_password": "another long passphrase"});
    let r = app.request(Method::POST, "/api/me/password/", Some(change), Some(&access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(link_state(&app, &token).await, dead());
}

#[tokio::test]
async fn a_password_and_an_invitation_together_are_refused() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    let body = json!({"username": "carol", "email": "carol@example.com", "password": PASSWORD, "send_invitation": true});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &root).await;
    assert_eq!(
        (r.status, r.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"send_invitation": ["Give a password or send an invitation, not both."]})
        )
    );
    let r = call(&app, Method::GET, "/api/users/?search=carol", None, &root).await;
    assert_eq!(r.body["count"], json!(0));
    assert!(sink.mails().is_empty());
}

#[tokio::test]
async fn an_invited_user_whose_link_expired_is_invited_again() {
    let (app, sink) = with_mail(|_| {}).await;
    let (_, root) = superuser(&app, "root").await;
    let body = json!({"username": "hank", "email": "hank@example.com", "send_invitation": true});
    let hank = str_of(&call(&app, Method::POST, "/api/users/", Some(body), &root).await.body["id"]);
    let first = token_in(&sink.wait_for(1).await[0], "reset-password");
    app.clock.advance(7 * 86_400 + 1);
    assert_eq!(link_state(&app, &first).await, dead());
    let (root, _) = app.login("root").await;
    // The address is not verified, but it is where the invitation went: a new one goes there.
    let r = call(&app, Method::POST, &format!("/api/users/{hank}/password-reset/"), None, &root).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1]["to"], json!(["hank@example.com"]));
    assert!(str_of(&mails[1]["subject"]).contains("choose your password"), "{}", mails[1]);
    let again = token_in(&mails[1], "reset-password");
    let r = app.post("/api/password-reset/confirm/", json!({"token": again, "new_password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.login("hank").await;
    // Once the password is chosen, the unverified-address rule is back.
    let jack = app.register("jack").await;
    let r =
        call(&app, Method::POST, &format!("/api/users/{}/password-reset/", str_of(&jack["id"])), None, &root)
            .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn mails_an_administrator_sends_are_throttled_like_reset_requests() {
    let (app, sink) = with_mail(|c| c.throttle.password_reset_per_email = 2).await;
    let (_, root) = superuser(&app, "root").await;
    let ivy = register_verified(&app, &sink, "ivy", "ivy@example.com").await;
    let path = format!("/api/users/{}/password-reset/", str_of(&ivy["id"]));
    for _ in 0..2 {
        assert_eq!(call(&app, Method::POST, &path, None, &root).await.status, StatusCode::ACCEPTED);
    }
    let r = call(&app, Method::POST, &path, None, &root).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // Invitations count against the address too.
    let body = json!({"username": "carol", "email": "ivy@example.com", "send_invitation": true});
    let r = call(&app, Method::POST, "/api/users/", Some(body), &root).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
}

#[tokio::test]
async fn an_administrators_change_decided_before_a_promotion_changes_nothing() {
    use authenticon::store::{AuditMeta, StoreError, CHANGED_MEANWHILE};
    let app = spawn().await;
    let (bob, bob_access, _) = app.user_with_tokens("bob").await;
    let store = &app.state.store;
    let now = app.clock.now();
    // A delegate judged bob when he held nothing…
    let judged = AuditMeta::default().judged(&store.user_by_id(&bob).await.unwrap().unwrap());
    // …and a superuser made him an administrator before the delegate's write.
    store.set_user_roles(&bob, &["admin".into()], None, now, &AuditMeta::default()).await.unwrap();
    let meanwhile = |r: Result<u64, StoreError>| {
        assert!(
            matches!(&r, Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE),
            "{r:?}"
        )
    };
    meanwhile(store.revoke_all_sessions(&bob, now, &judged).await);
    meanwhile(store.clear_lockout(&bob, &json!({}), now, &judged).await.map(|()| 0));
    // Nothing was done: bob's session still works.
    assert_eq!(app.get("/api/me/", Some(&bob_access)).await.status, StatusCode::OK);
    // Judged as he stands now, the same write goes through.
    let judged = AuditMeta::default().judged(&store.user_by_id(&bob).await.unwrap().unwrap());
    assert_eq!(store.revoke_all_sessions(&bob, now, &judged).await.unwrap(), 1);
}

#[tokio::test]
async fn a_user_made_with_a_role_that_changed_meanwhile_is_not_made() {
    use authenticon::store::{AuditMeta, NewUser, RolesToGive, StoreError, CHANGED_MEANWHILE};
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let role = json!({"name": "analyst", "permissions": ["reports.view"]});
    assert_eq!(call(&app, Method::POST, "/api/roles/", Some(role), &root).await.status, StatusCode::CREATED);
    // Judged while analyst gave reports.view only; it gained users.manage before the write.
    let judged = RolesToGive { names: vec!["analyst".into()], permissions: vec!["reports.view".into()] };
    let r = call(
        &app,
        Method::PATCH,
        "/api/roles/analyst/",
        Some(json!({"permissions": ["reports.view", "users.manage"]})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let new = NewUser {
        id: "u-1".into(),
        username: "mallory".into(),
        username_key: "mallory".into(),
        email: String::new(),
        password_hash: "!".into(),
        is_superuser: false,
        now: app.clock.now(),
        roles: judged,
    };
    let r = app.state.store.create_user(new, &AuditMeta::default()).await;
    assert!(
        matches!(&r, Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE),
        "{r:?}"
    );
    assert!(app.state.store.user_by_id("u-1").await.unwrap().is_none());
}
