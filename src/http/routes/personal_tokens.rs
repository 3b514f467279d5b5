//! Personal access tokens: the caller's own (`/api/me/tokens/`), and any user's for
//! administrators (`/api/users/<id>/tokens/`).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::me::ProofRequest;
use crate::app::AppState;
use crate::auth::personal_tokens::NewToken;
use crate::domain::rfc3339;
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{AuthUser, Client, Credential, Require, UsersManage, UsersView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::store::{AuditMeta, PersonalTokenRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(my_tokens, create_token))
        .routes(routes!(revoke_my_token))
        .routes(routes!(user_tokens))
        .routes(routes!(revoke_user_token))
        .routes(routes!(revoke_all_user_tokens))
}

/// A personal access token as lists show it: never the token itself.
#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub id: String,
    pub name: String,
    /// The token's first characters (`atn_` and four more), to tell tokens apart.
    pub prefix: String,
    /// What it may do: these of the user's permissions (capped at each use by what the
    /// user holds then).
    pub permissions: Vec<String>,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339; null for a token that never expires.
    pub expires: Option<String>,
    /// RFC 3339; null before its first use. Written in batches: a use can take a few
    /// seconds to show (a list from the instance that saw it shows it at once).
    pub last_used: Option<String>,
    /// The address of the last use; empty before the first.
    pub last_used_ip: String,
}

impl From<PersonalTokenRow> for TokenResponse {
    fn from(t: PersonalTokenRow) -> Self {
        Self {
            permissions: t.permission_list(),
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created: rfc3339(t.created_at),
            expires: t.expires_at.map(rfc3339),
            last_used: t.last_used_at.map(rfc3339),
            last_used_ip: t.last_used_ip,
        }
    }
}

/// A new token: shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedTokenResponse {
    #[serde(flatten)]
    pub details: TokenResponse,
    /// The token: `atn_`, 32 random characters and a 6-character checksum. Send it as
    /// `Authorization: Bearer <token>`. It cannot be shown again.
    pub token: String,
}

/// A new personal access token, and a proof of presence (`password`, `code` or
/// `credential`, as `/api/me/reauthenticate/` takes them) unless the session
/// re-authenticated a moment ago.
#[derive(ToSchema)]
pub struct CreateTokenRequest {
    /// What it is for (up to 100 characters).
    name: String,
    /// Permissions it may use, each one the caller holds now; `[]` for a token that
    /// reads only the caller's own account.
    permissions: Vec<String>,
    /// Seconds it lives, from 60 to `AUTHENTICON_PERSONAL_TOKEN_MAX_LIFETIME` (a year by
    /// default); null for a token that never expires, only where that setting is `none`.
    #[schema(required = true)]
    expires_in: Option<i64>,
    // The proof of presence's fields, at the top level of the body.
    #[schema(inline)]
    #[serde(flatten)]
    proof: ProofRequest,
}

impl ReadBody for CreateTokenRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            name: f.required("name", Spaces::Trim, 100),
            permissions: f.required_list("permissions", 64, 100),
            expires_in: f.required_nullable_integer("expires_in"),
            proof: ProofRequest::read(f),
        }
    }
}

/// The caller's personal access tokens (not revoked; expired ones included), newest first.
#[utoipa::path(get, path = "/api/me/tokens/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenResponse>), (status = 401, body = CodedDetail)))]
pub async fn my_tokens(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<TokenResponse>>, ApiError> {
    let tokens = app.personal_tokens.list(user.id()).await?;
    Ok(Json(tokens.into_iter().map(TokenResponse::from).collect()))
}

/// Create a personal access token for scripts and CI. Only a signed-in session may,
/// with a fresh proof of presence (a token is a way into the account); never a personal
/// access token. The owner is told by mail.
#[utoipa::path(post, path = "/api/me/tokens/", tag = "me", request_body = CreateTokenRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = CreatedTokenResponse),
        (status = 400, description = "A bad field, a wrong `password` or `code`, or `too_many_tokens` (50 live ones)", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`, or `personal_token_not_allowed`", body = CodedDetail),
    ))]
pub async fn create_token(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Body(body): Body<CreateTokenRequest>,
) -> Result<Response, ApiError> {
    app.presence.require(user.id(), user.session_id()?, body.proof.into_proof(), &client).await?;
    // The user as stored now, not as cached: the permissions given are checked against it.
    let owner = app.accounts.user(user.id()).await?;
    let new = NewToken { name: body.name, permissions: body.permissions, expires_in: body.expires_in };
    let created = app.personal_tokens.create(&owner, new, &client).await?;
    let body = CreatedTokenResponse { details: created.row.into(), token: created.token };
    let mut response = (StatusCode::CREATED, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revoke one of the caller's tokens: refused from the next request on. A personal access
/// token may revoke itself, no other (a stolen one must not lock its owner out of
/// revoking it).
#[utoipa::path(delete, path = "/api/me/tokens/{id}/", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = CodedDetail),
              (status = 403, description = "`personal_token_not_allowed`: a personal access token revoking another", body = CodedDetail),
              (status = 404, body = Detail)))]
pub async fn revoke_my_token(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if let Credential::PersonalToken(token) = &user.credential {
        if token.id != id {
            return Err(ApiError::PERSONAL_TOKEN_NOT_ALLOWED);
        }
    }
    app.personal_tokens.revoke(user.id(), &id, &AuditMeta::client(client)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's personal access tokens. Needs `users.view`.
#[utoipa::path(get, path = "/api/users/{id}/tokens/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = Vec<TokenResponse>), (status = 401, body = CodedDetail),
              (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn user_tokens(
    State(app): State<AppState>,
    _guard: Require<UsersView>,
    Path(id): Path<String>,
) -> Result<Json<Vec<TokenResponse>>, ApiError> {
    app.accounts.user(&id).await.map_err(|_| ApiError::NotFound)?;
    let tokens = app.personal_tokens.list(&id).await?;
    Ok(Json(tokens.into_iter().map(TokenResponse::from).collect()))
}

/// Revoke a user's personal access token. Needs `users.manage`, and holding everything
/// the user holds (only a superuser touches a superuser's); audited with the
/// administrator as actor.
#[utoipa::path(delete, path = "/api/users/{id}/tokens/{token_id}/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"), ("token_id" = String, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = CodedDetail),
              (status = 403, description = "Without `users.manage`, or `permission_denied`: a stronger account", body = Detail),
              (status = 404, body = Detail)))]
pub async fn revoke_user_token(
    State(app): State<AppState>,
    guard: Require<UsersManage>,
    Client(client): Client,
    Path((id, token_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    guard.not_on_own_account(&id)?;
    let audit = app.admin.judge(&guard.user, &id, "personal_token_revoke", &client).await?;
    app.personal_tokens.revoke(&id, &token_id, &audit).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke every personal access token of a user at once (a leaked one, an account taken
/// back). Needs `users.manage`, bounded like ending sessions; audited once.
#[utoipa::path(post, path = "/api/users/{id}/tokens/revoke-all/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = CodedDetail),
              (status = 403, description = "Without `users.manage`, or `permission_denied`: a stronger account", body = Detail),
              (status = 404, body = Detail)))]
pub async fn revoke_all_user_tokens(
    State(app): State<AppState>,
    guard: Require<UsersManage>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    guard.not_on_own_account(&id)?;
    let audit = app.admin.judge(&guard.user, &id, "personal_tokens_revoke_all", &client).await?;
    app.personal_tokens.revoke_all(&id, &audit).await?;
    Ok(StatusCode::NO_CONTENT)
}
