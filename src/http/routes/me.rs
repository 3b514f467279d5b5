//! The caller's own resources: the seed's protected resource, profile, password,
//! sessions, and re-authentication.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::auth::{PasskeyRequestOptions, MAX_CODE_CHARS, NOT_A_PASSKEY_ANSWER};
use crate::app::AppState;
use crate::auth::presence::PresenceProof;
use crate::crypto::passwords::MAX_PASSWORD_CHARS;
use crate::domain::{email_is_valid, rfc3339, Secret, EMAIL_INVALID, MAX_EMAIL_CHARS, REQUIRED};
use crate::http::body::{Body, FieldReader, ReadBody, Spaces};
use crate::http::errors::ApiError;
use crate::http::extract::{AuthUser, Client};
use crate::http::models::{BadRequestBody, CodedDetail, Detail, UserResponse};
use crate::http::openapi::ApiRouter;
use crate::store::SessionRow;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(routes!(protected_resource))
        .routes(routes!(get_me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(reauthenticate))
        .routes(routes!(reauthenticate_passkey))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_all_sessions))
        .routes(routes!(revoke_session))
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

impl SessionView {
    /// A session as shown to the caller whose own session is `current`.
    pub fn new(s: SessionRow, current: &str) -> Self {
        Self {
            current: s.id == current,
            id: s.id,
            created: rfc3339(s.created_at),
            last_used: rfc3339(s.last_used_at),
            user_agent: s.user_agent,
            ip: s.ip,
        }
    }
}

/// The caller's active sessions (refresh-token families), most recently used first.
#[utoipa::path(get, path = "/api/me/sessions/", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>), (status = 401, body = CodedDetail)))]
pub async fn list_sessions(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = app.tokens.sessions(user.id()).await?;
    // A personal access token belongs to no session: none is the current one.
    let current = user.claims().map(|c| c.sid.as_str()).unwrap_or_default();
    Ok(Json(sessions.into_iter().map(|s| SessionView::new(s, current)).collect()))
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
    // SECURITY: a stolen personal access token must not end its owner's sessions (and so
    // keep them from revoking it).
    user.session_id()?;
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
    user.session_id()?;
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

#[derive(ToSchema)]
pub struct UpdateMeRequest {
    /// The only field a user may change here; `""` clears it. A change needs a proof of
    /// presence: here, or a recent `/api/me/reauthenticate/`.
    email: Option<String>,
    // The proof of presence's fields, at the top level of the body.
    #[schema(inline)]
    #[serde(flatten)]
    proof: ProofRequest,
}

impl ReadBody for UpdateMeRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        let email = f.optional("email", Spaces::Trim, MAX_EMAIL_CHARS);
        // Checked here, before any proof is asked for: a typo is a 400, whatever else.
        if email.as_deref().is_some_and(|e| !e.is_empty() && !email_is_valid(e)) {
            f.errors.add("email", EMAIL_INVALID);
        }
        Self { email, proof: ProofRequest::read(f) }
    }
}

/// A proof of presence: a passkey's `credential`; or the `password`, with a `code` when
/// the account has a second factor; or a `code` alone.
#[derive(ToSchema)]
pub struct ProofRequest {
    /// The current password.
    #[schema(value_type = Option<String>)]
    password: Option<Secret>,
    /// A 6-digit code from the authenticator app, or a recovery code.
    code: Option<String>,
    /// A passkey's answer (`PublicKeyCredential.toJSON()`) to the options of
    /// `/api/me/reauthenticate/passkey/`.
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    credential: Option<serde_json::Value>,
}

impl ReadBody for ProofRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            password: f.optional("password", Spaces::Keep, MAX_PASSWORD_CHARS).map(Secret::new),
            code: f.optional("code", Spaces::Trim, MAX_CODE_CHARS),
            credential: f.optional_object("credential", NOT_A_PASSKEY_ANSWER),
        }
    }
}

impl ProofRequest {
    pub fn into_proof(self) -> PresenceProof {
        PresenceProof { password: self.password, code: self.code, passkey: self.credential }
    }
}

/// Options for `navigator.credentials.get()` with the caller's passkeys: send the answer
/// to `/api/me/reauthenticate/` as `credential` within five minutes.
#[utoipa::path(post, path = "/api/me/reauthenticate/passkey/", tag = "me", security(("bearer" = [])),
    responses(
        (status = 200, body = PasskeyRequestOptions),
        (status = 400, description = "No passkey registered, or passkeys are not available", body = Detail),
        (status = 401, body = CodedDetail),
    ))]
pub async fn reauthenticate_passkey(
    State(app): State<AppState>,
    user: AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(app.presence.passkey_options(user.id(), user.session_id()?).await?))
}

#[derive(Serialize, ToSchema)]
pub struct Reauthenticated {
    /// RFC 3339: until when this session may make sensitive changes without another proof.
    pub reauthenticated_until: String,
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
    Body(body): Body<ProofRequest>,
) -> Result<Json<Reauthenticated>, ApiError> {
    let proof = body.into_proof();
    if proof.password.is_none() && proof.code.is_none() && proof.passkey.is_none() {
        return Err(ApiError::field("password", REQUIRED));
    }
    let until = app.presence.reauthenticate(user.id(), user.session_id()?, proof, &client).await?;
    Ok(Json(Reauthenticated { reauthenticated_until: rfc3339(until) }))
}

#[derive(ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String)]
    old_password: Secret,
    /// Checked by Django's four validators.
    #[schema(value_type = String)]
    new_password: Secret,
}

impl ReadBody for ChangePasswordRequest {
    fn read(f: &mut FieldReader<'_>) -> Self {
        Self {
            old_password: Secret::new(f.required("old_password", Spaces::Keep, MAX_PASSWORD_CHARS)),
            new_password: Secret::new(f.required("new_password", Spaces::Keep, MAX_PASSWORD_CHARS)),
        }
    }
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
    let (username, roles) = match (&user.user, user.claims()) {
        (Some(u), _) => (u.user.username.clone(), u.roles.clone()),
        (None, Some(claims)) => {
            (claims.username.clone().unwrap_or_default(), claims.roles.clone().unwrap_or_default())
        }
        // A personal access token is never accepted without its user.
        (None, None) => Default::default(),
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
    Body(body): Body<UpdateMeRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let updated = match body.email {
        Some(email) => {
            let before = app.accounts.user(user.id()).await?.user;
            if before.email != email {
                // SECURITY: the address resets the password; a stolen access token alone
                // must not be able to point it elsewhere.
                app.presence.require(user.id(), user.session_id()?, body.proof.into_proof(), &client).await?;
            }
            app.accounts.set_email(user.id(), &email, &client).await?
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
    Body(body): Body<ChangePasswordRequest>,
) -> Result<StatusCode, ApiError> {
    app.accounts
        .change_password(user.id(), user.session_id()?, &body.old_password, &body.new_password, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
