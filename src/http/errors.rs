//! `ApiError`: the one place errors become HTTP responses, in DRF's JSON shapes
//! (API.md "General rules"). Internal faults are logged here and never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::auth::accounts::AccountError;
use crate::auth::admin::AdminError;
use crate::auth::audit::AuditError;
use crate::auth::login::LoginError;
use crate::auth::mfa::MfaError;
use crate::auth::presence::PresenceError;
use crate::auth::rbac::RoleError;
use crate::auth::recovery::RecoveryError;
use crate::crypto::passwords::HashError;
use crate::domain::FieldErrors;
use crate::oauth::ClientError;
use crate::store::StoreError;
use crate::tokens::{AccessError, TokenError};

pub const TOKEN_NOT_VALID: &str = "Token is invalid or expired";
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"api\"";
pub const REAUTHENTICATION_REQUIRED: &str =
    "Confirm it is you: send your password (or a code) with this request, or re-authenticate first.";

mod faults;
mod services;

pub use faults::{UnloggedFault, HOT_READ};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("field errors")]
    Fields(FieldErrors),
    /// `400 {"detail": ...}`: a rule about the whole request; always a fixed message,
    /// so no fault's text can reach a client through it.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    #[error("unsupported media type")]
    UnsupportedMediaType(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("not authenticated")]
    NotAuthenticated,
    /// On the token endpoints (simplejwt's `InvalidToken`).
    #[error("token not valid")]
    TokenNotValid,
    /// On protected resources: simplejwt's authentication error, with `messages`.
    #[error("access token not valid")]
    AccessTokenNotValid,
    #[error("user inactive")]
    UserInactive,
    #[error("user not found")]
    UserNotFound,
    /// Login with wrong username, wrong password or an inactive account.
    #[error("no active account")]
    NoActiveAccount,
    /// Right password, but `AUTHENTICON_REQUIRE_VERIFIED_EMAIL` is on and the address
    /// is not verified yet.
    #[error("email not verified")]
    EmailNotVerified,
    /// Right password; now the second factor, with this token, by one of these methods.
    #[error("second factor required")]
    MfaRequired { token: String, methods: Vec<&'static str> },
    /// Refresh for a user deactivated or deleted since.
    #[error("no active account for token")]
    NoActiveAccountForToken,
    #[error("forbidden")]
    Forbidden,
    /// Bounded delegation refused the change: `403` with why, `code` `permission_denied`.
    #[error("denied: {0}")]
    Denied(String),
    /// A sensitive change without a fresh proof of presence (API.md "Trust rules").
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// The user holds a role that requires a second factor, and has none yet.
    #[error("second factor enrolment required")]
    MfaEnrollmentRequired,
    #[error("not found")]
    NotFound,
    /// 404 with its own message (`Invalid page.`).
    #[error("not found: {0}")]
    NotFoundDetail(String),
    #[error("method not allowed")]
    MethodNotAllowed(String),
    /// Too many attempts: wait this many seconds.
    #[error("throttled")]
    Throttled(u64),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// An external identity provider could not be reached or answered nonsense.
    #[error("identity provider unavailable")]
    ProviderUnavailable,
    /// A refusal with a fixed message and a machine-readable `code`.
    #[error("{code}: {message}")]
    Coded { status: StatusCode, code: &'static str, message: &'static str },
    /// The whole request took longer than the configured limit.
    #[error("request timed out")]
    Timeout,
    /// A fault of ours: `500 {"detail": "A server error occurred."}`; the error and its
    /// sources are logged, never shown.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// A personal access token where only a signed-in session will do.
    pub const PERSONAL_TOKEN_NOT_ALLOWED: ApiError = ApiError::Coded {
        status: StatusCode::FORBIDDEN,
        code: "personal_token_not_allowed",
        message: "A personal access token cannot do this: sign in and use your session.",
    };

    pub fn field(name: &str, message: &str) -> Self {
        ApiError::Fields(FieldErrors::one(name, message))
    }

    /// A fault of ours, keeping the error (and its sources) for the log.
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    fn status_and_body(&self) -> (StatusCode, Value) {
        let detail = |s: &str| json!({ "detail": s });
        match self {
            ApiError::Fields(errors) => (StatusCode::BAD_REQUEST, json!(errors.0)),
            ApiError::BadRequest(message) => (StatusCode::BAD_REQUEST, detail(message)),
            ApiError::JsonParse(reason) => {
                (StatusCode::BAD_REQUEST, detail(&format!("JSON parse error - {reason}")))
            }
            ApiError::UnsupportedMediaType(t) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                detail(&format!("Unsupported media type \"{t}\" in request.")),
            ),
            ApiError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, detail("Request body is too large."))
            }
            ApiError::NotAuthenticated => (StatusCode::UNAUTHORIZED, detail(NOT_AUTHENTICATED)),
            ApiError::TokenNotValid => {
                (StatusCode::UNAUTHORIZED, json!({ "detail": TOKEN_NOT_VALID, "code": "token_not_valid" }))
            }
            ApiError::AccessTokenNotValid => (
                StatusCode::UNAUTHORIZED,
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{
                        "token_class": "AccessToken",
                        "token_type": "access",
                        "message": TOKEN_NOT_VALID,
                    }],
                }),
            ),
            ApiError::UserInactive => {
                (StatusCode::UNAUTHORIZED, json!({ "detail": "User is inactive", "code": "user_inactive" }))
            }
            ApiError::UserNotFound => {
                (StatusCode::UNAUTHORIZED, json!({ "detail": "User not found", "code": "user_not_found" }))
            }
            ApiError::NoActiveAccount => {
                (StatusCode::UNAUTHORIZED, detail("No active account found with the given credentials"))
            }
            ApiError::EmailNotVerified => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": "Verify your email address before logging in: follow the link in the mail we sent.",
                        "code": "email_not_verified" }),
            ),
            ApiError::MfaRequired { token, methods } => (
                StatusCode::UNAUTHORIZED,
                json!({ "detail": "Confirm it is you with your second factor.",
                        "code": "mfa_required", "mfa_token": token, "methods": methods }),
            ),
            ApiError::NoActiveAccountForToken => {
                (StatusCode::UNAUTHORIZED, detail("No active account found for the given token."))
            }
            ApiError::Forbidden => {
                (StatusCode::FORBIDDEN, detail("You do not have permission to perform this action."))
            }
            ApiError::Denied(message) => {
                (StatusCode::FORBIDDEN, json!({ "detail": message, "code": "permission_denied" }))
            }
            ApiError::ReauthenticationRequired => (
                StatusCode::FORBIDDEN,
                json!({ "detail": REAUTHENTICATION_REQUIRED, "code": "reauthentication_required" }),
            ),
            ApiError::MfaEnrollmentRequired => (
                StatusCode::FORBIDDEN,
                json!({ "detail": "Your role requires two-factor authentication. Turn it on to continue.",
                        "code": "mfa_enrollment_required" }),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, detail("Not found.")),
            ApiError::NotFoundDetail(message) => (StatusCode::NOT_FOUND, detail(message)),
            ApiError::MethodNotAllowed(m) => {
                (StatusCode::METHOD_NOT_ALLOWED, detail(&format!("Method \"{m}\" not allowed.")))
            }
            ApiError::Throttled(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                detail(&format!("Request was throttled. Expected available in {secs} seconds.")),
            ),
            ApiError::Unavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, detail("Service temporarily unavailable, try again later."))
            }
            ApiError::ProviderUnavailable => (
                StatusCode::BAD_GATEWAY,
                json!({ "detail": "The identity provider could not be reached. Try again later.",
                        "code": "provider_unavailable" }),
            ),
            ApiError::Coded { status, code, message } => {
                (*status, json!({ "detail": message, "code": code }))
            }
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, detail("Request timed out.")),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, detail("A server error occurred.")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let fault = UnloggedFault::of(&self);
        let (status, body) = self.status_and_body();
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(fault) = fault {
            fault.log_or_attach(&mut response);
        }
        if let ApiError::Throttled(secs) = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(WWW_AUTHENTICATE));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(reason) => ApiError::Unavailable(reason),
            other => ApiError::internal(other),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        ApiError::internal(e)
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(errors) => ApiError::Fields(errors),
            AccountError::WrongOldPassword => ApiError::field(
                "old_password",
                "Your old password was entered incorrectly. Please enter it again.",
            ),
            AccountError::RegistrationClosed => ApiError::Forbidden,
            AccountError::Throttled(secs) => ApiError::Throttled(secs),
            AccountError::NotFound => ApiError::UserNotFound,
            AccountError::Denied(message) => ApiError::Denied(message),
            AccountError::Store(e) => e.into(),
            AccountError::Hash(e) => e.into(),
        }
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Invalid(errors) => ApiError::Fields(errors),
            AdminError::NotFound => ApiError::NotFound,
            AdminError::Denied(message) => ApiError::Denied(message),
            AdminError::Refused(message) => ApiError::BadRequest(message),
            // The target was found: an account error here is the new user's fields.
            AdminError::Account(AccountError::NotFound) => ApiError::NotFound,
            AdminError::Account(e) => e.into(),
            AdminError::Role(RoleError::NotFound) => ApiError::NotFound,
            AdminError::Role(e) => e.into(),
            AdminError::Mfa(e) => e.into(),
            AdminError::Throttled(secs) => ApiError::Throttled(secs),
            AdminError::Store(e) => e.into(),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::WrongCredentials => ApiError::NoActiveAccount,
            LoginError::EmailNotVerified => ApiError::EmailNotVerified,
            LoginError::UserNotFound => ApiError::UserNotFound,
            LoginError::Throttled(secs) => ApiError::Throttled(secs),
            LoginError::Mfa(e) => e.into(),
            LoginError::Store(e) => e.into(),
            LoginError::Hash(e) => e.into(),
        }
    }
}

impl From<MfaError> for ApiError {
    fn from(e: MfaError) -> Self {
        match e {
            MfaError::Invalid(errors) => ApiError::Fields(errors),
            MfaError::Refused(message) => ApiError::BadRequest(message),
            MfaError::Throttled(secs) => ApiError::Throttled(secs),
            MfaError::NotFound => ApiError::UserNotFound,
            MfaError::Store(e) => e.into(),
            MfaError::Internal(fault) => ApiError::internal(fault),
        }
    }
}

impl From<PresenceError> for ApiError {
    fn from(e: PresenceError) -> Self {
        match e {
            PresenceError::Required => ApiError::ReauthenticationRequired,
            PresenceError::Invalid(errors) => ApiError::Fields(errors),
            PresenceError::Account(e) => e.into(),
            PresenceError::Mfa(e) => e.into(),
            PresenceError::Store(e) => e.into(),
        }
    }
}

impl From<RecoveryError> for ApiError {
    fn from(e: RecoveryError) -> Self {
        match e {
            RecoveryError::Invalid(errors) => ApiError::Fields(errors),
            RecoveryError::Throttled(secs) => ApiError::Throttled(secs),
            RecoveryError::Store(e) => e.into(),
            RecoveryError::Hash(e) => e.into(),
        }
    }
}

impl From<RoleError> for ApiError {
    fn from(e: RoleError) -> Self {
        match e {
            RoleError::Invalid(errors) => ApiError::Fields(errors),
            RoleError::NotFound => ApiError::NotFound,
            RoleError::Refused(message) => ApiError::BadRequest(message),
            RoleError::Denied(message) => ApiError::Denied(message),
            RoleError::Store(e) => e.into(),
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(errors) => ApiError::Fields(errors),
            ClientError::NotFound => ApiError::NotFound,
            ClientError::Denied(message) => ApiError::Denied(message),
            ClientError::Store(e) => e.into(),
            ClientError::Keys(e) => ApiError::internal(anyhow::anyhow!(e)),
        }
    }
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::Invalid(errors) => ApiError::Fields(errors),
            AuditError::Store(e) => e.into(),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid(_) => ApiError::TokenNotValid,
            TokenError::NoActiveAccount => ApiError::NoActiveAccountForToken,
            TokenError::Store(e) => e.into(),
            other @ (TokenError::Signing(_) | TokenError::Key(_) | TokenError::KeyRefused(_)) => {
                ApiError::internal(other)
            }
        }
    }
}

/// The protected routes' refusals: simplejwt's authentication errors.
impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::NotValid => ApiError::AccessTokenNotValid,
            AccessError::UserInactive => ApiError::UserInactive,
            AccessError::UserNotFound => ApiError::UserNotFound,
            AccessError::Throttled(secs) => ApiError::Throttled(secs),
            AccessError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fault;
    use crate::tokens::keys::KeyError;
    use crate::tokens::CodecError;

    const SECRET_LOOKING: &str = "relation users at 0xdeadbeef; key=hunter2";

    #[test]
    fn an_internal_fault_shows_the_client_nothing_of_itself() {
        let fault = Fault::new("opening a sealed TOTP secret", SECRET_LOOKING);
        let e: ApiError = MfaError::Internal(fault).into();
        let (status, body) = e.status_and_body();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"detail": "A server error occurred."}));
        // The log line keeps the whole chain.
        assert!(format!("{e}").contains("0xdeadbeef"), "{e}");
    }

    /// Every way a fault of ours travels up through a service error ends as the bare
    /// 500 (or the bare 503 for an unreachable database): never a 4xx, never its text.
    #[test]
    fn no_fault_reaches_a_client_in_any_answer() {
        let store = || StoreError::Other(SECRET_LOOKING.into());
        let down = || StoreError::Unavailable(SECRET_LOOKING.into());
        let fault = || Fault::new("a fault", SECRET_LOOKING);
        let hash = || HashError::Argon2(SECRET_LOOKING.into());
        let faults: Vec<ApiError> = vec![
            store().into(),
            hash().into(),
            AccountError::Store(store()).into(),
            AccountError::Hash(hash()).into(),
            LoginError::Store(store()).into(),
            LoginError::Hash(hash()).into(),
            LoginError::Mfa(MfaError::Internal(fault())).into(),
            LoginError::Mfa(MfaError::Store(store())).into(),
            MfaError::Internal(fault()).into(),
            MfaError::Store(store()).into(),
            PresenceError::Store(store()).into(),
            PresenceError::Mfa(MfaError::Internal(fault())).into(),
            PresenceError::Account(AccountError::Hash(hash())).into(),
            RecoveryError::Store(store()).into(),
            RecoveryError::Hash(hash()).into(),
            RoleError::Store(store()).into(),
            AuditError::Store(store()).into(),
            TokenError::Store(store()).into(),
            TokenError::Signing(CodecError::Invalid(SECRET_LOOKING.into())).into(),
            TokenError::Key(KeyError::Invalid(SECRET_LOOKING.into())).into(),
            TokenError::KeyRefused(SECRET_LOOKING.into()).into(),
            AccessError::Store(store()).into(),
            AdminError::Store(store()).into(),
            AdminError::Mfa(MfaError::Internal(fault())).into(),
            AdminError::Account(AccountError::Hash(hash())).into(),
            ApiError::internal(anyhow::anyhow!(SECRET_LOOKING)),
        ];
        for e in faults {
            let shown = format!("{e:?}");
            let (status, body) = e.status_and_body();
            assert_eq!(
                (status, body),
                (StatusCode::INTERNAL_SERVER_ERROR, json!({"detail": "A server error occurred."})),
                "{shown}"
            );
        }
        for e in [ApiError::from(down()), LoginError::Store(down()).into(), MfaError::Store(down()).into()] {
            let (status, body) = e.status_and_body();
            let generic = json!({"detail": "Service temporarily unavailable, try again later."});
            assert_eq!((status, body), (StatusCode::SERVICE_UNAVAILABLE, generic));
        }
    }
}
