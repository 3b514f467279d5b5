//! Refresh rotation, reuse detection, verify, blacklist, and forged tokens.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn refresh(app: &TestApp, token: &str) -> Reply {
    app.post("/api/token/refresh/", json!({"refresh": token})).await
}

#[tokio::test]
async fn refresh_rotates_within_the_same_session() {
    let app = spawn().await;
    let (_, _, first) = app.user_with_tokens("alice").await;
    let r = refresh(&app, &first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let keys: Vec<&String> = r.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["access", "refresh"]);
    let second = str_of(&r.body["refresh"]);
    assert_ne!(second, first);
    let (_, c1) = parts(&first);
    let (_, c2) = parts(&second);
    let (_, access) = parts(&str_of(&r.body["access"]));
    assert_eq!(c1["sid"], c2["sid"]);
    assert_eq!(access["sid"], c1["sid"]);
    assert_eq!(access["username"], "alice");
    // The new token works in turn.
    assert_eq!(refresh(&app, &second).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reused_refresh_token_revokes_family() {
    let app = spawn().await;
    let (_, _, first) = app.user_with_tokens("alice").await;
    let second = str_of(&refresh(&app, &first).await.body["refresh"]);
    // A second login is another family and must survive.
    let (_, other) = app.login("alice").await;

    let r = refresh(&app, &first).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"api\""));
    // The legitimate holder's newer token died with the family.
    let r = refresh(&app, &second).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.post("/api/token/verify/", json!({"token": second})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_exactly_one_success() {
    let app = spawn().await;
    let (_, _, token) = app.user_with_tokens("alice").await;
    let attempts = (0..20).map(|_| {
        let client = app.client.clone();
        let url = format!("{}/api/token/refresh/", app.url);
        let token = token.clone();
        tokio::spawn(async move {
            let r = client.post(url).json(&json!({"refresh": token})).send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        })
    });
    let replies: Vec<(StatusCode, serde_json::Value)> =
        futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect();
    let statuses: Vec<StatusCode> = replies.iter().map(|(s, _)| *s).collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let unauthorized = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    assert_eq!((ok, unauthorized), (1, 19), "{statuses:?}");
    // The others were reuse (most of them decided in the winner's own batch): the family
    // is revoked, the winner's successor with it.
    let winner =
        replies.iter().find(|(s, _)| *s == StatusCode::OK).map(|(_, b)| str_of(&b["refresh"])).unwrap();
    assert_eq!(refresh(&app, &winner).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn reuse_interval_tolerates_a_benign_retry() {
    let app = spawn_with(|c| c.refresh_reuse_interval = Duration::from_secs(30)).await;
    let (_, _, first) = app.user_with_tokens("alice").await;
    let once = refresh(&app, &first).await;
    assert_eq!(once.status, StatusCode::OK);
    let again = refresh(&app, &first).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    // The same successor, never a second live branch of the family.
    let (successor, replayed) = (str_of(&once.body["refresh"]), str_of(&again.body["refresh"]));
    assert_eq!(parts(&replayed).1["jti"], parts(&successor).1["jti"]);
    let next = refresh(&app, &replayed).await;
    assert_eq!(next.status, StatusCode::OK);
    // Spent now: the successor is refused as reuse would be, and the first token finds no
    // unspent successor to hand out.
    assert_eq!(refresh(&app, &first).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, &str_of(&next.body["refresh"])).await.status, StatusCode::OK);
}

#[tokio::test]
async fn blacklist_logs_out_the_whole_family() {
    let app = spawn().await;
    let (_, _, first) = app.user_with_tokens("alice").await;
    let second = str_of(&refresh(&app, &first).await.body["refresh"]);
    let r = app.post("/api/token/blacklist/", json!({"refresh": second})).await;
    assert_eq!((r.status, &r.body), (StatusCode::OK, &json!({})));
    let r = refresh(&app, &second).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.post("/api/token/blacklist/", json!({"refresh": second})).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.post("/api/token/blacklist/", json!({"refresh": "not-a-token"})).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.post("/api/token/blacklist/", json!({})).await;
    assert_eq!(
        (r.status, &r.body),
        (StatusCode::BAD_REQUEST, &json!({"refresh": ["This field is required."]}))
    );
}

#[tokio::test]
async fn verify_accepts_live_tokens_of_either_type() {
    let app = spawn().await;
    let (_, access, refresh_token) = app.user_with_tokens("alice").await;
    for token in [&access, &refresh_token] {
        let r = app.post("/api/token/verify/", json!({"token": token})).await;
        assert_eq!((r.status, &r.body), (StatusCode::OK, &json!({})));
    }
    // A spent refresh token no longer verifies.
    refresh(&app, &refresh_token).await;
    let r = app.post("/api/token/verify/", json!({"token": refresh_token})).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.post("/api/token/verify/", json!({"token": "garbage"})).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
}

#[tokio::test]
async fn an_access_token_cannot_refresh_and_a_refresh_token_cannot_access() {
    let app = spawn().await;
    let (_, access, refresh_token) = app.user_with_tokens("alice").await;
    let r = refresh(&app, &access).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    let r = app.get("/protected-resource/", Some(&refresh_token)).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &access_not_valid()));
    let r = app.post("/api/token/blacklist/", json!({"refresh": access})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Tokens an attacker might present, each of which must be refused everywhere.
fn forgeries(genuine: &str) -> Vec<(&'static str, String)> {
    let (header, claims) = parts(genuine);
    let mut out = Vec::new();

    let mut expired = claims.clone();
    expired["iat"] = json!(now() - 600);
    expired["exp"] = json!(now() - 300);
    out.push(("expired", sign_hs256(&header, &expired, SECRET)));

    out.push(("other secret", sign_hs256(&header, &claims, "another-secret-another-secret-another")));

    for alg in ["none", "None", "NONE", "nOnE"] {
        let h = json!({"alg": alg, "typ": "JWT"});
        let t = format!(
            "{}.{}.",
            b64(&serde_json::to_vec(&h).unwrap()),
            b64(&serde_json::to_vec(&claims).unwrap())
        );
        out.push(("alg none", t));
    }

    let mut segments = genuine.split('.');
    let (h, c) = (segments.next().unwrap(), segments.next().unwrap());
    out.push(("stripped signature", format!("{h}.{c}.")));
    out.push(("no signature segment", format!("{h}.{c}")));

    let mut altered = claims.clone();
    altered["username"] = json!("admin");
    let forged_payload = b64(&serde_json::to_vec(&altered).unwrap());
    let sig = genuine.rsplit('.').next().unwrap();
    out.push(("altered payload", format!("{h}.{forged_payload}.{sig}")));

    let mut sig_bytes = unb64(sig);
    sig_bytes[0] ^= 1;
    out.push(("altered signature", format!("{h}.{c}.{}", b64(&sig_bytes))));

    let hs384 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    out.push(("other algorithm", hs384));

    // jku/x5u/jwk must not be consulted: a token signed by the attacker's key that
    // points at that key is still refused.
    for extra in ["jku", "x5u"] {
        let mut h = header.clone();
        h[extra] = json!("http://127.0.0.1:9/keys.json");
        out.push(("remote key header", sign_hs256(&h, &claims, "attacker-key-attacker-key-attacker-key")));
    }
    let mut h = header.clone();
    h["jwk"] = json!({"kty": "oct", "k": b64(b"attacker-key-attacker-key-attacker-key")});
    out.push(("embedded jwk", sign_hs256(&h, &claims, "attacker-key-attacker-key-attacker-key")));

    let mut h = header.clone();
    h["x5c"] = json!(["MIIBszCCAVmgAwIBAgIUZ3Vlc3M="]);
    out.push(("x5c header", sign_hs256(&h, &claims, "attacker-key-attacker-key-attacker-key")));
    for kid in ["../../../../dev/null", "' OR '1'='1", "hmac-1' UNION SELECT 'secret"] {
        let mut h = header.clone();
        h["kid"] = json!(kid);
        out.push(("hostile kid", sign_hs256(&h, &claims, "attacker-key-attacker-key-attacker-key")));
    }
    // Algorithm confusion: HMAC keyed with a public key an attacker can read.
    let public_key = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
    out.push(("HS256 keyed with a public key", sign_hs256(&header, &claims, public_key)));

    // Even with the real secret, lifetimes we never issue are refused.
    let mut far = claims.clone();
    far["exp"] = json!(now() + 10 * 365 * 86_400);
    out.push(("exp far in the future", sign_hs256(&header, &far, SECRET)));
    let mut early = claims.clone();
    early["iat"] = json!(now() + 3_600);
    early["exp"] = json!(now() + 3_700);
    out.push(("iat in the future", sign_hs256(&header, &early, SECRET)));

    let mut big = claims.clone();
    big["padding"] = json!("x".repeat(20_000));
    out.push(("oversized", sign_hs256(&header, &big, SECRET)));

    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    out.push(("missing exp", sign_hs256(&header, &no_exp, SECRET)));

    let mut string_exp = claims.clone();
    string_exp["exp"] = json!((now() + 300).to_string());
    out.push(("exp as string", sign_hs256(&header, &string_exp, SECRET)));

    let mut float_exp = claims.clone();
    float_exp["exp"] = json!((now() + 300) as f64 + 0.5);
    out.push(("exp as float", sign_hs256(&header, &float_exp, SECRET)));

    let mut future_nbf = claims.clone();
    future_nbf["nbf"] = json!(now() + 3_600);
    out.push(("nbf in the future", sign_hs256(&header, &future_nbf, SECRET)));

    let mut other_sub = claims.clone();
    other_sub["sub"] = json!("someone-else");
    out.push(("sub differs from user_id", sign_hs256(&header, &other_sub, SECRET)));

    out.push(("payload not JSON", sign_raw(&serde_json::to_vec(&header).unwrap(), b"not json", SECRET)));
    out.push(("header not JSON", sign_raw(b"{alg", &serde_json::to_vec(&claims).unwrap(), SECRET)));
    let payload = serde_json::to_string(&claims).unwrap();
    let duplicated = payload.replacen('{', "{\"token_type\":\"refresh\",", 1);
    out.push((
        "duplicate claim",
        sign_raw(&serde_json::to_vec(&header).unwrap(), duplicated.as_bytes(), SECRET),
    ));
    out.push(("empty", String::new()));
    out.push(("three dots", "a.b.c.d".into()));
    out
}

#[tokio::test]
async fn forged_access_tokens_are_refused_on_protected_routes_and_verify() {
    let app = spawn().await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    // The genuine token passes, so a refusal below is about the forgery.
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
    for (what, token) in forgeries(&access) {
        let r = app
            .client
            .get(format!("{}/protected-resource/", app.url))
            .header("authorization", format!("Bearer {token}"))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        if token.is_empty() {
            // "Bearer " with nothing after it is a malformed header.
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
            continue;
        }
        assert_eq!((status, &body), (StatusCode::UNAUTHORIZED, &access_not_valid()), "{what}");
        let r = app.post("/api/token/verify/", json!({"token": token})).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()), "verify: {what}");
    }
}

#[tokio::test]
async fn forged_refresh_tokens_are_refused() {
    let app = spawn().await;
    let (_, _, refresh_token) = app.user_with_tokens("alice").await;
    for (what, token) in forgeries(&refresh_token) {
        let r = refresh(&app, &token).await;
        if token.is_empty() {
            assert_eq!(r.body, json!({"refresh": ["This field may not be blank."]}), "{what}");
            continue;
        }
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()), "{what}");
    }
    // None of the forgeries spent the genuine token.
    assert_eq!(refresh(&app, &refresh_token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn protected_resource_answers_who_is_calling() {
    let app = spawn().await;
    let (id, access, _) = app.user_with_tokens("alice").await;
    let r = app.get("/protected-resource/", Some(&access)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["user"], json!({"id": id, "username": "alice", "roles": []}));
    assert!(r.body["message"].as_str().unwrap().contains("alice"));
}

#[tokio::test]
async fn protected_resource_without_good_credentials() {
    let app = spawn().await;
    let not_provided = json!({"detail": "Authentication credentials were not provided."});
    let r = app.get("/protected-resource/", None).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &not_provided));
    assert_eq!(r.header("www-authenticate"), Some("Bearer realm=\"api\""));
    for (header, want) in [
        ("Basic YWxpY2U6cGFzcw==", &not_provided),
        ("Bearer", &access_not_valid()),
        ("Bearer a b", &access_not_valid()),
        ("Bearer not.a.token", &access_not_valid()),
    ] {
        let r = app
            .client
            .get(format!("{}/protected-resource/", app.url))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"api\"");
        assert_eq!(&r.json::<Value>().await.unwrap(), want, "{header}");
    }
}

#[tokio::test]
async fn tokens_of_inactive_and_deleted_users_stop_working() {
    let app = spawn().await;
    let (alice, access, refresh_token) = app.user_with_tokens("alice").await;
    deactivate(&app, &alice).await;
    let r = app.get("/protected-resource/", Some(&access)).await;
    assert_eq!(
        (r.status, &r.body),
        (StatusCode::UNAUTHORIZED, &json!({"detail": "User is inactive", "code": "user_inactive"}))
    );
    // Deactivation revoked the user's sessions.
    let r = refresh(&app, &refresh_token).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));

    let (bob, access, refresh_token) = app.user_with_tokens("bob").await;
    app.state.store.delete_user(&bob, app.state.clock.now()).await.unwrap();
    let r = app.get("/protected-resource/", Some(&access)).await;
    assert_eq!(
        (r.status, &r.body),
        (StatusCode::UNAUTHORIZED, &json!({"detail": "User not found", "code": "user_not_found"}))
    );
    let r = refresh(&app, &refresh_token).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
}

#[tokio::test]
async fn expired_refresh_tokens_are_refused() {
    let app = spawn_with(|c| c.refresh_token_lifetime = Duration::from_secs(3600)).await;
    let (_, _, token) = app.user_with_tokens("alice").await;
    app.clock.advance(3590);
    let (_, _, other) = app.user_with_tokens("bob").await;
    // Ten seconds before its end it still works (the second user's is the control)…
    assert_eq!(app.post("/api/token/verify/", json!({"token": token})).await.status, StatusCode::OK);
    app.clock.advance(11);
    // …and a second past it, it does not.
    let r = refresh(&app, &token).await;
    assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()));
    assert_eq!(refresh(&app, &other).await.status, StatusCode::OK);
}
