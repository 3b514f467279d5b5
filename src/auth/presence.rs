//! Proof of presence for sensitive changes (API.md "Trust rules"; OWASP ASVS V2/V3
//! re-authentication, GitHub's "sudo mode"). An access token proves only that someone
//! holds it, and a stolen one is as fresh from a login as the owner's: changing the
//! email or the factors of an account takes its password, a code or a passkey again, in
//! the request or through `POST /api/me/reauthenticate/` a short while before.

use std::sync::Arc;
use std::time::Duration;

use tracing::info;

use super::accounts::{AccountError, Accounts};
use super::mfa::{Mfa, MfaError};
use crate::domain::{ClientInfo, Clock, FieldErrors, Secret, Timestamp};
use crate::store::{Store, StoreError};

/// When the account has a second factor, a password alone is less than its login asks.
pub const SECOND_FACTOR_NEEDED: &str =
    "This account has a second factor: confirm with a code from it (or a recovery code), or with a passkey.";

#[derive(Debug, thiserror::Error)]
pub enum PresenceError {
    /// A sensitive change without a fresh proof of presence.
    #[error("reauthentication required")]
    Required,
    /// A password alone where the account has a second factor.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// A wrong password, throttled re-checks.
    #[error(transparent)]
    Account(#[from] AccountError),
    /// A wrong code or passkey answer, a locked factor.
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a request offers as proof; any part may be missing.
#[derive(Default)]
pub struct PresenceProof {
    pub password: Option<Secret>,
    /// A TOTP or recovery code.
    pub code: Option<String>,
    /// A passkey's answer to the options of `/api/me/reauthenticate/passkey/`.
    pub passkey: Option<serde_json::Value>,
}

impl PresenceProof {
    pub fn none() -> Self {
        Self::default()
    }

    fn is_empty(&self) -> bool {
        self.password.is_none() && self.code.is_none() && self.passkey.is_none()
    }
}

pub struct Presence {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    accounts: Arc<Accounts>,
    mfa: Arc<Mfa>,
    window: i64,
}

/// The passkey ceremony of a session's re-authentication: one at a time per session.
fn ceremony(session_id: &str) -> String {
    format!("reauth-{session_id}")
}

impl Presence {
    pub fn new(
        store: Arc<Store>,
        accounts: Arc<Accounts>,
        mfa: Arc<Mfa>,
        clock: Arc<dyn Clock>,
        window: Duration,
    ) -> Self {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        Self { store, clock, accounts, mfa, window }
    }

    /// Checks a proof at the assurance level of the account's login: a passkey (both
    /// factors at once); else the password, and a code as well when the account has a
    /// second factor; or a code alone. A wrong password is a field error under
    /// `password` and counts in the login throttle; a wrong code one under `code`,
    /// counted by the factor's lock and, per address, like second login steps. False
    /// when nothing was offered.
    async fn check(
        &self,
        user_id: &str,
        session_id: &str,
        proof: PresenceProof,
        client: &ClientInfo,
    ) -> Result<bool, PresenceError> {
        if proof.is_empty() {
            return Ok(false);
        }
        if let Some(answer) = proof.passkey {
            let passkeys = &self.mfa.passkeys;
            return self
                .second_factor(
                    client,
                    passkeys.finish_second_step(user_id, &ceremony(session_id), answer, client),
                )
                .await;
        }
        if let Some(password) = &proof.password {
            self.accounts.confirm_password(user_id, password, client).await?;
        }
        match proof.code {
            Some(code) => self.second_factor(client, self.mfa.check_code(user_id, &code, client)).await,
            None if self.mfa.status(user_id).await?.enabled() => {
                Err(PresenceError::Invalid(FieldErrors::one("code", SECOND_FACTOR_NEEDED)))
            }
            None => Ok(true),
        }
    }

    /// A second-factor check, counted per address before it runs.
    async fn second_factor(
        &self,
        client: &ClientInfo,
        check: impl std::future::Future<Output = Result<(), MfaError>>,
    ) -> Result<bool, PresenceError> {
        self.mfa.counted(client, check).await?;
        Ok(true)
    }

    /// A session re-authenticated within the window needs no proof in the request (one
    /// sent along is then not checked).
    pub async fn require(
        &self,
        user_id: &str,
        session_id: &str,
        proof: PresenceProof,
        client: &ClientInfo,
    ) -> Result<(), PresenceError> {
        // SECURITY: read from the store, never a cache: the proof is of this session,
        // and a login alone leaves it unset.
        let state = self.store.session_state(session_id).await?;
        let fresh = state.is_some_and(|s| {
            s.user_id == user_id
                && s.revoked_at.is_none()
                && s.reauthenticated_at.is_some_and(|t| self.clock.now() < t.saturating_add(self.window))
        });
        if fresh || self.check(user_id, session_id, proof, client).await? {
            Ok(())
        } else {
            Err(PresenceError::Required)
        }
    }

    /// Options for `navigator.credentials.get()` with the user's passkeys, for
    /// `/api/me/reauthenticate/` `{"credential"}`.
    pub async fn passkey_options(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<serde_json::Value, PresenceError> {
        Ok(self.mfa.passkeys.start_second_step(user_id, &ceremony(session_id)).await?)
    }

    /// `POST /api/me/reauthenticate/`: checks the proof and records it for the session;
    /// the time until which it covers sensitive changes.
    pub async fn reauthenticate(
        &self,
        user_id: &str,
        session_id: &str,
        proof: PresenceProof,
        client: &ClientInfo,
    ) -> Result<Timestamp, PresenceError> {
        if !self.check(user_id, session_id, proof, client).await? {
            return Err(PresenceError::Required);
        }
        let at = self.clock.now();
        if !self.store.mark_reauthenticated(user_id, session_id, at).await? {
            // The session was revoked meanwhile: its token is about to stop anyway.
            return Err(PresenceError::Required);
        }
        info!(%user_id, %session_id, "session re-authenticated");
        Ok(at.saturating_add(self.window))
    }
}
