//! Service endpoints: liveness, readiness, the OpenAPI document.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sha2::Digest;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::domain::FieldErrors;
use crate::http::errors::ApiError;
use crate::http::middleware::REQUEST_ID;
use crate::http::models::{BadRequestBody, Detail};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::QueryParams;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(revocations))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics_on_api))
        .routes(routes!(schema))
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
pub async fn readyz(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Status>, (StatusCode, Json<Detail>)> {
    match app.store.ping().await {
        Ok(()) => Ok(Json(Status { status: "ok" })),
        Err(e) => {
            // A hot read: no request span carries the id (the edge set the header).
            let request_id = headers.get(REQUEST_ID).and_then(|v| v.to_str().ok());
            tracing::warn!(request_id, error = %e, "readiness check failed");
            Err((StatusCode::SERVICE_UNAVAILABLE, Json(Detail { detail: "Database unavailable.".into() })))
        }
    }
}

/// This document: OpenAPI 3.1, generated from the code.
#[utoipa::path(get, path = "/api/schema/", tag = "service",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn schema() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::http::openapi())
}

#[derive(Serialize, ToSchema)]
pub struct Jwks {
    /// RFC 7517 public keys (`kty`, `kid`, `alg`, `use`, and the key's members); empty
    /// with an HMAC algorithm.
    #[schema(value_type = Vec<std::collections::HashMap<String, serde_json::Value>>)]
    pub keys: Vec<serde_json::Value>,
}

/// The public keys that verify Authenticon's tokens (RFC 7517). Cached for five minutes;
/// conditional requests with `If-None-Match` get `304`.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "service",
    responses((status = 200, body = Jwks), (status = 304, description = "Unchanged since the given ETag")))]
pub async fn jwks(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let body = serde_json::json!({ "keys": app.tokens.jwks() }).to_string();
    let etag = format!("\"{}\"", &hex::encode(sha2::Sha256::digest(body.as_bytes()))[..32]);
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        (header::ETAG, HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""))),
    ];
    if names(&headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
}

/// Whether `If-None-Match` names `etag` (or `*`).
fn names(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// The revocation feed: the sessions revoked and the users whose earlier tokens are,
/// after the cursor `since`, as a compact JWS (`typ` `revocations+jwt`) signed with a key
/// of the JWKS. Poll it every few seconds with `If-None-Match`: `304` (answered from
/// memory) while nothing new was revoked. Payload: `iss` (when configured), `iat`, `since`,
/// `cursor` (the next `since`), `more` (ask again at once), `sessions` `[{sid, until}]`,
/// `users` `[{user_id, not_before, until}]`; an access token is revoked when its `sid` is
/// listed or its `iat` is before its user's `not_before`; `until`: when the entry stops
/// mattering. `404` when the service publishes no key (HMAC without clients).
#[utoipa::path(get, path = "/.well-known/revocations", tag = "service",
    params(("since" = Option<i64>, Query, description = "The `cursor` of the last answer; 0 or absent: everything still relevant")),
    responses(
        (status = 200, description = "Compact JWS, `typ` `revocations+jwt`", content_type = "application/jwt", body = String),
        (status = 304, description = "Nothing revoked since the answer the `If-None-Match` ETag names"),
        (status = 400, description = "`since` is not a non-negative integer", body = BadRequestBody),
        (status = 404, description = "No published key signs the feed (HMAC, no clients)", body = Detail),
        (status = 503, description = "The feed's state could not be read lately (never a stale `304`), or too many answers are being read at once: ask again (`Retry-After`)", body = Detail)))]
pub async fn revocations(State(app): State<AppState>, params: QueryParams, headers: HeaderMap) -> Response {
    let since = match params.get("since").map(str::parse::<i64>) {
        None => 0,
        Some(Ok(n)) if n >= 0 => n,
        Some(_) => {
            return ApiError::Fields(FieldErrors::one("since", "A valid integer is required."))
                .into_response()
        }
    };
    if !app.tokens.signs_with_published_key() {
        return ApiError::NotFoundDetail(
            "No published key signs the revocation feed: set AUTHENTICON_JWT_ALGORITHM to RS256, ES256 or EdDSA."
                .into(),
        )
        .into_response();
    }
    // Short: a shared cache in front must not hold back a revocation for long.
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=1"));
    if headers.contains_key(header::IF_NONE_MATCH) {
        match app.tokens.revocation_feed_etag().await {
            Ok(etag) if names(&headers, &etag) => {
                let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
                return (StatusCode::NOT_MODIFIED, [cache, (header::ETAG, etag)]).into_response();
            }
            Ok(_) => {}
            Err(e) => return ApiError::from(e).into_response(),
        }
    }
    match app.tokens.revocation_feed(since).await {
        Ok(None) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, HeaderValue::from_static("1")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            Json(Detail { detail: "The revocation feed is busy: ask again in a second.".into() }),
        )
            .into_response(),
        Ok(Some(page)) => {
            let mut response =
                ([cache, (header::CONTENT_TYPE, HeaderValue::from_static("application/jwt"))], page.jws)
                    .into_response();
            if let Some(etag) = page.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
                response.headers_mut().insert(header::ETAG, etag);
            }
            response
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Prometheus text format: requests by route and status with latencies, logins by
/// outcome, refreshes, reuse detections, throttled attempts, password-hash time and
/// queue, database pool use. Served here unless `AUTHENTICON_METRICS_BIND` moves it.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
              (status = 404, description = "Served on AUTHENTICON_METRICS_BIND instead", body = Detail)))]
pub async fn metrics_on_api(State(app): State<AppState>) -> Response {
    if app.config.metrics_bind.is_some() {
        return ApiError::NotFound.into_response();
    }
    render_metrics(&app)
}

/// The page itself, also served alone on the metrics address.
pub fn render_metrics(app: &AppState) -> Response {
    let Some(handle) = &app.metrics else {
        return ApiError::NotFound.into_response();
    };
    let (open, idle) = app.store.pool_stats();
    metrics::gauge!("authenticon_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("authenticon_db_pool_connections", "state" => "in_use")
        .set(open.saturating_sub(idle as u32) as f64);
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"))],
        handle.render(),
    )
        .into_response()
}
