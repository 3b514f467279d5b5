//! Roles (API.md "Roles and permissions"): `/api/roles/`, `/api/roles/<name>/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::ApiError;
use super::extract::{Client, JsonObject, Require, RolesManage, RolesView};
use super::models::{BadRequestBody, CodedDetail, Detail};
use super::route;
use crate::fields::FieldReader;
use crate::rbac::Actor;
use crate::state::AppState;
use crate::store::{AuditMeta, RoleRow};

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/roles/", get(list_roles).post(create_role));
    route(r, "/api/roles/{name}/", get(get_role).patch(update_role).delete(delete_role))
}

const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_PERMISSIONS: usize = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct RoleResponse {
    #[schema(example = "editor")]
    pub name: String,
    pub description: String,
    #[schema(example = json!(["articles.edit", "reports.view"]))]
    pub permissions: Vec<String>,
}

impl From<RoleRow> for RoleResponse {
    fn from(r: RoleRow) -> Self {
        Self { name: r.name, description: r.description, permissions: r.permissions }
    }
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CreateRoleRequest {
    /// `[a-z0-9_.-]{1,64}`, unique.
    name: String,
    description: Option<String>,
    /// Each `[a-z0-9_.:-]{1,100}`.
    permissions: Option<Vec<String>>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UpdateRoleRequest {
    description: Option<String>,
    /// Replaces the role's permissions. The built-in `admin` role keeps its built-in ones.
    permissions: Option<Vec<String>>,
}

/// Every role with its permissions. Needs `roles.view`.
#[utoipa::path(get, path = "/api/roles/", tag = "roles", security(("bearer" = [])),
    responses((status = 200, body = Vec<RoleResponse>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn list_roles(
    _: Require<RolesView>,
    State(app): State<AppState>,
) -> Result<Json<Vec<RoleResponse>>, ApiError> {
    Ok(Json(app.roles.list().await?.into_iter().map(RoleResponse::from).collect()))
}

/// Create a role. Needs `roles.manage`.
#[utoipa::path(post, path = "/api/roles/", tag = "roles", request_body = CreateRoleRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = RoleResponse),
        (status = 400, description = "Malformed or taken name, malformed permission", body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail),
    ))]
pub async fn create_role(
    guard: Require<RolesManage>,
    State(app): State<AppState>,
    Client(client): Client,
    body: JsonObject,
) -> Result<(StatusCode, Json<RoleResponse>), ApiError> {
    let mut f = FieldReader::new(&body.0);
    let name = f.required("name", true, 64);
    let description = f.optional("description", MAX_DESCRIPTION_CHARS).unwrap_or_default();
    let permissions = f.optional_list("permissions", MAX_PERMISSIONS, 100).unwrap_or_default();
    f.finish().map_err(ApiError::Fields)?;
    let role = app
        .roles
        .create(
            Actor::User(&guard.user),
            &name,
            &description,
            &permissions,
            &AuditMeta::actor(guard.id(), client),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(role.into())))
}

/// One role. Needs `roles.view`.
#[utoipa::path(get, path = "/api/roles/{name}/", tag = "roles", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses((status = 200, body = RoleResponse), (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn get_role(
    _: Require<RolesView>,
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<RoleResponse>, ApiError> {
    Ok(Json(app.roles.get(&name).await?.into()))
}

/// Change a role's description or replace its permissions. Needs `roles.manage`.
/// The change reaches holders' access tokens at their next refresh; guarded routes see
/// it at once.
#[utoipa::path(patch, path = "/api/roles/{name}/", tag = "roles", request_body = UpdateRoleRequest, security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses(
        (status = 200, body = RoleResponse),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail),
    ))]
pub async fn update_role(
    guard: Require<RolesManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(name): Path<String>,
    body: JsonObject,
) -> Result<Json<RoleResponse>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let description = f.optional("description", MAX_DESCRIPTION_CHARS);
    let permissions = f.optional_list("permissions", MAX_PERMISSIONS, 100);
    f.finish().map_err(ApiError::Fields)?;
    let audit = AuditMeta::actor(guard.id(), client);
    let actor = Actor::User(&guard.user);
    let role = app.roles.update(actor, &name, description.as_deref(), permissions.as_deref(), &audit).await?;
    Ok(Json(role.into()))
}

/// Delete a role (its holders lose it). The built-in `admin` role cannot be deleted.
/// Needs `roles.manage`.
#[utoipa::path(delete, path = "/api/roles/{name}/", tag = "roles", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "A built-in role", body = BadRequestBody),
        (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail),
    ))]
pub async fn delete_role(
    guard: Require<RolesManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    app.roles.delete(Actor::User(&guard.user), &name, &AuditMeta::actor(guard.id(), client)).await?;
    Ok(StatusCode::NO_CONTENT)
}
