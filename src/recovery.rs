//! Account recovery, email verification and theft alerts: everything that reaches a user
//! by mail. Links carry single-use tokens `<id>.<verifier>`; only the verifier's SHA-256
//! is stored, it is compared in constant time, and each token expires.

use std::sync::Arc;

use base64::Engine;
use sha2::{Digest, Sha256};
use tracing::{info, warn};

use crate::accounts::{check_new_password, AccountError, UserCache};
use crate::config::Config;
use crate::fields::FieldErrors;
use crate::http::models::rfc3339;
use crate::mail::{Mail, Mailer};
use crate::passwords::Hasher;
use crate::secret::Secret;
use crate::store::{
    AuditEvent, AuditMeta, ClientInfo, MailPurpose, NewMailToken, PresentedMailToken, Reuse, Store, UserRow,
};
use crate::throttle::Throttle;
use crate::tokens::now;

/// The one message for every unusable link: unknown, spent, expired or mistyped alike.
pub const LINK_INVALID: &str = "This link is invalid or has expired.";

pub struct Recovery {
    store: Arc<dyn Store>,
    mailer: Mailer,
    throttle: Arc<Throttle>,
    hasher: Hasher,
    cache: Arc<UserCache>,
    public_url: String,
    reset_ttl: i64,
    verification_ttl: i64,
}

impl Recovery {
    pub fn new(
        config: &Config,
        store: Arc<dyn Store>,
        mailer: Mailer,
        throttle: Arc<Throttle>,
        hasher: Hasher,
        cache: Arc<UserCache>,
    ) -> Self {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self {
            store,
            mailer,
            throttle,
            hasher,
            cache,
            public_url: config.public_url(),
            reset_ttl: secs(config.password_reset_timeout),
            verification_ttl: secs(config.email_verification_timeout),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// `POST /api/password-reset/`. Throttled per client address and per email; past
    /// that, the answer is the same whether or not any account has this address, and
    /// takes the same time: the accounts are looked up and mailed in the background.
    pub async fn request_reset(
        self: &Arc<Self>,
        email: &str,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        if let Some(wait) = self.throttle.password_reset(&client.ip, email).await {
            warn!(address = %client.ip, "password reset throttled");
            metrics::counter!("authenticon_throttled_total", "scope" => "password_reset").increment(1);
            return Err(AccountError::Throttled(wait));
        }
        let (this, email, client) = (Arc::clone(self), email.to_string(), client.clone());
        self.mailer.spawn(async move {
            let users = match this.store.active_users_by_email(&email).await {
                Ok(users) => users,
                Err(e) => return warn!(error = %e, "password reset: could not look up the address"),
            };
            // SECURITY: only a verified address may take an account over by mail; an
            // unverified one may be a typo or a stranger's (API.md "Trust rules").
            for user in users.into_iter().filter(|u| u.email_verified) {
                let audit = AuditMeta::client(client.clone());
                let Some(link) =
                    this.issue(&user, MailPurpose::PasswordReset, "reset-password", &audit).await
                else {
                    continue;
                };
                this.mailer.send_later(Mail {
                    to: user.email.clone(),
                    subject: "Reset your password".into(),
                    body: format!(
                        "Someone asked to reset the password of the account \"{}\" at {}.\n\n\
                         To choose a new password, open this link within {} minutes. It works once:\n\n{link}\n\n\
                         If it was not you, ignore this mail: your password stays as it is.\n",
                        user.username,
                        this.public_url,
                        this.reset_ttl / 60,
                    ),
                    link: Some(link),
                });
            }
        });
        Ok(())
    }

    /// `POST /api/password-reset/confirm/`: sets the password (validated as at
    /// registration), revokes every session and spends the link.
    pub async fn confirm_reset(
        self: &Arc<Self>,
        token: &str,
        new_password: &Secret,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let invalid = || AccountError::Invalid(FieldErrors::one("token", LINK_INVALID));
        let token = parse_token(token).ok_or_else(invalid)?;
        let row =
            self.store.mail_token(&token, MailPurpose::PasswordReset, now()).await?.ok_or_else(invalid)?;
        let user = self.store.user_by_id(&row.user_id).await?.ok_or_else(invalid)?.user;
        check_new_password(new_password, &user)?;
        let hash = self.hasher.hash(new_password).await?;
        let audit = AuditMeta::client(client.clone());
        // The link may have been spent meanwhile (two tabs): the store re-checks it.
        let user_id = self.store.reset_password(&token, &hash, now(), &audit).await?.ok_or_else(invalid)?;
        self.cache.invalidate(&user_id);
        info!(%user_id, "password reset by mail link; every session revoked");
        // The link proved the address it was sent to (the store marks it verified).
        let proven = user.email_verified || user.email.to_lowercase() == row.email.to_lowercase();
        self.notify(&UserRow { email_verified: proven, ..user }, Notice::PasswordReset, client);
        Ok(())
    }

    /// Mails a verification link to the user's address, if they have one; in the
    /// background (registration and email changes do not wait on mail).
    pub fn send_verification(self: &Arc<Self>, user: &UserRow, client: &ClientInfo) {
        if user.email.is_empty() || user.email_verified {
            return;
        }
        let (this, user, audit) = (Arc::clone(self), user.clone(), AuditMeta::client(client.clone()));
        self.mailer.spawn(async move {
            let Some(link) = this.issue(&user, MailPurpose::EmailVerification, "verify-email", &audit).await
            else {
                return;
            };
            this.mailer.send_later(Mail {
                to: user.email.clone(),
                subject: "Confirm your email address".into(),
                body: format!(
                    "Please confirm that {} is the email address of the account \"{}\" at {}:\n\n{link}\n\n\
                     The link works once, for {} hours. If you did not sign up, ignore this mail.\n",
                    user.email,
                    user.username,
                    this.public_url,
                    this.verification_ttl / 3600,
                ),
                link: Some(link),
            });
        });
    }

    /// A new verification link on request; throttled like password-reset requests.
    pub async fn resend_verification(
        self: &Arc<Self>,
        user: &UserRow,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        if let Some(wait) = self.throttle.password_reset(&client.ip, &user.email).await {
            return Err(AccountError::Throttled(wait));
        }
        self.send_verification(user, client);
        Ok(())
    }

    /// `POST /api/email/verify/`.
    pub async fn verify_email(&self, token: &str, client: &ClientInfo) -> Result<(), AccountError> {
        let invalid = || AccountError::Invalid(FieldErrors::one("token", LINK_INVALID));
        let token = parse_token(token).ok_or_else(invalid)?;
        let audit = AuditMeta::client(client.clone());
        let user_id = self.store.verify_email(&token, now(), &audit).await?.ok_or_else(invalid)?;
        self.cache.invalidate(&user_id);
        info!(%user_id, "email address verified");
        Ok(())
    }

    /// The theft alert: a spent refresh token came back, so someone holds a copy of it.
    /// The owner learns when and from where each of the two uses came.
    pub fn alert_reuse(self: &Arc<Self>, reuse: Reuse, replay: ClientInfo) {
        let this = Arc::clone(self);
        let replayed_at = now();
        self.mailer.spawn(async move {
            let user = match this.store.user_by_id(&reuse.user_id).await {
                Ok(Some(u)) if !u.user.email.is_empty() => u.user,
                Ok(_) => return,
                Err(e) => return warn!(error = %e, "theft alert: could not read the user"),
            };
            let link = format!("{}/sessions", this.public_url);
            this.mailer.send_later(Mail {
                to: user.email.clone(),
                subject: "Security alert: a sign-in of your account was used twice".into(),
                body: format!(
                    "A sign-in of your account \"{}\" at {} was used from two places. Only one of them \
                     can be yours:\n\n{}\n{}\n\nWe have ended that sign-in everywhere; you may have to log \
                     in again. If one of these was not you, change your password and review your \
                     sessions:\n\n{link}\n",
                    user.username,
                    this.public_url,
                    describe_use(reuse.first_used_at, &reuse.first_ip, &reuse.first_user_agent),
                    describe_use(replayed_at, &replay.ip, &replay.user_agent),
                ),
                link: Some(link),
            });
            let detail = serde_json::json!({ "session_id": reuse.session_id, "email": user.email });
            if let Err(e) = this
                .store
                .record_audit(
                    AuditEvent::TheftAlertSent,
                    Some(&user.id),
                    &detail,
                    now(),
                    &AuditMeta::client(replay),
                )
                .await
            {
                warn!(error = %e, "theft alert: could not write the audit event");
            }
        });
    }

    /// After an email change: a verification link to the new address, and a notice to
    /// the old one. Nothing when the address stayed the same.
    pub fn email_changed(self: &Arc<Self>, before: &UserRow, after: &UserRow, client: &ClientInfo) {
        if before.email == after.email {
            return;
        }
        self.send_verification(after, client);
        self.notify(before, Notice::EmailChanged { new_email: &after.email }, client);
    }

    /// Tells the owner of an account about a change they should know of, so that one made
    /// by someone else (with a stolen access token, say) does not go unnoticed. Only a
    /// verified address is told: an unverified one may belong to a stranger. For an
    /// email change, `user` is the account as it was, with the old address.
    pub fn notify(self: &Arc<Self>, user: &UserRow, notice: Notice, client: &ClientInfo) {
        if user.email.is_empty() || !user.email_verified {
            return;
        }
        let when = describe_use(now(), &client.ip, &client.user_agent);
        let (name, url) = (&user.username, &self.public_url);
        let password_notice = |kind, how: &str| {
            let link = format!("{url}/forgot-password");
            let body = format!(
                "The password of the account \"{name}\" at {url} was {how} ended:\n\n{when}\n\n\
                 If it was you, there is nothing to do. If not, choose a new password now:\n\n{link}\n"
            );
            (kind, "Your password was changed", body, link)
        };
        let (kind, subject, body, link) = match notice {
            Notice::EmailChanged { new_email } => {
                let change = if new_email.is_empty() {
                    format!("removed; it was {}", user.email)
                } else {
                    format!("changed from {} to {new_email}", user.email)
                };
                let link = format!("{url}/sessions");
                let body = format!(
                    "The email address of the account \"{name}\" at {url} was {change}:\n\n{when}\n\n\
                     If it was you, there is nothing to do. If not, sign in, change your password, set \
                     your address back and end the sessions you do not know:\n\n{link}\n"
                );
                ("email_changed", "The email address of your account was changed", body, link)
            }
            Notice::PasswordChanged => {
                password_notice("password_changed", "changed, and its other sign-ins were")
            }
            Notice::PasswordReset => password_notice(
                "password_reset",
                "reset with a link mailed to this address, and every sign-in was",
            ),
            Notice::FactorAdded { factor } => {
                let link = format!("{url}/two-factor");
                let body = format!(
                    "{factor} was added as a second factor of the account \"{name}\" at {url}:\n\n{when}\n\n\
                     If it was you, there is nothing to do. If not, someone can sign in as you: sign in, \
                     change your password, remove the factor and end the sessions you do not know:\n\n{link}\n"
                );
                ("factor_added", "A second factor was added to your account", body, link)
            }
        };
        self.mailer.send_later(Mail {
            to: user.email.clone(),
            subject: subject.into(),
            body,
            link: Some(link),
        });
        let (store, user_id, audit) =
            (Arc::clone(&self.store), user.id.clone(), AuditMeta::client(client.clone()));
        let detail = serde_json::json!({ "notice": kind, "email": user.email });
        self.mailer.spawn(async move {
            let event = AuditEvent::SecurityNoticeSent;
            if let Err(e) = store.record_audit(event, Some(&user_id), &detail, now(), &audit).await {
                warn!(error = %e, "security notice: could not write the audit event");
            }
        });
    }

    /// Creates and stores a token for `user`; the link to the web app page that uses it.
    async fn issue(
        &self,
        user: &UserRow,
        purpose: MailPurpose,
        page: &str,
        audit: &AuditMeta,
    ) -> Option<String> {
        let (ttl, event) = match purpose {
            MailPurpose::EmailVerification => (self.verification_ttl, AuditEvent::EmailVerificationSent),
            _ => (self.reset_ttl, AuditEvent::PasswordResetRequested),
        };
        let (token, stored) = new_token();
        let now = now();
        let record = NewMailToken {
            id: stored.id,
            verifier_hash: stored.verifier_hash,
            purpose,
            user_id: user.id.clone(),
            email: user.email.clone(),
            now,
            expires_at: now.saturating_add(ttl),
        };
        if let Err(e) = self.store.insert_mail_token(&record, Some(event), audit).await {
            warn!(error = %e, user_id = %user.id, purpose = purpose.as_str(), "could not store a mail token");
            return None;
        }
        Some(format!("{}/{page}?token={token}", self.public_url))
    }
}

/// A change to an account its owner is told of by mail.
#[derive(Clone, Copy)]
pub enum Notice<'a> {
    /// The address changed (to `new_email`, or removed when it is empty).
    EmailChanged {
        new_email: &'a str,
    },
    PasswordChanged,
    PasswordReset,
    /// A second factor was added (`"an authenticator app"`, `"a passkey"`).
    FactorAdded {
        factor: &'a str,
    },
}

/// One line of a mail: when, from where and with what something happened.
fn describe_use(at: i64, ip: &str, agent: &str) -> String {
    let agent = if agent.is_empty() { "unknown browser or client" } else { agent };
    format!("  {} from {} ({agent})", rfc3339(at), if ip.is_empty() { "an unknown address" } else { ip })
}

/// A fresh token: what goes in the link, and what is stored.
pub fn new_token() -> (String, PresentedMailToken) {
    let id: [u8; 16] = rand::random();
    let verifier: [u8; 32] = rand::random();
    let id = hex::encode(id);
    let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(verifier);
    let token = format!("{id}.{verifier}");
    (token, PresentedMailToken { id, verifier_hash: hash_verifier(&verifier) })
}

fn hash_verifier(verifier: &str) -> String {
    hex::encode(Sha256::digest(verifier.as_bytes()))
}

/// `<32 hex>.<verifier>`; anything else is refused before the store is asked.
pub fn parse_token(token: &str) -> Option<PresentedMailToken> {
    let (id, verifier) = token.trim().split_once('.')?;
    let ok = id.len() == 32
        && id.bytes().all(|b| b.is_ascii_hexdigit())
        && (1..=64).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then(|| PresentedMailToken { id: id.to_ascii_lowercase(), verifier_hash: hash_verifier(verifier) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_malformed_ones_are_refused() {
        let (token, stored) = new_token();
        let parsed = parse_token(&token).unwrap_or_else(|| panic!("{token}"));
        assert_eq!(parsed.id, stored.id);
        assert_eq!(parsed.verifier_hash, stored.verifier_hash);
        let (other, _) = new_token();
        assert_ne!(token, other);
        for bad in [
            "",
            ".",
            "abc.def",
            &format!("{}.", stored.id),
            &format!("{}.a b", stored.id),
            "x".repeat(200).as_str(),
        ] {
            assert!(parse_token(bad).is_none(), "{bad:?}");
        }
    }
}
