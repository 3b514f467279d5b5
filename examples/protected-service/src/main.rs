//! `AUTHENTICON_JWKS_URL=http://127.0.0.1:8000/.well-known/jwks.json cargo run -p protected-service`
//! then `curl http://127.0.0.1:8080/orders -H 'Authorization: Bearer <access>'`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let jwks = std::env::var("AUTHENTICON_JWKS_URL")
        .unwrap_or_else(|_| "http://127.0.0.1:8000/.well-known/jwks.json".into());
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("protected-service on http://{bind}, trusting {jwks}");
    axum::serve(listener, protected_service::app(authenticon_verify::Verifier::new(jwks))).await
}
