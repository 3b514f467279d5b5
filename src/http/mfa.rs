//! Multi-factor authentication: enrolment, the second login step, recovery codes, and an
//! administrator's reset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::TokenPairResponse;
use super::errors::ApiError;
use super::extract::{AuthUser, Client, JsonObject, Require, UsersManage};
use super::models::{BadRequestBody, CodedDetail, Detail};
use super::route;
use crate::fields::FieldReader;
use crate::state::AppState;
use crate::store::{AuditMeta, UserWithRoles};

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/mfa/", get(mfa_status));
    let r = route(r, "/api/mfa/totp/", post(start_totp));
    let r = route(r, "/api/mfa/totp/confirm/", post(confirm_totp));
    let r = route(r, "/api/mfa/totp/disable/", post(disable_totp));
    let r = route(r, "/api/mfa/recovery-codes/", post(regenerate_recovery_codes));
    let r = route(r, "/api/token/mfa/", post(obtain_token_pair_mfa));
    route(r, "/api/users/{id}/mfa/", axum::routing::delete(reset_user_mfa))
}

/// Longest code or token read from a body.
const MAX_CODE_CHARS: usize = 64;
const MAX_MFA_TOKEN_CHARS: usize = 200;

#[derive(Serialize, ToSchema)]
pub struct MfaStatus {
    /// A confirmed TOTP factor: logins need a second step.
    pub totp: bool,
    pub recovery_codes_left: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32, for typing into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes, shown this once (only their hashes are kept).
    pub recovery_codes: Vec<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct CodeRequest {
    /// A 6-digit code from the authenticator app, or a recovery code.
    code: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MfaLoginRequest {
    /// From the `401 mfa_required` answer of the password step.
    mfa_token: String,
    /// A 6-digit code from the authenticator app, or a recovery code.
    code: String,
}

fn code_of(body: &JsonObject) -> Result<String, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let code = f.required("code", true, MAX_CODE_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    Ok(code)
}

/// Reads `{"mfa_token", "code"}` and checks them: the user whose login this completes.
pub async fn second_step(
    app: &AppState,
    body: &JsonObject,
    client: &crate::store::ClientInfo,
) -> Result<UserWithRoles, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let token = f.required("mfa_token", true, MAX_MFA_TOKEN_CHARS);
    let code = f.required("code", true, MAX_CODE_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    let user_id = app.mfa.complete(&token, &code, client).await?;
    let user = app.accounts.user(&user_id).await?;
    if !user.user.is_active {
        return Err(ApiError::NoActiveAccount);
    }
    Ok(user)
}

/// After a right password: when the user has a second factor, the login stops here with
/// `401 mfa_required` and a token for the second step.
pub async fn require_second_factor(app: &AppState, user: &UserWithRoles) -> Result<(), ApiError> {
    if app.mfa.enabled(&user.user.id).await? {
        return Err(ApiError::MfaRequired(app.mfa.challenge(&user.user.id).await?));
    }
    Ok(())
}

/// The current user's factors.
#[utoipa::path(get, path = "/api/mfa/", tag = "mfa", security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), (status = 401, body = CodedDetail)))]
pub async fn mfa_status(State(app): State<AppState>, user: AuthUser) -> Result<Json<MfaStatus>, ApiError> {
    let (totp, recovery_codes_left) = app.mfa.status(user.id()).await?;
    Ok(Json(MfaStatus { totp, recovery_codes_left }))
}

/// Start TOTP enrolment: a new secret, unconfirmed until `/api/mfa/totp/confirm/`.
#[utoipa::path(post, path = "/api/mfa/totp/", tag = "mfa", security(("bearer" = [])),
    responses(
        (status = 201, body = TotpEnrolment),
        (status = 400, description = "Already on", body = Detail),
        (status = 401, body = CodedDetail),
    ))]
pub async fn start_totp(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<(StatusCode, Json<TotpEnrolment>), ApiError> {
    let current = app.accounts.user(user.id()).await?.user;
    let e = app.mfa.start_enrolment(&current).await?;
    Ok((StatusCode::CREATED, Json(TotpEnrolment { secret: e.secret, otpauth_url: e.otpauth_url })))
}

/// Confirm TOTP with a first code. From now on logins need a second step. Answers the
/// recovery codes, once.
#[utoipa::path(post, path = "/api/mfa/totp/confirm/", tag = "mfa", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 400, description = "`{\"code\": [\"Invalid code.\"]}`, or no enrolment started", body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn confirm_totp(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let code = code_of(&body)?;
    let current = app.accounts.user(user.id()).await?.user;
    let recovery_codes = app.mfa.confirm(&current, &code, &client).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turn TOTP off (and drop the recovery codes); needs a current code.
#[utoipa::path(post, path = "/api/mfa/totp/disable/", tag = "mfa", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Off"),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 429, description = "Locked after five wrong codes; see `Retry-After`", body = Detail),
    ))]
pub async fn disable_totp(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<StatusCode, ApiError> {
    let code = code_of(&body)?;
    app.mfa.disable(user.id(), &code, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes (the old ones stop working); needs a current code.
#[utoipa::path(post, path = "/api/mfa/recovery-codes/", tag = "mfa", request_body = CodeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = RecoveryCodes),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 429, body = Detail),
    ))]
pub async fn regenerate_recovery_codes(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let code = code_of(&body)?;
    let recovery_codes = app.mfa.regenerate_codes(user.id(), &code, &client).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// The second login step: the `mfa_token` of a `401 mfa_required` answer and a code
/// (TOTP, good once; or a recovery code) give the token pair. Five wrong codes lock the
/// factor for a minute.
#[utoipa::path(post, path = "/api/token/mfa/", tag = "auth", request_body = MfaLoginRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, description = "`{\"code\": [\"Invalid code.\"]}`, or an expired or spent `mfa_token`", body = BadRequestBody),
        (status = 429, description = "Locked after five wrong codes; see `Retry-After`", body = Detail),
    ))]
pub async fn obtain_token_pair_mfa(
    State(app): State<AppState>,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let user = second_step(&app, &body, &client).await?;
    let pair = app.tokens.start_session(user, client).await?;
    Ok(Json(TokenPairResponse { access: pair.access, refresh: pair.refresh }))
}

/// Remove every factor of a user (a lost device). Needs `users.manage`.
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
    let audit = AuditMeta { actor_id: Some(guard.id().to_string()), client };
    match app.mfa.reset(&id, &audit).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}
