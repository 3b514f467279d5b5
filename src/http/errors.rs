//! `ApiError`: the one place errors become HTTP responses, in DRF's JSON shapes
//! (API.md "General rules"). Internal faults are logged here and never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use tracing::error;

use crate::accounts::AccountError;
use crate::audit::AuditError;
use crate::fields::FieldErrors;
use crate::passwords::HashError;
use crate::rbac::RoleError;
use crate::store::StoreError;
use crate::tokens::TokenError;

pub const TOKEN_NOT_VALID: &str = "Token is invalid or expired";
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"api\"";
pub const REAUTHENTICATION_REQUIRED: &str =
    "Confirm it is you: send your password (or a code) with this request, or re-authenticate first.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("field errors")]
    Fields(FieldErrors),
    /// `400 {"detail": ...}`: a rule about the whole request.
    #[error("bad request: {0}")]
    BadRequest(String),
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
    /// The whole request took longer than the configured limit.
    #[error("request timed out")]
    Timeout,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn field(name: &str, message: &str) -> Self {
        ApiError::Fields(FieldErrors::one(name, message))
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
            ApiError::Timeout => (StatusCode::REQUEST_TIMEOUT, detail("Request timed out.")),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, detail("A server error occurred.")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // The request span carries the request id, so this line can be matched to it.
            ApiError::Internal(reason) => error!(%reason, "internal error"),
            ApiError::Unavailable(reason) => error!(%reason, "dependency unavailable"),
            _ => {}
        }
        let (status, body) = self.status_and_body();
        let mut response = (status, axum::Json(body)).into_response();
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
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<HashError> for ApiError {
    fn from(e: HashError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(errors) => ApiError::Fields(errors),
            AccountError::WrongCredentials => ApiError::NoActiveAccount,
            AccountError::EmailNotVerified => ApiError::EmailNotVerified,
            AccountError::Refused(message) => ApiError::BadRequest(message),
            AccountError::WrongOldPassword => ApiError::field(
                "old_password",
                "Your old password was entered incorrectly. Please enter it again.",
            ),
            AccountError::RegistrationClosed => ApiError::Forbidden,
            AccountError::Throttled(secs) => ApiError::Throttled(secs),
            AccountError::NotFound => ApiError::UserNotFound,
            AccountError::ReauthenticationRequired => ApiError::ReauthenticationRequired,
            AccountError::Denied(message) => ApiError::Denied(message),
            AccountError::Internal(reason) => ApiError::Internal(reason),
            AccountError::Store(e) => e.into(),
            AccountError::Hash(e) => e.into(),
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
            TokenError::Signing(reason) => ApiError::Internal(reason),
            TokenError::Key(e) => ApiError::Internal(e.to_string()),
            TokenError::KeyRefused(reason) => ApiError::BadRequest(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_fault_shows_the_client_nothing_of_itself() {
        let e: ApiError = AccountError::Internal("sealed TOTP secret: bad key 0xdeadbeef".into()).into();
        let (status, body) = e.status_and_body();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body, json!({"detail": "A server error occurred."}));
    }
}
