//! Registration and the simplejwt token endpoints (API.md "Tokens"), with the second
//! login step and the passwordless passkey login that end in the same token pair.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::accounts::Registration;
use crate::auth::login::{LoginOutcome, Proven};
use crate::auth::mfa::Proof;
use crate::crypto::passwords::MAX_PASSWORD_CHARS;
use crate::domain::{ClientInfo, Secret, MAX_EMAIL_CHARS, MAX_USERNAME_CHARS};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::Client;
use crate::http::models::{BadRequestBody, CodedDetail, Detail, Empty, UserResponse};
use crate::http::openapi::ApiRouter;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(obtain_token_pair))
        .routes(routes!(refresh_token))
        .routes(routes!(verify_token))
        .routes(routes!(blacklist_token))
        .routes(routes!(obtain_token_pair_mfa))
        .routes(routes!(mfa_passkey_options))
        .routes(routes!(passkey_login_options))
        .routes(routes!(obtain_token_pair_passkey))
}

#[derive(ToSchema)]
pub struct RegisterRequest {
    /// 1–150 letters, digits and `@ . + - _`; NFKC-normalized, unique case-insensitively.
    #[schema(example = "alice")]
    username: String,
    /// Checked by Django's four validators; at most 4096 characters.
    #[schema(example = "a long passphrase", value_type = String)]
    password: Secret,
    #[schema(example = "alice@example.com")]
    email: Option<String>,
}

impl ReadBody for RegisterRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            username: f.required("username", Spaces::Trim, MAX_USERNAME_CHARS),
            password: Secret::new(f.required("password", Spaces::Keep, MAX_PASSWORD_CHARS)),
            email: f.optional("email", Spaces::Trim, MAX_EMAIL_CHARS),
        }
    }
}

/// Username and password.
#[derive(ToSchema)]
pub struct TokenObtainRequest {
    #[schema(example = "alice")]
    pub username: String,
    #[schema(example = "a long passphrase", value_type = String)]
    pub password: Secret,
}

impl ReadBody for TokenObtainRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            username: f.required("username", Spaces::Trim, MAX_USERNAME_CHARS),
            password: Secret::new(f.required("password", Spaces::Keep, MAX_PASSWORD_CHARS)),
        }
    }
}

#[derive(ToSchema)]
pub struct RefreshRequest {
    refresh: String,
}

impl ReadBody for RefreshRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { refresh: f.required("refresh", Spaces::Trim, usize::MAX) }
    }
}

#[derive(ToSchema)]
pub struct VerifyRequest {
    token: String,
}

impl ReadBody for VerifyRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { token: f.required("token", Spaces::Trim, usize::MAX) }
    }
}

/// Longest code or token read from a body.
pub const MAX_CODE_CHARS: usize = 64;
const MAX_MFA_TOKEN_CHARS: usize = 200;
const MAX_CEREMONY_CHARS: usize = 64;
pub const NOT_A_PASSKEY_ANSWER: &str = "Not a passkey answer.";

#[derive(ToSchema)]
pub struct MfaLoginRequest {
    /// From the `401 mfa_required` answer of the password step.
    mfa_token: String,
    /// A 6-digit code from the authenticator app, or a recovery code. Either this or
    /// `credential`.
    code: Option<String>,
    /// A passkey's answer (`PublicKeyCredential.toJSON()`) to the options of
    /// `/api/token/mfa/passkey/`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    credential: Option<serde_json::Value>,
}

impl ReadBody for MfaLoginRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        let mfa_token = f.required("mfa_token", Spaces::Trim, MAX_MFA_TOKEN_CHARS);
        // A passkey's answer when one is given, else a code.
        if f.has_object("credential") {
            let credential = f.optional_object("credential", NOT_A_PASSKEY_ANSWER);
            return Self { mfa_token, code: None, credential };
        }
        let code = f.required("code", Spaces::Trim, MAX_CODE_CHARS);
        Self { mfa_token, code: Some(code), credential: None }
    }
}

impl MfaLoginRequest {
    /// The login's token, and what proves the second factor.
    pub fn into_parts(self) -> (String, Proof) {
        let proof = match (self.credential, self.code) {
            (Some(answer), _) => Proof::Passkey(answer),
            (None, code) => Proof::Code(code.unwrap_or_default()),
        };
        (self.mfa_token, proof)
    }
}

#[derive(ToSchema)]
pub struct MfaTokenRequest {
    /// From the `401 mfa_required` answer of the password step.
    mfa_token: String,
}

impl ReadBody for MfaTokenRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self { mfa_token: f.required("mfa_token", Spaces::Trim, MAX_MFA_TOKEN_CHARS) }
    }
}

/// A passkey's answer to the options of a ceremony.
#[derive(ToSchema)]
pub struct PasskeyAnswer {
    /// The `ceremony` of the options answered.
    pub ceremony: String,
    /// `PublicKeyCredential.toJSON()` of what the browser returned.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    pub credential: serde_json::Value,
}

impl ReadBody for PasskeyAnswer {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            ceremony: f.required("ceremony", Spaces::Trim, MAX_CEREMONY_CHARS),
            credential: f.required_object("credential", NOT_A_PASSKEY_ANSWER),
        }
    }
}

/// Options for `navigator.credentials.get()` of a step that already knows its ceremony
/// (the second login step, a re-authentication): WebAuthn's `publicKey` in its JSON form.
#[derive(Serialize, ToSchema)]
pub struct PasskeyRequestOptions {
    #[serde(rename = "publicKey")]
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    public_key: serde_json::Value,
}

/// Options for `navigator.credentials.create()` or `.get()`: WebAuthn's `publicKey` in
/// its JSON form (binary fields base64url), and the ceremony id to name in the answer.
#[derive(Serialize, ToSchema)]
pub struct PasskeyOptions {
    ceremony: String,
    #[serde(rename = "publicKey")]
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    public_key: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPairResponse {
    pub access: String,
    pub refresh: String,
}

/// A new session for a user who passed every login step: the token pair.
async fn issue_pair(
    app: &AppState,
    proven: Proven,
    client: ClientInfo,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let pair = app.tokens.start_session(proven.user, proven.amr, client).await?;
    Ok(Json(TokenPairResponse { access: pair.access, refresh: pair.refresh }))
}

/// The user a finished login step names; a second factor still to come is the
/// `401 mfa_required` answer.
pub fn logged_in(outcome: LoginOutcome) -> Result<Proven, ApiError> {
    match outcome {
        LoginOutcome::Done(user) => Ok(user),
        LoginOutcome::SecondFactor { mfa_token, methods } => {
            Err(ApiError::MfaRequired { token: mfa_token, methods })
        }
    }
}

/// Create an account.
#[utoipa::path(post, path = "/register/", tag = "auth", request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new user", body = UserResponse),
        (status = 400, description = "Field errors (Django's password validators among them)", body = BadRequestBody),
        (status = 403, description = "Registration is switched off", body = Detail),
        (status = 429, description = "Too many registrations from this address; see `Retry-After`", body = Detail),
        (status = 413, body = Detail), (status = 415, body = Detail),
    ))]
pub async fn register(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<RegisterRequest>,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let registration = Registration {
        username: body.username,
        email: body.email.unwrap_or_default(),
        password: Some(body.password),
        is_superuser: false,
        roles: Default::default(),
    };
    let user = app.accounts.register(registration, &client).await?;
    Ok((StatusCode::CREATED, Json(UserResponse::from(&user))))
}

/// Log in: an access/refresh pair for a username and password (simplejwt's
/// `TokenObtainPairView`). Starts a new session.
#[utoipa::path(post, path = "/api/token/", tag = "auth", request_body = TokenObtainRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, description = "Missing or malformed fields", body = BadRequestBody),
        (status = 401, description = "`No active account found with the given credentials`, for a wrong username, wrong password or inactive user alike; or, with the right password while `AUTHENTICON_REQUIRE_VERIFIED_EMAIL` is on and the address unverified, code `email_not_verified`; or, for a user with a second factor, code `mfa_required` with an `mfa_token` for `/api/token/mfa/`", body = CodedDetail),
        (status = 429, description = "Too many failed logins (per username and address, per username, per address, in 15-minute sliding windows); see `Retry-After`", body = Detail),
    ))]
pub async fn obtain_token_pair(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<TokenObtainRequest>,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let user = logged_in(app.login.password(&body.username, &body.password, &client).await?)?;
    issue_pair(&app, user, client).await
}

/// Rotate a refresh token: it is spent and a new pair returned. Presenting a spent token
/// again revokes its whole family.
#[utoipa::path(post, path = "/api/token/refresh/", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPairResponse),
        (status = 400, body = BadRequestBody),
        (status = 401, description = "`token_not_valid` (bad, expired, spent or revoked), or `No active account found for the given token.`", body = CodedDetail),
    ))]
pub async fn refresh_token(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<RefreshRequest>,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let pair = app.tokens.refresh(&body.refresh, client).await?;
    Ok(Json(TokenPairResponse { access: pair.access, refresh: pair.refresh }))
}

/// Check a token of either type: `{}` when valid. An access token of a revoked session,
/// a deactivated user or from before a password change is refused, as on a protected
/// route.
#[utoipa::path(post, path = "/api/token/verify/", tag = "auth", request_body = VerifyRequest,
    responses(
        (status = 200, body = Empty),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn verify_token(
    State(app): State<AppState>,
    Body(body): Body<VerifyRequest>,
) -> Result<Json<Empty>, ApiError> {
    app.tokens.verify(&body.token).await?;
    Ok(Json(Empty {}))
}

/// Log out: revoke a refresh token and its whole family.
#[utoipa::path(post, path = "/api/token/blacklist/", tag = "auth", request_body = RefreshRequest,
    responses(
        (status = 200, body = Empty),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn blacklist_token(
    State(app): State<AppState>,
    Client(client): Client,
    Body(body): Body<RefreshRequest>,
) -> Result<Json<Empty>, ApiError> {
    app.tokens.blacklist(&body.refresh, client).await?;
    Ok(Json(Empty {}))
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
    Body(body): Body<MfaLoginRequest>,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let (mfa_token, proof) = body.into_parts();
    let user = app.login.second_factor(&mfa_token, proof, &client).await?;
    issue_pair(&app, user, client).await
}

/// Options for the second login step with a passkey: `navigator.credentials.get()`
/// with the user's passkeys. Send the answer to `/api/token/mfa/` (or
/// `/api/session/mfa/`) as `credential`, with the same `mfa_token`.
#[utoipa::path(post, path = "/api/token/mfa/passkey/", tag = "auth", request_body = MfaTokenRequest,
    responses(
        (status = 200, body = PasskeyRequestOptions),
        (status = 400, description = "An expired or spent `mfa_token`, or no passkey registered", body = BadRequestBody),
    ))]
pub async fn mfa_passkey_options(
    State(app): State<AppState>,
    Body(body): Body<MfaTokenRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(app.mfa.passkey_challenge(&body.mfa_token).await?))
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
    Body(body): Body<PasskeyAnswer>,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let user = app.login.passkey(&body.ceremony, body.credential, &client).await?;
    issue_pair(&app, user, client).await
}
