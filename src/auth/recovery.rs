//! Account recovery and email verification by mailed, single-use links: requesting and
//! following a reset link, and following or asking again for a verification link.

use std::sync::Arc;

use tracing::{info, warn};

use super::accounts::check_new_password;
use crate::crypto::parse_token;
use crate::crypto::passwords::{HashError, Hasher};
use crate::domain::{ClientInfo, Clock, FieldErrors, Secret};
use crate::notify::{Notice, Notices};
use crate::store::{AuditMeta, MailPurpose, Store, StoreError, UserRow};
use crate::throttle::Throttle;
use crate::tokens::UserCache;

/// The one message for every unusable link: unknown, spent, expired or mistyped alike.
pub const LINK_INVALID: &str = "This link is invalid or has expired.";

#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    /// A bad link (`token`) or a new password the validators refuse (`new_password`).
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

fn link_invalid() -> RecoveryError {
    RecoveryError::Invalid(FieldErrors::one("token", LINK_INVALID))
}

pub struct Recovery {
    store: Arc<Store>,
    notices: Arc<Notices>,
    throttle: Arc<Throttle>,
    hasher: Hasher,
    cache: Arc<UserCache>,
    clock: Arc<dyn Clock>,
}

impl Recovery {
    pub fn new(
        store: Arc<Store>,
        notices: Arc<Notices>,
        throttle: Arc<Throttle>,
        hasher: Hasher,
        cache: Arc<UserCache>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { store, notices, throttle, hasher, cache, clock }
    }

    /// `POST /api/password-reset/`. Throttled per client address and per email; past
    /// that, the answer is the same whether or not any account has this address, and
    /// takes the same time: the accounts are looked up and mailed in the background.
    pub async fn request_reset(&self, email: &str, client: &ClientInfo) -> Result<(), RecoveryError> {
        if let Some(wait) = self.throttle.password_reset(&client.ip, email).await {
            warn!(address = %client.ip, "password reset throttled");
            metrics::counter!("authenticon_throttled_total", "scope" => "password_reset").increment(1);
            return Err(RecoveryError::Throttled(wait));
        }
        let (store, notices) = (Arc::clone(&self.store), Arc::clone(&self.notices));
        let (email, client) = (email.to_string(), client.clone());
        self.notices.mailer().spawn(async move {
            match store.active_users_by_email(&email).await {
                Ok(users) => notices.send_reset_links(users, &AuditMeta::client(client)).await,
                Err(e) => warn!(error = %e, "password reset: could not look up the address"),
            }
        });
        Ok(())
    }

    /// Whether a reset (or invitation) link still works, without spending it: the web app
    /// asks before it shows the form.
    pub async fn check_link(&self, token: &str) -> Result<(), RecoveryError> {
        let token = parse_token(token).ok_or_else(link_invalid)?;
        let row = self.store.mail_token(&token, MailPurpose::PasswordReset, self.clock.now()).await?;
        let user = match row {
            Some(row) => self.store.user_by_id(&row.user_id).await?,
            None => None,
        };
        match user {
            Some(u) if u.user.is_active => Ok(()),
            _ => Err(link_invalid()),
        }
    }

    /// `POST /api/password-reset/confirm/`: sets the password (validated as at
    /// registration), revokes every session and spends the link.
    pub async fn confirm_reset(
        &self,
        token: &str,
        new_password: &Secret,
        client: &ClientInfo,
    ) -> Result<(), RecoveryError> {
        let token = parse_token(token).ok_or_else(link_invalid)?;
        let now = self.clock.now();
        let row =
            self.store.mail_token(&token, MailPurpose::PasswordReset, now).await?.ok_or_else(link_invalid)?;
        let user = self.store.user_by_id(&row.user_id).await?.ok_or_else(link_invalid)?.user;
        check_new_password(new_password, &user).map_err(RecoveryError::Invalid)?;
        let hash = self.hasher.hash(new_password).await?;
        let audit = AuditMeta::client(client.clone());
        // The link may have been spent meanwhile (two tabs): the store re-checks it.
        let user_id = self
            .store
            .reset_password(&token, &hash, self.clock.now(), &audit)
            .await?
            .ok_or_else(link_invalid)?;
        self.cache.invalidate(&user_id);
        info!(%user_id, "password reset by mail link; every session revoked");
        // The link proved the address it was sent to (the store marks it verified).
        let proven = user.email_verified || user.email.to_lowercase() == row.email.to_lowercase();
        self.notices.notify(&UserRow { email_verified: proven, ..user }, Notice::PasswordReset, client);
        Ok(())
    }

    /// A new verification link on request; throttled like password-reset requests.
    pub async fn resend_verification(
        &self,
        user: &UserRow,
        client: &ClientInfo,
    ) -> Result<(), RecoveryError> {
        if let Some(wait) = self.throttle.password_reset(&client.ip, &user.email).await {
            return Err(RecoveryError::Throttled(wait));
        }
        self.notices.send_verification(user, client);
        Ok(())
    }

    /// `POST /api/email/verify/`.
    pub async fn verify_email(&self, token: &str, client: &ClientInfo) -> Result<(), RecoveryError> {
        let token = parse_token(token).ok_or_else(link_invalid)?;
        let audit = AuditMeta::client(client.clone());
        let user_id =
            self.store.verify_email(&token, self.clock.now(), &audit).await?.ok_or_else(link_invalid)?;
        self.cache.invalidate(&user_id);
        info!(%user_id, "email address verified");
        Ok(())
    }
}
