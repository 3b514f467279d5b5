//! Asymmetric signing, the JWKS, discovery and key rotation.

use std::time::Duration;

use authenticon::config::JwtAlgorithm;
use authenticon::tokens::keys;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

async fn jwks(app: &TestApp) -> Vec<Value> {
    app.get("/.well-known/jwks.json", None).await.body["keys"].as_array().unwrap().clone()
}

#[tokio::test]
async fn each_asymmetric_algorithm_signs_publishes_and_verifies() {
    for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA, JwtAlgorithm::RS256] {
        let app = spawn_with(|c| c.jwt_algorithm = alg).await;
        let (_, access, refresh) = app.user_with_tokens("alice").await;
        let (header, _) = parts(&access);
        assert_eq!(header["alg"], alg.name());
        let published = jwks(&app).await;
        assert_eq!(published.len(), 1, "{alg:?}");
        let jwk = &published[0];
        assert_eq!(header["kid"], jwk["kid"]);
        assert_eq!((jwk["alg"].as_str(), jwk["use"].as_str()), (Some(alg.name()), Some("sig")));
        for private_member in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(jwk.get(private_member).is_none(), "{alg:?} publishes {private_member}");
        }
        assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
        let r = app.post("/api/token/refresh/", json!({"refresh": refresh})).await;
        assert_eq!(r.status, StatusCode::OK, "{alg:?}");
        assert_eq!(parts(&str_of(&r.body["access"])).0["kid"], jwk["kid"]);

        // A key of the same algorithm we never published, claiming our kid: refused.
        let (_, claims) = parts(&access);
        let other = keys::generate(alg).unwrap();
        let mut h = jsonwebtoken::Header::new(alg.as_jsonwebtoken());
        h.kid = jwk["kid"].as_str().map(str::to_string);
        let forged =
            jsonwebtoken::encode(&h, &claims, &keys::encoding_key(alg, &other.private_pem).unwrap()).unwrap();
        let r = app.get("/protected-resource/", Some(&forged)).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &access_not_valid()), "{alg:?}");
        // Algorithm confusion: HMAC keyed with the published key.
        let confused =
            sign_hs256(&json!({"alg": "HS256", "typ": "JWT", "kid": jwk["kid"]}), &claims, &jwk.to_string());
        let r = app.post("/api/token/verify/", json!({"token": confused})).await;
        assert_eq!((r.status, &r.body), (StatusCode::UNAUTHORIZED, &token_not_valid()), "{alg:?}");

        // The private half is stored encrypted.
        let stored = app.state.store.signing_keys().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].private_key.contains("PRIVATE KEY"));
    }
}

#[tokio::test]
async fn the_jwks_is_cacheable_and_empty_for_hmac() {
    let app = spawn().await;
    let r = app.get("/.well-known/jwks.json", None).await;
    assert_eq!((r.status, r.body.clone()), (StatusCode::OK, json!({"keys": []})));
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::EdDSA).await;
    let r = app.client.get(format!("{}/.well-known/jwks.json", app.url)).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.starts_with('"') && etag.len() > 10);
    let r = app
        .client
        .get(format!("{}/.well-known/jwks.json", app.url))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn discovery_names_the_issuer_and_the_keys() {
    let app = spawn_with(|c| {
        c.jwt_algorithm = JwtAlgorithm::ES256;
        c.jwt_issuer = Some("https://auth.example".into());
        c.public_url = Some("https://login.example/".into());
    })
    .await;
    let r = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(r.body["issuer"], "https://auth.example");
    // From the public URL, not from the Host header.
    assert_eq!(r.body["jwks_uri"], json!("https://login.example/.well-known/jwks.json"));
    // Id tokens are RS256 whatever signs the service's own (OpenID Connect Discovery §3).
    assert_eq!(r.body["id_token_signing_alg_values_supported"], json!(["RS256"]));
    // Tokens carry the configured issuer, and verify.
    let (_, access, _) = app.user_with_tokens("alice").await;
    assert_eq!(parts(&access).1["iss"], "https://auth.example");
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn keys_rotate_without_downtime_and_retire_after_their_tokens_expire() {
    let app = spawn_with(|c| {
        c.jwt_algorithm = JwtAlgorithm::ES256;
        c.access_token_lifetime = Duration::from_secs(60);
        c.refresh_token_lifetime = Duration::from_secs(60);
    })
    .await;
    app.register("alice").await;
    let (a_token, _) = app.login("alice").await;
    let kid_a = str_of(&parts(&a_token).0["kid"]);

    // Publish B first: it verifies and is in the JWKS, but A still signs.
    let b = app.state.tokens.generate_key(JwtAlgorithm::ES256).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let kids: Vec<Value> = jwks(&app).await.iter().map(|k| k["kid"].clone()).collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&json!(kid_a)) && kids.contains(&json!(b.kid)));
    let (still_a, _) = app.login("alice").await;
    assert_eq!(parts(&still_a).0["kid"], json!(kid_a));

    // Then activate B: new tokens carry B's kid, A's keep verifying.
    app.state.tokens.activate_key(&b.kid).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let (b_token, _) = app.login("alice").await;
    assert_eq!(parts(&b_token).0["kid"], json!(b.kid));
    assert_eq!(app.post("/api/token/verify/", json!({"token": a_token})).await.status, StatusCode::OK);
    assert_eq!(app.get("/protected-resource/", Some(&b_token)).await.status, StatusCode::OK);

    // While a token A signed may live, A stays published; once every one has expired
    // (the longest lifetime and some slack later), it leaves the JWKS and its tokens fail.
    app.clock.advance(60);
    app.state.tokens.load_keys().await.unwrap();
    assert_eq!(jwks(&app).await.len(), 2, "retired too early");
    app.clock.advance(6);
    app.state.tokens.load_keys().await.unwrap();
    assert_eq!(jwks(&app).await.len(), 1, "the retired key stayed published");
    assert_eq!(jwks(&app).await[0]["kid"], json!(b.kid));
    let r = app.post("/api/token/verify/", json!({"token": a_token})).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, token_not_valid()));

    // The signing key cannot be retired out from under the service.
    let e = app.state.tokens.retire_key(&b.kid).await.unwrap_err();
    assert!(e.to_string().contains("is the signing key"), "{e}");
}

#[tokio::test]
async fn a_revoked_key_fails_its_tokens_at_once_and_a_new_one_signs() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let (_, leaked, _) = app.user_with_tokens("alice").await;
    let kid = str_of(&parts(&leaked).0["kid"]);
    assert_eq!(app.get("/protected-resource/", Some(&leaked)).await.status, StatusCode::OK);
    app.state.tokens.revoke_key(&kid).await.unwrap();
    let r = app.get("/protected-resource/", Some(&leaked)).await;
    assert_eq!((r.status, r.body), (StatusCode::UNAUTHORIZED, access_not_valid()));
    let kids: Vec<Value> = jwks(&app).await.iter().map(|k| k["kid"].clone()).collect();
    assert_eq!(kids.len(), 1);
    assert_ne!(kids[0], json!(kid));
    // Logins go on with the new key.
    let (fresh, _) = app.login("alice").await;
    assert_eq!(parts(&fresh).0["kid"], kids[0]);
    assert_eq!(app.get("/protected-resource/", Some(&fresh)).await.status, StatusCode::OK);
    let e = app.state.tokens.revoke_key(&kid).await.unwrap_err();
    assert!(e.to_string().contains("no key"), "{e}");
    // Under HMAC there are no keys to revoke: it says what to do instead.
    let hmac = spawn().await;
    let e = hmac.state.tokens.revoke_key("anything").await.unwrap_err();
    assert!(e.to_string().contains("rotate the secret"), "{e}");
}

#[tokio::test]
async fn a_pem_file_can_hold_the_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signing.pem");
    let key = keys::generate(JwtAlgorithm::EdDSA).unwrap();
    std::fs::write(&path, key.private_pem.expose()).unwrap();
    let app = spawn_with(|c| {
        c.jwt_algorithm = JwtAlgorithm::EdDSA;
        c.jwt_private_key_file = Some(path.clone());
    })
    .await;
    let (_, access, _) = app.user_with_tokens("alice").await;
    assert_eq!(parts(&access).0["kid"], json!(key.kid));
    assert_eq!(jwks(&app).await, vec![key.public_jwk.clone()]);
    assert_eq!(app.get("/protected-resource/", Some(&access)).await.status, StatusCode::OK);
    // Nothing went to the store.
    assert!(app.state.store.signing_keys().await.unwrap().is_empty());
}

#[tokio::test]
async fn activating_a_key_retires_only_the_active_key_of_its_algorithm() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let tokens = &app.state.tokens;
    let es = tokens.list_keys().await.unwrap().into_iter().find(|k| k.status == "active").unwrap();
    let rs = tokens.generate_key(JwtAlgorithm::RS256).await.unwrap();
    tokens.activate_key(&rs.kid).await.unwrap();
    // The id-token key beside the service's: both sign, each its own tokens.
    let active: Vec<(String, String)> = tokens
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.status == "active")
        .map(|k| (k.kid, k.algorithm))
        .collect();
    assert_eq!(active.len(), 2, "{active:?}");
    assert!(active.contains(&(es.kid.clone(), "ES256".into())), "{active:?}");
    assert!(active.contains(&(rs.kid.clone(), "RS256".into())), "{active:?}");
}
