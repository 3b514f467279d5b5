//! Response bodies shared by several areas, and the error shapes the schema documents.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::rbac::effective_permissions;
use crate::domain::rfc3339;
use crate::store::UserWithRoles;

/// The user object of API.md "Users".
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// Opaque id (a UUID), the `user_id`/`sub` of the user's tokens.
    pub id: String,
    pub username: String,
    pub email: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub roles: Vec<String>,
    /// Union of the roles' permissions; every built-in one for a superuser.
    pub permissions: Vec<String>,
    /// RFC 3339.
    pub date_joined: String,
    /// RFC 3339, or null before the first login.
    pub last_login: Option<String>,
    /// Whether the user proved they own `email` (by its verification link, or a
    /// password-reset link sent to it). Changing the email clears it.
    pub email_verified: bool,
    /// Whether the user has a second factor (a confirmed authenticator app or a passkey).
    pub has_2fa: bool,
}

impl From<&UserWithRoles> for UserResponse {
    fn from(u: &UserWithRoles) -> Self {
        Self {
            id: u.user.id.clone(),
            username: u.user.username.clone(),
            email: u.user.email.clone(),
            is_active: u.user.is_active,
            is_superuser: u.user.is_superuser,
            roles: u.roles.clone(),
            permissions: effective_permissions(u),
            date_joined: rfc3339(u.user.date_joined),
            last_login: u.user.last_login.map(rfc3339),
            email_verified: u.user.email_verified,
            has_2fa: u.user.has_2fa,
        }
    }
}

/// `{"detail": "..."}`, DRF's shape for every error that is not about a field.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detail {
    #[schema(example = "Not found.")]
    pub detail: String,
}

/// A 401: `{"detail": "Authentication credentials were not provided."}`, or with a
/// `code` (`token_not_valid`, `user_inactive`, `user_not_found`); protected routes add
/// simplejwt's `messages`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodedDetail {
    #[schema(example = "Token is invalid or expired")]
    pub detail: String,
    #[schema(example = "token_not_valid")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<BTreeMap<String, String>>>,
}

/// DRF field errors: each field maps to its messages; `non_field_errors` for the object.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"username": ["A user with that username already exists."]}))]
pub struct FieldErrorsBody(pub BTreeMap<String, Vec<String>>);

/// A 400: field errors, or `{"detail": ...}` for a body that is not JSON
/// (`JSON parse error - …`) or a rule about the whole request.
#[allow(dead_code)]
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestBody {
    Fields(FieldErrorsBody),
    Detail(Detail),
}

/// `{}`: success with nothing to say (simplejwt's verify and blacklist).
#[derive(Debug, Serialize, ToSchema)]
pub struct Empty {}
