//! The revocation feed (`/.well-known/revocations`): every way a session ends reaches it,
//! signed with a published key; conditional polls are answered `304`; entries leave once
//! no token they concern can live; a revocation committing after a later one is not
//! skipped by the cursor (PostgreSQL).

use std::time::Duration;

use authenticon::config::JwtAlgorithm;
use authenticon::store::{AuditMeta, UserChanges};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, DecodingKey, Validation};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

struct Answer {
    status: StatusCode,
    etag: Option<String>,
    cache_control: Option<String>,
    content_type: Option<String>,
    body: String,
}

async fn poll(app: &TestApp, since: Option<&str>, if_none_match: Option<&str>) -> Answer {
    let mut req = app.client.get(format!("{}/.well-known/revocations", app.url));
    if let Some(since) = since {
        req = req.query(&[("since", since)]);
    }
    if let Some(etag) = if_none_match {
        req = req.header("if-none-match", etag);
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| r.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let (etag, cache_control, content_type) =
        (header("etag"), header("cache-control"), header("content-type"));
    Answer { status: r.status(), etag, cache_control, content_type, body: r.text().await.unwrap() }
}

/// The answer's payload, after checking its signature against the published JWKS and its
/// `typ`, as an independent verifier would.
async fn payload(app: &TestApp, jws: &str) -> Value {
    let jwks: JwkSet = serde_json::from_value(app.get("/.well-known/jwks.json", None).await.body).unwrap();
    let header = decode_header(jws).unwrap();
    assert_eq!(header.typ.as_deref(), Some("revocations+jwt"));
    let jwk = jwks.find(header.kid.as_deref().unwrap()).expect("signed with a published key");
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    decode::<Value>(jws, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("valid signature").claims
}

/// Everything after `since`, as an independent verifier would merge it. The service's
/// clock moves a second first: an answer is handed out again, unchanged, to the same
/// question within the same second while the feed's state (read at most every half
/// second) looks the same.
async fn feed(app: &TestApp, since: i64) -> Value {
    app.clock.advance(1);
    let a = poll(app, Some(&since.to_string()), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    payload(app, &a.body).await
}

fn sid(access: &str) -> String {
    str_of(&parts(access).1["sid"])
}

fn listed(page: &Value, sid: &str) -> bool {
    page["sessions"].as_array().unwrap().iter().any(|s| s["sid"] == json!(sid))
}

#[tokio::test]
async fn every_way_a_session_ends_reaches_the_signed_feed() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (_, a1, r1) = app.user_with_tokens("alice").await;
    let empty = feed(&app, 0).await;
    assert_eq!(
        empty,
        json!({"iat": empty["iat"], "since": 0, "cursor": 0, "more": false, "sessions": [], "users": []})
    );
    assert!((empty["iat"].as_i64().unwrap() - app.state.clock.now()).abs() <= 2, "{empty}");

    // Logout (the blacklist endpoint).
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": r1})).await.status, StatusCode::OK);
    // A session ended on the sessions page.
    let (a2, _) = app.login("alice").await;
    let (a3, _) = app.login("alice").await;
    let r = app.request(Method::DELETE, &format!("/api/me/sessions/{}/", sid(&a2)), None, Some(&a3)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    // Refresh-token reuse.
    let (a4, r4) = app.login("alice").await;
    assert_eq!(app.post("/api/token/refresh/", json!({"refresh": r4})).await.status, StatusCode::OK);
    assert_eq!(
        app.post("/api/token/refresh/", json!({"refresh": r4})).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Log out everywhere.
    let r = app.request(Method::POST, "/api/me/sessions/revoke-all/", None, Some(&a3)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);

    let page = feed(&app, 0).await;
    let horizon = app.state.tokens.access_lifetime() + 60;
    let now = app.state.clock.now();
    for (what, access) in [("logout", &a1), ("sessions page", &a2), ("reuse", &a4), ("everywhere", &a3)] {
        assert!(listed(&page, &sid(access)), "{what}: {page}");
    }
    for s in page["sessions"].as_array().unwrap() {
        let until = s["until"].as_i64().unwrap();
        assert!(until <= now + horizon && until >= now + horizon - 10, "revoked seconds ago: {page}");
    }
    assert_eq!(page["sessions"].as_array().unwrap().len(), 4, "each ended session once: {page}");
    assert_eq!(page["users"], json!([]));
    assert_eq!((page["since"].clone(), page["more"].clone()), (json!(0), json!(false)));
    let cursor = page["cursor"].as_i64().unwrap();
    assert!(cursor >= 1, "{page}");

    // Deactivation: the user's earlier tokens, whatever their session.
    let (bob, b1, _) = app.user_with_tokens("bob").await;
    app.clock.advance(7);
    let now = app.state.clock.now();
    let changes = UserChanges { email: None, is_active: Some(false) };
    app.state.store.update_user(&bob, &changes, now, &AuditMeta::default()).await.unwrap().unwrap();
    let page = feed(&app, cursor).await;
    assert_eq!(page["since"], json!(cursor));
    assert_eq!(page["users"], json!([{"user_id": bob, "not_before": now, "until": now + horizon}]));
    assert!(listed(&page, &sid(&b1)), "{page}");
    assert!(!listed(&page, &sid(&a1)), "after the cursor only: {page}");
}

#[tokio::test]
async fn polls_are_answered_not_modified_until_something_is_revoked() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    let first = poll(&app, None, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.content_type.as_deref(), Some("application/jwt"));
    assert_eq!(first.cache_control.as_deref(), Some("public, max-age=1"));
    let etag = first.etag.clone().expect("an ETag");
    let cursor = payload(&app, &first.body).await["cursor"].as_i64().unwrap().to_string();

    let again = poll(&app, Some(&cursor), Some(&etag)).await;
    assert_eq!((again.status, again.body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    assert_eq!(again.etag.as_deref(), Some(etag.as_str()));
    assert_eq!(again.cache_control.as_deref(), Some("public, max-age=1"));
    // Another ETag (or none) gets the page.
    assert_eq!(poll(&app, Some(&cursor), Some("\"other\"")).await.status, StatusCode::OK);
    assert_eq!(poll(&app, Some(&cursor), None).await.status, StatusCode::OK);

    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    // The mark is re-read at most every half second.
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let changed = loop {
        let a = poll(&app, Some(&cursor), Some(&etag)).await;
        if a.status == StatusCode::OK {
            break a;
        }
        assert_eq!(a.status, StatusCode::NOT_MODIFIED);
        assert!(std::time::Instant::now() < deadline, "the revocation never reached the feed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(changed.etag.as_deref(), Some(etag.as_str()));
    let page = payload(&app, &changed.body).await;
    assert!(listed(&page, &sid(&access)), "{page}");
    let next = page["cursor"].as_i64().unwrap().to_string();
    let settled = poll(&app, Some(&next), changed.etag.as_deref()).await;
    assert_eq!(settled.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn entries_leave_once_no_token_they_concern_can_live() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    let page = feed(&app, 0).await;
    assert!(listed(&page, &sid(&access)));
    let until = page["sessions"][0]["until"].as_i64().unwrap();
    // (The service's clock also moves with real time: a margin of seconds either side.)
    app.clock.advance(until - app.state.clock.now() - 3);
    assert!(listed(&feed(&app, 0).await, &sid(&access)), "until the access token could still live");
    assert_eq!(app.state.tokens.prune_revocation_feed().await.unwrap(), 0);
    app.clock.advance(3);
    let page = feed(&app, 0).await;
    assert_eq!(page["sessions"], json!([]), "the token it concerned has expired: {page}");
    assert_eq!(app.state.tokens.prune_revocation_feed().await.unwrap(), 1);
    assert_eq!(app.state.tokens.prune_revocation_feed().await.unwrap(), 0);
}

#[tokio::test]
async fn a_long_feed_comes_in_pages() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let user = app.register("alice").await;
    let user = app.state.store.user_by_id(&str_of(&user["id"])).await.unwrap().unwrap();
    for _ in 0..1001 {
        app.state.tokens.start_session(user.clone(), &["pwd"], Default::default()).await.unwrap();
    }
    let now = app.state.clock.now();
    assert_eq!(
        app.state.store.revoke_all_sessions(&user.user.id, now, &AuditMeta::default()).await.unwrap(),
        1001
    );
    let first = poll(&app, Some("0"), None).await;
    assert_eq!(first.etag, None, "no ETag half-way");
    let page = payload(&app, &first.body).await;
    assert_eq!((page["more"].clone(), page["sessions"].as_array().unwrap().len()), (json!(true), 1000));
    let cursor = page["cursor"].as_i64().unwrap();
    let second = poll(&app, Some(&cursor.to_string()), None).await;
    assert!(second.etag.is_some());
    let rest = payload(&app, &second.body).await;
    assert_eq!((rest["more"].clone(), rest["sessions"].as_array().unwrap().len()), (json!(false), 1));
    let mut sids: Vec<Value> = page["sessions"].as_array().unwrap().clone();
    sids.extend(rest["sessions"].as_array().unwrap().iter().cloned());
    sids.sort_by_key(|s| s["sid"].to_string());
    sids.dedup();
    assert_eq!(sids.len(), 1001);
}

#[tokio::test]
async fn bad_cursors_are_refused_and_hmac_services_have_no_feed() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    for bad in ["-1", "x", "1.5", "99999999999999999999"] {
        let a = poll(&app, Some(bad), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            serde_json::from_str::<Value>(&a.body).unwrap(),
            json!({"since": ["A valid integer is required."]})
        );
    }
    // A cursor this store never gave (a database restored from a backup): start again
    // from the beginning (cursor 0, `more`), without reading anything for it.
    let (_, access, refresh) = app.user_with_tokens("alice").await;
    assert_eq!(app.post("/api/token/blacklist/", json!({"refresh": refresh})).await.status, StatusCode::OK);
    let page = feed(&app, 1_000_000).await;
    assert_eq!(
        page,
        json!({"iat": page["iat"], "since": 1_000_000, "cursor": 0, "more": true, "sessions": [], "users": []})
    );
    assert!(listed(&feed(&app, 0).await, &sid(&access)));

    let hmac = spawn().await;
    let a = poll(&hmac, None, None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(
        serde_json::from_str::<Value>(&a.body).unwrap(),
        json!({"detail": "No published key signs the revocation feed: set AUTHENTICON_JWT_ALGORITHM to RS256, ES256 or EdDSA."})
    );
}

/// On PostgreSQL a sequence number is taken at insert: a revocation committing after a
/// later-numbered one would be passed by a poller's cursor. Transactions writing
/// revocations take turns instead, so the later one waits.
#[tokio::test]
async fn a_revocation_committing_late_is_not_skipped() {
    if !on_postgres() {
        return;
    }
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (_, slow, _) = app.user_with_tokens("alice").await;
    let (_, fast, fast_refresh) = app.user_with_tokens("bob").await;
    let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
    let mut held = pool.begin().await.unwrap();
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2")
        .bind(app.state.clock.now())
        .bind(sid(&slow))
        .execute(&mut *held)
        .await
        .unwrap();
    let logout = {
        let (client, url) = (app.client.clone(), format!("{}/api/token/blacklist/", app.url));
        tokio::spawn(
            async move { client.post(url).json(&json!({"refresh": fast_refresh})).send().await.unwrap() },
        )
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!logout.is_finished(), "the later revocation waits for the earlier one's transaction");
    let page = feed(&app, 0).await;
    assert!(!listed(&page, &sid(&fast)) && !listed(&page, &sid(&slow)), "{page}");
    let cursor = page["cursor"].as_i64().unwrap();
    held.commit().await.unwrap();
    assert_eq!(logout.await.unwrap().status(), StatusCode::OK);
    let next = feed(&app, cursor).await;
    let sids: Vec<Value> = next["sessions"].as_array().unwrap().iter().map(|s| s["sid"].clone()).collect();
    assert_eq!(sids, [json!(sid(&slow)), json!(sid(&fast))], "both, in commit order: {next}");
}

#[tokio::test]
async fn a_password_change_and_a_deletion_reach_the_feed_for_every_earlier_token() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let (alice, access, _) = app.user_with_tokens("alice").await;
    app.clock.advance(2);
    let change = json!({"old_password": crate::support::PASSWORD, "new_password": "another long passphrase"});
    let r = app.request(Method::POST, "/api/me/password/", Some(change), Some(&access)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let changed_at = app.state.clock.now();
    // The kept session's earlier tokens are refused here, and so by the feed elsewhere.
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::UNAUTHORIZED);
    let page = feed(&app, 0).await;
    let horizon = app.state.tokens.access_lifetime() + 60;
    assert_eq!(
        page["users"],
        json!([{"user_id": alice, "not_before": changed_at, "until": changed_at + horizon}])
    );

    let (bob, _, _) = app.user_with_tokens("bob").await;
    let now = app.state.clock.now();
    assert!(app.state.store.delete_user(&bob, now).await.unwrap());
    let page = feed(&app, page["cursor"].as_i64().unwrap()).await;
    assert_eq!(page["users"], json!([{"user_id": bob, "not_before": now, "until": now + horizon}]));
}

/// A login whose password check was under way while its account was deactivated, or its
/// password reset, gets no session: a thief must not keep the account through a reset.
#[tokio::test]
async fn a_login_under_way_does_not_outlive_a_deactivation_or_a_reset() {
    let app = spawn().await;
    let (alice, _, _) = app.user_with_tokens("alice").await;
    let (bob, _, _) = app.user_with_tokens("bob").await;
    // What each login read before its password check.
    let read_alice = app.state.store.user_by_id(&alice).await.unwrap().unwrap();
    let read_bob = app.state.store.user_by_id(&bob).await.unwrap().unwrap();
    app.clock.advance(1);
    let now = app.state.clock.now();
    let changes = UserChanges { email: None, is_active: Some(false) };
    app.state.store.update_user(&alice, &changes, now, &AuditMeta::default()).await.unwrap();
    app.state.store.set_password(&bob, "another hash", None, now, &AuditMeta::default()).await.unwrap();
    for user in [read_alice, read_bob] {
        let started = app.state.tokens.start_session(user, &["pwd"], Default::default()).await;
        assert!(matches!(started, Err(authenticon::tokens::TokenError::NoActiveAccount)));
    }
    assert_eq!(
        app.get(&format!("/api/users/{alice}/sessions/"), Some(&superuser(&app, "root").await.1)).await.body,
        json!([])
    );
}

/// The same through `/api/token/`: a reset committing while the old password is being
/// checked ends that login (a thief looping logins keeps none through the owner's reset).
#[tokio::test]
async fn a_password_login_racing_a_reset_gets_no_tokens() {
    let app = spawn_with(|c| {
        // A slow hash: the reset lands while it is being checked.
        c.argon2.iterations = 60;
        c.hash_concurrency = 1;
    })
    .await;
    let (alice, _, _) = app.user_with_tokens("alice").await;
    let login = {
        let (client, url) = (app.client.clone(), format!("{}/api/token/", app.url));
        let body = json!({"username": "alice", "password": crate::support::PASSWORD});
        tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(!login.is_finished(), "the hash takes longer than this");
    app.clock.advance(1);
    let now = app.state.clock.now();
    app.state.store.set_password(&alice, "a new hash", None, now, &AuditMeta::default()).await.unwrap();
    let r = login.await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let root = superuser(&app, "root").await.1;
    let sessions = app.get(&format!("/api/users/{alice}/sessions/"), Some(&root)).await.body;
    assert_eq!(sessions, json!([]), "no session outlives the reset");
}
