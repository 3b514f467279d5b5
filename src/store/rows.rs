//! The rows the store reads and writes, and the outcomes of its multi-step changes.

use crate::domain::{ClientInfo, Timestamp};

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

/// A refresh token record: the `jti` of a signed token and its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub jti: String,
    pub issued_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Who caused a change and from where: recorded with its audit event.
#[derive(Debug, Clone, Default)]
pub struct AuditMeta {
    /// The acting user, when it is not the target user acting on themself (admins).
    pub actor_id: Option<String>,
    pub client: ClientInfo,
}

impl AuditMeta {
    pub fn client(client: ClientInfo) -> Self {
        Self { actor_id: None, client }
    }

    pub fn actor(actor_id: &str, client: ClientInfo) -> Self {
        Self { actor_id: Some(actor_id.to_string()), client }
    }
}

/// The events of the audit log (API.md "Roles and permissions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    Register,
    Login,
    LoginFailed,
    Refresh,
    RefreshReuseDetected,
    Logout,
    PasswordChanged,
    SessionRevoked,
    UserUpdated,
    RolesAssigned,
    RoleCreated,
    RoleUpdated,
    RoleDeleted,
    Throttled,
    PasswordResetRequested,
    PasswordReset,
    EmailVerificationSent,
    EmailVerified,
    TheftAlertSent,
    SecurityNoticeSent,
    MfaEnabled,
    MfaDisabled,
    MfaReset,
    MfaUsed,
    MfaFailed,
    RecoveryCodesRegenerated,
    PermissionDenied,
}

impl AuditEvent {
    pub const ALL: [AuditEvent; 27] = [
        Self::Register,
        Self::Login,
        Self::LoginFailed,
        Self::Refresh,
        Self::RefreshReuseDetected,
        Self::Logout,
        Self::PasswordChanged,
        Self::SessionRevoked,
        Self::UserUpdated,
        Self::RolesAssigned,
        Self::RoleCreated,
        Self::RoleUpdated,
        Self::RoleDeleted,
        Self::Throttled,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerificationSent,
        Self::EmailVerified,
        Self::TheftAlertSent,
        Self::SecurityNoticeSent,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::MfaReset,
        Self::MfaUsed,
        Self::MfaFailed,
        Self::RecoveryCodesRegenerated,
        Self::PermissionDenied,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::LoginFailed => "login_failed",
            Self::Refresh => "refresh",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::Logout => "logout",
            Self::PasswordChanged => "password_changed",
            Self::SessionRevoked => "session_revoked",
            Self::UserUpdated => "user_updated",
            Self::RolesAssigned => "roles_assigned",
            Self::RoleCreated => "role_created",
            Self::RoleUpdated => "role_updated",
            Self::RoleDeleted => "role_deleted",
            Self::Throttled => "throttled",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerificationSent => "email_verification_sent",
            Self::EmailVerified => "email_verified",
            Self::TheftAlertSent => "theft_alert_sent",
            Self::SecurityNoticeSent => "security_notice_sent",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaReset => "mfa_reset",
            Self::MfaUsed => "mfa_used",
            Self::MfaFailed => "mfa_failed",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PermissionDenied => "permission_denied",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub time: Timestamp,
    pub event: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub actor_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    /// A JSON object, as text.
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// A user id or a username (matched by its normalized key).
    pub user_id: Option<String>,
    pub username_key: Option<String>,
    pub event: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
}

/// What an admin (or the user) changes on a user; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<String>,
    pub is_active: Option<bool>,
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
}

/// The constraint `update_user` names when a deactivation would leave no active
/// superuser.
pub const LAST_SUPERUSER: &str = "last_active_superuser";

/// The constraint `set_user_roles` and `update_role` name when what the caller decided
/// on changed before the write.
pub const CHANGED_MEANWHILE: &str = "changed_meanwhile";

/// A stored signing key pair.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    /// Encrypted (see `tokens::keys::seal`).
    pub private_key: String,
    pub public_jwk: String,
    /// `published`, `active`, `retired` or `revoked`.
    pub status: String,
    pub created_at: Timestamp,
    pub activated_at: Option<Timestamp>,
    pub retired_at: Option<Timestamp>,
}

/// A page of rows and the total count, for DRF-style pagination.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub count: i64,
    pub rows: Vec<T>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub client: ClientInfo,
    pub now: Timestamp,
    pub expires_at: Timestamp,
    pub first_token: NewRefresh,
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

/// What a single-use token (mailed, or handed out between login steps) is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailPurpose {
    PasswordReset,
    EmailVerification,
    /// The `mfa_token` of a login waiting for its second factor.
    MfaLogin,
}

impl MailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::EmailVerification => "email_verification",
            Self::MfaLogin => "mfa_login",
        }
    }
}

/// A user's TOTP factor as stored (the secret sealed).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TotpRow {
    pub secret: String,
    pub confirmed_at: Option<Timestamp>,
    pub last_step: i64,
    pub failures: i64,
    pub locked_until: Timestamp,
}

/// How wrong TOTP codes lock the factor (NIST SP 800-63B §5.2.2): every `every`th
/// failure in a row locks it, for `first_secs`, then `second_secs` from the
/// `second_at`th failure on, and `third_secs` from the `third_at`th.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpLock {
    pub every: i64,
    pub first_secs: i64,
    pub second_at: i64,
    pub second_secs: i64,
    pub third_at: i64,
    pub third_secs: i64,
}

impl Default for TotpLock {
    /// 5 wrong → 1 minute, 10 → 15 minutes, 20 → 1 hour.
    fn default() -> Self {
        Self { every: 5, first_secs: 60, second_at: 10, second_secs: 900, third_at: 20, third_secs: 3600 }
    }
}

/// A registered passkey.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    /// base64url of the authenticator's credential id.
    pub credential_id: String,
    pub name: String,
    /// The credential as webauthn-rs serialises it (public key, counter).
    pub passkey: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A mail waiting in the outbox.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: String,
    /// The message, sealed (it may hold a live link).
    pub sealed: String,
    pub created_at: Timestamp,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// A WebAuthn ceremony waiting for the browser's answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CeremonyRow {
    pub id: String,
    /// `register`, `login` (passwordless) or `mfa` (the second step).
    pub kind: String,
    /// Empty for a passwordless login, whose user is known only from the answer.
    pub user_id: String,
    /// The webauthn-rs state, as JSON.
    pub state: String,
    pub expires_at: Timestamp,
}

/// A token about to be mailed; only the hash of its secret part is stored.
#[derive(Debug, Clone)]
pub struct NewMailToken {
    pub id: String,
    pub verifier_hash: String,
    pub purpose: MailPurpose,
    pub user_id: String,
    pub email: String,
    pub now: Timestamp,
    pub expires_at: Timestamp,
}

/// A live mail token as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailTokenRow {
    pub user_id: String,
    pub email: String,
    pub verifier_hash: String,
}
