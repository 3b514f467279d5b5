//! Persistence behind one small interface, so SQLite and PostgreSQL serve the same
//! services. One method per use case; each multi-step change is one transaction inside
//! its method. The store knows nothing of HTTP.

mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::config::Config;

/// Unix seconds: every time the store keeps.
pub type Timestamp = i64;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness or foreign-key rule refused the write; `constraint` names it.
    #[error("constraint violated: {constraint}")]
    Conflict { constraint: String },
    /// The database cannot be reached or is overloaded: the caller answers 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Other(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                // SQLite: 5 BUSY, 6 LOCKED, 517 BUSY_SNAPSHOT; PostgreSQL class 57/08: shutdown, connection.
                if matches!(code.as_str(), "5" | "6" | "261" | "517" | "773")
                    || code.starts_with("57")
                    || code.starts_with("08")
                {
                    return StoreError::Unavailable(db.message().to_string());
                }
                if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation() {
                    let constraint =
                        db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
                    return StoreError::Conflict { constraint };
                }
                StoreError::Other(e.to_string())
            }
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Other(e.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => inner.into(),
            other => StoreError::Other(other.to_string()),
        }
    }
}

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

/// Who started a session, for the sessions page and the audit log.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
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

/// A presented mail token: its id, and the SHA-256 (hex) of its secret part.
#[derive(Debug, Clone)]
pub struct PresentedMailToken {
    pub id: String,
    pub verifier_hash: String,
}

/// A live mail token as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailTokenRow {
    pub user_id: String,
    pub email: String,
    pub verifier_hash: String,
}

#[async_trait]
pub trait Store: Send + Sync {
    /// Applies pending migrations (safe to run on every start).
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connections open in the pool, and how many of them are idle (for `/metrics`).
    fn pool_stats(&self) -> (u32, usize);

    /// Fails with `Conflict` when the username key is taken. Audited as `register`.
    async fn create_user(&self, user: NewUser, audit: &AuditMeta) -> Result<UserRow, StoreError>;
    async fn user_by_id(&self, id: &str) -> Result<Option<UserWithRoles>, StoreError>;
    async fn user_by_username_key(&self, key: &str) -> Result<Option<UserRow>, StoreError>;
    /// Applies `changes`; deactivation revokes every session at once. `None` when there
    /// is no such user; `Conflict { LAST_SUPERUSER }` when it would deactivate the last
    /// active superuser. Audited as `user_updated`.
    async fn update_user(
        &self,
        id: &str,
        changes: &UserChanges,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<UserWithRoles>, StoreError>;
    /// Sets the hash and revokes every session of the user but `keep_session`.
    /// Audited as `password_changed`.
    async fn set_password(
        &self,
        id: &str,
        password_hash: &str,
        keep_session: Option<&str>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError>;
    /// Deletes a user and, by cascade, their sessions and tokens.
    async fn delete_user(&self, id: &str) -> Result<bool, StoreError>;
    /// Creates the user, or updates the one an earlier import of the same record made
    /// (email, flags, dates; never the password, which may have changed here since).
    /// Adds the roles. Audited as `register` or `user_updated`.
    async fn import_user(
        &self,
        user: &ImportedUser,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<ImportOutcome, StoreError>;
    /// Replaces a hash whose parameters are outdated, unless the password changed meanwhile.
    async fn upgrade_password_hash(&self, id: &str, old_hash: &str, new_hash: &str)
        -> Result<(), StoreError>;

    /// Records a login: a new session, its first refresh token, and `last_login`.
    /// Audited as `login`.
    async fn start_session(&self, session: NewSession) -> Result<(), StoreError>;
    /// Spends `jti` and records `next` in its family, or detects reuse, in one transaction.
    /// Audited as `refresh` or `refresh_reuse_detected`.
    async fn rotate_refresh(
        &self,
        jti: &str,
        next: NewRefresh,
        now: Timestamp,
        reuse_interval: i64,
        max_session_age: i64,
        audit: &AuditMeta,
    ) -> Result<RotateOutcome, StoreError>;
    /// Revokes the family of `jti` (logout). Audited as `logout` or `refresh_reuse_detected`.
    async fn revoke_by_refresh(
        &self,
        jti: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<RevokeOutcome, StoreError>;
    /// Whether `jti` is an unspent token of a live family (for `/api/token/verify/`).
    async fn refresh_is_live(&self, jti: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Active users with this email address (case-insensitive; emails are not unique).
    async fn active_users_by_email(&self, email: &str) -> Result<Vec<UserRow>, StoreError>;
    /// Records a single-use token, audited as `event` (if any) in the same transaction.
    async fn insert_mail_token(
        &self,
        token: &NewMailToken,
        event: Option<AuditEvent>,
        audit: &AuditMeta,
    ) -> Result<(), StoreError>;
    /// The token, if it is live (unspent, unexpired, of this purpose, verifier matching).
    async fn mail_token(
        &self,
        token: &PresentedMailToken,
        purpose: MailPurpose,
        now: Timestamp,
    ) -> Result<Option<MailTokenRow>, StoreError>;
    /// Spends a live reset token and sets the password: every session of the user is
    /// revoked and every other reset token spent. The user's id, or `None` if the token
    /// is not live (or the user no longer active).
    async fn reset_password(
        &self,
        token: &PresentedMailToken,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<String>, StoreError>;
    /// Spends a live token of `purpose`; the user it was for, or `None` if not live.
    async fn spend_token(
        &self,
        token: &PresentedMailToken,
        purpose: MailPurpose,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError>;

    async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError>;
    /// Starts (or restarts) an unconfirmed enrolment with this sealed secret.
    async fn start_totp(&self, user_id: &str, sealed_secret: &str, now: Timestamp) -> Result<(), StoreError>;
    /// Confirms the enrolment at `step` and replaces the recovery codes; audited
    /// `mfa_enabled`.
    async fn confirm_totp(
        &self,
        user_id: &str,
        step: i64,
        code_hashes: &[String],
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError>;
    /// Accepts `step` if it is later than the last accepted one (a code works once);
    /// clears the failure count. False for a replayed step.
    async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError>;
    /// Counts a code about to be checked as a failure (a right one clears the count),
    /// and locks the factor as `lock` says; the failures now. `None` while the factor is
    /// locked (nothing is counted) or when there is no confirmed factor.
    async fn totp_attempt(
        &self,
        user_id: &str,
        now: Timestamp,
        lock: &TotpLock,
    ) -> Result<Option<i64>, StoreError>;
    /// After a right code of another kind (a recovery code): the count and any lock go.
    async fn clear_totp_failures(&self, user_id: &str) -> Result<(), StoreError>;
    /// Spends one recovery code; false if it is not an unused code of the user.
    async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Replaces the user's recovery codes (the old set stops working); audited.
    async fn replace_recovery_codes(
        &self,
        user_id: &str,
        code_hashes: &[String],
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError>;
    async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, StoreError>;
    /// The user's passkeys, oldest first.
    async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError>;
    async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError>;
    /// Registers a passkey and, when given, a first set of recovery codes; audited
    /// `mfa_enabled`. False when the credential is registered already (to anyone).
    async fn insert_passkey(
        &self,
        passkey: &PasskeyRow,
        code_hashes: &[String],
        audit: &AuditMeta,
    ) -> Result<bool, StoreError>;
    /// Stores the credential's new counter after a use.
    async fn touch_passkey(&self, id: &str, passkey: &str, now: Timestamp) -> Result<(), StoreError>;
    /// Removes one passkey of the user (and the recovery codes, when no factor is left);
    /// audited `mfa_disabled`. False when the user has no passkey by that id.
    async fn delete_passkey(
        &self,
        user_id: &str,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError>;
    /// Puts a sealed mail in the outbox, due at once.
    async fn enqueue_mail(&self, id: &str, sealed: &str, now: Timestamp) -> Result<(), StoreError>;
    /// Claims up to `limit` due mails until `lease_until`: no other instance gets them
    /// meanwhile, and a mail whose sender died is due again when its lease ends.
    async fn claim_mails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMail>, StoreError>;
    /// Sent, or given up: out of the outbox.
    async fn delete_mail(&self, id: &str) -> Result<(), StoreError>;
    /// A failed attempt: the mail is due again at `next_attempt_at`.
    async fn retry_mail(&self, id: &str, next_attempt_at: Timestamp, error: &str) -> Result<(), StoreError>;
    /// How many mails wait in the outbox.
    async fn pending_mails(&self) -> Result<i64, StoreError>;
    /// Stores a ceremony (replacing one with the same id) and drops expired ones.
    async fn put_ceremony(&self, ceremony: &CeremonyRow, now: Timestamp) -> Result<(), StoreError>;
    /// Takes (deletes and returns) a live ceremony of `kind`: each is finished once.
    async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<Option<CeremonyRow>, StoreError>;
    /// Removes the user's factors, audited as `event`: every factor (an administrator's
    /// reset), or only TOTP (the user turning it off; the recovery codes go too unless a
    /// passkey remains). False when there was nothing to remove.
    async fn remove_mfa(
        &self,
        user_id: &str,
        totp_only: bool,
        event: AuditEvent,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError>;
    /// Spends a live verification token and marks the address verified if it is still
    /// the user's. The user's id, or `None`.
    async fn verify_email(
        &self,
        token: &PresentedMailToken,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<String>, StoreError>;
    /// Deletes expired token records and sessions; returns how many tokens went.
    async fn flush_expired(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// A session by id, revoked or not; `None` once it is gone.
    async fn session_state(&self, session_id: &str) -> Result<Option<SessionState>, StoreError>;
    /// Records a proof of presence in a live session of the user; false when there is none.
    async fn mark_reauthenticated(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// The user's sessions that are neither revoked nor expired, most recently used first.
    async fn list_sessions(&self, user_id: &str, now: Timestamp) -> Result<Vec<SessionRow>, StoreError>;
    /// Revokes one live session of the user; false when there is none by that id.
    /// Audited as `session_revoked`.
    async fn revoke_user_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError>;
    /// Revokes every live session of the user (logout everywhere); returns how many.
    /// Audited as `session_revoked`.
    async fn revoke_all_sessions(
        &self,
        user_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<u64, StoreError>;

    /// Every signing key, newest first.
    async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError>;
    async fn insert_signing_key(&self, key: &SigningKeyRow) -> Result<(), StoreError>;
    /// Makes `kid` the signing key; the previously active key of any algorithm retires.
    /// False when there is no such key or it is retired.
    async fn activate_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Retires a published or active key; false when there is no such key.
    async fn retire_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError>;
    /// Marks a key `revoked`: it verifies nothing from now on; false when there is no
    /// such key or it is revoked already.
    async fn revoke_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError>;

    /// Users whose username key or email contains `search` (lower-case), by username.
    async fn list_users(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Page<UserWithRoles>, StoreError>;
    async fn count_active_superusers(&self) -> Result<i64, StoreError>;
    /// Replaces a user's roles; `Conflict` when a role does not exist, or
    /// `Conflict { CHANGED_MEANWHILE }` when the user's roles are no longer `expected`
    /// (what the caller checked). `None` when the user does not exist. Audited as
    /// `roles_assigned`.
    async fn set_user_roles(
        &self,
        user_id: &str,
        roles: &[String],
        expected: Option<&[String]>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<UserWithRoles>, StoreError>;

    async fn list_roles(&self) -> Result<Vec<RoleRow>, StoreError>;
    async fn role(&self, name: &str) -> Result<Option<RoleRow>, StoreError>;
    /// `Conflict` when the name is taken. Audited as `role_created`.
    async fn create_role(
        &self,
        role: &RoleRow,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<RoleRow, StoreError>;
    /// Changes description and/or replaces permissions; `Conflict { CHANGED_MEANWHILE }`
    /// when the permissions are no longer `expected`. Audited as `role_updated`.
    async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        permissions: Option<&[String]>,
        expected: Option<&[String]>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<RoleRow>, StoreError>;
    /// Audited as `role_deleted`; false when there is no such role.
    async fn delete_role(&self, name: &str, now: Timestamp, audit: &AuditMeta) -> Result<bool, StoreError>;

    /// An event that changes nothing else (`login_failed`, `throttled`).
    async fn record_audit(
        &self,
        event: AuditEvent,
        user_id: Option<&str>,
        detail: &serde_json::Value,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError>;
    /// Newest first.
    async fn list_audit(
        &self,
        filter: &AuditFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<AuditRow>, StoreError>;
}

/// Opens the store that `config.database_url` names.
pub async fn connect(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    if config.database_url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(config).await?))
    } else {
        Ok(Arc::new(PgStore::connect(config).await?))
    }
}
