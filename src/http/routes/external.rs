//! Sign-in with external identity providers: the providers the login page offers, the
//! browser's trip there and back (`/oauth/external/<provider>/start` and `/callback`),
//! and the identities linked to an account. The trip's outcome ends in the same cookie
//! session as a password login; what cannot be used is a plain page with its status
//! (502 when the provider is down), since a browser, not a script, is on the other end.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::me::ProofRequest;
use super::session::{cookie, cookie_is_secure, http_only_cookie, link_offer_cookie, open_browser_session};
use crate::app::AppState;
use crate::auth::external::{local_path, Arrival, Callback, ExternalError, IdentityView, Purpose};
use crate::auth::login::{LoginError, LoginOutcome};
use crate::domain::{rfc3339, ClientInfo};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{AuthUser, Client, Https, Require, UsersView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::store::AuditMeta;

/// Binds a trip's callback to the browser that started it.
const TRIP_COOKIE: &str = "authenticon_external";
const TRIP_COOKIE_PATH: &str = "/oauth/external/";
const TRIP_SECONDS: u64 = 600;
const OFFER_SECONDS: u64 = 900;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_providers))
        .routes(routes!(start))
        .routes(routes!(callback))
        .routes(routes!(my_identities, link_identity))
        .routes(routes!(unlink_identity))
        .routes(routes!(user_identities))
}

#[derive(Serialize, ToSchema)]
pub struct ProviderInfo {
    /// The provider's name in the settings: in its paths.
    pub name: String,
    /// What the button says: "Continue with {display_name}".
    pub display_name: String,
    /// Where the button goes (add `?next=/path` to come back there).
    pub start_url: String,
}

/// The external identity providers users may sign in with, for the login and sign-up
/// pages. Public.
#[utoipa::path(get, path = "/api/auth/providers/", tag = "external",
    responses((status = 200, body = Vec<ProviderInfo>)))]
pub async fn list_providers(State(app): State<AppState>) -> Json<Vec<ProviderInfo>> {
    Json(
        app.external
            .providers()
            .into_iter()
            .map(|p| ProviderInfo {
                start_url: format!("/oauth/external/{}/start", p.name),
                name: p.name,
                display_name: p.display_name,
            })
            .collect(),
    )
}

#[derive(Deserialize, Default)]
struct StartQuery {
    next: Option<String>,
}

/// Sends the browser to the provider (with `state`, `nonce` and a PKCE `S256`
/// challenge) and binds the trip to this browser with the `authenticon_external`
/// cookie (HttpOnly; SameSite=Lax, as the provider's redirect back is a cross-site
/// navigation; Path=/oauth/external/; ten minutes).
#[utoipa::path(get, path = "/oauth/external/{provider}/start", tag = "external",
    params(("provider" = String, Path, description = "The provider's name"),
           ("next" = Option<String>, Query, description = "A path of the web app to return to afterwards")),
    responses(
        (status = 303, description = "To the provider's authorization endpoint"),
        (status = 404, description = "No such provider (a page)"),
        (status = 429, description = "Too many sign-in requests from this address (a page)"),
        (status = 502, description = "The provider could not be reached (a page)"),
    ))]
pub async fn start(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    let q: StartQuery = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let next = q.next.unwrap_or_else(|| "/".into());
    match app.external.begin(&provider, Purpose::SignIn { next }, &client).await {
        Ok(trip) => {
            let secure = cookie_is_secure(&app, &headers, https);
            let binding = trip_cookie(&trip.binding, TRIP_SECONDS, secure);
            redirect(&trip.redirect_to, vec![binding])
        }
        Err(e) => failure_page(&app, &provider, e),
    }
}

/// The provider's redirect back. A linked identity signs its user in (the refresh
/// cookie set, as `/api/session/login/` does) and the browser goes to its `next` path,
/// or to `/login#mfa_token=…` when the account has a second factor; an address that is an
/// existing account's goes to `/login?link=<provider>` with an offer to link in an
/// HttpOnly cookie, completed by that account's next sign-in in this browser; a new
/// account is made where the provider's settings allow it. Spent, expired, replayed,
/// or another browser's callbacks, and answers that fail a check, get a page saying so.
#[utoipa::path(get, path = "/oauth/external/{provider}/callback", tag = "external",
    params(("provider" = String, Path, description = "The provider's name")),
    responses(
        (status = 303, description = "Signed in (to `next`), to the second step, to the link offer, or back to the linked accounts"),
        (status = 400, description = "Expired, replayed, from another browser, cancelled, or an answer that fails a check (a page)"),
        (status = 403, description = "No account, sign-up not allowed, address not verified, or the account is inactive (a page)"),
        (status = 409, description = "The identity is linked to another account (a page)"),
        (status = 502, description = "The provider could not be reached (a page)"),
    ))]
pub async fn callback(
    State(app): State<AppState>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
) -> Response {
    let params: Callback = serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
    let binding = cookie(&headers, TRIP_COOKIE);
    let secure = cookie_is_secure(&app, &headers, https);
    let spent_trip = trip_cookie("", 0, secure);
    let arrival = match app.external.finish(&provider, params, binding.as_deref(), &client).await {
        Ok(arrival) => arrival,
        Err(e) => return with_cookie(failure_page(&app, &provider, e), spent_trip),
    };
    match arrival {
        Arrival::SignIn { user_id, next, .. } => {
            match sign_in(&app, &user_id, &next, client, &headers, https).await {
                Ok(mut response) => {
                    response.headers_mut().append(header::SET_COOKIE, spent_trip);
                    response
                }
                Err(page) => with_cookie(page, spent_trip),
            }
        }
        Arrival::Linked { provider } => {
            redirect(&format!("/linked-accounts?linked={}", encode(&provider)), vec![spent_trip])
        }
        Arrival::Offer { token, provider, next } => {
            let to = format!("/login?link={}&next={}", encode(&provider), encode(&next));
            redirect(&to, vec![spent_trip, link_offer_cookie(&token, OFFER_SECONDS, secure)])
        }
    }
}

/// The login flow's decision for a user the provider vouched for.
async fn sign_in(
    app: &AppState,
    user_id: &str,
    next: &str,
    client: ClientInfo,
    headers: &HeaderMap,
    https: bool,
) -> Result<Response, Response> {
    let refused = |status, title: &str, message: &str| page(status, title, message);
    match app.login.external(user_id).await {
        Ok(LoginOutcome::Done(proven)) => {
            match open_browser_session(app, proven, client, headers, https).await {
                Ok((_, cookies)) => Ok(redirect(&local_path(next), cookies)),
                Err(e) => Err(api_failure_page(e)),
            }
        }
        Ok(LoginOutcome::SecondFactor { mfa_token, methods }) => {
            // The token travels in the fragment: never sent to a server, never logged.
            let to = format!(
                "/login#mfa_token={}&methods={}&next={}",
                encode(&mfa_token),
                encode(&methods.join(",")),
                encode(next)
            );
            Ok(redirect(&to, Vec::new()))
        }
        Err(LoginError::EmailNotVerified) => Err(refused(
            StatusCode::FORBIDDEN,
            "Verify your email address",
            "Verify your email address before signing in: follow the link in the mail we sent.",
        )),
        Err(LoginError::Throttled(_)) => Err(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many attempts. Try again later.",
        )),
        Err(LoginError::WrongCredentials | LoginError::UserNotFound) => Err(refused(
            StatusCode::FORBIDDEN,
            "Account not active",
            "This account is not active. Ask an administrator.",
        )),
        Err(e) => Err(api_failure_page(e.into())),
    }
}

#[derive(Serialize, ToSchema)]
pub struct IdentityResponse {
    pub id: String,
    /// The provider's name in the settings.
    pub provider: String,
    pub display_name: String,
    /// The address the provider vouched for when last used (empty when none was verified).
    pub email: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339; null before the first sign-in through it.
    pub last_used: Option<String>,
}

impl From<IdentityView> for IdentityResponse {
    fn from(v: IdentityView) -> Self {
        Self {
            id: v.row.id,
            provider: v.row.provider,
            display_name: v.display_name,
            email: v.row.email,
            created: rfc3339(v.row.created_at),
            last_used: v.row.last_used_at.map(rfc3339),
        }
    }
}

/// The caller's linked external identities.
#[utoipa::path(get, path = "/api/me/identities/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<IdentityResponse>), (status = 401, body = CodedDetail)))]
pub async fn my_identities(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<IdentityResponse>>, ApiError> {
    let identities = app.external.identities(user.id()).await?;
    Ok(Json(identities.into_iter().map(IdentityResponse::from).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct LinkStart {
    /// Send the browser here (the provider's sign-in); it comes back to
    /// `/linked-accounts?linked=<provider>`.
    pub redirect_to: String,
}

/// Which provider to link, and a proof of presence (`password`, `code` or `credential`, as
/// `/api/me/reauthenticate/` takes them).
#[derive(ToSchema)]
pub struct LinkRequest {
    /// The provider's name, as `/api/auth/providers/` lists it.
    provider: String,
    // The proof of presence's fields, at the top level of the body.
    #[schema(inline)]
    #[serde(flatten)]
    proof: ProofRequest,
}

impl ReadBody for LinkRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { provider: f.required("provider", Spaces::Trim, 64), proof: ProofRequest::read(f) }
    }
}

/// Start linking a provider to the caller's account. Takes a proof of presence (a linked
/// identity is a way into the account), and sets the trip's `authenticon_external`
/// cookie: the browser that calls this must be the one that goes to the provider.
#[utoipa::path(post, path = "/api/me/identities/", tag = "me", request_body = LinkRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Sets the `authenticon_external` cookie", body = LinkStart),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`", body = CodedDetail),
        (status = 404, description = "No such provider", body = Detail),
        (status = 502, description = "`provider_unavailable`", body = CodedDetail),
    ))]
pub async fn link_identity(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Https(https): Https,
    headers: HeaderMap,
    Body(body): Body<LinkRequest>,
) -> Result<Response, ApiError> {
    app.presence.require(user.id(), user.session_id()?, body.proof.into_proof(), &client).await?;
    let purpose = Purpose::Link { user_id: user.id().to_string() };
    let trip = app.external.begin(&body.provider, purpose, &client).await?;
    let secure = cookie_is_secure(&app, &headers, https);
    let mut response = Json(LinkStart { redirect_to: trip.redirect_to }).into_response();
    response.headers_mut().append(header::SET_COOKIE, trip_cookie(&trip.binding, TRIP_SECONDS, secure));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Unlink one of the caller's identities. Refused (`last_sign_in_method`) when the
/// account would be left with no way to sign in (no usable password, no passkey, no
/// other identity).
#[utoipa::path(delete, path = "/api/me/identities/{id}/", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Identity id")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 400, description = "`last_sign_in_method`", body = CodedDetail),
        (status = 401, body = CodedDetail),
        (status = 404, body = Detail),
    ))]
pub async fn unlink_identity(
    State(app): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
    Client(client): Client,
) -> Result<StatusCode, ApiError> {
    // Only a person at a keyboard changes how they sign in.
    user.session_id()?;
    app.external.unlink(user.id(), &id, &AuditMeta::actor(user.id(), client)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's linked external identities. Needs `users.view`.
#[utoipa::path(get, path = "/api/users/{id}/identities/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Vec<IdentityResponse>), (status = 401, body = CodedDetail),
              (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn user_identities(
    State(app): State<AppState>,
    _guard: Require<UsersView>,
    Path(id): Path<String>,
) -> Result<Json<Vec<IdentityResponse>>, ApiError> {
    app.accounts.user(&id).await.map_err(|_| ApiError::NotFound)?;
    let identities = app.external.identities(&id).await?;
    Ok(Json(identities.into_iter().map(IdentityResponse::from).collect()))
}

fn trip_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    http_only_cookie(TRIP_COOKIE, value, "Lax", TRIP_COOKIE_PATH, max_age, secure)
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn redirect(to: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(to) {
        headers.insert(header::LOCATION, location);
    }
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn with_cookie(mut response: Response, cookie: HeaderValue) -> Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// Why a trip could not be used, as a page.
fn failure_page(app: &AppState, provider: &str, e: ExternalError) -> Response {
    let name = app.external.providers().into_iter().find(|p| p.name == provider).map(|p| p.display_name);
    let name = name.unwrap_or_else(|| "the provider".into());
    let (status, title, message) = match e {
        ExternalError::UnknownProvider => {
            (StatusCode::NOT_FOUND, "Unknown provider".into(), "There is no such sign-in provider here.".into())
        }
        ExternalError::Expired | ExternalError::WrongBrowser => (
            StatusCode::BAD_REQUEST,
            "This sign-in has expired".into(),
            "This sign-in link has expired or was already used, or was started in another browser. Start again from the sign-in page.".into(),
        ),
        ExternalError::Denied(_) => (
            StatusCode::BAD_REQUEST,
            "Sign-in cancelled".into(),
            format!("{name} did not sign you in (cancelled or refused). You can try again or use your password."),
        ),
        ExternalError::Unavailable(_) => (
            StatusCode::BAD_GATEWAY,
            format!("{name} is not answering"),
            format!("{name} could not be reached, so you were not signed in and nothing changed. Try again in a few minutes, or sign in with your password."),
        ),
        ExternalError::Refused(_) => (
            StatusCode::BAD_REQUEST,
            "Sign-in could not be verified".into(),
            format!("The answer from {name} did not pass our checks, so you were not signed in. Start again from the sign-in page."),
        ),
        ExternalError::EmailNotVerified => (
            StatusCode::FORBIDDEN,
            "Email address not verified".into(),
            format!("{name} did not confirm that your email address is verified. Verify it there, or sign in with your password."),
        ),
        ExternalError::NoAccount => (
            StatusCode::FORBIDDEN,
            "No account".into(),
            format!("There is no account for this {name} sign-in, and new accounts cannot be made with it. Ask an administrator, or sign up first and link {name} from your account."),
        ),
        ExternalError::IdentityTaken => (
            StatusCode::CONFLICT,
            "Already linked".into(),
            format!("This {name} account is already linked to another account here."),
        ),
        ExternalError::Throttled(_) => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts".into(),
            "Too many sign-in attempts from this address. Try again later.".into(),
        ),
        other => return api_failure_page(other.into()),
    };
    page(status, &title, &message)
}

/// A fault of ours or of the store, as a page (logged as the API would).
fn api_failure_page(e: ApiError) -> Response {
    // Rendered as the API would (which logs a fault), then shown as a page.
    let status = e.into_response().status();
    page(status, "Something went wrong", "We could not sign you in. Try again in a few minutes.")
}

/// A plain page: no script, nothing from the request but escaped text.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let (title, message) = (escape(title), escape(message));
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Authenticon</title></head>\
         <body><main><h1>{title}</h1><p>{message}</p><p><a href=\"/login\">Back to sign-in</a></p></main></body></html>\n"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
