//! What the provider's tokens say: the access token of RFC 9068, the id token and the
//! userinfo answer of OpenID Connect, from the user, the grant and its scopes.

use serde::{Deserialize, Serialize};

use super::scopes;
use crate::auth::rbac::effective_permissions;
use crate::store::UserWithRoles;

/// A client access token (RFC 9068 §2.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    /// The user; for `client_credentials`, the client itself.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The grant: ending it ends the token. Absent for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The user's, with the `permissions` scope; a service account's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

/// An id token (OpenID Connect Core §2), with the claims its scopes ask for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: String,
    #[serde(default)]
    pub azp: String,
    /// The browser session the user signed in with (for RP-initiated logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(flatten)]
    pub profile: ProfileClaims,
}

/// The user's claims a grant's scopes release, for id tokens and userinfo alike.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<String>>,
}

impl ProfileClaims {
    pub fn of(user: &UserWithRoles, granted: &[String]) -> Self {
        let u = &user.user;
        let email = scopes::has(granted, scopes::EMAIL) && !u.email.is_empty();
        ProfileClaims {
            preferred_username: scopes::has(granted, scopes::PROFILE).then(|| u.username.clone()),
            email: email.then(|| u.email.clone()),
            email_verified: email.then_some(u.email_verified),
            roles: scopes::has(granted, scopes::ROLES).then(|| user.roles.clone()),
            permissions: scopes::has(granted, scopes::PERMISSIONS).then(|| effective_permissions(user)),
        }
    }
}

/// The `acr` of how the user signed in (`amr`): `mfa` for two factors, `passkey` for a
/// passkey alone, `password` for a password alone.
pub fn acr_of(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "mfa") {
        "mfa"
    } else if amr.iter().any(|m| m == "hwk") {
        "passkey"
    } else {
        "password"
    }
}

/// `amr` as stored (space-separated) as a list.
pub fn amr_list(amr: &str) -> Vec<String> {
    amr.split(' ').filter(|m| !m.is_empty()).map(String::from).collect()
}
