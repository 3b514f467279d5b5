//! The HTTP surface: each area's routes, merged, then the cross-cutting layers.
//! A request flows router → extractor → handler → service → store.

pub mod audit;
pub mod auth;
pub mod errors;
pub mod extract;
pub mod me;
pub mod models;
pub mod pagination;
pub mod roles;
pub mod server;
pub mod service;
pub mod session;
pub mod users;
pub mod web;

use std::time::Instant;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tracing::{info, Instrument};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::state::AppState;
use errors::ApiError;

/// The whole application, ready to serve (with `ConnectInfo<SocketAddr>` for client
/// addresses).
pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.config.cors_allowed_origins);
    Router::new()
        .merge(auth::routes())
        .merge(me::routes())
        .merge(session::routes())
        .merge(roles::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(service::routes())
        .fallback(web::web_app)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(run_to_completion))
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal("handler panicked".into()).into_response()))
        .layer(security_header(header::CONTENT_SECURITY_POLICY, web::CONTENT_SECURITY_POLICY))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(middleware::from_fn_with_state(state.clone(), transport_policy))
        .layer(tower::util::option_layer(cors))
        .layer(middleware::from_fn(request_span))
        .with_state(state)
}

/// Registers `path` with and without its trailing slash: API.md serves both alike, and a
/// redirect would lose a POST body.
pub(crate) fn route(
    router: Router<AppState>,
    path: &str,
    handler: MethodRouter<AppState>,
) -> Router<AppState> {
    let other = match path.strip_suffix('/') {
        Some(trimmed) => trimmed.to_string(),
        None => format!("{path}/"),
    };
    router.route(path, handler.clone()).route(&other, handler)
}

/// Runs the handler in a task of its own. A client that hangs up (or the request
/// timeout) drops the connection's future; without this, a handler inside a database
/// transaction would be cut off mid-way and its connection returned to the pool with
/// the transaction open. Detached, every started change commits or rolls back whole.
async fn run_to_completion(req: Request, next: Next) -> Response {
    // The task carries the request's span, so its log lines keep the request id.
    match tokio::spawn(next.run(req).instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(e) => ApiError::Internal(format!("handler task failed: {e}")).into_response(),
    }
}

/// CORS is off unless origins are configured; then exactly those origins may call the
/// API from a browser, with credentials (the session cookie) and the headers it needs.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::PUT, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-requested-with"),
            ])
            .allow_credentials(true)
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// Per request: a time limit on the whole exchange (a client trickling its body cannot
/// hold a worker), and HSTS when a trusted proxy says the client came over HTTPS.
async fn transport_policy(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let https = extract::forwarded_https(peer, req.headers(), &app.config.trusted_proxies);
    let mut response = match tokio::time::timeout(app.config.request_timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    };
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

const REQUEST_ID: &str = "x-request-id";

/// A client's request id is kept when it is short and plain, so it can be followed
/// across services; anything else is replaced (it ends up in logs).
fn sane_request_id(v: &HeaderValue) -> Option<&str> {
    let s = v.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then_some(s)
}

/// Sets `X-Request-Id`, runs the request in a span carrying it, and logs one line per
/// request. Never logs headers or bodies (tokens and passwords live there).
async fn request_span(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(sane_request_id)
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, header.clone());
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "-".into());
    let method = req.method().clone();
    // `user_id` is filled in by the authentication extractor, when there is a user.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        user_id = tracing::field::Empty
    );
    let started = Instant::now();
    let mut response = next.run(req).instrument(span.clone()).await;
    response.headers_mut().insert(REQUEST_ID, header);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| info!(status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request"));
    // Labels are the route template, never the raw path: bounded cardinality. Static
    // strings where possible: this runs on every request.
    let route_label = if route == "-" { "unmatched".to_string() } else { route };
    let method_label = method_label(&method);
    metrics::counter!("authenticon_http_requests_total",
        "method" => method_label, "route" => route_label.clone(), "status" => status_label(status))
    .increment(1);
    metrics::histogram!("authenticon_http_request_duration_seconds", "method" => method_label, "route" => route_label)
        .record(elapsed.as_secs_f64());
    response
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_label(status: u16) -> &'static str {
    match status {
        200 => "200",
        201 => "201",
        204 => "204",
        304 => "304",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        415 => "415",
        429 => "429",
        431 => "431",
        500 => "500",
        503 => "503",
        s if s < 300 => "2xx",
        s if s < 400 => "3xx",
        s if s < 500 => "4xx",
        _ => "5xx",
    }
}

/// The OpenAPI 3.1 document, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Authenticon",
        description = "JWT authentication service, compatible with djangorestframework-simplejwt clients. \
            Errors use DRF's shapes: `{\"detail\": ...}` (plus `code` on token errors) or `{\"field\": [messages]}`. \
            Every path is also served without its trailing slash. Unknown request fields are ignored, as DRF does. \
            Every 401 carries `WWW-Authenticate: Bearer realm=\"api\"`; every response carries `X-Request-Id`."
    ),
    paths(
        auth::register, auth::obtain_token_pair, auth::refresh_token, auth::verify_token, auth::blacklist_token,
        me::protected_resource, me::get_me, me::update_me, me::change_password,
        me::list_sessions, me::revoke_session, me::revoke_all_sessions,
        session::session_login, session::session_refresh, session::session_logout,
        roles::list_roles, roles::create_role, roles::get_role, roles::update_role, roles::delete_role,
        users::list_users, users::get_user, users::update_user, users::set_user_roles,
        audit::list_audit, audit::reports,
        service::healthz, service::readyz, service::schema, service::jwks, service::openid_configuration,
        service::metrics_on_api,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Registration and simplejwt-compatible tokens"),
        (name = "me", description = "The caller's own resources"),
        (name = "session", description = "Browser sessions: the refresh token in an HttpOnly cookie"),
        (name = "roles", description = "Roles and permissions; each route names the permission it needs"),
        (name = "users", description = "User administration"),
        (name = "audit", description = "The audit log"),
        (name = "service", description = "Health and the API description"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
            ),
        );
    }
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
