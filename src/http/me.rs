//! The caller's own resources: the seed's protected resource, profile, password.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::errors::ApiError;
use super::extract::{AuthUser, Client, JsonObject};
use super::models::{rfc3339, BadRequestBody, CodedDetail, Detail, UserResponse};
use super::route;
use crate::accounts::{email_is_valid, EMAIL_INVALID, MAX_EMAIL_CHARS};
use crate::fields::FieldReader;
use crate::passwords::MAX_PASSWORD_CHARS;
use crate::presence::PresenceProof;
use crate::recovery::Notice;
use crate::secret::Secret;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    let r = Router::new();
    let r = route(r, "/protected-resource/", get(protected_resource));
    let r = route(r, "/api/me/", get(get_me).patch(update_me));
    let r = route(r, "/api/me/password/", post(change_password));
    let r = route(r, "/api/me/reauthenticate/", post(reauthenticate));
    let r = route(r, "/api/me/reauthenticate/passkey/", post(reauthenticate_passkey));
    let r = route(r, "/api/me/sessions/", get(list_sessions));
    let r = route(r, "/api/me/sessions/revoke-all/", post(revoke_all_sessions));
    route(r, "/api/me/sessions/{id}/", delete(revoke_session))
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    /// The session id: the `sid` claim of its tokens.
    pub id: String,
    /// RFC 3339.
    pub created: String,
    /// RFC 3339: the last login or refresh.
    pub last_used: String,
    pub user_agent: String,
    pub ip: String,
    /// Whether this is the session of the access token asking.
    pub current: bool,
}

/// The caller's active sessions (refresh-token families), most recently used first.
#[utoipa::path(get, path = "/api/me/sessions/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = CodedDetail)))]
pub async fn list_sessions(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = app.tokens.sessions(user.id()).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == user.session_id(),
                id: s.id,
                created: rfc3339(s.created_at),
                last_used: rfc3339(s.last_used_at),
                user_agent: s.user_agent,
                ip: s.ip,
            })
            .collect(),
    ))
}

/// Revoke one of the caller's sessions: its refresh tokens stop working.
#[utoipa::path(delete, path = "/api/me/sessions/{id}/", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "Session id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = CodedDetail), (status = 404, body = Detail)))]
pub async fn revoke_session(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if app.tokens.revoke_session(user.id(), &id, client).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Log out everywhere: every session of the caller, this one included.
#[utoipa::path(post, path = "/api/me/sessions/revoke-all/", tag = "me", security(("bearer" = [])),
    responses((status = 204, description = "All sessions revoked"), (status = 401, body = CodedDetail)))]
pub async fn revoke_all_sessions(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
) -> Result<StatusCode, ApiError> {
    app.tokens.revoke_all_sessions(user.id(), client).await?;
    Ok(StatusCode::NO_CONTENT)
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
    /// The only field a user may change here; `""` clears it. A change needs a proof of
    /// presence: `password` or `code` here, or a recent `/api/me/reauthenticate/`.
    email: Option<String>,
    /// The current password, as proof of presence.
    password: Option<String>,
    /// A TOTP or recovery code, as proof of presence.
    code: Option<String>,
}

/// A proof of presence: a passkey's `credential`; or the `password`, with a `code` when
/// the account has a second factor; or a `code` alone.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ProofRequest {
    /// The current password.
    password: Option<String>,
    /// A 6-digit code from the authenticator app, or a recovery code.
    code: Option<String>,
    /// A passkey's answer (`PublicKeyCredential.toJSON()`) to the options of
    /// `/api/me/reauthenticate/passkey/`.
    #[schema(value_type = Option<Object>)]
    credential: Option<serde_json::Value>,
}

/// Options for `navigator.credentials.get()` with the caller's passkeys: send the answer
/// to `/api/me/reauthenticate/` as `credential` within five minutes.
#[utoipa::path(post, path = "/api/me/reauthenticate/passkey/", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"publicKey\": {...}}`", body = Object),
        (status = 400, description = "No passkey registered, or passkeys are not available", body = Detail),
        (status = 401, body = CodedDetail),
    ))]
pub async fn reauthenticate_passkey(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(app.presence.passkey_options(user.id(), user.session_id()).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Reauthenticated {
    /// RFC 3339: until when this session may make sensitive changes without another proof.
    pub reauthenticated_until: String,
}

/// Longest code read as a proof.
const MAX_PROOF_CODE_CHARS: usize = 64;

/// The proof of presence a body carries: `password`, `code` (a TOTP or recovery code),
/// or a passkey's `credential`.
pub fn presence_proof(body: &JsonObject) -> Result<PresenceProof, ApiError> {
    let mut f = FieldReader::new(&body.0);
    let password = f.optional_untrimmed("password", MAX_PASSWORD_CHARS);
    let code = f.optional("code", MAX_PROOF_CODE_CHARS);
    f.finish().map_err(ApiError::Fields)?;
    let passkey = match body.0.get("credential") {
        None | Some(serde_json::Value::Null) => None,
        Some(c @ serde_json::Value::Object(_)) => Some(c.clone()),
        Some(_) => return Err(ApiError::field("credential", "Not a passkey answer.")),
    };
    Ok(PresenceProof { password: password.map(Secret::new), code, passkey })
}

/// Prove presence for this session: for `AUTHENTICON_REAUTH_WINDOW` (5 minutes) it may
/// change the email and the factors without sending a password with each request. A
/// wrong password counts as a failed login.
#[utoipa::path(post, path = "/api/me/reauthenticate/", tag = "me", request_body = ProofRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = Reauthenticated),
        (status = 400, description = "A wrong password (`{\"password\": [...]}`) or code (`{\"code\": [\"Invalid code.\"]}`), a password alone for an account with a second factor (`{\"code\": [...]}`), a passkey answer that does not verify, or nothing sent", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 429, description = "Too many wrong passwords or codes; see `Retry-After`", body = Detail),
    ))]
pub async fn reauthenticate(
    State(app): State<AppState>,
    user: AuthUser,
    Client(client): Client,
    body: JsonObject,
) -> Result<Json<Reauthenticated>, ApiError> {
    let proof = presence_proof(&body)?;
    if proof.password.is_none() && proof.code.is_none() && proof.passkey.is_none() {
        return Err(ApiError::field("password", crate::fields::REQUIRED));
    }
    let until = app.presence.reauthenticate(user.id(), user.session_id(), proof, &client).await?;
    Ok(Json(Reauthenticated { reauthenticated_until: rfc3339(until) }))
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    old_password: String,
    /// Checked by Django's four validators.
    new_password: String,
}

/// The seed's protected resource: any valid access token of an active user whose session
/// still stands. Stricter than simplejwt, on purpose: an access token of a revoked session
/// (logout, revoke, revoke-all, refresh-token reuse, password change or reset,
/// deactivation) is refused with `token_not_valid`, like every Bearer endpoint.
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
        None => std::sync::Arc::new(app.accounts.user(user.id()).await?),
    };
    Ok(Json(UserResponse::from(&*current)))
}

/// Change the current user's email. Other fields of the user object are read-only here
/// and ignored, as DRF ignores read-only fields.
#[utoipa::path(patch, path = "/api/me/", tag = "me", request_body = UpdateMeRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = UserResponse),
        (status = 400, description = "A bad email, or a wrong `password` or `code`", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 403, description = "`reauthentication_required`: an email change without a proof of presence", body = CodedDetail),
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
    let proof = presence_proof(&body)?;
    let updated = match email {
        Some(email) => {
            let before = app.accounts.user(user.id()).await?.user;
            if !email.is_empty() && !email_is_valid(&email) {
                return Err(ApiError::field("email", EMAIL_INVALID));
            }
            if before.email != email {
                // SECURITY: the address resets the password; a stolen access token alone
                // must not be able to point it elsewhere.
                app.presence.require(user.id(), user.session_id(), proof, &client).await?;
            }
            let updated = app.accounts.set_email(user.id(), &email, &client).await?;
            app.recovery.email_changed(&before, &updated.user, &client);
            updated
        }
        None => app.accounts.user(user.id()).await?,
    };
    Ok(Json(UserResponse::from(&updated)))
}

/// Change the current user's password; every other session of the user is revoked.
#[utoipa::path(post, path = "/api/me/password/", tag = "me", request_body = ChangePasswordRequest, security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong `old_password`, or `new_password` fails validation", body = BadRequestBody),
        (status = 401, body = CodedDetail),
        (status = 429, description = "Too many wrong passwords (counted with failed logins); see `Retry-After`", body = Detail),
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
    let changed = app
        .accounts
        .change_password(user.id(), user.session_id(), &Secret::new(old), &Secret::new(new), &client)
        .await?;
    app.recovery.notify(&changed, Notice::PasswordChanged, &client);
    Ok(StatusCode::NO_CONTENT)
}
