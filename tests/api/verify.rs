//! Other services verify Authenticon's tokens with the `authenticon-verify` crate: the
//! example service in `examples/protected-service`, started here.

use std::time::Duration;

use authenticon::config::JwtAlgorithm;
use authenticon::tokens::keys;
use authenticon_verify::Verifier;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

/// The example service, on a random port, trusting `app`'s JWKS.
async fn example_service(app: &TestApp) -> String {
    let verifier =
        Verifier::new(format!("{}/.well-known/jwks.json", app.url)).refetch_interval(Duration::ZERO);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, protected_service::app(verifier)).await });
    url
}

async fn orders(service: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = crate::support::new_client().get(format!("{service}/orders"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_example_service_accepts_real_tokens_and_refuses_forged_ones() {
    for alg in [JwtAlgorithm::ES256, JwtAlgorithm::EdDSA] {
        let app = spawn_with(|c| c.jwt_algorithm = alg).await;
        let service = example_service(&app).await;
        let (_, access, refresh) = app.user_with_tokens("alice").await;
        let (status, body) = orders(&service, Some(&access)).await;
        assert_eq!((status, &body["user"]), (StatusCode::OK, &json!("alice")), "{alg:?}");

        let (header, claims) = parts(&access);
        let other = keys::generate(alg).unwrap();
        let mut h = jsonwebtoken::Header::new(alg.as_jsonwebtoken());
        h.kid = header["kid"].as_str().map(str::to_string);
        let forged =
            jsonwebtoken::encode(&h, &claims, &keys::encoding_key(alg, &other.private_pem).unwrap()).unwrap();
        let jwk = app.get("/.well-known/jwks.json", None).await.body["keys"][0].to_string();
        let confused = sign_hs256(&json!({"alg": "HS256", "kid": header["kid"]}), &claims, &jwk);
        for (what, token) in
            [("forged", forged.as_str()), ("hs256 with the public key", &confused), ("refresh", &refresh)]
        {
            let (status, body) = orders(&service, Some(token)).await;
            assert_eq!(
                (status, body),
                (StatusCode::UNAUTHORIZED, json!({"detail": "Token is invalid or expired"})),
                "{alg:?} {what}"
            );
        }
        let (status, _) = orders(&service, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn the_verifier_follows_a_key_rotation() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let service = example_service(&app).await;
    let (_, first, _) = app.user_with_tokens("alice").await;
    assert_eq!(orders(&service, Some(&first)).await.0, StatusCode::OK);
    let b = app.state.tokens.generate_key(JwtAlgorithm::ES256).await.unwrap();
    app.state.tokens.activate_key(&b.kid).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let (second, _) = app.login("alice").await;
    assert_eq!(parts(&second).0["kid"], json!(b.kid));
    // An unknown kid makes the verifier fetch the JWKS again; both tokens pass.
    assert_eq!(orders(&service, Some(&second)).await.0, StatusCode::OK);
    assert_eq!(orders(&service, Some(&first)).await.0, StatusCode::OK);
}

/// A JWKS endpoint that can go down: it relays the real one until told to answer 503.
async fn switchable_jwks(app: &TestApp) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = std::sync::Arc::new(AtomicBool::new(false));
    let (flag, upstream) = (std::sync::Arc::clone(&down), format!("{}/.well-known/jwks.json", app.url));
    let route = axum::routing::get(move || {
        let (flag, upstream) = (std::sync::Arc::clone(&flag), upstream.clone());
        async move {
            if flag.load(Ordering::SeqCst) {
                return (axum::http::StatusCode::SERVICE_UNAVAILABLE, String::new());
            }
            let body = reqwest::get(&upstream).await.unwrap().text().await.unwrap();
            (axum::http::StatusCode::OK, body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().route("/jwks.json", route)).await });
    (url, down)
}

#[tokio::test]
async fn the_verifier_keeps_the_last_good_keys_while_the_jwks_is_down() {
    let app = spawn_with(|c| c.jwt_algorithm = JwtAlgorithm::ES256).await;
    let (jwks_url, down) = switchable_jwks(&app).await;
    let verifier = Verifier::new(jwks_url.clone()).refetch_interval(Duration::ZERO).max_age(Duration::ZERO);
    let (_, access, _) = app.user_with_tokens("alice").await;
    assert_eq!(
        verifier.verify(&access).await.unwrap().user_id,
        parts(&access).1["user_id"].as_str().unwrap()
    );
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    // Every call now finds the keys stale and the endpoint down: the last good keys serve.
    for _ in 0..3 {
        assert!(verifier.verify(&access).await.is_ok());
    }
    // A key it never saw cannot be checked while the endpoint is down.
    let b = app.state.tokens.generate_key(JwtAlgorithm::ES256).await.unwrap();
    app.state.tokens.activate_key(&b.kid).await.unwrap();
    app.state.tokens.load_keys().await.unwrap();
    let (newer, _) = app.login("alice").await;
    assert!(matches!(verifier.verify(&newer).await, Err(authenticon_verify::VerifyError::Jwks(_))));
    // Back up: the new key is fetched.
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(verifier.verify(&newer).await.is_ok());
    // Stale keys serve only so long: past the limit, a down JWKS means no verification.
    let strict = Verifier::new(jwks_url)
        .refetch_interval(Duration::ZERO)
        .max_age(Duration::ZERO)
        .stale_limit(Duration::from_millis(200));
    assert!(strict.verify(&newer).await.is_ok());
    down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(strict.verify(&newer).await.is_ok(), "within the limit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(matches!(strict.verify(&newer).await, Err(authenticon_verify::VerifyError::Jwks(_))));
}
