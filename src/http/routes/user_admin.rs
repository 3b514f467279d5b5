//! An administrator's work on one user beyond its fields (`/api/users/<id>/…`): sessions,
//! factors and lockouts, a reset link. Reading needs `users.view`; changing needs
//! `users.manage` and (bounded delegation) every permission the user holds.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::me::SessionView;
use crate::app::AppState;
use crate::auth::admin::LinkSent;
use crate::auth::mfa::passkeys::PasskeyInfo;
use crate::auth::presence::PresenceProof;
use crate::domain::rfc3339;
use crate::http::errors::ApiError;
use crate::http::extract::{Client, Require, UsersManage, UsersView};
use crate::http::models::{CodedDetail, Detail};
use crate::http::openapi::ApiRouter;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(send_reset_link))
        .routes(routes!(user_sessions))
        .routes(routes!(end_user_session))
        .routes(routes!(end_all_user_sessions))
        .routes(routes!(user_security))
        .routes(routes!(clear_lockouts))
        .routes(routes!(reset_user_mfa))
}

pub const RESET_LINK_SENT: &str = "A link to choose a new password was sent to the user's address.";
pub const INVITATION_SENT_AGAIN: &str =
    "The user has not chosen a password yet: a new invitation was sent to their address.";

#[derive(Serialize, ToSchema)]
pub struct SecurityResponse {
    /// A confirmed authenticator app.
    pub totp: bool,
    pub passkeys: Vec<PasskeyInfo>,
    pub recovery_codes_left: i64,
    /// RFC 3339: wrong codes lock the authenticator app until then; null when not locked.
    pub totp_locked_until: Option<String>,
    /// Failed logins counted against the username now, from any address.
    pub login_failures: u32,
    /// Whether that count stops the username's logins (`DELETE …/lockouts/` lifts it).
    pub login_locked: bool,
}

/// Mail the user a link to choose a new password (their address must be verified). A
/// user who has not chosen a password yet (invited) gets a new invitation instead, to
/// the address on file. Throttled like `/api/password-reset/`, per address and per email.
#[utoipa::path(post, path = "/api/users/{id}/password-reset/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 202, description = "The detail says whether a reset link or a new invitation went", body = Detail),
        (status = 400, description = "No verified address, or the user is inactive", body = Detail),
        (status = 429, body = Detail),
        (status = 401, body = CodedDetail), (status = 403, body = CodedDetail), (status = 404, body = Detail),
    ))]
pub async fn send_reset_link(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    guard.not_on_own_account(&id)?;
    let detail = match app.admin.send_reset_link(&guard.user, &id, &client).await? {
        LinkSent::Reset => RESET_LINK_SENT,
        LinkSent::Invitation => INVITATION_SENT_AGAIN,
    };
    Ok((StatusCode::ACCEPTED, Json(Detail { detail: detail.into() })))
}

/// The user's live sessions, most recently used first (`current` is always false).
#[utoipa::path(get, path = "/api/users/{id}/sessions/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = Vec<SessionView>),
        (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail),
    ))]
pub async fn user_sessions(
    _: Require<UsersView>,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = app.admin.sessions(&id).await?;
    Ok(Json(sessions.into_iter().map(|s| SessionView::new(s, "")).collect()))
}

/// End one of the user's sessions: its refresh and access tokens stop at once.
#[utoipa::path(delete, path = "/api/users/{id}/sessions/{session_id}/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id"), ("session_id" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, body = CodedDetail), (status = 403, body = CodedDetail), (status = 404, body = Detail),
    ))]
pub async fn end_user_session(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path((id, session_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    guard.not_on_own_account(&id)?;
    match app.admin.end_session(&guard.user, &id, &session_id, &client).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}

/// End every session of the user.
#[utoipa::path(post, path = "/api/users/{id}/sessions/revoke-all/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, body = CodedDetail), (status = 403, body = CodedDetail), (status = 404, body = Detail),
    ))]
pub async fn end_all_user_sessions(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    guard.not_on_own_account(&id)?;
    app.admin.end_all_sessions(&guard.user, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's factors and lockouts.
#[utoipa::path(get, path = "/api/users/{id}/security/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 200, body = SecurityResponse),
        (status = 401, body = CodedDetail), (status = 403, body = Detail), (status = 404, body = Detail),
    ))]
pub async fn user_security(
    _: Require<UsersView>,
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<SecurityResponse>, ApiError> {
    let s = app.admin.security(&id).await?;
    Ok(Json(SecurityResponse {
        totp: s.totp,
        passkeys: s.passkeys,
        recovery_codes_left: s.recovery_codes_left,
        totp_locked_until: s.totp_locked_until.map(rfc3339),
        login_failures: s.login_failures,
        login_locked: s.login_locked,
    }))
}

/// Lift the user's lockouts: the failed-login counts of their username (from every
/// address) and the authenticator app's lock. Audited as `lockout_cleared`.
#[utoipa::path(delete, path = "/api/users/{id}/lockouts/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Lifted"),
        (status = 401, body = CodedDetail), (status = 403, body = CodedDetail), (status = 404, body = Detail),
    ))]
pub async fn clear_lockouts(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    guard.not_on_own_account(&id)?;
    app.admin.clear_lockouts(&guard.user, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove every factor of a user (a lost device). Needs `users.manage` and, as for any
/// change to a user, every permission the user holds (only a superuser resets a
/// superuser). One's own factors need a fresh proof (`/api/me/reauthenticate/` first).
#[utoipa::path(delete, path = "/api/users/{id}/mfa/", tag = "users", security(("bearer" = [])),
    params(("id" = String, Path, description = "User id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = CodedDetail),
        (status = 403, body = CodedDetail),
        (status = 404, description = "No such user, or no factor to remove", body = Detail),
    ))]
pub async fn reset_user_mfa(
    guard: Require<UsersManage>,
    State(app): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id == guard.id() {
        app.presence.require(guard.id(), guard.auth.session_id()?, PresenceProof::none(), &client).await?;
    }
    match app.admin.reset_factors(&guard.user, &id, &client).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}
