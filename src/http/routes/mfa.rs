//! The caller's second factors (`/api/mfa/…`): TOTP enrolment, passkeys, recovery codes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::auth::{PasskeyAnswer, PasskeyOptions, MAX_CODE_CHARS};
use super::me::ProofRequest;
use crate::app::AppState;
use crate::auth::mfa::passkeys::{PasskeyInfo, MAX_NAME_CHARS};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{AuthUser, Client};
use crate::http::models::{BadRequestBody, CodedDetail, Detail};
use crate::http::openapi::ApiRouter;
use crate::notify::Notice;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(mfa_status))
        .routes(routes!(start_totp))
        .routes(routes!(confirm_totp))
        .routes(routes!(disable_totp))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(list_passkeys, start_passkey))
        .routes(routes!(confirm_passkey))
        .routes(routes!(remove_passkey))
}

#[derive(Serialize, ToSchema)]
pub struct MfaStatus {
    /// A confirmed TOTP factor: logins need a second step.
    pub totp: bool,
    /// Registered passkeys: with one, logins need a second step too.
    pub passkeys: usize,
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

#[derive(ToSchema)]
pub struct CodeRequest {
    /// A 6-digit code from the authenticator app, or a recovery code.
    code: String,
}

impl ReadBody for CodeRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { code: f.required("code", Spaces::Trim, MAX_CODE_CHARS) }
    }
}

/// The new passkey's name, and a proof of presence (`password`, `code` or `credential`)
/// unless the session re-authenticated within `AUTHENTICON_REAUTH_WINDOW`.
#[derive(ToSchema)]
pub struct PasskeyNameRequest {
    /// What the owner calls it ("Laptop", "YubiKey"); at most 64 characters.
    name: String,
    // The proof of presence's fields, at the top level of the body.
    #[schema(inline)]
    #[serde(flatten)]
    proof: ProofRequest,
}

impl ReadBody for PasskeyNameRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { name: f.required("name", Spaces::Trim, MAX_NAME_CHARS), proof: ProofRequest::read(f) }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyRegistered {
    pub passkey: PasskeyInfo,
    /// The first factor brings ten single-use recovery codes, shown this once; empty
    /// when the account had a factor already.
    pub recovery_codes: Vec<String>,
}

/// The current user's factors.
#[utoipa::path(get, path = "/api/mfa/", tag = "mfa", security(("bearer" = [])),
    responses((status = 200, body = MfaStatus), (status = 401, body = CodedDetail)))]
pub async fn mfa_status(State(app): State<AppState>, user: AuthUser) -> Result<Json<MfaStatus>, ApiError> {
    let s = app.mfa.status(user.id()).await?;
    Ok(Json(MfaStatus { totp: s.totp, passkeys: s.passkeys, recovery_codes_left: s.recovery_codes_left }))
}

/// The current user's passkeys.
#[utoipa::path(get, path = "/api/mfa/passkeys/", tag = "mfa", security(("bearer" = [])),
    responses((status = 200, body = Vec<PasskeyInfo>), (status = 401, body = CodedDetail)))]
pub async fn list_passkeys(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<PasskeyInfo>>, ApiError> {
    Ok(Json(app.mfa.passkeys.list(user.id()).await?))
}

/// Start registering a passkey: options for `navigator.credentials.create()`. The
/// answer goes to `/api/mfa/passkeys/confirm/` within five minutes.
#[utoipa::path(post, path = "/api/mfa/passkeys/", tag = "mfa", request_body = PasskeyNameRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = PasskeyOptions),
        (status = 400, description = "A bad name, a wrong `password` or `code`, or passkeys are not available (the public URL names no domain)", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`", body = CodedDetail),
    ))]
pub async fn start_passkey(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Body(body): Body<PasskeyNameRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // SECURITY: a passkey logs in alone; a stolen access token must not add one.
    app.presence.require(user.id(), user.session_id()?, body.proof.into_proof(), &client).await?;
    let current = app.accounts.user(user.id()).await?.user;
    Ok(Json(app.mfa.passkeys.start_registration(&current, &body.name).await?))
}

/// Finish registering a passkey with the browser's answer. From now on logins need a
/// second step (the passkey, or another factor), and the passkey can log in alone.
#[utoipa::path(post, path = "/api/mfa/passkeys/confirm/", tag = "mfa", request_body = PasskeyAnswer, security(("bearer" = [])),
    responses(
        (status = 201, body = PasskeyRegistered),
        (status = 400, description = "An expired or unknown `ceremony`, or an answer that does not verify", body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn confirm_passkey(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Body(body): Body<PasskeyAnswer>,
) -> Result<(StatusCode, Json<PasskeyRegistered>), ApiError> {
    // Factors are changed by a person at a keyboard: never through a personal access token.
    user.session_id()?;
    let (passkey, recovery_codes) =
        app.mfa.add_passkey(user.id(), &body.ceremony, body.credential, &client).await?;
    let owner = app.accounts.user(user.id()).await?.user;
    app.notices.notify(&owner, Notice::FactorAdded { factor: "A passkey" }, &client);
    Ok((StatusCode::CREATED, Json(PasskeyRegistered { passkey, recovery_codes })))
}

/// Remove one of the current user's passkeys. It takes a proof of presence (the
/// password or a code in the body, or a recent re-authentication), so an access token
/// alone (a stolen one, say) cannot take a second factor away; turning the
/// authenticator app off likewise takes a code.
#[utoipa::path(delete, path = "/api/mfa/passkeys/{id}/", tag = "mfa", request_body = ProofRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "Passkey id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "`{\"password\": [\"Your password was entered incorrectly. Please enter it again.\"]}`", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`", body = CodedDetail),
        (status = 404, body = Detail),
        (status = 429, description = "Too many wrong passwords (counted with failed logins); see `Retry-After`", body = Detail),
    ))]
pub async fn remove_passkey(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Path(id): Path<String>,
    Body(proof): Body<ProofRequest>,
) -> Result<StatusCode, ApiError> {
    app.presence.require(user.id(), user.session_id()?, proof.into_proof(), &client).await?;
    match app.mfa.passkeys.remove(user.id(), &id, &client).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}

/// Start TOTP enrolment: a new secret, unconfirmed until `/api/mfa/totp/confirm/`.
/// Takes a proof of presence: `password` in the body, or a recent re-authentication.
#[utoipa::path(post, path = "/api/mfa/totp/", tag = "mfa", request_body = ProofRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = TotpEnrolment),
        (status = 400, description = "Already on, or a wrong `password`", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`", body = CodedDetail),
    ))]
pub async fn start_totp(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Body(proof): Body<ProofRequest>,
) -> Result<(StatusCode, Json<TotpEnrolment>), ApiError> {
    if app.mfa.status(user.id()).await?.totp {
        return Err(ApiError::BadRequest("An authenticator app is already on."));
    }
    // SECURITY: a factor enrolled with a stolen token would lock the owner out of their
    // own password logins.
    app.presence.require(user.id(), user.session_id()?, proof.into_proof(), &client).await?;
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
    Body(body): Body<CodeRequest>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    // Factors are changed by a person at a keyboard: never through a personal access token.
    user.session_id()?;
    let current = app.accounts.user(user.id()).await?.user;
    let recovery_codes = app.mfa.confirm(&current, &body.code, &client).await?;
    app.notices.notify(&current, Notice::FactorAdded { factor: "An authenticator app" }, &client);
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
    Body(body): Body<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    // Factors are changed by a person at a keyboard: never through a personal access token.
    user.session_id()?;
    app.mfa.disable(user.id(), &body.code, &client).await?;
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
    Body(body): Body<CodeRequest>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    // Factors are changed by a person at a keyboard: never through a personal access token.
    user.session_id()?;
    let recovery_codes = app.mfa.regenerate_codes(user.id(), &body.code, &client).await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}
