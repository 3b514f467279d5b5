//! Other services verify Authenticon's tokens with the `authenticon-verify` crate: the
//! example service in `examples/protected-service`, started here.

use std::time::Duration;

use authenticon::config::JwtAlgorithm;
use authenticon::tokens::keys;
use authenticon_verify::Verifier;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

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
    let mut req = reqwest::Client::new().get(format!("{service}/orders"));
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
