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
use crate::http::extract::{Client, PermissionsView, Require, RolesManage, RolesView};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::http::pagination::QueryParams;
use crate::store::{AuditMeta, RoleRow};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(get_role, update_role, delete_role))
        .routes(routes!(list_permissions))
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
    /// How many users hold it; only with `?holders=true` (API.md's role object has no such
    /// field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holders: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PermissionsResponse {
    /// The permissions the service itself checks.
    pub builtin: Vec<String>,
    /// Every permission some role holds.
    pub in_use: Vec<String>,
}

/// The permissions to pick from when editing a role: the built-in ones and those in use
/// (any other that follows the rule `[a-z0-9_.:-]{1,100}` may be typed). Needs
/// `roles.view` or `clients.manage`.
#[utoipa::path(get, path = "/api/permissions/", tag = "roles", security(("bearer" = [])),
    responses((status = 200, body = PermissionsResponse), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn list_permissions(
    _: Require<PermissionsView>,
    State(app): State<AppState>,
) -> Result<Json<PermissionsResponse>, ApiError> {
    let (builtin, in_use) = app.roles.permissions().await?;
    Ok(Json(PermissionsResponse { builtin, in_use }))
}

impl From<RoleRow> for RoleResponse {
    fn from(r: RoleRow) -> Self {
        Self { name: r.name, description: r.description, permissions: r.permissions, holders: None }
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

/// Whether `?holders=true` asks for each role's holder count.
fn with_holders(params: &QueryParams) -> bool {
    params.get("holders").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn role_response(r: RoleRow, holders: bool) -> RoleResponse {
    let count = r.holders;
    RoleResponse { holders: holders.then_some(count), ..r.into() }
}

/// Every role with its permissions (and, with `?holders=true`, how many users hold each).
/// Needs `roles.view`.
#[utoipa::path(get, path = "/api/roles/", tag = "roles", security(("bearer" = [])),
    params(("holders" = Option<bool>, Query, description = "Add each role's `holders` count")),
    responses((status = 200, body = Vec<RoleResponse>), (status = 401, body = CodedDetail), (status = 403, body = Detail)))]
pub async fn list_roles(
    _: Require<RolesView>,
    State(app): State<AppState>,
    params: QueryParams,
) -> Result<Json<Vec<RoleResponse>>, ApiError> {
    let holders = with_holders(&params);
    Ok(Json(app.roles.list().await?.into_iter().map(|r| role_response(r, holders)).collect()))
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

/// One role (with `?holders=true`, how many users hold it). Needs `roles.view`.
#[utoipa::path(get, path = "/api/roles/{name}/", tag = "roles", security(("bearer" = [])),
    params(("name" = String, Path, description = "Role name"),
           ("holders" = Option<bool>, Query, description = "Add the role's `holders` count")),
    responses((status = 200, body = RoleResponse), (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail)))]
pub async fn get_role(
    _: Require<RolesView>,
    State(app): State<AppState>,
    Path(name): Path<String>,
    params: QueryParams,
) -> Result<Json<RoleResponse>, ApiError> {
    Ok(Json(role_response(app.roles.get(&name).await?, with_holders(&params))))
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
