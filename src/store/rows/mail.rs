//! Single-use tokens (mailed links, `mfa_token`s) and the mail outbox.

use crate::domain::Timestamp;

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
    /// For reset links: the account's standing when the link was made (see `standing`).
    pub standing: String,
}
