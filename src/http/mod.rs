//! The HTTP surface: each area's routes (`routes/`), declared once for the router and the
//! OpenAPI document (`openapi`), then the cross-cutting layers (`middleware`). A request
//! flows router → extractor (`extract`, `body`) → handler → service; errors become
//! responses in one place (`errors`).

pub mod body;
pub mod errors;
pub mod extract;
mod middleware;
pub mod models;
pub mod openapi;
pub mod pagination;
pub mod routes;
pub mod server;
mod web;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{middleware as axum_middleware, Router};
use tower_http::catch_panic::CatchPanicLayer;

use crate::app::AppState;
use errors::ApiError;

/// The whole application, ready to serve (with `ConnectInfo<SocketAddr>` for client
/// addresses).
pub fn app(state: AppState) -> Router {
    let cors = middleware::cors_layer(&state.config.cors_allowed_origins);
    let (router, _) = routes::all().into_parts();
    router
        .fallback(web::web_app)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum_middleware::from_fn(middleware::run_to_completion))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(tower::util::option_layer(cors))
        // One middleware for everything every request gets: each layer is a boxed future
        // and a state clone per request, which the fast routes feel.
        .layer(axum_middleware::from_fn_with_state(state.clone(), middleware::edge))
        .with_state(state)
}

/// The OpenAPI 3.1 document (`/api/schema/`, `authenticon openapi`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::document()
}

/// The router for `AUTHENTICON_METRICS_BIND`: `/metrics` and nothing else.
pub fn metrics_router(app: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(app): State<AppState>| async move { routes::service::render_metrics(&app) }),
        )
        .with_state(app)
}
