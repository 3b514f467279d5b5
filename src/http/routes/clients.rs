//! The identity provider's JSON API for the web app: registering clients
//! (`clients.manage`), the user's connected applications, and the pending authorization
//! request the consent page shows and answers.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::rbac::Actor;
use crate::domain::rfc3339;
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{bearer_token, AuthUser, Client, ClientsManage, Require};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::oauth::{AnswerError, Answerer, ClientSpec, Decision, RequestView, WithSecret};
use crate::store::{AuditMeta, ClientRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_clients, create_client))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(rotate_client_secret))
        .routes(routes!(my_applications))
        .routes(routes!(disconnect_application))
        .routes(routes!(authorization_request, answer_authorization_request))
}

pub const REQUEST_GONE: &str = "This sign-in request has expired or was already answered.";

#[derive(Serialize, ToSchema)]
pub struct ClientResponse {
    pub client_id: String,
    pub name: String,
    /// A public client (a SPA, a native app) has no secret and proves itself with PKCE.
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    /// What the client holds itself, with `client_credentials`.
    pub permissions: Vec<String>,
    /// First-party: users are not asked to consent.
    pub pre_consented: bool,
    pub created: String,
    pub updated: String,
    /// Only when the client was just made or its secret rotated: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl ClientResponse {
    fn new(c: ClientRow, secret: Option<String>) -> Self {
        ClientResponse {
            public: c.is_public(),
            created: rfc3339(c.created_at),
            updated: rfc3339(c.updated_at),
            client_id: c.id,
            name: c.name,
            redirect_uris: c.redirect_uris,
            post_logout_redirect_uris: c.post_logout_redirect_uris,
            grant_types: c.grant_types,
            scopes: c.scopes,
            permissions: c.permissions,
            pre_consented: c.pre_consented,
            client_secret: secret,
        }
    }
}

impl From<WithSecret> for ClientResponse {
    fn from(w: WithSecret) -> Self {
        ClientResponse::new(w.client, w.secret)
    }
}

/// A client as an administrator describes it; on `PATCH` every field is optional.
#[derive(ToSchema)]
pub struct ClientRequest {
    name: Option<String>,
    /// Fixed at creation (default false: confidential, with a secret).
    public: Option<bool>,
    /// Exact URIs: https, http on 127.0.0.1/[::1] (any port), or a reversed-domain scheme.
    redirect_uris: Option<Vec<String>>,
    post_logout_redirect_uris: Option<Vec<String>>,
    /// `authorization_code`, `refresh_token`, `client_credentials` (default the first two).
    grant_types: Option<Vec<String>>,
    /// Default `openid profile email offline_access`.
    scopes: Option<Vec<String>>,
    permissions: Option<Vec<String>>,
    pre_consented: Option<bool>,
}

impl ReadBody for ClientRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            name: f.optional("name", Spaces::Trim, 100),
            public: f.optional_bool("public"),
            redirect_uris: f.optional_list("redirect_uris", 20, 2000),
            post_logout_redirect_uris: f.optional_list("post_logout_redirect_uris", 20, 2000),
            grant_types: f.optional_list("grant_types", 3, 40),
            scopes: f.optional_list("scopes", 50, 100),
            permissions: f.optional_list("permissions", 100, 100),
            pre_consented: f.optional_bool("pre_consented"),
        }
    }
}

impl From<ClientRequest> for ClientSpec {
    fn from(r: ClientRequest) -> Self {
        ClientSpec {
            name: r.name,
            public: r.public,
            redirect_uris: r.redirect_uris,
            post_logout_redirect_uris: r.post_logout_redirect_uris,
            grant_types: r.grant_types,
            scopes: r.scopes,
            permissions: r.permissions,
            pre_consented: r.pre_consented,
        }
    }
}

fn audit_of(guard: &Require<ClientsManage>, client: crate::domain::ClientInfo) -> AuditMeta {
    AuditMeta::actor(guard.id(), client)
}

/// The registered client applications. Needs `clients.manage`.
#[utoipa::path(get, path = "/api/clients/", tag = "clients", security(("bearer" = [])),
    responses((status = 200, body = Vec<ClientResponse>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn list_clients(
    _: Require<ClientsManage>,
    State(app): State<AppState>,
) -> Result<Json<Vec<ClientResponse>>, ApiError> {
    let clients = app.clients.list().await?;
    Ok(Json(clients.into_iter().map(|c| ClientResponse::new(c, None)).collect()))
}

/// Register a client. A confidential one's `client_secret` is in this answer only.
/// Its `permissions` must be ones the caller holds (bounded delegation).
#[utoipa::path(post, path = "/api/clients/", tag = "clients", request_body = ClientRequest, security(("bearer" = [])),
    responses((status = 201, body = ClientResponse), (status = 400, body = BadRequestBody),
              (status = 401, body = CodedDetail), (status = 403, body = CodedDetail)))]
pub async fn create_client(
    guard: Require<ClientsManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<ClientRequest>,
) -> Result<(StatusCode, Json<ClientResponse>), ApiError> {
    if body.name.is_none() {
        return Err(ApiError::field("name", crate::domain::REQUIRED));
    }
    let audit = audit_of(&guard, client);
    let made = app.clients.create(Actor::User(&guard.user), body.into(), &audit).await?;
    Ok((StatusCode::CREATED, Json(made.into())))
}

#[utoipa::path(get, path = "/api/clients/{client_id}/", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientResponse), (status = 404, body = Detail)))]
pub async fn get_client(
    _: Require<ClientsManage>,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    Ok(Json(ClientResponse::new(app.clients.get(&id).await?, None)))
}

/// Change a client; fields left out keep their value.
#[utoipa::path(patch, path = "/api/clients/{client_id}/", tag = "clients", request_body = ClientRequest, security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientResponse), (status = 400, body = BadRequestBody),
              (status = 403, body = CodedDetail), (status = 404, body = Detail)))]
pub async fn update_client(
    guard: Require<ClientsManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    Body(body): Body<ClientRequest>,
) -> Result<Json<ClientResponse>, ApiError> {
    let audit = audit_of(&guard, client);
    let updated = app.clients.update(Actor::User(&guard.user), &id, body.into(), &audit).await?;
    Ok(Json(ClientResponse::new(updated, None)))
}

/// Remove a client: its grants end, and their access tokens with them.
#[utoipa::path(delete, path = "/api/clients/{client_id}/", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 403, body = CodedDetail), (status = 404, body = Detail)))]
pub async fn delete_client(
    guard: Require<ClientsManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let audit = audit_of(&guard, client);
    app.clients.delete(Actor::User(&guard.user), &id, &audit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new secret for a confidential client, in this answer only; the old one stops at once.
#[utoipa::path(post, path = "/api/clients/{client_id}/rotate-secret/", tag = "clients", security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 200, body = ClientResponse), (status = 400, body = BadRequestBody), (status = 404, body = Detail)))]
pub async fn rotate_client_secret(
    guard: Require<ClientsManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<Json<ClientResponse>, ApiError> {
    let audit = audit_of(&guard, client);
    Ok(Json(app.clients.rotate_secret(Actor::User(&guard.user), &id, &audit).await?.into()))
}

#[derive(Serialize, ToSchema)]
pub struct ApplicationResponse {
    pub client_id: String,
    pub name: String,
    /// The scopes consented to (empty for a pre-consented, first-party application).
    pub scopes: Vec<String>,
    pub granted: String,
    /// Live grants (each with its refresh token, if any).
    pub active_grants: i64,
}

/// The applications the user has connected: consented to, or holding a live grant of.
#[utoipa::path(get, path = "/api/me/applications/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApplicationResponse>), (status = 401, body = CodedDetail)))]
pub async fn my_applications(
    auth: AuthUser,
    State(app): State<AppState>,
) -> Result<Json<Vec<ApplicationResponse>>, ApiError> {
    let rows = app.store.consents(auth.id(), app.clock.now()).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ApplicationResponse {
                client_id: r.client_id,
                name: r.client_name,
                scopes: r.scope.split(' ').filter(|s| !s.is_empty()).map(String::from).collect(),
                granted: rfc3339(r.granted_at),
                active_grants: r.grants,
            })
            .collect(),
    ))
}

/// Disconnect an application: the consent is forgotten and its grants end (their
/// refresh and access tokens stop at once).
#[utoipa::path(delete, path = "/api/me/applications/{client_id}/", tag = "me", security(("bearer" = [])),
    params(("client_id" = String, Path)),
    responses((status = 204), (status = 401, body = CodedDetail), (status = 404, body = Detail)))]
pub async fn disconnect_application(
    auth: AuthUser,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.session_id()?;
    let audit = AuditMeta::actor(auth.id(), client);
    if !app.store.revoke_consent(auth.id(), &id, app.clock.now(), &audit).await? {
        return Err(ApiError::NotFound);
    }
    app.tokens.forget_user(auth.id());
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ScopeView {
    pub scope: String,
    /// What it lets the application do, for the consent screen.
    pub description: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuthorizationRequestResponse {
    pub client_id: String,
    pub client_name: String,
    /// The host the answer is sent to (the redirect URI's), shown beside the name: a
    /// name can be chosen by anyone, the destination cannot.
    pub redirect_host: String,
    pub scopes: Vec<ScopeView>,
    /// As the application asked: `none`, `login`, `consent` (space-separated) or empty.
    pub prompt: String,
    pub login_hint: Option<String>,
    /// Sign in (again) before answering: no session, or one older than the request allows.
    pub login_required: bool,
    /// The user has not yet consented to all these scopes for this application.
    pub consent_required: bool,
}

impl From<RequestView> for AuthorizationRequestResponse {
    fn from(v: RequestView) -> Self {
        AuthorizationRequestResponse {
            client_id: v.client_id,
            client_name: v.client_name,
            redirect_host: v.redirect_host,
            scopes: v
                .scopes
                .into_iter()
                .map(|(scope, description)| ScopeView { scope, description })
                .collect(),
            prompt: v.prompt,
            login_hint: v.login_hint,
            login_required: v.login_required,
            consent_required: v.consent_required,
        }
    }
}

#[derive(ToSchema)]
pub struct AnswerRequest {
    #[schema(value_type = DecisionName)]
    decision: String,
}

/// `allow` (the user approved on the consent screen), `deny`, or `silent` (nothing was
/// shown: a code only if nothing needs asking; `prompt=none`).
// The schema's words only: the handler reads the field as a string.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DecisionName {
    Allow,
    Deny,
    Silent,
}

impl ReadBody for AnswerRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { decision: f.required("decision", Spaces::Trim, 10) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AnswerResponse {
    /// Where to send the browser: the application's redirect URI with the code or error.
    pub redirect_to: String,
}

/// The signed-in user, if the request carries an access token; nobody without one. An
/// invalid or expired one is `401`, as everywhere: the web app refreshes and asks again,
/// rather than showing a signed-in user the "sign in" page.
async fn answerer(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(std::sync::Arc<crate::store::UserWithRoles>, String)>, ApiError> {
    let Some(token) = bearer_token(headers)? else { return Ok(None) };
    let caller = app.tokens.authenticate(token).await?;
    Ok(caller.user.map(|u| (u, caller.claims.sid)))
}

fn answer_error(e: AnswerError) -> ApiError {
    match e {
        AnswerError::NotFound => ApiError::NotFoundDetail(REQUEST_GONE.into()),
        AnswerError::LoginRequired => ApiError::NotAuthenticated,
        AnswerError::Store(e) => e.into(),
    }
}

/// A pending sign-in request of an application, for the consent page: who asks, for
/// what, and whether the user must sign in (again) or consent first. The access token
/// is optional.
#[utoipa::path(get, path = "/api/oauth/requests/{request}/", tag = "oauth",
    params(("request" = String, Path, description = "The handle from `/authorize?request=`")),
    responses((status = 200, body = AuthorizationRequestResponse),
              (status = 401, description = "An invalid or expired access token", body = CodedDetail),
              (status = 404, body = Detail)))]
pub async fn authorization_request(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<AuthorizationRequestResponse>, ApiError> {
    let who = answerer(&app, &headers).await?;
    let a = who.as_ref().map(|(user, sid)| Answerer { user, session_id: sid });
    let view = app.oauth.describe(&handle, a.as_ref()).await.map_err(answer_error)?;
    Ok(Json(view.into()))
}

/// Answer a pending request (once): the browser then goes to `redirect_to`.
#[utoipa::path(post, path = "/api/oauth/requests/{request}/", tag = "oauth", request_body = AnswerRequest,
    params(("request" = String, Path)),
    responses((status = 200, body = AnswerResponse), (status = 400, body = BadRequestBody),
              (status = 401, description = "Sign in (again) first", body = CodedDetail),
              (status = 403, description = "`mfa_enrollment_required`: a role of the user needs a second factor first", body = CodedDetail),
              (status = 404, body = Detail)))]
pub async fn answer_authorization_request(
    State(app): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    Path(handle): Path<String>,
    Body(body): Body<AnswerRequest>,
) -> Result<Json<AnswerResponse>, ApiError> {
    let decision = match body.decision.as_str() {
        "allow" => Decision::Allow,
        "deny" => Decision::Deny,
        "silent" => Decision::Silent,
        _ => return Err(ApiError::field("decision", "Select a valid choice: allow, deny or silent.")),
    };
    let who = answerer(&app, &headers).await?;
    if let Some((user, _)) = &who {
        // A role that demands a second factor lends nothing, to applications either,
        // until the user has one.
        let required = &app.config.mfa_required_roles;
        if user.roles.iter().any(|r| required.contains(r)) && !app.mfa.status(&user.user.id).await?.enabled()
        {
            return Err(ApiError::MfaEnrollmentRequired);
        }
    }
    let a = who.as_ref().map(|(user, sid)| Answerer { user, session_id: sid });
    let audit = match &who {
        Some((user, _)) => AuditMeta::actor(&user.user.id, client),
        None => AuditMeta::client(client),
    };
    let redirect_to = app.oauth.answer(&handle, a.as_ref(), decision, &audit).await.map_err(answer_error)?;
    Ok(Json(AnswerResponse { redirect_to }))
}
