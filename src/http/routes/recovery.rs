//! Password reset and email verification by mailed link.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::crypto::passwords::MAX_PASSWORD_CHARS;
use crate::domain::{Secret, MAX_EMAIL_CHARS};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{AuthUser, Client};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(request_password_reset))
        .routes(routes!(check_reset_link))
        .routes(routes!(confirm_password_reset))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

/// Longest token accepted in a body: real ones are 76 characters.
const MAX_TOKEN_CHARS: usize = 200;

pub const RESET_REQUESTED: &str =
    "If an account with this email address exists, we have sent it a link to reset the password.";
pub const RESET_DONE: &str = "Password has been reset with the new password.";
pub const EMAIL_VERIFIED: &str = "Email address verified.";
pub const LINK_VALID: &str = "This link is valid.";
pub const VERIFICATION_SENT: &str = "Verification mail sent.";

#[derive(ToSchema)]
pub struct PasswordResetRequest {
    #[schema(example = "alice@example.com")]
    email: String,
}

impl ReadBody for PasswordResetRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { email: f.required("email", Spaces::Trim, MAX_EMAIL_CHARS) }
    }
}

#[derive(ToSchema)]
pub struct PasswordResetConfirmRequest {
    /// The `token` parameter of the mailed link.
    token: String,
    /// Checked by Django's four validators against the account's username and email.
    #[schema(value_type = String)]
    new_password: Secret,
}

impl ReadBody for PasswordResetConfirmRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            token: f.required("token", Spaces::Trim, MAX_TOKEN_CHARS),
            new_password: Secret::new(f.required("new_password", Spaces::Keep, MAX_PASSWORD_CHARS)),
        }
    }
}

#[derive(ToSchema)]
pub struct VerifyEmailRequest {
    /// The `token` parameter of the mailed link.
    token: String,
}

impl ReadBody for VerifyEmailRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { token: f.required("token", Spaces::Trim, MAX_TOKEN_CHARS) }
    }
}

fn detail(message: &str) -> Json<Detail> {
    Json(Detail { detail: message.to_string() })
}

/// Ask for a password-reset link. The answer is always `202` with the same body, known
/// address or not, and takes the same time (mail goes out in the background); every
/// active account with this address gets a link valid for
/// `AUTHENTICON_PASSWORD_RESET_TIMEOUT` (30 minutes). Throttled per client address and
/// per email address.
#[utoipa::path(post, path = "/api/password-reset/", tag = "recovery", request_body = PasswordResetRequest,
    responses(
        (status = 202, body = Detail),
        (status = 400, description = "`email` missing or not a string", body = BadRequestBody),
        (status = 429, description = "Too many requests from this address or for this email; see `Retry-After`", body = Detail),
    ))]
pub async fn request_password_reset(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<PasswordResetRequest>,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    app.recovery.request_reset(&body.email, &client).await?;
    Ok((StatusCode::ACCEPTED, detail(RESET_REQUESTED)))
}

/// Whether a reset or invitation link still works (unspent, unexpired, its account
/// active), without spending it: for a page that asks before showing its form.
#[utoipa::path(post, path = "/api/password-reset/check/", tag = "recovery", request_body = VerifyEmailRequest,
    responses(
        (status = 200, body = Detail),
        (status = 400, description = "`{\"token\": [\"This link is invalid or has expired.\"]}`", body = BadRequestBody),
    ))]
pub async fn check_reset_link(
    State(app): State<AppState>,
    Body(body): Body<VerifyEmailRequest>,
) -> Result<Json<Detail>, ApiError> {
    app.recovery.check_link(&body.token).await?;
    Ok(detail(LINK_VALID))
}

/// Set a new password with a mailed link's token. Every session of the account is
/// revoked and the link (with any other reset link of the account) is spent.
#[utoipa::path(post, path = "/api/password-reset/confirm/", tag = "recovery", request_body = PasswordResetConfirmRequest,
    responses(
        (status = 200, body = Detail),
        (status = 400, description = "`{\"token\": [\"This link is invalid or has expired.\"]}` (unknown, spent, expired), or `new_password` failing validation", body = BadRequestBody),
    ))]
pub async fn confirm_password_reset(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<PasswordResetConfirmRequest>,
) -> Result<Json<Detail>, ApiError> {
    app.recovery.confirm_reset(&body.token, &body.new_password, &client).await?;
    Ok(detail(RESET_DONE))
}

/// Verify an email address with a mailed link's token (sent on registration and on every
/// email change). The user object's `email_verified` becomes `true`.
#[utoipa::path(post, path = "/api/email/verify/", tag = "recovery", request_body = VerifyEmailRequest,
    responses(
        (status = 200, body = Detail),
        (status = 400, description = "`{\"token\": [\"This link is invalid or has expired.\"]}`: unknown, spent, expired, or for an address the account no longer has", body = BadRequestBody),
    ))]
pub async fn verify_email(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<VerifyEmailRequest>,
) -> Result<Json<Detail>, ApiError> {
    app.recovery.verify_email(&body.token, &client).await?;
    Ok(detail(EMAIL_VERIFIED))
}

/// Send the current user a new verification link. Throttled like password-reset
/// requests.
#[utoipa::path(post, path = "/api/email/verify/resend/", tag = "recovery", security(("bearer" = [])),
    responses(
        (status = 202, body = Detail),
        (status = 400, description = "`{\"detail\": ...}`: no email address, or already verified", body = Detail),
        (status = 401, body = CodedDetail),
        (status = 429, body = Detail),
    ))]
pub async fn resend_verification(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    let current = app.accounts.user(user.id()).await?.user;
    if current.email.is_empty() {
        return Err(ApiError::BadRequest("Your account has no email address."));
    }
    if current.email_verified {
        return Err(ApiError::BadRequest("Your email address is already verified."));
    }
    app.recovery.resend_verification(&current, &client).await?;
    Ok((StatusCode::ACCEPTED, detail(VERIFICATION_SENT)))
}
