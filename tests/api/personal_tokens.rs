//! Personal access tokens: made with a fresh proof, shown once, capped at the user's
//! permissions, refused at once when revoked, expired or deactivated, never a way to a
//! proof of presence, recorded in batches.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

const YEAR: i64 = 365 * 86_400;

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>, token: &str) -> Reply {
    app.request(method, path, body, Some(token)).await
}

/// A token for the session `access`, made with the password as proof.
async fn create(app: &TestApp, access: &str, name: &str, permissions: Value) -> Value {
    let body =
        json!({"name": name, "permissions": permissions, "expires_in": 30 * 86_400, "password": PASSWORD});
    let r = call(app, Method::POST, "/api/me/tokens/", Some(body), access).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.body
}

/// The checksum a secret scanner computes: CRC-32 (as zlib's) of the 32 random
/// characters, in base 62 (0-9, A-Z, a-z), six characters.
fn scanner_checksum(random: &str) -> String {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(random.as_bytes());
    let mut out = vec![b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out).unwrap()
}

fn assert_not_valid(r: &Reply) {
    assert_eq!(
        (r.status, &r.body["code"]),
        (StatusCode::UNAUTHORIZED, &json!("token_not_valid")),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn a_token_is_made_with_a_proof_shown_once_listed_without_its_secret_and_revoked() {
    let app = spawn().await;
    let (alice, access, _) = app.user_with_tokens("alice").await;
    // No proof: refused, nothing made.
    let body = json!({"name": "ci", "permissions": [], "expires_in": 3600});
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(body.clone()), &access).await;
    assert_eq!((r.status, &r.body["code"]), (StatusCode::FORBIDDEN, &json!("reauthentication_required")));
    let mut wrong = body.clone();
    wrong["password"] = json!("not the password");
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(wrong), &access).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["password"].is_array(), "{}", r.body);
    assert_eq!(call(&app, Method::GET, "/api/me/tokens/", None, &access).await.body, json!([]));

    let created = create(&app, &access, "  deploy bot ", json!([])).await;
    let token = str_of(&created["token"]);
    assert_eq!(created["name"], json!("deploy bot"));
    assert_eq!(created["permissions"], json!([]));
    assert_eq!(created["prefix"], json!(&token[..8]));
    assert_eq!((&created["last_used"], &created["last_used_ip"]), (&Value::Null, &json!("")));
    let made = time::OffsetDateTime::parse(
        created["created"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let expires = time::OffsetDateTime::parse(
        created["expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!((expires - made).whole_seconds(), 30 * 86_400);

    // It works where an access token does, as its user.
    let me = app.get("/api/me/", Some(&token)).await;
    assert_eq!(
        (me.status, &me.body["id"], &me.body["username"]),
        (StatusCode::OK, &json!(alice), &json!("alice"))
    );
    let r = app.get("/protected-resource/", Some(&token)).await;
    assert_eq!(r.body["message"], json!("Hello, alice! You have accessed a protected resource."));
    // Its sessions list names no current session.
    let r = app.get("/api/me/sessions/", Some(&token)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.as_array().unwrap().iter().all(|s| s["current"] == json!(false)), "{}", r.body);

    // Listed, never with the token again.
    let list = call(&app, Method::GET, "/api/me/tokens/", None, &access).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let listed = &list.body[0];
    assert_eq!(listed["id"], created["id"]);
    assert!(listed.get("token").is_none(), "{listed}");
    assert!(!list.body.to_string().contains(&token[8..]), "the secret part is never shown again");
    // Nor is it stored: only its digest.
    let stored = app.state.store.personal_tokens_of(&alice).await.unwrap();
    assert_eq!(stored[0].digest, authenticon::crypto::sha256_hex(&token));
    assert!(!format!("{stored:?}").contains(&token[8..]));

    // Revoked: refused from the next request on; gone from the list.
    let id = str_of(&created["id"]);
    let r = call(&app, Method::DELETE, &format!("/api/me/tokens/{id}/"), None, &access).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_not_valid(&app.get("/api/me/", Some(&token)).await);
    assert_eq!(call(&app, Method::GET, "/api/me/tokens/", None, &access).await.body, json!([]));
    let r = call(&app, Method::DELETE, &format!("/api/me/tokens/{id}/"), None, &access).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let (_, root) = superuser(&app, "root").await;
    for event in ["personal_token_created", "personal_token_revoked"] {
        let r = call(&app, Method::GET, &format!("/api/audit/?event={event}"), None, &root).await;
        let entry = &r.body["results"][0];
        assert_eq!((&entry["user_id"], &entry["detail"]["token_id"]), (&json!(alice), &json!(id)), "{event}");
        assert!(!entry.to_string().contains(&token[8..]), "no secret in the audit log");
    }
}

#[tokio::test]
async fn a_leaked_token_is_recognisable_and_a_mistyped_one_is_refused() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let token = str_of(&create(&app, &access, "scanner", json!([])).await["token"]);
    // The documented format: atn_, 32 base-62 characters, their 6-character checksum.
    assert_eq!(token.len(), 42);
    assert!(token.starts_with("atn_"));
    assert!(token[4..].bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    assert_eq!(scanner_checksum(&token[4..36]), token[36..]);
    assert_eq!(app.get("/api/me/", Some(&token)).await.status, StatusCode::OK);
    // One character changed: the checksum fails, refused.
    let mut typo = token.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    assert_not_valid(&app.get("/api/me/", Some(&String::from_utf8(typo).unwrap())).await);
    // A well-formed token that was never issued: refused too.
    let random = "A".repeat(32);
    let forged = format!("atn_{random}{}", scanner_checksum(&random));
    assert_not_valid(&app.get("/api/me/", Some(&forged)).await);
    // Not a token of ours at all.
    assert_not_valid(&app.get("/api/me/", Some("atn_")).await);
}

#[tokio::test]
async fn a_token_holds_only_its_permissions_that_the_user_still_holds() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let (bob, bob_access, _) = app.user_with_tokens("bob").await;
    call(
        &app,
        Method::POST,
        "/api/roles/",
        Some(json!({"name": "analyst", "permissions": ["reports.view", "audit.view"]})),
        &root,
    )
    .await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/users/{bob}/roles/"),
        Some(json!({"roles": ["analyst"]})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // No one gives a token what they do not hold.
    let body = json!({"name": "x", "permissions": ["users.view"], "expires_in": 3600, "password": PASSWORD});
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(body), &bob_access).await;
    assert_eq!(
        (r.status, &r.body),
        (
            StatusCode::BAD_REQUEST,
            &json!({"permissions": ["You do not hold the permission \u{201c}users.view\u{201d}."]})
        )
    );

    let token = str_of(&create(&app, &bob_access, "reports", json!(["reports.view"])).await["token"]);
    assert_eq!(app.get("/api/reports/", Some(&token)).await.status, StatusCode::OK);
    // bob holds audit.view, the token does not list it.
    assert_eq!(app.get("/api/audit/", Some(&bob_access)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/audit/", Some(&token)).await.status, StatusCode::FORBIDDEN);
    // The role taken away: the token loses it at once.
    call(&app, Method::PUT, &format!("/api/users/{bob}/roles/"), Some(json!({"roles": []})), &root).await;
    assert_eq!(app.get("/api/reports/", Some(&token)).await.status, StatusCode::FORBIDDEN);
    // And it comes back with the role (the token still lists it).
    call(&app, Method::PUT, &format!("/api/users/{bob}/roles/"), Some(json!({"roles": ["analyst"]})), &root)
        .await;
    assert_eq!(app.get("/api/reports/", Some(&token)).await.status, StatusCode::OK);

    // A superuser's token is not a superuser: it holds what it lists.
    let root_token = str_of(&create(&app, &root, "users", json!(["users.view"])).await["token"]);
    assert_eq!(app.get("/api/users/", Some(&root_token)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/roles/", Some(&root_token)).await.status, StatusCode::FORBIDDEN);
    let r = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{bob}/"),
        Some(json!({"is_active": false})),
        &root_token,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Administrators see anyone's tokens (users.view), without the secret.
    let r = app.get(&format!("/api/users/{bob}/tokens/"), Some(&root_token)).await;
    assert_eq!(
        (r.status, &r.body[0]["name"], &r.body[0]["permissions"]),
        (StatusCode::OK, &json!("reports"), &json!(["reports.view"]))
    );
    assert!(r.body[0].get("token").is_none());
    assert_eq!(
        app.get(&format!("/api/users/{root_id}/tokens/"), Some(&bob_access)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.get("/api/users/nobody/tokens/", Some(&root)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_revoked_expired_or_deactivated_token_is_refused_at_once() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let (alice, access, _) = app.user_with_tokens("alice").await;
    let first = create(&app, &access, "one", json!([])).await;
    let token = str_of(&first["token"]);
    let second = str_of(&create(&app, &access, "two", json!([])).await["token"]);
    // Both in use (and so cached).
    assert_eq!(app.get("/api/me/", Some(&token)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/me/", Some(&second)).await.status, StatusCode::OK);

    // An administrator revokes one (users.manage): refused on the very next request.
    let id = str_of(&first["id"]);
    let r = call(&app, Method::DELETE, &format!("/api/users/{alice}/tokens/{id}/"), None, &root).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_not_valid(&app.get("/api/me/", Some(&token)).await);
    assert_eq!(app.get("/api/me/", Some(&second)).await.status, StatusCode::OK);
    let r = call(&app, Method::GET, "/api/audit/?event=personal_token_revoked&actor=root", None, &root).await;
    assert_eq!(r.body["results"][0]["detail"]["token_id"], json!(id));

    // Deactivated: refused at once; active again, the token works again.
    let r =
        call(&app, Method::PATCH, &format!("/api/users/{alice}/"), Some(json!({"is_active": false})), &root)
            .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.get("/api/me/", Some(&second)).await;
    assert_eq!((r.status, &r.body["code"]), (StatusCode::UNAUTHORIZED, &json!("user_inactive")));
    let r =
        call(&app, Method::PATCH, &format!("/api/users/{alice}/"), Some(json!({"is_active": true})), &root)
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.get("/api/me/", Some(&second)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Expired: refused the second its lifetime ends (30 days), though cached.
    app.clock.advance(30 * 86_400 - 1);
    assert_eq!(app.get("/api/me/", Some(&second)).await.status, StatusCode::OK);
    app.clock.advance(1);
    assert_not_valid(&app.get("/api/me/", Some(&second)).await);
    // Still listed, so its owner sees it expired.
    let (access, _) = app.login("alice").await;
    let list = call(&app, Method::GET, "/api/me/tokens/", None, &access).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["name"], json!("two"));
}

#[tokio::test]
async fn a_token_never_proves_presence_nor_makes_tokens() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let token = str_of(&create(&app, &access, "script", json!([])).await["token"]);
    let proof = json!({"password": PASSWORD});
    let other = str_of(&create(&app, &access, "other", json!([])).await["id"]);
    let sid = str_of(&app.get("/api/me/sessions/", Some(&access)).await.body[0]["id"]);
    let (revoke_other, revoke_session) =
        (format!("/api/me/tokens/{other}/"), format!("/api/me/sessions/{sid}/"));
    let refused: Vec<(Method, &str, Value)> = vec![
        // A stolen token must not lock its owner out: no ending sessions, no revoking
        // other tokens, no unlinking or disconnecting.
        (Method::DELETE, revoke_session.as_str(), json!({})),
        (Method::POST, "/api/me/sessions/revoke-all/", json!({})),
        (Method::DELETE, revoke_other.as_str(), json!({})),
        (Method::DELETE, "/api/me/identities/x/", json!({})),
        (Method::DELETE, "/api/me/applications/x/", json!({})),
        (
            Method::POST,
            "/api/me/tokens/",
            json!({"name": "more", "permissions": [], "expires_in": 3600, "password": PASSWORD}),
        ),
        (Method::POST, "/api/me/reauthenticate/", proof.clone()),
        (Method::POST, "/api/me/reauthenticate/passkey/", json!({})),
        (Method::PATCH, "/api/me/", json!({"email": "thief@example.com", "password": PASSWORD})),
        (
            Method::POST,
            "/api/me/password/",
            json!({"old_password": PASSWORD, "new_password": "An0ther-long-pass"}),
        ),
        (Method::POST, "/api/mfa/totp/", proof.clone()),
        (Method::POST, "/api/mfa/passkeys/", json!({"name": "k", "password": PASSWORD})),
        (Method::POST, "/api/mfa/totp/disable/", json!({"code": "123456"})),
        (Method::POST, "/api/mfa/recovery-codes/", json!({"code": "123456"})),
        (Method::POST, "/api/me/identities/", json!({"provider": "github", "password": PASSWORD})),
    ];
    for (method, path, body) in refused {
        let r = call(&app, method.clone(), path, Some(body), &token).await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (StatusCode::FORBIDDEN, &json!("personal_token_not_allowed")),
            "{method} {path}: {}",
            r.body
        );
    }
    // Nothing changed: two tokens, the session, the same address, the same password.
    assert_eq!(
        call(&app, Method::GET, "/api/me/tokens/", None, &access).await.body.as_array().unwrap().len(),
        2
    );
    assert_eq!(app.get("/api/me/", Some(&access)).await.body["email"], json!(""));
    app.login("alice").await;
    // A session re-authenticated a moment ago still cannot lend that to a token.
    let r = call(&app, Method::POST, "/api/me/reauthenticate/", Some(proof), &access).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(&app, Method::PATCH, "/api/me/", Some(json!({"email": "thief@example.com"})), &token).await;
    assert_eq!(r.body["code"], json!("personal_token_not_allowed"));
    // What needs no proof works: reading, and revoking the token itself.
    let list = app.get("/api/me/tokens/", Some(&token)).await.body;
    let id = str_of(&list.as_array().unwrap().iter().find(|t| t["name"] == json!("script")).unwrap()["id"]);
    let r = call(&app, Method::DELETE, &format!("/api/me/tokens/{id}/"), None, &token).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_not_valid(&app.get("/api/me/", Some(&token)).await);
}

#[tokio::test]
async fn a_new_token_is_checked_field_by_field_and_bounded_in_number_and_lifetime() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let post = |body: Value| call(&app, Method::POST, "/api/me/tokens/", Some(body), &access);
    let r = post(json!({"password": PASSWORD})).await;
    assert_eq!(
        (r.status, &r.body),
        (
            StatusCode::BAD_REQUEST,
            &json!({"name": ["This field is required."], "permissions": ["This field is required."],
                    "expires_in": ["This field is required."]})
        )
    );
    let r =
        post(json!({"name": "", "permissions": "users.view", "expires_in": "soon", "password": PASSWORD}))
            .await;
    assert_eq!(
        r.body,
        json!({"name": ["This field may not be blank."],
               "permissions": ["Expected a list of items but got type \"str\"."],
               "expires_in": ["A valid integer is required."]})
    );
    let r = post(json!({"name": "n", "permissions": ["Not Valid"], "expires_in": 59, "password": PASSWORD}))
        .await;
    assert_eq!(
        r.body,
        json!({"permissions": ["\u{201c}Not Valid\u{201d} is not a valid permission."],
               "expires_in": ["Ensure this value is greater than or equal to 60."]})
    );
    // At most a year by default, and never "never".
    let r = post(json!({"name": "n", "permissions": [], "expires_in": YEAR + 1, "password": PASSWORD})).await;
    assert_eq!(
        r.body,
        json!({"expires_in": [format!("Ensure this value is less than or equal to {YEAR}.")]})
    );
    let r = post(json!({"name": "n", "permissions": [], "expires_in": null, "password": PASSWORD})).await;
    assert_eq!(
        r.body,
        json!({"expires_in": [format!("A token must expire: give a lifetime of at most {YEAR} seconds.")]})
    );
    let r = post(json!({"name": "n", "permissions": [], "expires_in": "3600", "password": PASSWORD})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // Fifty live tokens at most (the session re-authenticated once covers them all).
    let r = call(&app, Method::POST, "/api/me/reauthenticate/", Some(json!({"password": PASSWORD})), &access)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for i in 1..50 {
        let r = post(json!({"name": format!("t{i}"), "permissions": [], "expires_in": YEAR})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{i}: {}", r.body);
    }
    let r = post(json!({"name": "one too many", "permissions": [], "expires_in": YEAR})).await;
    assert_eq!((r.status, &r.body["code"]), (StatusCode::BAD_REQUEST, &json!("too_many_tokens")));
}

#[tokio::test]
async fn tokens_that_never_expire_only_where_configured() {
    let app = spawn_with(|c| c.personal_token_max_lifetime = None).await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let body = json!({"name": "forever", "permissions": [], "expires_in": null, "password": PASSWORD});
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(body), &access).await;
    assert_eq!((r.status, &r.body["expires"]), (StatusCode::CREATED, &Value::Null), "{}", r.body);
    let token = str_of(&r.body["token"]);
    app.clock.advance(10 * YEAR);
    assert_eq!(app.get("/api/me/", Some(&token)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn uses_are_written_in_batches_and_a_new_address_is_audited_once() {
    let app = spawn_with(localhost_trusted).await;
    let (_, root) = superuser(&app, "root").await;
    let (alice, access, _) = app.user_with_tokens("alice").await;
    let token = str_of(&create(&app, &access, "ci", json!([])).await["token"]);
    let from = |ip: &'static str| {
        let req =
            app.client.get(format!("{}/api/me/", app.url)).bearer_auth(&token).header("x-forwarded-for", ip);
        async move { req.send().await.unwrap().status() }
    };
    for ip in ["203.0.113.5", "203.0.113.5", "198.51.100.7", "203.0.113.5"] {
        assert_eq!(from(ip).await, StatusCode::OK);
    }
    // Not one write per request: nothing stored yet.
    let stored = app.state.store.personal_tokens_of(&alice).await.unwrap();
    assert_eq!((stored[0].last_used_at, stored[0].last_used_ip.as_str()), (None, ""));
    // The list shows the last use this instance saw, still without a write.
    app.clock.advance(5);
    let list = call(&app, Method::GET, "/api/me/tokens/", None, &access).await;
    assert_eq!(list.body[0]["last_used_ip"], json!("203.0.113.5"));
    assert!(list.body[0]["last_used"].is_string(), "{}", list.body);
    let stored = app.state.store.personal_tokens_of(&alice).await.unwrap();
    assert_eq!(stored[0].last_used_at, None);
    // The batch (every 10 s; here at once) writes it, and audits each new address once.
    app.state.tokens.flush_personal_token_uses().await.unwrap();
    let stored = app.state.store.personal_tokens_of(&alice).await.unwrap();
    assert_eq!(stored[0].last_used_ip, "203.0.113.5");
    assert!(stored[0].last_used_at.is_some());
    let used = call(&app, Method::GET, "/api/audit/?event=personal_token_used", None, &root).await;
    let mut ips: Vec<String> =
        used.body["results"].as_array().unwrap().iter().map(|e| str_of(&e["ip"])).collect();
    ips.sort();
    assert_eq!(ips, ["198.51.100.7", "203.0.113.5"]);
    // The same addresses again: no new entries; a third address: one.
    assert_eq!(from("203.0.113.5").await, StatusCode::OK);
    assert_eq!(from("192.0.2.1").await, StatusCode::OK);
    app.state.tokens.flush_personal_token_uses().await.unwrap();
    let used = call(&app, Method::GET, "/api/audit/?event=personal_token_used", None, &root).await;
    assert_eq!(used.body["count"], json!(3), "{}", used.body);
    assert_eq!(used.body["results"][0]["ip"], json!("192.0.2.1"));
    assert_eq!(used.body["results"][0]["user_id"], json!(alice));
}

#[tokio::test]
async fn the_owner_is_told_by_mail_when_a_token_is_made() {
    let (app, sink) = with_mail(|_| {}).await;
    register_verified(&app, &sink, "alice", "alice@example.com").await;
    let (access, _) = app.login("alice").await;
    create(&app, &access, "laptop script", json!([])).await;
    let mail =
        sink.wait_for_mail("alice@example.com", "A personal access token was created for your account").await;
    let text = mail.to_string();
    assert!(text.contains("laptop script"), "{text}");
    assert!(text.contains("/tokens"), "{text}");
    // A name cannot write a paragraph of its own into that mail.
    let body =
        json!({"name": "x\n\nNothing to do.", "permissions": [], "expires_in": 3600, "password": PASSWORD});
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(body), &access).await;
    assert_eq!(r.body, json!({"name": ["The name may not contain control or invisible characters."]}));
    // Nor turn the text around it (a right-to-left override).
    let body =
        json!({"name": "bot\u{202E}txt.exe", "permissions": [], "expires_in": 3600, "password": PASSWORD});
    let r = call(&app, Method::POST, "/api/me/tokens/", Some(body), &access).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_password_reset_takes_the_account_back_from_its_tokens() {
    let (app, sink) = with_mail(|_| {}).await;
    register_verified(&app, &sink, "alice", "alice@example.com").await;
    let (access, _) = app.login("alice").await;
    // Made by someone who had the password.
    let token = str_of(&create(&app, &access, "thief", json!([])).await["token"]);
    assert_eq!(app.get("/api/me/", Some(&token)).await.status, StatusCode::OK);
    let r = app.post("/api/password-reset/", json!({"email": "alice@example.com"})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    let mail = sink.wait_for_mail("alice@example.com", "Reset your password").await;
    let link = token_in(&mail, "reset-password");
    let r = app
        .post(
            "/api/password-reset/confirm/",
            json!({"token": link, "new_password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_not_valid(&app.get("/api/me/", Some(&token)).await);
    let (access, _) = app.login_with("alice", "a brand new passphrase").await;
    assert_eq!(call(&app, Method::GET, "/api/me/tokens/", None, &access).await.body, json!([]));
}

#[tokio::test]
async fn a_maximum_lifetime_set_later_bounds_tokens_made_before() {
    let app =
        spawn_with(|c| c.personal_token_max_lifetime = Some(std::time::Duration::from_secs(86_400))).await;
    let (alice, _, _) = app.user_with_tokens("alice").await;
    // A token made while no maximum was set (as stored then: no expiry).
    let token = authenticon::tokens::personal::generate();
    let row = authenticon::store::PersonalTokenRow {
        id: "old".into(),
        user_id: alice,
        name: "forever".into(),
        prefix: token[..8].into(),
        digest: authenticon::crypto::sha256_hex(&token),
        permissions: String::new(),
        created_at: app.state.clock.now(),
        expires_at: None,
        last_used_at: None,
        last_used_ip: String::new(),
        revoked_at: None,
    };
    let meta = authenticon::store::AuditMeta::default();
    assert!(app.state.store.insert_personal_token(&row, 50, &meta).await.unwrap());
    assert_eq!(app.get("/api/me/", Some(&token)).await.status, StatusCode::OK);
    // The day the maximum allows ends it.
    app.clock.advance(86_400);
    assert_not_valid(&app.get("/api/me/", Some(&token)).await);
}

#[tokio::test]
async fn made_up_tokens_from_one_address_are_throttled_before_they_cost_a_query() {
    let app = spawn_with(|c| {
        localhost_trusted(c);
        c.throttle.login_per_address = 3;
    })
    .await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    let token = str_of(&create(&app, &access, "ci", json!([])).await["token"]);
    let from = |ip: &'static str, token: String| {
        let req =
            app.client.get(format!("{}/api/me/", app.url)).bearer_auth(token).header("x-forwarded-for", ip);
        async move {
            let r = req.send().await.unwrap();
            let retry = r.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
            (r.status(), retry)
        }
    };
    // Well formed (the checksum is public), naming nothing.
    let forged = |i: usize| {
        let random = format!("{i:0>32}");
        format!("atn_{random}{}", scanner_checksum(&random))
    };
    for i in 0..3 {
        assert_eq!(from("203.0.113.9", forged(i)).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry) = from("203.0.113.9", forged(3)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.unwrap().parse::<u64>().unwrap() > 0);
    // That address is refused before any lookup, even with a real token…
    assert_eq!(from("203.0.113.9", token.clone()).await.0, StatusCode::TOO_MANY_REQUESTS);
    // …while others are not, and a script using its token is never counted.
    for _ in 0..5 {
        assert_eq!(from("198.51.100.7", token.clone()).await.0, StatusCode::OK);
    }
}

#[tokio::test]
async fn an_administrators_token_does_not_act_on_its_own_account_through_the_admin_routes() {
    let app = spawn().await;
    let (_, root) = superuser(&app, "root").await;
    let (harry, harry_access, _) = app.user_with_tokens("harry").await;
    let (bob, _, _) = app.user_with_tokens("bob").await;
    let role = json!({"name": "helpdesk", "permissions": ["users.view", "users.manage"]});
    call(&app, Method::POST, "/api/roles/", Some(role), &root).await;
    let r = call(
        &app,
        Method::PUT,
        &format!("/api/users/{harry}/roles/"),
        Some(json!({"roles": ["helpdesk"]})),
        &root,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = str_of(
        &create(&app, &harry_access, "helpdesk bot", json!(["users.view", "users.manage"])).await["token"],
    );
    let other = str_of(&create(&app, &harry_access, "other", json!([])).await["id"]);
    // On harry himself: what /api/me/ refuses a token, and clearing his lockout between
    // guesses, are refused here too.
    let own: Vec<(Method, String, Value)> = vec![
        (Method::POST, format!("/api/users/{harry}/sessions/revoke-all/"), json!({})),
        (Method::DELETE, format!("/api/users/{harry}/sessions/x/"), json!({})),
        (Method::DELETE, format!("/api/users/{harry}/lockouts/"), json!({})),
        (Method::DELETE, format!("/api/users/{harry}/tokens/{other}/"), json!({})),
        (Method::POST, format!("/api/users/{harry}/tokens/revoke-all/"), json!({})),
        (Method::POST, format!("/api/users/{harry}/password-reset/"), json!({})),
        (Method::PUT, format!("/api/users/{harry}/roles/"), json!({"roles": []})),
        (Method::PATCH, format!("/api/users/{harry}/"), json!({"is_active": false})),
    ];
    for (method, path, body) in own {
        let r = call(&app, method.clone(), &path, Some(body), &token).await;
        assert_eq!(
            (r.status, &r.body["code"]),
            (StatusCode::FORBIDDEN, &json!("personal_token_not_allowed")),
            "{method} {path}: {}",
            r.body
        );
    }
    assert_eq!(app.get("/api/me/", Some(&harry_access)).await.status, StatusCode::OK);
    // On someone else, the token does what its permissions allow.
    let r = call(&app, Method::POST, &format!("/api/users/{bob}/sessions/revoke-all/"), None, &token).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_administrator_revokes_every_token_of_a_user_at_once() {
    let app = spawn().await;
    let (root_id, root) = superuser(&app, "root").await;
    let (alice, access, _) = app.user_with_tokens("alice").await;
    let one = str_of(&create(&app, &access, "one", json!([])).await["token"]);
    let two = str_of(&create(&app, &access, "two", json!([])).await["token"]);
    assert_eq!(app.get("/api/me/", Some(&one)).await.status, StatusCode::OK);
    let (_, bob_access, _) = app.user_with_tokens("bob").await;
    let bobs = str_of(&create(&app, &bob_access, "bob's", json!([])).await["token"]);

    let path = format!("/api/users/{alice}/tokens/revoke-all/");
    assert_eq!(call(&app, Method::POST, &path, None, &access).await.status, StatusCode::FORBIDDEN);
    let r = call(&app, Method::POST, &path, None, &root).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_not_valid(&app.get("/api/me/", Some(&one)).await);
    assert_not_valid(&app.get("/api/me/", Some(&two)).await);
    assert_eq!(app.get("/api/me/", Some(&bobs)).await.status, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/users/{alice}/tokens/"), Some(&root)).await.body, json!([]));
    let r = call(&app, Method::GET, "/api/audit/?event=personal_token_revoked", None, &root).await;
    let entry = &r.body["results"][0];
    assert_eq!((&entry["detail"], &entry["actor_id"]), (&json!({"all": true, "count": 2}), &json!(root_id)));
    assert_eq!(
        call(&app, Method::POST, "/api/users/nobody/tokens/revoke-all/", None, &root).await.status,
        StatusCode::NOT_FOUND
    );
}
