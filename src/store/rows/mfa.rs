//! Second factors: the TOTP factor, passkeys and their ceremonies.

use crate::domain::Timestamp;

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
