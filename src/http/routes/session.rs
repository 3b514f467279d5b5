//! Browser sessions (API.md "Browser sessions"): the refresh token lives only in an
//! HttpOnly cookie scoped to `/api/session/`; the access token is returned in the body
//! and kept in memory by the web app.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::auth::{logged_in, MfaLoginRequest, PasskeyAnswer, TokenObtainRequest};
use crate::app::AppState;
use crate::auth::login::Proven;
use crate::domain::ClientInfo;
use crate::http::body::Body;
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Https};
use crate::http::models::{BadRequestBody, CodedDetail, Detail, UserResponse};
use crate::http::openapi::ApiRouter;
use crate::tokens::{TokenError, TokenPair};

pub const REFRESH_COOKIE: &str = "authenticon_refresh";
const COOKIE_PATH: &str = "/api/session/";
/// An offer to link an external identity (see `auth::external`), taken by the next
/// sign-in in this browser.
pub const LINK_OFFER_COOKIE: &str = "authenticon_link";

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(session_login))
        .routes(routes!(session_mfa))
        .routes(routes!(session_passkey))
        .routes(routes!(session_refresh))
        .routes(routes!(session_logout))
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    pub access: String,
    pub user: UserResponse,
}

/// The value of our refresh cookie in a request, if any.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, REFRESH_COOKIE)
}

/// The value of a cookie in a request, if any.
pub(super) fn cookie(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// `Secure` everywhere but plain-HTTP localhost, where browsers would drop it.
/// SECURITY: a configured public URL decides; without one, the request's `Host` may only
/// add `Secure` (a real name), never drop it, so a client cannot write `Host: localhost`
/// to get its cookie sent over plain HTTP.
pub(super) fn cookie_is_secure(app: &AppState, headers: &HeaderMap, https: bool) -> bool {
    if https || !plain_http_localhost(&app.config.public_url()) {
        return true;
    }
    app.config.public_url.is_none() && !host_is_localhost(headers)
}

fn host_is_localhost(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    plain_http_localhost(&format!("http://{host}"))
}

fn plain_http_localhost(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let host = rest.split('/').next().unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

fn set_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    http_only_cookie(REFRESH_COOKIE, value, "Strict", COOKIE_PATH, max_age, secure)
}

/// An HttpOnly cookie (`Secure` as `cookie_is_secure` decides).
pub(super) fn http_only_cookie(
    name: &str,
    value: &str,
    same_site: &str,
    path: &str,
    max_age: u64,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie =
        format!("{name}={value}; HttpOnly; SameSite={same_site}; Path={path}; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// The link offer's cookie: set by an external provider's callback, cleared by a sign-in.
pub(super) fn link_offer_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    http_only_cookie(LINK_OFFER_COOKIE, value, "Strict", COOKIE_PATH, max_age, secure)
}

fn with_session(pair: TokenPair, cookies: Vec<HeaderValue>) -> Response {
    let body = SessionResponse { access: pair.access, user: UserResponse::from(&pair.user) };
    let mut response = Json(body).into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn clearing_cookie(mut response: Response, secure: bool) -> Response {
    response.headers_mut().insert(header::SET_COOKIE, set_cookie("", 0, secure));
    response
}

/// Log in from the web app: the access token in the body, the refresh token in an
/// HttpOnly cookie. Throttled like `/api/token/`.
#[utoipa::path(post, path = "/api/session/login/", tag = "session", request_body = TokenObtainRequest,
    responses(
        (status = 200, description = "Sets the `authenticon_refresh` cookie (HttpOnly; SameSite=Strict; Path=/api/session/; Secure except on plain-HTTP localhost)", body = SessionResponse),
        (status = 400, body = BadRequestBody),
        (status = 401, description = "As `/api/token/`: wrong credentials, or code `email_not_verified`, or code `mfa_required` with an `mfa_token` for `/api/session/mfa/`", body = CodedDetail),
        (status = 429, body = Detail),
    ))]
pub async fn session_login(
    State(app): State<AppState>,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
    Body(body): Body<TokenObtainRequest>,
) -> Result<Response, ApiError> {
    let user = logged_in(app.login.password(&body.username, &body.password, &client).await?)?;
    start_session(&app, user, client, &headers, https).await
}

/// A new browser session for a user who passed every login step: the refresh token
/// goes in the cookie.
async fn start_session(
    app: &AppState,
    proven: Proven,
    client: ClientInfo,
    headers: &HeaderMap,
    https: bool,
) -> Result<Response, ApiError> {
    let (pair, cookies) = open_browser_session(app, proven, client, headers, https).await?;
    Ok(with_session(pair, cookies))
}

/// The browser's new session: its tokens, and the cookies to set. A sign-in here also
/// completes the browser's offer to link an external identity, if it holds one: the
/// sign-in is the proof of the account that offer needs (`auth::external`).
pub(super) async fn open_browser_session(
    app: &AppState,
    proven: Proven,
    client: ClientInfo,
    headers: &HeaderMap,
    https: bool,
) -> Result<(TokenPair, Vec<HeaderValue>), ApiError> {
    let secure = cookie_is_secure(app, headers, https);
    let mut cookies = Vec::new();
    if let Some(offer) = cookie(headers, LINK_OFFER_COOKIE) {
        match app.external.accept_offer(&offer, &proven.user, &client).await {
            Ok(Some(provider)) => {
                tracing::info!(user_id = %proven.user.user.id, %provider, "external identity linked")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not link the offered external identity"),
        }
        cookies.push(link_offer_cookie("", 0, secure));
    }
    // SECURITY: the browser's previous session ends here rather than live on, unseen,
    // until it expires: its cookie is about to be replaced (a sign-in over another user's
    // session, or a fresh sign-in asked for by `prompt=login`).
    if let Some(previous) = refresh_cookie(headers) {
        match app.tokens.blacklist(&previous, client.clone()).await {
            Ok(_) | Err(TokenError::Invalid(_)) => {}
            Err(e) => tracing::warn!(error = %e, "could not end the browser's previous session"),
        }
    }
    let pair = app.tokens.start_session(proven.user, proven.amr, client).await?;
    cookies.push(set_cookie(&pair.refresh, app.config.refresh_token_lifetime.as_secs(), secure));
    Ok((pair, cookies))
}

/// The second login step of the web app: as `/api/token/mfa/`, answered like
/// `/api/session/login/` (the refresh token in the cookie).
#[utoipa::path(post, path = "/api/session/mfa/", tag = "session", request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "Sets the `authenticon_refresh` cookie", body = SessionResponse),
        (status = 400, body = BadRequestBody),
        (status = 429, body = Detail),
    ))]
pub async fn session_mfa(
    State(app): State<AppState>,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
    Body(body): Body<MfaLoginRequest>,
) -> Result<Response, ApiError> {
    let (mfa_token, proof) = body.into_parts();
    let user = app.login.second_factor(&mfa_token, proof, &client).await?;
    start_session(&app, user, client, &headers, https).await
}

/// A login without a password, for the web app: as `/api/token/passkey/`, answered
/// like `/api/session/login/` (the refresh token in the cookie).
#[utoipa::path(post, path = "/api/session/passkey/", tag = "session", request_body = PasskeyAnswer,
    responses(
        (status = 200, description = "Sets the `authenticon_refresh` cookie", body = SessionResponse),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn session_passkey(
    State(app): State<AppState>,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
    Body(body): Body<PasskeyAnswer>,
) -> Result<Response, ApiError> {
    let user = app.login.passkey(&body.ceremony, body.credential, &client).await?;
    start_session(&app, user, client, &headers, https).await
}

/// Rotate the cookie's refresh token. Needs `X-Requested-With: XMLHttpRequest`, which a
/// cross-site form cannot send (CSRF guard).
#[utoipa::path(post, path = "/api/session/refresh/", tag = "session",
    params(("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest`")),
    responses(
        (status = 200, description = "A new access token, and a new cookie", body = SessionResponse),
        (status = 401, description = "No cookie (`Authentication credentials were not provided.`), or `token_not_valid`", body = CodedDetail),
        (status = 403, description = "Missing `X-Requested-With`", body = Detail),
    ))]
pub async fn session_refresh(
    State(app): State<AppState>,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let xhr = headers.get("x-requested-with").and_then(|v| v.to_str().ok());
    if xhr != Some("XMLHttpRequest") {
        return Err(ApiError::Forbidden);
    }
    let token = refresh_cookie(&headers).ok_or(ApiError::NotAuthenticated)?;
    let secure = cookie_is_secure(&app, &headers, https);
    match app.tokens.refresh(&token, client).await {
        Ok(pair) => {
            let cookie = set_cookie(&pair.refresh, app.config.refresh_token_lifetime.as_secs(), secure);
            Ok(with_session(pair, vec![cookie]))
        }
        // A dead cookie is useless: tell the browser to drop it.
        Err(e) => Ok(clearing_cookie(ApiError::from(e).into_response(), secure)),
    }
}

/// Log out: revoke the cookie's session and clear the cookie.
#[utoipa::path(post, path = "/api/session/logout/", tag = "session",
    responses((status = 204, description = "Logged out; the cookie is cleared")))]
pub async fn session_logout(
    State(app): State<AppState>,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = refresh_cookie(&headers) {
        match app.tokens.blacklist(&token, client).await {
            // Already dead or never valid: the outcome the caller wants either way.
            Ok(_) | Err(TokenError::Invalid(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(clearing_cookie(StatusCode::NO_CONTENT.into_response(), cookie_is_secure(&app, &headers, https)))
}
