//! The identity provider's protocol endpoints (API.md "Identity provider"): authorize,
//! token, userinfo, revoke, introspect, logout, and discovery. Their errors follow RFC
//! 6749 §5.2 (`{"error", "error_description"}`), not DRF's shapes; their bodies are
//! forms, as OAuth has them.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde_json::json;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::http::extract::{bearer_token, Client};
use crate::http::openapi::ApiRouter;
use crate::oauth::{
    scopes, AuthorizeParams, AuthorizeStart, ClientCredentials, LogoutEnd, LogoutRequest, OAuthError,
    TokenRequest,
};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(authorize))
        .routes(routes!(token))
        .routes(routes!(userinfo_get, userinfo_post))
        .routes(routes!(revoke))
        .routes(routes!(introspect))
        .routes(routes!(logout))
        .routes(routes!(openid_configuration))
        .routes(routes!(authorization_server_metadata))
}

/// An OAuth error as its endpoint answers it. `basic`: the client tried HTTP Basic, so a
/// refused one is told how to retry (RFC 6749 §5.2).
pub struct OAuthReply {
    error: OAuthError,
    basic: bool,
}

impl From<OAuthError> for OAuthReply {
    fn from(error: OAuthError) -> Self {
        OAuthReply { error, basic: false }
    }
}

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        let e = &self.error;
        let status = match e {
            OAuthError::InvalidClient(_) | OAuthError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            OAuthError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            OAuthError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            OAuthError::Store(_) | OAuthError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "identity provider fault");
        }
        let body = json!({ "error": e.code(), "error_description": e.description() });
        let mut response = (status, no_store(), Json(body)).into_response();
        let headers = response.headers_mut();
        match e {
            OAuthError::InvalidClient(_) if self.basic => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"oauth\""));
            }
            OAuthError::InvalidToken(_) | OAuthError::InsufficientScope(_) => {
                let value = format!("Bearer realm=\"oauth\", error=\"{}\"", e.code());
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            OAuthError::Throttled(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*secs));
            }
            _ => {}
        }
        response
    }
}

/// Tokens are never cached (RFC 6749 §5.1).
fn no_store() -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (header::PRAGMA, HeaderValue::from_static("no-cache")),
    ]
}

/// A form body (`application/x-www-form-urlencoded`); a parameter given twice is an
/// error (RFC 6749 §3.1).
fn form<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, OAuthError> {
    let is_form = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "Send the parameters as application/x-www-form-urlencoded.".into(),
        ));
    }
    serde_urlencoded::from_bytes(body).map_err(|_| {
        OAuthError::InvalidRequest("The parameters are malformed, or one is given twice.".into())
    })
}

/// One form-urlencoded component, decoded (`+` is a space).
fn form_decode(part: &str) -> Option<String> {
    url::form_urlencoded::parse(format!("x={part}").as_bytes()).next().map(|(_, v)| v.into_owned())
}

/// `Authorization: Basic` credentials (RFC 6749 §2.3.1: each part form-urlencoded).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(encoded) = value.strip_prefix("Basic ") else { return Ok(None) };
    let malformed = || OAuthError::InvalidClient("Malformed Basic credentials.".into());
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id).ok_or_else(malformed)?, form_decode(secret).ok_or_else(malformed)?)))
}

/// The client's credentials from the header and the form alike.
fn credentials(
    headers: &HeaderMap,
    client_id: Option<String>,
    client_secret: Option<String>,
) -> Result<ClientCredentials, OAuthError> {
    Ok(ClientCredentials { basic: basic_credentials(headers)?, client_id, client_secret })
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)], no_store()).into_response(),
        Err(_) => refused_page("The answer could not be sent back to the application."),
    }
}

/// Our own page for a request that cannot go back to its application.
fn refused_page(why: &str) -> Response {
    let why = why.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let body = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign-in request refused · Authenticon</title>\
         <h1>This sign-in request cannot be completed</h1><p>{why}</p>\
         <p>Go back to the application and try again, or tell its administrator.</p></html>"
    );
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
        body,
    )
        .into_response()
}

/// Authorization endpoint (code flow with PKCE S256). A request without a registered
/// client and exact redirect URI is refused on this page; any other fault goes back to
/// the client's redirect URI as `error` with `state` and `iss` (RFC 9207); a good one
/// continues in the web app (`/authorize?request=…`), where the user signs in and
/// consents.
#[utoipa::path(get, path = "/oauth/authorize", tag = "oauth",
    params(
        ("client_id" = String, Query), ("redirect_uri" = String, Query),
        ("response_type" = String, Query, description = "`code`"),
        ("scope" = String, Query, description = "Space-separated: `openid profile email offline_access roles permissions` or the client's own"),
        ("state" = Option<String>, Query), ("nonce" = Option<String>, Query),
        ("code_challenge" = String, Query), ("code_challenge_method" = String, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`none`, `login`, `consent`"),
        ("max_age" = Option<i64>, Query), ("login_hint" = Option<String>, Query),
    ),
    responses(
        (status = 302, description = "To the web app's consent page, or to the redirect URI with `error`"),
        (status = 400, description = "No valid client or redirect URI: an HTML page, no redirect"),
    ))]
pub async fn authorize(
    State(app): State<AppState>,
    Client(from): Client,
    RawQuery(query): RawQuery,
) -> Response {
    let Ok(params) = serde_urlencoded::from_str::<AuthorizeParams>(query.as_deref().unwrap_or("")) else {
        return refused_page("The request is malformed, or a parameter is given twice.");
    };
    match app.oauth.start_authorization(params, &from).await {
        Ok(AuthorizeStart::Pending { handle }) => found(&format!("/authorize?request={handle}")),
        Ok(AuthorizeStart::Redirect(uri)) => found(&uri),
        Ok(AuthorizeStart::Refused(why)) => refused_page(&why),
        Err(e) => {
            tracing::error!(error = %e, "authorize: store fault");
            let mut page = refused_page("The server could not take the request; try again.");
            *page.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            page
        }
    }
}

/// Token endpoint: `authorization_code` (with `code_verifier`), `refresh_token`
/// (rotated; a spent one presented again ends the grant), `client_credentials`.
/// Confidential clients authenticate with `client_secret_basic` or `client_secret_post`.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = Object,
        description = "`grant_type`, and `code`, `redirect_uri`, `code_verifier` / `refresh_token`, `scope`; `client_id` (and `client_secret` for client_secret_post)"),
    responses(
        (status = 200, description = "`access_token` (RFC 9068 JWT), `token_type`, `expires_in`, `scope`, `refresh_token` with offline_access, `id_token` with openid", body = Object),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`", body = Object),
        (status = 401, description = "`invalid_client`", body = Object),
        (status = 429, description = "Too many failed client authentications", body = Object),
    ))]
pub async fn token(
    State(app): State<AppState>,
    Client(from): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthReply> {
    let req: TokenRequest = form(&headers, &body)?;
    let creds = credentials(&headers, req.client_id.clone(), req.client_secret.clone())?;
    match app.oauth.token(req, &creds, from).await {
        Ok(answer) => Ok((no_store(), Json(answer)).into_response()),
        Err(error) => Err(OAuthReply { error, basic: creds.used_basic() }),
    }
}

#[derive(serde::Deserialize)]
struct TokenForm {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Revocation (RFC 7009): a refresh or access token of the calling client ends its
/// grant. Answered `200` whether or not there was anything to end.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = Object, description = "`token`, `token_type_hint`, client credentials"),
    responses((status = 200, description = "Revoked, or nothing to revoke"), (status = 401, body = Object)))]
pub async fn revoke(
    State(app): State<AppState>,
    Client(from): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthReply> {
    let f: TokenForm = form(&headers, &body)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    let token =
        f.token.filter(|t| !t.is_empty()).ok_or(OAuthError::InvalidRequest("token is required.".into()))?;
    match app.oauth.revoke(&creds, &token, from).await {
        Ok(()) => Ok((StatusCode::OK, no_store()).into_response()),
        Err(error) => Err(OAuthReply { error, basic: creds.used_basic() }),
    }
}

/// Introspection (RFC 7662), for confidential clients: a client sees its own tokens, a
/// client holding the permission `tokens.introspect` any; others read `{"active": false}`.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content_type = "application/x-www-form-urlencoded", content = Object, description = "`token`, client credentials"),
    responses((status = 200, description = "`{\"active\": false}` or the token's claims", body = Object), (status = 401, body = Object)))]
pub async fn introspect(
    State(app): State<AppState>,
    Client(from): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthReply> {
    let f: TokenForm = form(&headers, &body)?;
    let creds = credentials(&headers, f.client_id, f.client_secret)?;
    let token =
        f.token.filter(|t| !t.is_empty()).ok_or(OAuthError::InvalidRequest("token is required.".into()))?;
    match app.oauth.introspect(&creds, &token, &from).await {
        Ok(answer) => Ok((no_store(), Json(answer.0)).into_response()),
        Err(error) => Err(OAuthReply { error, basic: creds.used_basic() }),
    }
}

async fn userinfo(app: &AppState, headers: &HeaderMap) -> Result<Response, OAuthReply> {
    let missing = || OAuthError::InvalidToken("Send the access token as Authorization: Bearer.".into());
    let token = bearer_token(headers).map_err(|_| missing())?.ok_or_else(missing)?;
    let claims = app.oauth.userinfo(token).await?;
    Ok((no_store(), Json(claims)).into_response())
}

/// UserInfo (OpenID Connect Core §5.3): the claims the grant's scopes release, for a
/// user's access token with `openid`.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, description = "`sub`, and `preferred_username`, `email`, `email_verified`, `roles`, `permissions` as granted", body = Object),
              (status = 401, description = "`invalid_token`", body = Object), (status = 403, description = "`insufficient_scope`", body = Object)))]
pub async fn userinfo_get(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, OAuthReply> {
    userinfo(&app, &headers).await
}

/// UserInfo, by POST (as GET).
#[utoipa::path(post, path = "/oauth/userinfo", tag = "oauth", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 401, body = Object), (status = 403, body = Object)))]
pub async fn userinfo_post(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, OAuthReply> {
    userinfo(&app, &headers).await
}

/// RP-initiated logout. With a valid `id_token_hint` the browser session it names ends
/// and the browser returns to the client's registered `post_logout_redirect_uri` (with
/// `state`); without one, the web app asks the user, and no URI is followed.
#[utoipa::path(get, path = "/oauth/logout", tag = "oauth",
    params(("id_token_hint" = Option<String>, Query), ("post_logout_redirect_uri" = Option<String>, Query),
           ("state" = Option<String>, Query), ("client_id" = Option<String>, Query)),
    responses((status = 302, description = "To the client, or to the web app's sign-out page"), (status = 400, body = Object)))]
pub async fn logout(
    State(app): State<AppState>,
    Client(from): Client,
    RawQuery(query): RawQuery,
) -> Result<Response, OAuthReply> {
    let req: LogoutRequest = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).map_err(|_| {
        OAuthError::InvalidRequest("The parameters are malformed, or one is given twice.".into())
    })?;
    Ok(match app.oauth.logout(&req, from).await? {
        LogoutEnd::Client(uri) => found(&uri),
        LogoutEnd::App { signed_out: true } => found("/signed-out"),
        LogoutEnd::App { signed_out: false } => found("/logout"),
    })
}

/// What discovery (OpenID Connect Discovery 1.0, RFC 8414) says of the provider.
fn metadata(app: &AppState) -> serde_json::Value {
    let public = app.config.public_url();
    let base = public.trim_end_matches('/');
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    json!({
        "issuer": app.oauth.issuer(),
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "introspection_endpoint": format!("{base}/oauth/introspect"),
        "end_session_endpoint": format!("{base}/oauth/logout"),
        "scopes_supported": scopes::KNOWN,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        // Id tokens are RS256 whatever signs the rest (OpenID Connect Discovery §3).
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "acr", "azp", "sid",
            "preferred_username", "email", "email_verified", "roles", "permissions"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

/// OpenID Connect discovery: the issuer, every endpoint, what each supports.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oauth",
    responses((status = 200, description = "OpenID Provider Metadata", body = Object)))]
pub async fn openid_configuration(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(metadata(&app))
}

/// OAuth 2.0 Authorization Server Metadata (RFC 8414): the same document.
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "Authorization Server Metadata", body = Object)))]
pub async fn authorization_server_metadata(State(app): State<AppState>) -> Json<serde_json::Value> {
    Json(metadata(&app))
}
