//! The reference for "near the limit": a bare axum server that verifies an HS256 token
//! with the same JWT crate Authenticon uses and returns a constant body. Two routes, the
//! bare counterparts of Authenticon's: `GET /protected-resource/` (the token in the
//! bearer header) and `POST /api/token/verify/` (the token in a JSON body, `{"token": …}`,
//! which hyper hands over through a body channel: work a GET does not have).
//! `BIND=127.0.0.1:9001 SECRET=... bench-limit`

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{decode, DecodingKey, Validation};

struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl Verifier {
    fn answer(&self, token: Option<&str>) -> (StatusCode, &'static str) {
        match token.map(|t| decode::<serde_json::Value>(t, &self.key, &self.validation)) {
            Some(Ok(_)) => (StatusCode::OK, "{\"message\":\"ok\"}"),
            _ => (StatusCode::UNAUTHORIZED, "{\"detail\":\"no\"}"),
        }
    }
}

#[derive(serde::Deserialize)]
struct VerifyBody {
    token: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("SECRET").unwrap_or_default();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:9001".into());
    let verifier = Arc::new(Verifier {
        key: DecodingKey::from_secret(secret.as_bytes()),
        validation: Validation::new(jsonwebtoken::Algorithm::HS256),
    });
    let by_header = Arc::clone(&verifier);
    let app = Router::new()
        .route(
            "/protected-resource/",
            get(move |headers: HeaderMap| async move {
                let token = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                by_header.answer(token)
            }),
        )
        .route(
            "/api/token/verify/",
            post(move |Json(body): Json<VerifyBody>| async move { verifier.answer(Some(&body.token)) }),
        );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}");
    axum::serve(listener, app).await
}
