//! The reference for "near the limit": a bare axum server that verifies an HS256 bearer
//! token with the same JWT crate Authenticon uses and returns a constant body.
//! `BIND=127.0.0.1:9001 SECRET=... bench-limit`

use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use jsonwebtoken::{decode, DecodingKey, Validation};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let secret = std::env::var("SECRET").unwrap_or_default();
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:9001".into());
    let key = Arc::new(DecodingKey::from_secret(secret.as_bytes()));
    let validation = Arc::new(Validation::new(jsonwebtoken::Algorithm::HS256));
    let app = Router::new().route(
        "/protected-resource/",
        get(move |headers: HeaderMap| {
            let (key, validation) = (Arc::clone(&key), Arc::clone(&validation));
            async move {
                let token = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "));
                match token.map(|t| decode::<serde_json::Value>(t, &key, &validation)) {
                    Some(Ok(_)) => (StatusCode::OK, "{\"message\":\"ok\"}"),
                    _ => (StatusCode::UNAUTHORIZED, "{\"detail\":\"no\"}"),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{bind}");
    axum::serve(listener, app).await
}
