//! Roles (API.md "Roles and permissions"): `/api/roles/`, `/api/roles/<name>/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::rbac::Actor;
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Require, RolesManage, RolesView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::store::{AuditMeta, RoleRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new().routes(routes!(list_roles, create_role)).routes(routes!(
        get_role,
        update_role,
        delete_role
    ))
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

#[derive(ToSchema)]
pub struct CreateRoleRequest {
    /// `[a-z0-9_.-]{1,64}`, unique.
    name: String,
    description: Option<String>,
    /// Each `[a-z0-9_.:-]{1,100}`.
    permissions: Option<Vec<String>>,
}

impl ReadBody for CreateRoleRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            name: f.required("name", Spaces::Trim, 64),
            description: f.optional("description", Spaces::Trim, MAX_DESCRIPTION_CHARS),
            permissions: f.optional_list("permissions", MAX_PERMISSIONS, 100),
        }
    }
}

#[derive(ToSchema)]
pub struct UpdateRoleRequest {
    description: Option<String>,
    /// Replaces the role's permissions. The built-in `admin` role keeps its built-in ones.
    permissions: Option<Vec<String>>,
}

impl ReadBody for UpdateRoleRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            description: f.optional("description", Spaces::Trim, MAX_DESCRIPTION_CHARS),
            permissions: f.optional_list("permissions", MAX_PERMISSIONS, 100),
        }
    }
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
    Body(body): Body<CreateRoleRequest>,
) -> Result<(StatusCode, Json<RoleResponse>), ApiError> {
    let description = body.description.unwrap_or_default();
    let permissions = body.permissions.unwrap_or_default();
    let audit = AuditMeta::actor(guard.id(), client);
    let role =
        app.roles.create(Actor::User(&guard.user), &body.name, &description, &permissions, &audit).await?;
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
    Body(body): Body<UpdateRoleRequest>,
) -> Result<Json<RoleResponse>, ApiError> {
    let audit = AuditMeta::actor(guard.id(), client);
    let actor = Actor::User(&guard.user);
    let (description, permissions) = (body.description.as_deref(), body.permissions.as_deref());
    let role = app.roles.update(actor, &name, description, permissions, &audit).await?;
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
