//! The audit log: its events, who acted from where, and how it is read.

use super::users::UserWithRoles;
use crate::domain::{ClientInfo, Timestamp};

/// Who caused a change and from where: recorded with its audit event.
#[derive(Debug, Clone, Default)]
pub struct AuditMeta {
    /// The acting user, when it is not the target user acting on themself (admins).
    pub actor_id: Option<String>,
    pub client: ClientInfo,
    /// What an administrator's right to act on the user was decided on (see `Judged`).
    pub judged: Option<Judged>,
}

/// The user as an administrator's right to act on them was judged: superuser or not, and
/// their permissions. SECURITY: the change's transaction checks, as it records its audit
/// entry, that the user still stands so (else `Conflict { CHANGED_MEANWHILE }` and nothing
/// changes), so a promotion that lands between the check and the write is not acted on.
#[derive(Debug, Clone)]
pub struct Judged {
    pub user_id: String,
    pub is_superuser: bool,
    pub permissions: Vec<String>,
}

impl AuditMeta {
    pub fn client(client: ClientInfo) -> Self {
        Self { actor_id: None, client, judged: None }
    }

    pub fn actor(actor_id: &str, client: ClientInfo) -> Self {
        Self { actor_id: Some(actor_id.to_string()), client, judged: None }
    }

    /// The same, for a change to `target` as it was judged now.
    pub fn judged(mut self, target: &UserWithRoles) -> Self {
        self.judged = Some(Judged {
            user_id: target.user.id.clone(),
            is_superuser: target.user.is_superuser,
            permissions: target.permissions.clone(),
        });
        self
    }
}

/// Declares the events once: the enum, the list of all, and each one's name.
macro_rules! audit_events {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// The events of the audit log (API.md "Roles and permissions", and later issues').
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum AuditEvent {
            $($variant),*
        }

        impl AuditEvent {
            pub const ALL: &'static [AuditEvent] = &[$(AuditEvent::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditEvent::$variant => $name),*
                }
            }
        }
    };
}

audit_events! {
    Register => "register",
    Login => "login",
    LoginFailed => "login_failed",
    Refresh => "refresh",
    RefreshReuseDetected => "refresh_reuse_detected",
    Logout => "logout",
    PasswordChanged => "password_changed",
    SessionRevoked => "session_revoked",
    UserUpdated => "user_updated",
    RolesAssigned => "roles_assigned",
    RoleCreated => "role_created",
    RoleUpdated => "role_updated",
    RoleDeleted => "role_deleted",
    Throttled => "throttled",
    PasswordResetRequested => "password_reset_requested",
    PasswordReset => "password_reset",
    EmailVerificationSent => "email_verification_sent",
    EmailVerified => "email_verified",
    TheftAlertSent => "theft_alert_sent",
    SecurityNoticeSent => "security_notice_sent",
    MfaEnabled => "mfa_enabled",
    MfaDisabled => "mfa_disabled",
    MfaReset => "mfa_reset",
    MfaUsed => "mfa_used",
    MfaFailed => "mfa_failed",
    RecoveryCodesRegenerated => "recovery_codes_regenerated",
    PermissionDenied => "permission_denied",
    InvitationSent => "invitation_sent",
    LockoutCleared => "lockout_cleared",
    ClientCreated => "client_created",
    ClientUpdated => "client_updated",
    ClientSecretRotated => "client_secret_rotated",
    ClientDeleted => "client_deleted",
    ConsentGranted => "consent_granted",
    ConsentRevoked => "consent_revoked",
    OauthTokenIssued => "oauth_token_issued",
    OauthRefused => "oauth_refused",
    OauthCodeReplayed => "oauth_code_replayed",
    IdentityLinked => "identity_linked",
    IdentityUnlinked => "identity_unlinked",
    ExternalLoginFailed => "external_login_failed",
    PersonalTokenCreated => "personal_token_created",
    PersonalTokenRevoked => "personal_token_revoked",
    PersonalTokenUsed => "personal_token_used",
    WebhookCreated => "webhook_created",
    WebhookUpdated => "webhook_updated",
    WebhookDeleted => "webhook_deleted",
    WebhookReplayed => "webhook_replayed",
    AuditExported => "audit_exported",
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub time: Timestamp,
    pub event: String,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub actor_id: Option<String>,
    /// The actor's username now (null when no one signed in acted, or the actor is gone).
    pub actor_username: Option<String>,
    pub ip: String,
    pub user_agent: String,
    /// A JSON object, as text.
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// The user the events are about: an id, or a username (matched by its normalized key).
    pub user_id: Option<String>,
    pub username_key: Option<String>,
    /// Who acted: an id, or a username's key.
    pub actor_id: Option<String>,
    pub actor_key: Option<String>,
    pub event: Option<String>,
    /// From this time on (inclusive).
    pub since: Option<Timestamp>,
    /// Before this time (exclusive).
    pub until: Option<Timestamp>,
}

/// Where an export of the audit log stands between pages (newest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExportCursor {
    /// Nothing read yet.
    #[default]
    Start,
    /// What is left lies between these ids (inclusive): the oldest match, found when the
    /// export started, and the entry below the last one sent. An export reads no entry
    /// outside them, however wide its time range and however long the log before it.
    Between(i64, i64),
    /// Everything sent.
    Done,
}

/// Events counted per time bucket, for the administrators' overview.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventCount {
    pub event: String,
    /// Which bucket (0 is the oldest) of the period.
    pub bucket: i64,
    pub count: i64,
}
