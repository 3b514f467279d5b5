//! Sessions (refresh-token families) and the outcomes of rotating and revoking them.

use super::users::UserWithRoles;
use crate::domain::{ClientInfo, Timestamp};

/// A refresh token record: the `jti` of a signed token and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub jti: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// The rules of a rotation: seconds a spent token may be presented again for the same
/// successor (0: never), and the absolute lifetime of a session since its login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotationRules {
    pub reuse_interval: i64,
    pub max_session_age: i64,
}

/// A live session (refresh-token family), for the sessions page.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub user_agent: String,
    pub ip: String,
}

/// What protected routes need of a session: whether it still stands, and when its
/// owner last proved their presence in it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionState {
    pub user_id: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub reauthenticated_at: Option<Timestamp>,
    /// The client application the session is a grant of; `None`: first-party.
    pub client_id: Option<String>,
    pub scope: String,
    pub amr: String,
    pub auth_time: Option<Timestamp>,
    pub expires_at: Timestamp,
    /// A client's grant: the browser session it was approved from (the id token's `sid`).
    pub browser_session_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub client: ClientInfo,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    /// `None` for a client's grant without `offline_access`: access tokens only.
    pub first_token: Option<NewRefresh>,
    /// How the user proved who they are (OIDC `amr` values, space-separated).
    pub amr: String,
    /// When they did; a client's grant carries the browser session's.
    pub auth_time: Timestamp,
    /// A client application's grant; `None` for a first-party session.
    pub grant: Option<GrantOf>,
}

/// The client and scopes a session was granted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantOf {
    pub client_id: String,
    pub scope: String,
    /// The browser session the user approved the grant from.
    pub browser_session: Option<String>,
}

/// What became of a presented refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// Spent; the new token is recorded in the same family.
    Rotated(Box<UserWithRoles>),
    /// Spent before: the whole family is now revoked.
    ReuseDetected(Reuse),
    /// Spent within the reuse interval: the successor that rotation issued, unchanged.
    Replayed { user: Box<UserWithRoles>, successor: NewRefresh },
    /// Unknown jti, revoked or expired family.
    Invalid,
    /// The family belongs to a deactivated user.
    UserInactive,
}

/// What became of a refresh token presented for logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeOutcome {
    Revoked {
        user_id: String,
    },
    /// Spent before: reuse; the family is revoked anyway.
    ReuseDetected(Reuse),
    Invalid,
}

/// A spent refresh token presented again: whose family it was, and where it was first
/// spent from (the other use the theft alert names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuse {
    pub user_id: String,
    pub session_id: String,
    pub first_used_at: Timestamp,
    pub first_ip: String,
    pub first_user_agent: String,
}
