//! An example service protecting its own route with `authenticon-verify`: it never calls
//! Authenticon per request and never holds its secret, only its JWKS URL.

use authenticon_verify::{VerifiedUser, Verifier};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The whole service: one route that needs a valid Authenticon access token.
pub fn app(verifier: Verifier) -> Router {
    Router::new().route("/orders", get(orders)).with_state(verifier)
}

async fn orders(user: VerifiedUser) -> Json<Value> {
    Json(json!({
        "user": user.claims.username,
        "roles": user.claims.roles,
        "orders": [],
    }))
}
