//! Proof of presence for sensitive changes (API.md "Trust rules"; OWASP ASVS V2/V3
//! re-authentication, GitHub's "sudo mode"). An access token proves only that someone
//! holds it, and a stolen one is as fresh from a login as the owner's: changing the
//! email or the factors of an account takes its password or a code again, in the
//! request or through `POST /api/me/reauthenticate/` a short while before.

use std::sync::Arc;
use std::time::Duration;

use tracing::info;

use crate::accounts::{AccountError, Accounts};
use crate::mfa::Mfa;
use crate::secret::Secret;
use crate::store::{ClientInfo, Store, Timestamp};
use crate::tokens::now;

/// What a request offers as proof.
pub enum PresenceProof {
    Password(Secret),
    /// A TOTP or recovery code.
    Code(String),
    /// Nothing: a recent re-authentication of the session must stand in.
    None,
}

pub struct Presence {
    store: Arc<dyn Store>,
    accounts: Arc<Accounts>,
    mfa: Arc<Mfa>,
    window: i64,
}

impl Presence {
    pub fn new(store: Arc<dyn Store>, accounts: Arc<Accounts>, mfa: Arc<Mfa>, window: Duration) -> Self {
        let window = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
        Self { store, accounts, mfa, window }
    }

    /// Checks a proof; a wrong one is a field error under `password` or `code`, and
    /// counts in the login throttle (a password) or the factor's lock (a code).
    async fn check(&self, user_id: &str, proof: PresenceProof, client: &ClientInfo) -> Result<bool, AccountError> {
        match proof {
            PresenceProof::Password(password) => {
                self.accounts.confirm_password(user_id, &password, client).await?;
                Ok(true)
            }
            PresenceProof::Code(code) => {
                self.mfa.check_code(user_id, &code, client).await?;
                Ok(true)
            }
            PresenceProof::None => Ok(false),
        }
    }

    /// Before a sensitive change: the proof in the request, or a re-authentication of
    /// this session within the window. Otherwise `ReauthenticationRequired`.
    pub async fn require(
        &self,
        user_id: &str,
        session_id: &str,
        proof: PresenceProof,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        if self.check(user_id, proof, client).await? {
            return Ok(());
        }
        // SECURITY: read from the store, never a cache: the proof is of this session,
        // and a login alone leaves it unset.
        let state = self.store.session_state(session_id).await?;
        let fresh = state.is_some_and(|s| {
            s.user_id == user_id
                && s.revoked_at.is_none()
                && s.reauthenticated_at.is_some_and(|t| now() < t.saturating_add(self.window))
        });
        if fresh {
            Ok(())
        } else {
            Err(AccountError::ReauthenticationRequired)
        }
    }

    /// `POST /api/me/reauthenticate/`: checks the proof and records it for the session;
    /// the time until which it covers sensitive changes.
    pub async fn reauthenticate(
        &self,
        user_id: &str,
        session_id: &str,
        proof: PresenceProof,
        client: &ClientInfo,
    ) -> Result<Timestamp, AccountError> {
        if !self.check(user_id, proof, client).await? {
            return Err(AccountError::ReauthenticationRequired);
        }
        let at = now();
        if !self.store.mark_reauthenticated(user_id, session_id, at).await? {
            // The session was revoked meanwhile: its token is about to stop anyway.
            return Err(AccountError::ReauthenticationRequired);
        }
        info!(%user_id, %session_id, "session re-authenticated");
        Ok(at.saturating_add(self.window))
    }
}
