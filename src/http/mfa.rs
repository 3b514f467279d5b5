//! Multi-factor authentication: TOTP and passkey enrolment, the second login step,
//! passwordless passkey login, recovery codes, and an administrator's reset.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::{issue_pair, TokenPairResponse};
use super::errors::ApiError;
use super::extract::{AuthUser, Client, JsonObject, Require, UsersManage};
use super::me::presence_proof;
use super::models::{BadRequestBody, CodedDetail, Detail};
use super::route;
use crate::fields::{FieldErrors, FieldReader};
use crate::mfa::Proof;
use crate::passkeys::{PasskeyInfo, MAX_NAME_CHARS};
use crate::rbac::{record_denial, Actor};
use crate::recovery::Notice;
use crate::state::AppState;
use crate::store::{AuditMeta, ClientInfo, UserWithRoles};

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/api/mfa/", get(mfa_status));
    let r = route(r, "/api/mfa/totp/", post(start_totp));
    let r = route(r, "/api/mfa/totp/confirm/", post(confirm_totp));
    let r = route(r, "/api/mfa/totp/disable/", post(disable_totp));
    let r = route(r, "/api/mfa/recovery-codes/", post(regenerate_recovery_codes));
    let r = route(r, "/api/mfa/passkeys/", get(list_passkeys).post(start_passkey));
    let r = route(r, "/api/mfa/passkeys/confirm/", post(confirm_passkey));
    let r = route(r, "/api/mfa/passkeys/{id}/", axum::routing::delete(remove_passkey));
    let r = route(r, "/api/token/mfa/", post(obtain_token_pair_mfa));
    let r = route(r, "/api/token/mfa/passkey/", post(mfa_passkey_options));
    let r = route(r, "/api/passkeys/login/", post(passkey_login_options));
    let r = route(r, "/api/token/passkey/", post(obtain_token_pair_passkey));
    route(r, "/api/users/{id}/mfa/", axum::routing::delete(reset_user_mfa))
}

/// Longest code or token read from a body.
const MAX_CODE_CHARS: usize = 64;
const MAX_MFA_TOKEN_CHARS: usize = 200;

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
    /// A 6-digit code from the authenticator app, or a recovery code. Either this or
    /// `credential`.
    code: Option<String>,
    /// A passkey's answer (`PublicKeyCredential.toJSON()`) to the options of
    /// `/api/token/mfa/passkey/`.
    #[schema(value_type = Option<Object>)]
    credential: Option<serde_json::Value>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct MfaTokenRequest {
    /// From the `401 mfa_required` answer of the password step.
    mfa_token: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PasskeyNameRequest {
    /// What the owner calls it ("Laptop", "YubiKey"); at most 64 characters.
    name: String,
    /// Proof of presence: the password (or `code`), unless the session re-authenticated
    /// within `AUTHENTICON_REAUTH_WINDOW`.
    password: Option<String>,
    code: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PasskeyAnswer {
    /// The `ceremony` of the options answered.
    ceremony: String,
    /// `PublicKeyCredential.toJSON()` of what the browser returned.
    #[schema(value_type = Object)]
    credential: serde_json::Value,
}

/// Options for `navigator.credentials.create()` or `.get()`: WebAuthn's
/// `publicKey` in its JSON form (binary fields base64url), and the ceremony id to name
/// in the answer.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct PasskeyOptions {
    ceremony: String,
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    public_key: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyRegistered {
    pub passkey: PasskeyInfo,
    /// The first factor brings ten single-use recovery codes, shown this once; empty
    /// when the account had a factor already.
    pub recovery_codes: Vec<String>,
}

/// Longest answer read from a body (an attestation is a few kilobytes).
const MAX_CEREMONY_CHARS: usize = 64;

/// Reads `{"ceremony", "credential"}`.
fn passkey_answer(body: &JsonObject) -> Result<(String, serde_json::Value), ApiError> {
    let mut f = FieldReader::new(&body.0);
    let ceremony = f.required("ceremony", true, MAX_CEREMONY_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    match body.0.get("credential") {
        Some(c @ serde_json::Value::Object(_)) => Ok((ceremony, c.clone())),
        Some(_) => Err(ApiError::Fields(FieldErrors::one("credential", "Not a passkey answer."))),
        None => Err(ApiError::Fields(FieldErrors::one("credential", "This field is required."))),
    }
}

fn code_of(body: &JsonObject) -> Result<String, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let code = f.required("code", true, MAX_CODE_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    Ok(code)
}

/// Reads `{"mfa_token", "code"}` or `{"mfa_token", "credential"}` and checks them: the
/// user whose login this completes.
pub async fn second_step(
    app: &AppState,
    body: &JsonObject,
    client: &ClientInfo,
) -> Result<UserWithRoles, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let token = f.required("mfa_token", true, MAX_MFA_TOKEN_CHARS);
    let proof = match body.0.get("credential") {
        Some(serde_json::Value::Object(_)) => Proof::Passkey(body.0["credential"].clone()),
        _ => Proof::Code(f.required("code", true, MAX_CODE_CHARS)),
    };
    f.finish().map_err(ApiError::Fields)?;
    let user_id = app.mfa.complete(&token, proof, client).await?;
    active_user(app, &user_id).await
}

async fn active_user(app: &AppState, user_id: &str) -> Result<UserWithRoles, ApiError> {
    let user = app.accounts.user(user_id).await?;
    if !user.user.is_active {
        return Err(ApiError::NoActiveAccount);
    }
    Ok(user)
}

/// Reads `{"ceremony", "credential"}` of a passwordless login: the user whose passkey
/// signed.
pub async fn passkey_step(
    app: &AppState,
    body: &JsonObject,
    client: &ClientInfo,
) -> Result<UserWithRoles, ApiError> {
    let (ceremony, answer) = passkey_answer(body)?;
    let user_id = app.mfa.passkeys.finish_login(&ceremony, answer, client).await?;
    let user = active_user(app, &user_id).await?;
    // The same rule as a password login: a passkey is no proof of the address.
    if app.config.require_verified_email && !user.user.email_verified {
        return Err(ApiError::EmailNotVerified);
    }
    Ok(user)
}

/// After a right password: when the user has a second factor, the login stops here with
/// `401 mfa_required` and a token for the second step.
pub async fn require_second_factor(app: &AppState, user: &UserWithRoles) -> Result<(), ApiError> {
    let status = app.mfa.status(&user.user.id).await?;
    if status.enabled() {
        let token = app.mfa.challenge(&user.user.id).await?;
        return Err(ApiError::MfaRequired { token, methods: status.methods() });
    }
    Ok(())
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
    body: JsonObject,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let name = f.required("name", true, MAX_NAME_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    // SECURITY: a passkey logs in alone; a stolen access token must not add one.
    app.presence.require(user.id(), user.session_id(), presence_proof(&body)?, &client).await?;
    let current = app.accounts.user(user.id()).await?.user;
    Ok(Json(app.mfa.passkeys.start_registration(&current, &name).await?))
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
    body: JsonObject,
) -> Result<(StatusCode, Json<PasskeyRegistered>), ApiError> {
    let (ceremony, answer) = passkey_answer(&body)?;
    let (passkey, recovery_codes) = app.mfa.add_passkey(user.id(), &ceremony, answer, &client).await?;
    let owner = app.accounts.user(user.id()).await?.user;
    app.recovery.notify(&owner, Notice::FactorAdded { factor: "A passkey" }, &client);
    Ok((StatusCode::CREATED, Json(PasskeyRegistered { passkey, recovery_codes })))
}

/// Remove one of the current user's passkeys. It takes a proof of presence (the
/// password or a code in the body, or a recent re-authentication), so an access token
/// alone (a stolen one, say) cannot take a second factor away; turning the
/// authenticator app off likewise takes a code.
#[utoipa::path(delete, path = "/api/mfa/passkeys/{id}/", tag = "mfa", request_body = super::me::ProofRequest, security(("bearer" = [])),
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
    body: JsonObject,
) -> Result<StatusCode, ApiError> {
    app.presence.require(user.id(), user.session_id(), presence_proof(&body)?, &client).await?;
    match app.mfa.passkeys.remove(user.id(), &id, &client).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}

/// Options for the second login step with a passkey: `navigator.credentials.get()`
/// with the user's passkeys. Send the answer to `/api/token/mfa/` (or
/// `/api/session/mfa/`) as `credential`, with the same `mfa_token`.
#[utoipa::path(post, path = "/api/token/mfa/passkey/", tag = "auth", request_body = MfaTokenRequest,
    responses(
        (status = 200, description = "`{\"publicKey\": {...}}`", body = Object),
        (status = 400, description = "An expired or spent `mfa_token`, or no passkey registered", body = BadRequestBody),
    ))]
pub async fn mfa_passkey_options(
    State(app): State<AppState>,
    body: JsonObject,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let token = f.required("mfa_token", true, MAX_MFA_TOKEN_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    Ok(Json(app.mfa.passkey_challenge(&token).await?))
}

/// Options for a login without a password: `navigator.credentials.get()` for any
/// passkey of this site. Send the answer to `/api/token/passkey/` (or
/// `/api/session/passkey/`).
#[utoipa::path(post, path = "/api/passkeys/login/", tag = "auth",
    responses(
        (status = 200, body = PasskeyOptions),
        (status = 400, description = "Passkeys are not available (the public URL names no domain)", body = Detail),
        (status = 429, description = "Too many passkey logins started from this address; see `Retry-After`", body = Detail),
    ))]
pub async fn passkey_login_options(
    State(app): State<AppState>,
    Client(client): Client,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(app.mfa.passkeys.start_login(&client).await?))
}

/// Log in with a passkey alone: the answer to `/api/passkeys/login/` gives the token
/// pair. A passkey verifies its user (PIN or biometrics), so it is both factors.
#[utoipa::path(post, path = "/api/token/passkey/", tag = "auth", request_body = PasskeyAnswer,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, description = "An expired or spent `ceremony`, an unknown passkey, or an answer that does not verify", body = BadRequestBody),
        (status = 401, description = "The passkey's user is inactive", body = CodedDetail),
    ))]
pub async fn obtain_token_pair_passkey(
    State(app): State<AppState>,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let user = passkey_step(&app, &body, &client).await?;
    issue_pair(&app, user, client).await
}

/// Start TOTP enrolment: a new secret, unconfirmed until `/api/mfa/totp/confirm/`.
/// Takes a proof of presence: `password` in the body, or a recent re-authentication.
#[utoipa::path(post, path = "/api/mfa/totp/", tag = "mfa", request_body = super::me::ProofRequest, security(("bearer" = [])),
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
    body: JsonObject,
) -> Result<(StatusCode, Json<TotpEnrolment>), ApiError> {
    if app.mfa.status(user.id()).await?.totp {
        return Err(ApiError::BadRequest("An authenticator app is already on.".into()));
    }
    // SECURITY: a factor enrolled with a stolen token would lock the owner out of their
    // own password logins.
    app.presence.require(user.id(), user.session_id(), presence_proof(&body)?, &client).await?;
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
    app.recovery.notify(&current, Notice::FactorAdded { factor: "An authenticator app" }, &client);
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
/// (TOTP, good once; or a recovery code) or a passkey's answer give the token pair. Five
/// wrong codes lock the factor for a minute.
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
    issue_pair(&app, user, client).await
}

/// Remove every factor of a user (a lost device). Needs `users.manage` and, as for any
/// change to a user, every permission the user holds (only a superuser resets a
/// superuser).
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
    let target = app.accounts.user(&id).await.map_err(|e| match e {
        crate::accounts::AccountError::NotFound => ApiError::NotFound,
        other => other.into(),
    })?;
    // SECURITY: removing a stronger account's factors is a step to taking it over.
    if let Err(reason) = Actor::User(&guard.user).may_manage(&target) {
        record_denial(&*app.store, Some(&id), "mfa_reset", &reason, &audit).await;
        return Err(ApiError::Denied(reason));
    }
    // One's own factors: only with a fresh proof (`/api/me/reauthenticate/` first).
    if id == guard.id() {
        let none = crate::presence::PresenceProof::none();
        app.presence.require(guard.id(), guard.auth.session_id(), none, &audit.client).await?;
    }
    match app.mfa.reset(&id, &audit).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::NotFound),
    }
}
