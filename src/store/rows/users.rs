//! Users: accounts as stored, what creates and changes them, pages of them.

use crate::domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    pub password_changed_at: Timestamp,
    pub email_verified: bool,
    /// A confirmed TOTP factor or a passkey.
    pub has_2fa: bool,
}

impl UserRow {
    /// False for Django's unusable password (`!…`): an invited user who has not chosen
    /// one yet, or an account that signs in only some other way.
    pub fn has_usable_password(&self) -> bool {
        !self.password_hash.starts_with('!')
    }
}

/// A user with the roles and permissions they hold now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserWithRoles {
    pub user: UserRow,
    pub roles: Vec<String>,
    /// Union of the roles' permissions (not expanded for superusers: that is policy).
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub username_key: String,
    pub email: String,
    pub password_hash: String,
    pub is_superuser: bool,
    pub now: Timestamp,
    pub roles: RolesToGive,
}

/// Roles a new user is made with, and the permissions they were judged to give: the
/// write refuses (`Conflict { CHANGED_MEANWHILE }`, no user made) when a role changed or
/// went away since, so the judgement and the grant are one.
#[derive(Debug, Clone, Default)]
pub struct RolesToGive {
    pub names: Vec<String>,
    pub permissions: Vec<String>,
}

/// A user from another system (a Django export), as imported.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub id: String,
    pub username: String,
    pub username_key: String,
    pub email: String,
    /// As the other system stored it; verified and upgraded at the first login.
    pub password_hash: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    /// Roles to add (never removes any).
    pub roles: Vec<String>,
    /// The record it comes from (`django:<pk>`): only the account an import of that
    /// record made is updated by a later one.
    pub source: String,
}

/// What `import_user` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Created,
    Updated,
    /// The name is an account here that no import of this record made: left alone.
    TakenHere,
}

/// What an admin (or the user) changes on a user; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub is_active: Option<bool>,
}

/// The constraint `update_user` names when a deactivation would leave no active
/// superuser.
pub const LAST_SUPERUSER: &str = "last_active_superuser";

/// A page of rows and the total count, for DRF-style pagination.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub count: i64,
    pub rows: Vec<T>,
}

/// Which users an administrator lists (all the conditions hold), and in what order.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Part of the username key or the email, lower-case; empty: everyone.
    pub search: String,
    pub is_active: Option<bool>,
    pub is_superuser: Option<bool>,
    /// Holds this role.
    pub role: Option<String>,
    pub has_2fa: Option<bool>,
    pub email_verified: Option<bool>,
    pub ordering: UserOrdering,
}

/// The orders a user list can be in; each ends on the username, so pages are stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UserOrdering {
    #[default]
    Username,
    UsernameDesc,
    Email,
    EmailDesc,
    DateJoined,
    DateJoinedDesc,
    LastLogin,
    LastLoginDesc,
}

impl UserOrdering {
    /// As `?ordering=` names it (DRF's `OrderingFilter`: a leading `-` is descending).
    pub const NAMES: [(&'static str, UserOrdering); 8] = [
        ("username", UserOrdering::Username),
        ("-username", UserOrdering::UsernameDesc),
        ("email", UserOrdering::Email),
        ("-email", UserOrdering::EmailDesc),
        ("date_joined", UserOrdering::DateJoined),
        ("-date_joined", UserOrdering::DateJoinedDesc),
        ("last_login", UserOrdering::LastLogin),
        ("-last_login", UserOrdering::LastLoginDesc),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == name).map(|(_, o)| *o)
    }
}
