//! User administration: `/api/users/`, `/api/users/<id>/`, `/api/users/<id>/roles/`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::me::ProofRequest;
use crate::app::AppState;
use crate::auth::accounts::AccountError;
use crate::auth::presence::PresenceProof;
use crate::auth::rbac::{record_denial, Actor, Denial, RoleError};
use crate::domain::MAX_EMAIL_CHARS;
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Require, UsersManage, UsersView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail, UserResponse};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::{PageRequest, Paginated, QueryParams};
use crate::store::{AuditMeta, UserChanges};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_user_roles))
        .routes(routes!(reset_user_mfa))
}

/// Here an unknown id is a missing resource (404), not a bad token.
fn not_found_is_404(e: AccountError) -> ApiError {
    match e {
        AccountError::NotFound => ApiError::NotFound,
        other => other.into(),
    }
}

/// What an administrator changes; administrators changing their own address add a proof
/// of presence (`password`, `code` or `credential`), as `PATCH /api/me/` asks.
#[derive(ToSchema)]
pub struct UpdateUserRequest {
    /// `false` deactivates: every session of the user is revoked at once and their access
    /// tokens stop working (`user_inactive`).
    is_active: Option<bool>,
    email: Option<String>,
    // The proof of presence's fields, at the top level of the body.
    #[schema(inline)]
    #[serde(flatten)]
    proof: ProofRequest,
}

impl ReadBody for UpdateUserRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        let is_active = f.optional_bool("is_active");
        let email = f.optional("email", Spaces::Trim, MAX_EMAIL_CHARS);
        Self { is_active, email, proof: ProofRequest::read(f) }
    }
}

#[derive(ToSchema)]
pub struct SetRolesRequest {
    #[schema(example = json!(["editor"]))]
    roles: Vec<String>,
}

impl ReadBody for SetRolesRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { roles: f.required_list("roles", 200, 64) }
    }
}

/// Users, by username, 20 a page. `search` matches username or email, case-insensitively.
/// Needs `users.view`.
#[utoipa::path(get, path = "/api/users/", tag = "users", security(("bearer" = [])),
    params(
        ("search" = Option<String>, Query, description = "Part of a username or email"),
        ("page" = Option<i64>, Query, description = "1-based page number"),
        ("page_size" = Option<i64>, Query, description = "Results a page (default 20, at most 100)"),
    ),
    responses(
        (status = 200, body = Paginated<UserResponse>),
        (status = 401, body = CodedDetail), (status = 403, body = Detail),
        (status = 404, description = "`Invalid page.`", body = Detail),
    ))]
pub async fn list_users(
    _: Require<UsersView>,
    State(app): State<AppState>,
    params: QueryParams,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Json<Paginated<UserResponse>>, ApiError> {
    let page = PageRequest::from_params(&params)?;
    let found = app.accounts.list_users(params.get("search").unwrap_or(""), page.offset(), page.size).await?;
    let results = found.rows.iter().map(UserResponse::from).collect();
    Ok(Json(Paginated::new(page, found.count, results, &uri, &headers)?))
}

/// One user. Needs `users.view`.
#[utoipa::path(get, path = "/api/users/{id}/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = UserResponse), (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn get_user(
    _: Require<UsersView>,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = app.accounts.user(&id).await.map_err(not_found_is_404)?;
    Ok(Json(UserResponse::from(&user)))
}

/// Activate or deactivate a user, or change their email. Nobody can deactivate
/// themself, nor the last active superuser. Needs `users.manage`, and (bounded
/// delegation) every permission the user holds; only a superuser changes a superuser.
#[utoipa::path(patch, path = "/api/users/{id}/", tag = "users", request_body = UpdateUserRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "No `users.manage`, or `permission_denied`: the user holds more than the caller", body = CodedDetail),
        (status = 404, body = Detail),
    ))]
pub async fn update_user(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    Body(body): Body<UpdateUserRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    // SECURITY: an administrator changing their own address is a user changing theirs:
    // the same proof of presence as `PATCH /api/me/` (a stolen token must not point the
    // account's password reset elsewhere through the admin door).
    if id == guard.id() && body.email.is_some() {
        app.presence.require(guard.id(), guard.auth.session_id(), body.proof.into_proof(), &client).await?;
    }
    let changes = UserChanges { email: body.email, is_active: body.is_active };
    let user = app
        .accounts
        .update_user(Actor::User(&guard.user), &id, changes, &client)
        .await
        .map_err(not_found_is_404)?;
    Ok(Json(UserResponse::from(&user)))
}

/// Replace a user's roles. Needs `users.manage`; the caller may add or remove only roles
/// whose permissions it holds itself, and only a superuser assigns roles to a superuser
/// (otherwise `403` with `code` `permission_denied`, audited).
#[utoipa::path(put, path = "/api/users/{id}/roles/", tag = "users", request_body = SetRolesRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, description = "Unknown role", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "No `users.manage`, or `permission_denied` (bounded delegation)", body = CodedDetail),
        (status = 404, body = Detail),
    ))]
pub async fn set_user_roles(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    Body(body): Body<SetRolesRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let audit = AuditMeta::actor(guard.id(), client);
    let user =
        app.roles.assign(Actor::User(&guard.user), &id, &body.roles, &audit).await.map_err(|e| match e {
            RoleError::NotFound => ApiError::NotFound,
            other => other.into(),
        })?;
    Ok(Json(UserResponse::from(&user)))
}

/// Remove every factor of a user (a lost device). Needs `users.manage` and, as for any
/// change to a user, every permission the user holds (only a superuser resets a
/// superuser).
#[utoipa::path(delete, path = "/api/users/{id}/mfa/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = CodedDetail),
        (status = 403, body = Detail),
        (status = 404, description = "No such user, or no factor to remove", body = Detail),
    ))]
pub async fn reset_user_mfa(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let audit = AuditMeta::actor(guard.id(), client);
    let target = app.accounts.user(&id).await.map_err(not_found_is_404)?;
    // SECURITY: removing a stronger account's factors is a step to taking it over.
    if let Err(Denial(reason)) = Actor::User(&guard.user).may_manage(&target) {
        record_denial(&app.store, Some(&id), "mfa_reset", &reason, app.clock.now(), &audit).await;
        return Err(ApiError::Denied(reason));
    }
    // One's own factors: only with a fresh proof (`/api/me/reauthenticate/` first).
    if id == guard.id() {
        app.presence
            .require(guard.id(), guard.auth.session_id(), PresenceProof::none(), &audit.client)
            .await?;
    }
    match app.mfa.reset(&id, &audit).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}
