//! User administration: `/api/users/`, `/api/users/<id>/`, `/api/users/<id>/roles/`.

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::me::ProofRequest;
use crate::app::AppState;
use crate::auth::accounts::AccountError;
use crate::auth::admin::NewAccount;
use crate::auth::rbac::{Actor, RoleError};
use crate::crypto::passwords::MAX_PASSWORD_CHARS;
use crate::domain::{FieldErrors, Secret, MAX_EMAIL_CHARS, MAX_USERNAME_CHARS};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Require, UsersManage, UsersView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail, UserResponse};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::{PageRequest, Paginated, QueryParams};
use crate::store::{AuditMeta, UserChanges};
use crate::store::{UserFilter, UserOrdering};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(set_user_roles))
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

/// The list's filters, read from the query string (DRF's `BooleanFilter` spellings).
fn user_filter(params: &QueryParams) -> Result<UserFilter, ApiError> {
    let mut errors = FieldErrors::default();
    let mut flag = |name: &str| match params.get(name) {
        None => None,
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => {
                errors.add(name, "Must be a valid boolean.");
                None
            }
        },
    };
    let is_active = flag("is_active");
    let is_superuser = flag("is_superuser");
    let has_2fa = flag("has_2fa");
    let email_verified = flag("email_verified");
    let ordering = match params.get("ordering") {
        None => UserOrdering::default(),
        Some(name) => UserOrdering::parse(name).unwrap_or_else(|| {
            errors.add(
                "ordering",
                format!("Select a valid choice. {name} is not one of the available choices."),
            );
            UserOrdering::default()
        }),
    };
    errors.into_result().map_err(ApiError::Fields)?;
    Ok(UserFilter {
        search: params.get("search").unwrap_or("").to_string(),
        is_active,
        is_superuser,
        role: params.get("role").map(str::to_string),
        has_2fa,
        email_verified,
        ordering,
    })
}

/// Users, 20 a page, by username unless `ordering` says otherwise. `search` matches
/// username or email, case-insensitively; the other filters narrow it. Needs `users.view`.
#[utoipa::path(get, path = "/api/users/", tag = "users", security(("bearer" = [])),
    params(
        ("search" = Option<String>, Query, description = "Part of a username or email"),
        ("is_active" = Option<bool>, Query), ("is_superuser" = Option<bool>, Query),
        ("role" = Option<String>, Query, description = "Holds this role"),
        ("has_2fa" = Option<bool>, Query, description = "Has a confirmed authenticator app or a passkey"),
        ("email_verified" = Option<bool>, Query),
        ("ordering" = Option<String>, Query, description = "`username`, `email`, `date_joined` or `last_login`; a leading `-` reverses"),
        ("page" = Option<i64>, Query, description = "1-based page number"),
        ("page_size" = Option<i64>, Query, description = "Results a page (default 20, at most 100)"),
    ),
    responses(
        (status = 200, body = Paginated<UserResponse>),
        (status = 400, description = "A filter that is not a boolean, an unknown ordering", body = BadRequestBody),
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
    let found = app.accounts.list_users(user_filter(&params)?, page.offset(), page.size).await?;
    let results = found.rows.iter().map(UserResponse::from).collect();
    Ok(Json(Paginated::new(page, found.count, results, &uri, &headers)?))
}

#[derive(ToSchema)]
pub struct CreateUserRequest {
    #[schema(example = "bob")]
    username: String,
    #[schema(example = "bob@example.com")]
    email: Option<String>,
    /// Checked by Django's validators. Leave it out to let the user choose one through
    /// the invitation.
    #[schema(value_type = Option<String>)]
    password: Option<Secret>,
    /// Roles to give, each within what the caller holds.
    roles: Option<Vec<String>>,
    /// Mail the user a link that sets the password (valid `AUTHENTICON_INVITATION_TIMEOUT`).
    send_invitation: Option<bool>,
}

impl ReadBody for CreateUserRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            username: f.required("username", Spaces::Trim, MAX_USERNAME_CHARS),
            email: f.optional("email", Spaces::Trim, MAX_EMAIL_CHARS),
            password: f.optional("password", Spaces::Keep, MAX_PASSWORD_CHARS).map(Secret::new),
            roles: f.optional_list("roles", 200, 64),
            send_invitation: f.optional_bool("send_invitation"),
        }
    }
}

/// Create a user, with a password or an invitation mail that lets them choose one, and
/// roles the caller may give. Needs `users.manage`.
#[utoipa::path(post, path = "/api/users/", tag = "users", request_body = CreateUserRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = UserResponse),
        (status = 400, description = "Field errors: the username, the password's validators, an unknown role or one that changed meanwhile, no password and no invitation, or both", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "No `users.manage`, or `permission_denied`: a role whose permissions the caller does not hold", body = CodedDetail),
        (status = 429, description = "An invitation to an address mailed too often; see `Retry-After`", body = Detail),
    ))]
pub async fn create_user(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<CreateUserRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let new = NewAccount {
        username: body.username,
        email: body.email.unwrap_or_default(),
        password: body.password,
        roles: body.roles.unwrap_or_default(),
        invite: body.send_invitation.unwrap_or(false),
    };
    let user = app.admin.create_user(&guard.user, new, &client).await?;
    Ok((StatusCode::CREATED, Json(UserResponse::from(&user))))
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
    guard.not_on_own_account(&id)?;
    // SECURITY: an administrator changing their own address is a user changing theirs:
    // the same proof of presence as `PATCH /api/me/` (a stolen token must not point the
    // account's password reset elsewhere through the admin door).
    if id == guard.id() && body.email.is_some() {
        app.presence.require(guard.id(), guard.auth.session_id()?, body.proof.into_proof(), &client).await?;
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
    guard.not_on_own_account(&id)?;
    let audit = AuditMeta::actor(guard.id(), client);
    let user =
        app.roles.assign(Actor::User(&guard.user), &id, &body.roles, &audit).await.map_err(|e| match e {
            RoleError::NotFound => ApiError::NotFound,
            other => other.into(),
        })?;
    Ok(Json(UserResponse::from(&user)))
}
