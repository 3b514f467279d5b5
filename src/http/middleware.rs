//! What every request goes through around its handler: the request id and its log
//! line, the time limit, the security headers, the metrics, running writes to
//! completion, CORS, and the answer for a method a route does not serve.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::{info, Instrument};

use super::errors::{ApiError, UnloggedFault, HOT_READ};
use super::extract;
use super::web;
use crate::app::AppState;

/// Runs the handler in a task of its own. A client that hangs up (or the request
/// timeout) drops the connection's future; without this, a handler inside a database
/// transaction would be cut off mid-way and its connection returned to the pool with
/// the transaction open. Detached, every started change commits or rolls back whole.
pub async fn run_to_completion(req: Request, next: Next) -> Response {
    // The hot reads have nothing to leave half done, and the spawn would be a fifth of
    // their cost.
    if hot_read(&req) {
        return next.run(req).await;
    }
    // The task carries the request's span, so its log lines keep the request id.
    match tokio::spawn(next.run(req).instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(e) => ApiError::internal(e).into_response(),
    }
}

/// The routes called at every request of the services that rely on us, which only read
/// and log nothing a request line does not say: they run inline and without a span. Every
/// other route (GETs that sign someone in, link an identity or end a session included)
/// runs in a task of its own, to completion, inside a span carrying the request id.
fn hot_read(req: &Request) -> bool {
    let path = req.uri().path().trim_end_matches('/');
    match *req.method() {
        Method::GET | Method::HEAD => matches!(
            path,
            "/protected-resource"
                | "/api/me"
                | "/.well-known/jwks.json"
                | "/.well-known/openid-configuration"
                | "/.well-known/oauth-authorization-server"
                | "/.well-known/revocations"
                | "/healthz"
                | "/readyz"
                | "/metrics"
        ),
        // Token verification is a POST only because simplejwt made it one.
        Method::POST => path == "/api/token/verify",
        Method::OPTIONS => true,
        _ => false,
    }
}

/// Who the request's token named, for its log line: set by the authentication
/// extractor, read by `edge` once the handler is done.
#[derive(Clone, Default)]
pub struct RequestUser(Arc<OnceLock<String>>);

impl RequestUser {
    pub fn set(&self, user_id: &str) {
        let _ = self.0.set(user_id.to_string());
    }
}

/// CORS is off unless origins are configured; then exactly those origins may call the
/// API from a browser, with credentials (the session cookie) and the headers it needs.
pub fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
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

pub async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Also read by the hot reads that log (their request has no span to carry the id).
pub const REQUEST_ID: &str = "x-request-id";

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
/// - `X-Request-Id` (the client's if sane, else a new UUID), and one log line when the
///   request ends (all but the hot reads run in a span carrying the id, so their other
///   lines have it too; a hot read's fault is logged here, with the id as a field).
///   Headers and bodies are never logged (tokens and passwords live there).
/// - a time limit on the whole exchange, so a client trickling its body cannot hold a
///   worker;
/// - the security headers, and HSTS when a trusted proxy says the client came over HTTPS;
/// - the request counter and latency histogram.
pub async fn edge(State(app): State<AppState>, mut req: Request, next: Next) -> Response {
    let header = match req.headers().get(REQUEST_ID).filter(|v| sane_request_id(v).is_some()) {
        Some(given) => given.clone(),
        None => {
            // From the thread's CSPRNG: a v4 UUID without a getrandom call per request.
            let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
            let mut text = uuid::Uuid::encode_buffer();
            HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text))
                .unwrap_or_else(|_| HeaderValue::from_static("invalid"))
        }
    };
    let id = header.to_str().unwrap_or("invalid");
    req.headers_mut().insert(REQUEST_ID, header.clone());
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("-", MatchedPath::as_str);
    let method = method_label(req.method());
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
    let https = extract::forwarded_https(peer, req.headers(), &app.config.trusted_proxies);
    // Filled in by the authentication extractor, when a token names a user.
    let user = RequestUser::default();
    req.extensions_mut().insert(user.clone());
    // What a request logs on its way carries its id, except on the hot reads: creating,
    // entering and closing a span (and formatting its fields) cost the fastest route a
    // tenth of its throughput, and they have nothing to say before their request line
    // but a fault, which their response brings back here to be logged with the id.
    let hot = hot_read(&req);
    let started = Instant::now();
    let run = tokio::time::timeout(app.config.request_timeout, next.run(req));
    let done = if hot {
        HOT_READ.scope((), run).await
    } else {
        run.instrument(tracing::info_span!("request", request_id = %id)).await
    };
    let mut response = match done {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    };
    // A hot read's fault, which had no span to carry the id.
    if let Some(fault) = response.extensions_mut().remove::<UnloggedFault>() {
        fault.log(Some(id));
    }
    let headers = response.headers_mut();
    // Room for all of them at once, rather than growing the map on the way.
    headers.reserve(SECURITY_HEADERS.len() + 2);
    headers.insert(REQUEST_ID, header.clone());
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
    let user_id = user.0.get().map(String::as_str);
    let duration_ms = elapsed.as_secs_f64() * 1000.0;
    info!(request_id = %id, method, route, user_id, status, duration_ms, "request");
    record_request(method, route, status, elapsed);
    response
}

/// Labels are the route template, never the raw path: bounded cardinality.
fn record_request(method: &'static str, route: &str, status: u16, elapsed: std::time::Duration) {
    let route = if route == "-" { "unmatched" } else { route };
    REQUEST_METRICS.with_borrow_mut(|handles| {
        let by_route = handles.entry((method, status)).or_default();
        if !by_route.contains_key(route) {
            let (labelled, status) = (route.to_string(), status_label(status));
            let counter = metrics::counter!("authenticon_http_requests_total",
                "method" => method, "route" => labelled.clone(), "status" => status);
            let histogram = metrics::histogram!("authenticon_http_request_duration_seconds",
                "method" => method, "route" => labelled);
            by_route.insert(route.into(), (counter, histogram));
        }
        if let Some((counter, histogram)) = by_route.get(route) {
            counter.increment(1);
            histogram.record(elapsed.as_secs_f64());
        }
    });
}

type RouteMetrics = HashMap<Box<str>, (metrics::Counter, metrics::Histogram)>;

thread_local! {
    /// Each worker thread's handles to the request metrics, by method and status, then
    /// route. The `metrics` macros build a key and look it up in the recorder's registry
    /// at every call, which the fastest routes felt; a handle goes straight to its value.
    /// Bounded as the labels are: routes are templates, statuses a fixed set.
    static REQUEST_METRICS: RefCell<HashMap<(&'static str, u16), RouteMetrics>> = RefCell::default();
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
