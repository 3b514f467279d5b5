//! Registration and the simplejwt token endpoints (API.md "Tokens").

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::ApiError;
use super::extract::{Client, JsonObject};
use super::models::{BadRequestBody, CodedDetail, Detail, Empty, UserResponse};
use super::route;
use crate::accounts::{Registration, MAX_EMAIL_CHARS, MAX_USERNAME_CHARS};
use crate::fields::FieldReader;
use crate::passwords::MAX_PASSWORD_CHARS;
use crate::secret::Secret;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/register/", post(register));
    let r = route(r, "/api/token/", post(obtain_token_pair));
    let r = route(r, "/api/token/refresh/", post(refresh_token));
    let r = route(r, "/api/token/verify/", post(verify_token));
    route(r, "/api/token/blacklist/", post(blacklist_token))
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RegisterRequest {
    /// 1–150 letters, digits and `@ . + - _`; NFKC-normalized, unique case-insensitively.
    #[schema(example = "alice")]
    username: String,
    /// Checked by Django's four validators; at most 4096 characters.
    #[schema(example = "a long passphrase")]
    password: String,
    #[schema(example = "alice@example.com")]
    email: Option<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
/// Username and password.
pub struct TokenObtainRequest {
    #[schema(example = "alice")]
    username: String,
    #[schema(example = "a long passphrase")]
    password: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RefreshRequest {
    refresh: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct VerifyRequest {
    token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenPairResponse {
    pub access: String,
    pub refresh: String,
}

/// A new session for a user who passed every login step: the token pair.
pub async fn issue_pair(
    app: &AppState,
    user: crate::store::UserWithRoles,
    client: crate::store::ClientInfo,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let pair = app.tokens.start_session(user, client).await?;
    Ok(Json(TokenPairResponse { access: pair.access, refresh: pair.refresh }))
}

/// Reads `{"username", "password"}` with DRF's field messages.
pub fn credentials(body: &JsonObject) -> Result<(String, Secret), ApiError> {
    let mut f = FieldReader::new(&body.0);
    let username = f.required("username", true, MAX_USERNAME_CHARS);
    let password = f.required("password", false, MAX_PASSWORD_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    Ok((username, Secret::new(password)))
}

fn required_token(body: &JsonObject, field: &str) -> Result<String, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let token = f.required(field, true, usize::MAX);
    f.finish().map_err(ApiError::Fields)?;
    Ok(token)
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
    body: JsonObject,
) -> Result<(StatusCode, Json<UserResponse>), ApiError> {
    let mut f = FieldReader::new(&body.0);
    let username = f.required("username", true, MAX_USERNAME_CHARS);
    let password = f.required("password", false, MAX_PASSWORD_CHARS);
    let email = f.optional("email", MAX_EMAIL_CHARS).unwrap_or_default();
    f.finish().map_err(ApiError::Fields)?;
    let user = app
        .accounts
        .register(
            Registration { username, email, password: Secret::new(password), is_superuser: false },
            &client,
        )
        .await?;
    app.recovery.send_verification(&user.user, &client);
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
    body: JsonObject,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let (username, password) = credentials(&body)?;
    let user = app.accounts.login(&username, &password, &client).await?;
    super::mfa::require_second_factor(&app, &user).await?;
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
    body: JsonObject,
) -> Result<Json<TokenPairResponse>, ApiError> {
    let refresh = required_token(&body, "refresh")?;
    let pair = app.tokens.refresh(&refresh, client).await?;
    Ok(Json(TokenPairResponse { access: pair.access, refresh: pair.refresh }))
}

/// Check a token of either type: `{}` when valid.
#[utoipa::path(post, path = "/api/token/verify/", tag = "auth", request_body = VerifyRequest,
    responses(
        (status = 200, body = Empty),
        (status = 400, body = BadRequestBody),
        (status = 401, body = CodedDetail),
    ))]
pub async fn verify_token(State(app): State<AppState>, body: JsonObject) -> Result<Json<Empty>, ApiError> {
    let token = required_token(&body, "token")?;
    let claims = app.tokens.verify(&token).await?;
    // SECURITY: an access token of a revoked session, a deactivated user or from before a
    // password change verifies no more here than on a protected route: services that ask
    // this endpoint see revocation too (API.md "Trust rules").
    if claims.token_type == crate::tokens::TokenType::Access {
        let user = match app.accounts.user_for_token(&claims.user_id).await {
            Ok(user) => user,
            Err(crate::accounts::AccountError::NotFound) => return Err(ApiError::TokenNotValid),
            Err(e) => return Err(e.into()),
        };
        if let Some(user) = user {
            let stale = (claims.iat as i64) < user.user.password_changed_at;
            if !user.user.is_active || stale {
                return Err(ApiError::TokenNotValid);
            }
            if app.accounts.session_is_live(&claims.user_id, &claims.sid).await? == Some(false) {
                return Err(ApiError::TokenNotValid);
            }
        }
    }
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
    body: JsonObject,
) -> Result<Json<Empty>, ApiError> {
    let refresh = required_token(&body, "refresh")?;
    app.tokens.blacklist(&refresh, client).await?;
    Ok(Json(Empty {}))
}
