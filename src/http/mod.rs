//! The HTTP surface: each area's routes, merged, then the cross-cutting layers.
//! A request flows router → extractor → handler → service → store.

pub mod audit;
pub mod auth;
pub mod errors;
pub mod extract;
pub mod me;
pub mod mfa;
pub mod models;
pub mod pagination;
pub mod recovery;
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
        .merge(recovery::routes())
        .merge(mfa::routes())
        .merge(roles::routes())
        .merge(users::routes())
        .merge(audit::routes())
        .merge(service::routes())
        .fallback(web::web_app)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(run_to_completion))
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal("handler panicked".into()).into_response()))
        .layer(tower::util::option_layer(cors))
        // One middleware for everything every request gets: each layer is a boxed future
        // and a state clone per request, which the fast routes feel.
        .layer(middleware::from_fn_with_state(state.clone(), edge))
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
    // Reads (every GET route, and token verification, which is a POST only because
    // simplejwt made it one) have nothing to leave half done, and the spawn would be a
    // fifth of the cost of the fastest routes.
    let read_only = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path().trim_end_matches('/') == "/api/token/verify";
    if read_only {
        return next.run(req).await;
    }
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

/// Headers every response carries, whatever produced it.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, web::CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// What every request goes through, outermost:
/// - `X-Request-Id` (the client's if sane, else a new UUID), and a span carrying it in
///   which the request runs, ending with one log line. Headers and bodies are never
///   logged (tokens and passwords live there).
/// - a time limit on the whole exchange, so a client trickling its body cannot hold a
///   worker;
/// - the security headers, and HSTS when a trusted proxy says the client came over HTTPS;
/// - the request counter and latency histogram.
async fn edge(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = match req.headers().get(REQUEST_ID).and_then(sane_request_id) {
        Some(id) => id.to_string(),
        // From the thread's CSPRNG: a v4 UUID without a getrandom call per request.
        None => uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string(),
    };
    let header = HeaderValue::from_str(&id).unwrap_or_else(|_| HeaderValue::from_static("invalid"));
    req.headers_mut().insert(REQUEST_ID, header.clone());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("-", MatchedPath::as_str);
    let method = method_label(req.method());
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let https = extract::forwarded_https(peer, req.headers(), &app.config.trusted_proxies);
    // `user_id` is filled in by the authentication extractor, when there is a user.
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = method,
        route = route,
        user_id = tracing::field::Empty
    );
    let started = Instant::now();
    let run = tokio::time::timeout(app.config.request_timeout, next.run(req));
    let mut response = match run.instrument(span.clone()).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(REQUEST_ID, header);
    for (name, value) in &SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| info!(status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request"));
    record_request(method, route, status, elapsed);
    response
}

/// Labels are the route template, never the raw path: bounded cardinality.
fn record_request(method: &'static str, route: &str, status: u16, elapsed: std::time::Duration) {
    let route = if route == "-" { "unmatched".to_string() } else { route.to_string() };
    metrics::counter!("authenticon_http_requests_total",
        "method" => method, "route" => route.clone(), "status" => status_label(status))
    .increment(1);
    metrics::histogram!("authenticon_http_request_duration_seconds", "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
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
            Every 401 carries `WWW-Authenticate: Bearer realm=\"api\"`; every response carries `X-Request-Id`. \
            Stricter than simplejwt on purpose: an access token of a revoked session is refused (`token_not_valid`) \
            on every Bearer endpoint and by `/api/token/verify/`; sensitive changes (email, factors) need a fresh proof \
            of presence (`403 reauthentication_required` without one, see `/api/me/reauthenticate/`); administrators \
            grant only what they hold (`403 permission_denied`)."
    ),
    paths(
        auth::register, auth::obtain_token_pair, auth::refresh_token, auth::verify_token, auth::blacklist_token,
        me::protected_resource, me::get_me, me::update_me, me::change_password,
        me::list_sessions, me::revoke_session, me::revoke_all_sessions, me::reauthenticate, me::reauthenticate_passkey,
        session::session_login, session::session_refresh, session::session_logout,
        recovery::request_password_reset, recovery::confirm_password_reset,
        recovery::verify_email, recovery::resend_verification,
        mfa::mfa_status, mfa::start_totp, mfa::confirm_totp, mfa::disable_totp, mfa::regenerate_recovery_codes,
        mfa::obtain_token_pair_mfa, mfa::reset_user_mfa, session::session_mfa,
        mfa::list_passkeys, mfa::start_passkey, mfa::confirm_passkey, mfa::remove_passkey,
        mfa::mfa_passkey_options, mfa::passkey_login_options, mfa::obtain_token_pair_passkey,
        session::session_passkey,
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
        (name = "recovery", description = "Password reset and email verification by mailed, single-use links"),
        (name = "mfa", description = "Second factors: TOTP, passkeys (WebAuthn) and recovery codes"),
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
