//! User administration: `/api/users/`, `/api/users/<id>/`, `/api/users/<id>/roles/`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use axum::{Json, Router};
use utoipa::ToSchema;

use super::errors::ApiError;
use super::extract::{Client, JsonObject, Require, UsersManage, UsersView};
use super::models::{BadRequestBody, CodedDetail, Detail, UserResponse};
use super::pagination::{PageRequest, Paginated, QueryParams};
use super::route;
use crate::accounts::{AccountError, MAX_EMAIL_CHARS};
use crate::fields::FieldReader;
use crate::rbac::{Actor, RoleError};
use crate::state::AppState;
use crate::store::{AuditMeta, UserChanges};

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/users/", get(list_users));
    let r = route(r, "/api/users/{id}/", get(get_user).patch(update_user));
    route(r, "/api/users/{id}/roles/", put(set_user_roles))
}

/// Here an unknown id is a missing resource (404), not a bad token.
fn not_found_is_404(e: AccountError) -> ApiError {
    match e {
        AccountError::NotFound => ApiError::NotFound,
        other => other.into(),
    }
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UpdateUserRequest {
    /// `false` deactivates: every session of the user is revoked at once and their access
    /// tokens stop working (`user_inactive`).
    is_active: Option<bool>,
    email: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct SetRolesRequest {
    #[schema(example = json!(["editor"]))]
    roles: Vec<String>,
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
    body: JsonObject,
) -> Result<Json<UserResponse>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let is_active = f.optional_bool("is_active");
    let email = f.optional("email", MAX_EMAIL_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    let before = match email {
        Some(_) => Some(app.accounts.user(&id).await.map_err(not_found_is_404)?.user),
        None => None,
    };
    // SECURITY: an administrator changing their own address is a user changing theirs:
    // the same proof of presence as `PATCH /api/me/` (a stolen token must not point the
    // account's password reset elsewhere through the admin door).
    if id == guard.id() && email.is_some() {
        let proof = super::me::presence_proof(&body)?;
        app.presence.require(guard.id(), guard.auth.session_id(), proof, &client).await?;
    }
    let changes = UserChanges { email, is_active };
    let user = app
        .accounts
        .update_user(Actor::User(&guard.user), &id, changes, &client)
        .await
        .map_err(not_found_is_404)?;
    if let Some(before) = before {
        app.recovery.email_changed(&before, &user.user, &client);
    }
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
    body: JsonObject,
) -> Result<Json<UserResponse>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let roles = f.optional_list("roles", 200, 64);
    if roles.is_none() && !f.errors.has("roles") {
        f.errors.add("roles", crate::fields::REQUIRED);
    }
    f.finish().map_err(ApiError::Fields)?;
    let audit = AuditMeta::actor(guard.id(), client);
    let user =
        app.roles.assign(Actor::User(&guard.user), &id, &roles.unwrap_or_default(), &audit).await.map_err(
            |e| match e {
                RoleError::NotFound => ApiError::NotFound,
                other => other.into(),
            },
        )?;
    Ok(Json(UserResponse::from(&user)))
}
