//! The caller's own resources: the seed's protected resource, profile, password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::ApiError;
use super::extract::{AuthUser, Client, JsonObject};
use super::models::{CodedDetail, Detail, FieldErrorsBody, UserResponse};
use super::route;
use crate::accounts::MAX_EMAIL_CHARS;
use crate::fields::FieldReader;
use crate::passwords::MAX_PASSWORD_CHARS;
use crate::secret::Secret;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/protected-resource/", get(protected_resource));
    let r = route(r, "/api/me/", get(get_me).patch(update_me));
    route(r, "/api/me/password/", post(change_password))
}

#[derive(Serialize, ToSchema)]
pub struct ProtectedUser {
    pub id: String,
    pub username: String,
    pub roles: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProtectedResourceResponse {
    #[schema(example = "Hello, alice! You have accessed a protected resource.")]
    pub message: String,
    pub user: ProtectedUser,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct UpdateMeRequest {
    /// The only field a user may change here; `""` clears it.
    email: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    old_password: String,
    /// Checked by Django's four validators.
    new_password: String,
}

/// The seed's protected resource: any valid access token of an active user.
#[utoipa::path(get, path = "/protected-resource/", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = ProtectedResourceResponse),
        (status = 401, description = "No credentials (`detail` only), or `token_not_valid` with `messages`, `user_inactive`, `user_not_found`", body = CodedDetail),
    ))]
pub async fn protected_resource(user: AuthUser) -> Json<ProtectedResourceResponse> {
    // Current values when the store answered; the token's own claims when it is down.
    let (username, roles) = match &user.user {
        Some(u) => (u.user.username.clone(), u.roles.clone()),
        None => {
            (user.claims.username.clone().unwrap_or_default(), user.claims.roles.clone().unwrap_or_default())
        }
    };
    Json(ProtectedResourceResponse {
        message: format!("Hello, {username}! You have accessed a protected resource."),
        user: ProtectedUser { id: user.id().to_string(), username, roles },
    })
}

/// The current user.
#[utoipa::path(get, path = "/api/me/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserResponse), (status = 401, body = CodedDetail)))]
pub async fn get_me(State(app): State<AppState>, user: AuthUser) -> Result<Json<UserResponse>, ApiError> {
    let current = match user.user {
        Some(u) => u,
        None => app.accounts.user(user.id()).await?,
    };
    Ok(Json(UserResponse::from(&current)))
}

/// Change the current user's email. Other fields of the user object are read-only here
/// and ignored, as DRF ignores read-only fields.
#[utoipa::path(patch, path = "/api/me/", tag = "me", request_body = UpdateMeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, body = FieldErrorsBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn update_me(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<UserResponse>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let email = f.optional("email", MAX_EMAIL_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    let updated = match email {
        Some(email) => app.accounts.set_email(user.id(), &email, &client).await?,
        None => app.accounts.user(user.id()).await?,
    };
    Ok(Json(UserResponse::from(&updated)))
}

/// Change the current user's password; every other session of the user is revoked.
#[utoipa::path(post, path = "/api/me/password/", tag = "me", request_body = ChangePasswordRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong `old_password`, or `new_password` fails validation", body = FieldErrorsBody),
        (status = 401, body = CodedDetail),
        (status = 503, body = Detail),
    ))]
pub async fn change_password(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<StatusCode, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let old = f.required("old_password", false, MAX_PASSWORD_CHARS);
    let new = f.required("new_password", false, MAX_PASSWORD_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    app.accounts
        .change_password(user.id(), user.session_id(), &Secret::new(old), &Secret::new(new), &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
