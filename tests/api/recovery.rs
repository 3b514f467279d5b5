//! Password reset, email verification and theft alerts, with mail delivered to a real
//! SMTP server (aiosmtpd) started by each test.

use std::time::{Duration, Instant};

use authenticon::domain::{Clock, Secret};
use authenticon::store::AuditFilter;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

const RESET_REQUESTED: &str =
    "If an account with this email address exists, we have sent it a link to reset the password.";
const NEW_PASSWORD: &str = "another long passphrase";

fn link_invalid() -> Value {
    json!({"token": ["This link is invalid or has expired."]})
}

async fn change_password(app: &TestApp, access: &str, old: &str, new: &str) -> StatusCode {
    let body = json!({"old_password": old, "new_password": new});
    app.request(reqwest::Method::POST, "/api/me/password/", Some(body), Some(access)).await.status
}

async fn change_email(app: &TestApp, access: &str, email: &str) -> StatusCode {
    app.request(
        reqwest::Method::PATCH,
        "/api/me/",
        Some(json!({"email": email, "password": PASSWORD})),
        Some(access),
    )
    .await
    .status
}

async fn events(app: &TestApp, user_id: &str) -> Vec<String> {
    let filter = AuditFilter { user_id: Some(user_id.to_string()), ..AuditFilter::default() };
    let page = app.state.store.list_audit(&filter, 0, 100).await.unwrap();
    page.rows.into_iter().rev().map(|r| r.event).collect()
}

#[tokio::test]
async fn a_reset_link_sets_the_password_once_and_ends_every_session() {
    let (app, sink) = with_mail(|_| {}).await;
    let user = register_verified(&app, &sink, "alice", "alice@example.com").await;
    let id = str_of(&user["id"]);
    let (_, refresh) = app.login("alice").await;

    // The address matches case-insensitively, as Django's reset form does.
    let r = app.post("/api/password-reset/", json!({"email": "ALICE@example.com"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    assert_eq!(r.body, json!({"detail": RESET_REQUESTED}));
    let mail = sink.wait_for(2).await.pop().unwrap();
    assert_eq!(mail["to"], json!(["alice@example.com"]));
    assert_eq!(mail["subject"], "Reset your password");
    assert!(str_of(&mail["body"]).contains("https://auth.example.com/reset-password?token="), "{mail}");
    let token = token_in(&mail, "reset-password");

    // A weak password is refused and the link stays usable.
    let r = app.post("/api/password-reset/confirm/", json!({"token": token, "new_password": "alice"})).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body["new_password"],
        json!([
            "The password is too similar to the username.",
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common."
        ])
    );

    let r =
        app.post("/api/password-reset/confirm/", json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, json!({"detail": "Password has been reset with the new password."}));

    // Every session ended; only the new password works.
    let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, token_not_valid());
    let r = app.post("/api/token/", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let (access, _) = app.login_with("alice", NEW_PASSWORD).await;

    // Single use.
    let r = app
        .post("/api/password-reset/confirm/", json!({"token": token, "new_password": "a third passphrase"}))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.body, link_invalid());

    // The link proved the address, which is told of the reset.
    let me = app.get("/api/me/", Some(&access)).await;
    assert_eq!(me.body["email_verified"], true);
    let notice = sink.wait_for(3).await.remove(2);
    assert_eq!(
        (&notice["to"], &notice["subject"]),
        (&json!(["alice@example.com"]), &json!("Your password was changed"))
    );
    let body = str_of(&notice["body"]);
    assert!(body.contains("was reset with a link mailed to this address"), "{body}");
    assert!(body.contains("https://auth.example.com/forgot-password"), "{body}");
    assert!(!body.contains(&token), "{body}");
    let log = events(&app, &id).await;
    for event in [
        "email_verification_sent",
        "email_verified",
        "password_reset_requested",
        "password_reset",
        "security_notice_sent",
    ] {
        assert!(log.iter().any(|e| e == event), "{event} missing from {log:?}");
    }
    // Nothing secret in the audit log.
    let page = app.state.store.list_audit(&AuditFilter::default(), 0, 100).await.unwrap();
    let text = format!("{:?}", page.rows);
    assert!(!text.contains(&token) && !text.contains(token.split('.').nth(1).unwrap()), "{text}");
}

#[tokio::test]
async fn unknown_addresses_get_the_same_answer_in_the_same_time() {
    let (app, sink) = with_mail(|c| {
        c.throttle.password_reset_per_address = 0;
        c.throttle.password_reset_per_email = 0;
    })
    .await;
    register_verified(&app, &sink, "bob", "bob@example.com").await;

    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..12 {
        for (email, times) in [("bob@example.com", &mut known), ("nobody@example.com", &mut unknown)] {
            let started = Instant::now();
            let r = app.post("/api/password-reset/", json!({"email": email})).await;
            times.push(started.elapsed());
            assert_eq!(
                (r.status, &r.body),
                (StatusCode::ACCEPTED, &json!({"detail": RESET_REQUESTED})),
                "{i}"
            );
        }
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[known.len() / 2], unknown[unknown.len() / 2]);
    // Nothing is looked up or sent before the answer, so the medians differ by noise only.
    let gap = k.abs_diff(u);
    assert!(gap < Duration::from_millis(15), "median known {k:?}, unknown {u:?}");

    // Bob got his 12 links; nobody else got anything.
    let mails = sink.wait_for(13).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails_now = sink.mails();
    assert_eq!(mails_now.len(), 13, "{mails:?}");
    assert!(mails_now.iter().all(|m| m["to"] == json!(["bob@example.com"])));
}

#[tokio::test]
async fn expired_and_malformed_links_are_refused() {
    let (app, sink) = with_mail(|c| c.password_reset_timeout = Duration::from_secs(600)).await;
    register_verified(&app, &sink, "carol", "carol@example.com").await;
    app.post("/api/password-reset/", json!({"email": "carol@example.com"})).await;
    let token = token_in(&sink.wait_for(2).await[1], "reset-password");
    // Ten minutes later, by the service's clock, the link is dead.
    app.clock.advance(601);
    let r =
        app.post("/api/password-reset/confirm/", json!({"token": token, "new_password": NEW_PASSWORD})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, link_invalid()));

    // A token with one character changed, other shapes, and a verification token.
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let verification = token_in(&sink.mails()[0], "verify-email");
    for bad in [forged.as_str(), "", "x", "not.a-token", &"a".repeat(201), verification.as_str()] {
        let r = app
            .post("/api/password-reset/confirm/", json!({"token": bad, "new_password": NEW_PASSWORD}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        if bad.is_empty() {
            assert_eq!(r.body, json!({"token": ["This field may not be blank."]}));
        } else if bad.len() > 100 {
            assert_eq!(
                r.body,
                json!({"token": ["Ensure this field has no more than 200 characters."]}),
                "{}",
                r.body
            );
        } else {
            assert_eq!(r.body, link_invalid(), "{bad}");
        }
    }
    let r = app.post("/api/password-reset/confirm/", json!({})).await;
    assert_eq!(
        r.body,
        json!({"token": ["This field is required."], "new_password": ["This field is required."]})
    );
    let r = app.post("/api/password-reset/", json!({"email": true})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, json!({"email": ["Not a valid string."]})));
}

#[tokio::test]
async fn reset_requests_are_throttled_per_email_and_per_address() {
    let (app, _sink) = with_mail(|c| {
        c.throttle.password_reset_per_email = 2;
        c.throttle.password_reset_per_address = 3;
    })
    .await;
    let ask = |email: &'static str| app.post("/api/password-reset/", json!({"email": email}));
    assert_eq!(ask("a@example.com").await.status, StatusCode::ACCEPTED);
    assert_eq!(ask("A@example.com").await.status, StatusCode::ACCEPTED);
    let r = ask("a@example.com").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    assert_eq!(
        r.body,
        json!({"detail": format!("Request was throttled. Expected available in {wait} seconds.")})
    );
    assert_eq!(ask("b@example.com").await.status, StatusCode::ACCEPTED);
    assert_eq!(ask("c@example.com").await.status, StatusCode::TOO_MANY_REQUESTS, "address limit");
}

#[tokio::test]
async fn emails_are_verified_by_link_and_a_change_needs_a_new_one() {
    let (app, sink) = with_mail(|_| {}).await;
    let user = register_with_email(&app, "dave", "dave@example.com").await;
    assert_eq!(user["email_verified"], false);
    let first = sink.wait_for(1).await.remove(0);
    assert_eq!(first["to"], json!(["dave@example.com"]));
    assert_eq!(first["subject"], "Confirm your email address");
    let first_token = token_in(&first, "verify-email");
    let (access, _) = app.login("dave").await;

    // Changing the address before verifying: the old link verifies nothing.
    let r = app
        .request(
            reqwest::Method::PATCH,
            "/api/me/",
            Some(json!({"email": "dave@example.org", "password": PASSWORD})),
            Some(&access),
        )
        .await;
    assert_eq!(r.body["email_verified"], false);
    let second = sink.wait_for(2).await.remove(1);
    assert_eq!(second["to"], json!(["dave@example.org"]));
    let r = app.post("/api/email/verify/", json!({"token": first_token})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, link_invalid()));

    let token = token_in(&second, "verify-email");
    let r = app.post("/api/email/verify/", json!({"token": token})).await;
    assert_eq!((r.status, r.body), (StatusCode::OK, json!({"detail": "Email address verified."})));
    let me = app.get("/api/me/", Some(&access)).await;
    assert_eq!(
        (me.body["email"].clone(), me.body["email_verified"].clone()),
        (json!("dave@example.org"), json!(true))
    );
    let r = app.post("/api/email/verify/", json!({"token": token})).await;
    assert_eq!((r.status, r.body), (StatusCode::BAD_REQUEST, link_invalid()), "single use");

    // Resending: refused once verified; after another change it sends a fresh link.
    let resend = "/api/email/verify/resend/";
    let r = app.request(reqwest::Method::POST, resend, Some(json!({})), Some(&access)).await;
    assert_eq!(
        (r.status, r.body),
        (StatusCode::BAD_REQUEST, json!({"detail": "Your email address is already verified."}))
    );
    app.request(
        reqwest::Method::PATCH,
        "/api/me/",
        Some(json!({"email": "dave@example.net", "password": PASSWORD})),
        Some(&access),
    )
    .await;
    sink.wait_for(4).await; // the new link, and a notice to the verified old address
    let r = app.request(reqwest::Method::POST, resend, Some(json!({})), Some(&access)).await;
    assert_eq!((r.status, r.body), (StatusCode::ACCEPTED, json!({"detail": "Verification mail sent."})));
    let mails = sink.wait_for(5).await;
    assert_eq!(mails[4]["to"], json!(["dave@example.net"]));
    assert_eq!(mails[4]["subject"], "Confirm your email address");
    let log = events(&app, &str_of(&user["id"])).await;
    assert_eq!(log.iter().filter(|e| *e == "email_verification_sent").count(), 4, "{log:?}");
    assert_eq!(log.iter().filter(|e| *e == "email_verified").count(), 1, "{log:?}");
}

#[tokio::test]
async fn password_and_address_changes_are_told_to_the_verified_address() {
    let (app, sink) = with_mail(|_| {}).await;
    let user = register_with_email(&app, "hank", "hank@example.com").await;
    let verification = sink.wait_for(1).await.remove(0);
    let (access, _) = app.login("hank").await;

    // Unverified, the address may be a stranger's: it is told nothing.
    assert_eq!(change_password(&app, &access, PASSWORD, NEW_PASSWORD).await, StatusCode::NO_CONTENT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.mails().len(), 1, "{:?}", sink.mails());

    let token = token_in(&verification, "verify-email");
    assert_eq!(app.post("/api/email/verify/", json!({"token": token})).await.status, StatusCode::OK);
    // A password change ends the access tokens issued before it: a new login.
    let (access, _) = app.login_with("hank", NEW_PASSWORD).await;
    assert_eq!(change_password(&app, &access, NEW_PASSWORD, PASSWORD).await, StatusCode::NO_CONTENT);
    let notice = sink.wait_for(2).await.remove(1);
    assert_eq!(
        (&notice["to"], &notice["subject"]),
        (&json!(["hank@example.com"]), &json!("Your password was changed"))
    );
    let body = str_of(&notice["body"]);
    assert!(
        body.contains("The password of the account \"hank\" at https://auth.example.com was changed"),
        "{body}"
    );
    assert!(body.contains("from 127.0.0.1 (authenticon-tests)"), "{body}");
    assert!(body.contains("https://auth.example.com/forgot-password"), "{body}");
    assert!(!body.contains(PASSWORD) && !body.contains(NEW_PASSWORD), "{body}");

    // A new address: a link to it, and a notice to the old one.
    let (access, _) = app.login("hank").await;
    assert_eq!(change_email(&app, &access, "hank@example.org").await, StatusCode::OK);
    let mails = sink.wait_for(4).await;
    let to = |m: &Value| m["to"][0].as_str().unwrap_or_default().to_string();
    let notice =
        mails[2..].iter().find(|m| to(m) == "hank@example.com").expect("a notice to the old address");
    assert_eq!(notice["subject"], "The email address of your account was changed");
    let body = str_of(&notice["body"]);
    assert!(body.contains("was changed from hank@example.com to hank@example.org"), "{body}");
    assert!(body.contains("https://auth.example.com/sessions"), "{body}");
    let link = mails[2..].iter().find(|m| to(m) == "hank@example.org").expect("a link to the new address");
    assert_eq!(link["subject"], "Confirm your email address");

    // The same address again changes nothing and mails nothing; from an unverified one,
    // only the new address hears.
    assert_eq!(change_email(&app, &access, "hank@example.org").await, StatusCode::OK);
    assert_eq!(change_email(&app, &access, "hank@example.net").await, StatusCode::OK);
    let mails = sink.wait_for(5).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.mails().len(), 5, "{:?}", sink.mails());
    assert_eq!(to(&mails[4]), "hank@example.net");
    let log = events(&app, &str_of(&user["id"])).await;
    assert_eq!(log.iter().filter(|e| *e == "security_notice_sent").count(), 2, "{log:?}");
}

/// A loopback port with nothing listening on it (yet).

#[tokio::test]
async fn mail_waits_in_the_outbox_while_the_mail_server_is_down() {
    let port = unused_port();
    let app = spawn_with(|c| {
        c.smtp_url = Some(Secret::new(format!("smtp://127.0.0.1:{port}")));
        c.public_url = Some("https://auth.example.com".into());
    })
    .await;
    let before = scrape(&app).await;
    register_with_email(&app, "ivan", "ivan@example.com").await;
    // Refused connections: the mail stays queued (sealed: its link is not readable there).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.state.store.pending_mails().await.unwrap(), 1);
    let now = app.clock.now();
    let queued = app.state.store.claim_mails(now + 3600, now + 3600, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert!(queued[0].attempts >= 1, "{queued:?}");
    assert!(!queued[0].sealed.contains("verify-email") && !queued[0].sealed.contains("ivan"), "{queued:?}");
    app.state.store.retry_mail(&queued[0].id, now, "claimed by the test").await.unwrap();

    // The mail server comes back: the mail arrives, once, and leaves the outbox.
    let sink = SmtpSink::start_on(port);
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["ivan@example.com"]));
    assert!(str_of(&mails[0]["body"]).contains("https://auth.example.com/verify-email?token="));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(app.state.store.pending_mails().await.unwrap(), 0);
    // Other tests send mail in this process too: at least ours.
    let after = scrape(&app).await;
    for outcome in ["retry", "sent"] {
        let count = |s| value(s, "authenticon_mails_total", &[("outcome", outcome)]);
        assert!(count(&after) >= count(&before) + 1.0, "{outcome}");
    }
}

#[tokio::test]
async fn a_mail_refused_for_good_is_not_retried() {
    let sink = SmtpSink::start_rejecting("gone@example.com");
    let url = sink.url();
    let app = spawn_with(|c| c.smtp_url = Some(Secret::new(url))).await;
    let before = scrape(&app).await;
    register_with_email(&app, "judy", "gone@example.com").await;
    register_with_email(&app, "kate", "kate@example.com").await;
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0]["to"], json!(["kate@example.com"]));
    // The 550 ends it: out of the outbox at once, not tried again for a day.
    let deadline = Instant::now() + Duration::from_secs(5);
    while app.state.store.pending_mails().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "the refused mail is still queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = scrape(&app).await;
    let dropped = |s| value(s, "authenticon_mails_total", &[("outcome", "dropped")]);
    assert!(dropped(&after) >= dropped(&before) + 1.0);
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn a_setting_requires_a_verified_email_before_login() {
    let (app, sink) = with_mail(|c| c.require_verified_email = true).await;
    register_with_email(&app, "erin", "erin@example.com").await;
    let r = app.post("/api/token/", json!({"username": "erin", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["code"], "email_not_verified", "{}", r.body);
    let r = app.post("/api/session/login/", json!({"username": "erin", "password": PASSWORD})).await;
    assert_eq!((r.status, r.body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("email_not_verified")));
    // A wrong password learns nothing about the address.
    let r = app.post("/api/token/", json!({"username": "erin", "password": "wrong password"})).await;
    assert_eq!(r.body, json!({"detail": "No active account found with the given credentials"}));

    let token = token_in(&sink.wait_for(1).await[0], "verify-email");
    let r = app.post("/api/email/verify/", json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::OK);
    app.login("erin").await;
}

#[tokio::test]
async fn refresh_token_reuse_mails_a_theft_alert_naming_both_uses() {
    let (app, sink) = with_mail(|_| {}).await;
    let user = register_with_email(&app, "frank", "frank@example.com").await;
    sink.wait_for(1).await;
    let (_, stolen) = app.login("frank").await;
    let r = app.post("/api/token/refresh/", json!({"refresh": stolen})).await;
    assert_eq!(r.status, StatusCode::OK);

    let thief = app
        .client
        .post(format!("{}/api/token/refresh/", app.url))
        .header("user-agent", "ThiefBrowser/9.9")
        .json(&json!({"refresh": stolen}))
        .send()
        .await
        .unwrap();
    assert_eq!(thief.status(), StatusCode::UNAUTHORIZED);

    let alert = sink.wait_for(2).await.remove(1);
    assert_eq!(alert["to"], json!(["frank@example.com"]));
    assert_eq!(alert["subject"], "Security alert: a sign-in of your account was used twice");
    let body = str_of(&alert["body"]);
    assert!(body.contains("from 127.0.0.1 (authenticon-tests)"), "{body}");
    assert!(body.contains("from 127.0.0.1 (ThiefBrowser/9.9)"), "{body}");
    assert!(body.contains("https://auth.example.com/sessions"), "{body}");
    let year = time::OffsetDateTime::now_utc().year().to_string();
    assert_eq!(body.matches(&format!("  {year}-")).count(), 2, "two times named: {body}");
    assert!(!body.contains(&stolen), "the token itself is never mailed");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = events(&app, &str_of(&user["id"])).await;
        if log.iter().any(|e| e == "theft_alert_sent") {
            break;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn without_smtp_mails_are_written_to_files() {
    let app = spawn().await;
    register_with_email(&app, "gina", "gina@example.com").await;
    let dir = app.state.config.mail_dir();
    let deadline = Instant::now() + Duration::from_secs(10);
    let file = loop {
        let found = std::fs::read_dir(&dir)
            .ok()
            .and_then(|d| d.map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "eml")));
        if let Some(f) = found {
            break f;
        }
        assert!(Instant::now() < deadline, "no .eml in {}", dir.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The file holds a live link: for this user's eyes only.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("To: gina@example.com"), "{text}");
    assert!(text.contains("Subject: Confirm your email address"), "{text}");
}
