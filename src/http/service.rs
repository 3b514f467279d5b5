//! Service endpoints: liveness, readiness, the OpenAPI document.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::models::Detail;
use super::route;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/healthz", get(healthz));
    let r = route(r, "/readyz", get(readyz));
    route(r, "/api/schema/", get(schema))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: 200 while the process runs, whatever its dependencies do.
#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, body = Status)))]
pub async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Readiness: 200 when the store answers, else 503.
#[utoipa::path(get, path = "/readyz", tag = "service",
    responses((status = 200, body = Status), (status = 503, body = Detail)))]
pub async fn readyz(State(app): State<AppState>) -> Result<Json<Status>, (StatusCode, Json<Detail>)> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(Status { status: "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, Json(Detail { detail: "Database unavailable.".into() })))
        }
    }
}

/// This document: OpenAPI 3.1, generated from the code.
#[utoipa::path(get, path = "/api/schema/", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn schema() -> Json<utoipa::openapi::OpenApi> {
    Json(super::openapi())
}
