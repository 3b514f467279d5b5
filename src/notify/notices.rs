//! What reaches a user by mail: verification and reset links, security notices after
//! changes they should know of, and the theft alert. Each mail goes through the outbox;
//! each is recorded in the audit log; links carry opaque single-use tokens.

use std::sync::Arc;

use tracing::warn;

use super::outbox::{Mail, Mailer};
use crate::config::Config;
use crate::crypto::new_token;
use crate::domain::{rfc3339, ClientInfo, Clock};
use crate::store::{AuditEvent, AuditMeta, MailPurpose, NewMailToken, Reuse, Store, UserRow};

pub struct Notices {
    store: Arc<Store>,
    mailer: Mailer,
    clock: Arc<dyn Clock>,
    public_url: String,
    reset_ttl: i64,
    verification_ttl: i64,
    invitation_ttl: i64,
}

/// The links a mail can carry.
enum Link {
    Verification,
    Reset,
    Invitation,
}

impl Notices {
    pub fn new(config: &Config, store: Arc<Store>, mailer: Mailer, clock: Arc<dyn Clock>) -> Self {
        let secs = |d: std::time::Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Self {
            store,
            mailer,
            clock,
            public_url: config.public_url(),
            reset_ttl: secs(config.password_reset_timeout),
            verification_ttl: secs(config.email_verification_timeout),
            invitation_ttl: secs(config.invitation_timeout),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// Mails a reset link to each of `users` whose address is verified. SECURITY: only a
    /// verified address may take an account over by mail; an unverified one may be a typo
    /// or a stranger's (API.md "Trust rules").
    pub async fn send_reset_links(&self, users: Vec<UserRow>, audit: &AuditMeta) {
        for user in users.iter().filter(|u| u.email_verified) {
            self.send_reset_link(user, audit).await;
        }
    }

    /// Mails one reset link; false when its token could not be stored (nothing sent).
    pub async fn send_reset_link(&self, user: &UserRow, audit: &AuditMeta) -> bool {
        let Some(link) = self.issue(user, Link::Reset, audit).await else { return false };
        self.mailer.send_later(Mail {
            to: user.email.clone(),
            subject: "Reset your password".into(),
            body: format!(
                "Someone asked to reset the password of the account \"{}\" at {}.\n\n\
                 To choose a new password, open this link within {} minutes. It works once:\n\n{link}\n\n\
                 If it was not you, ignore this mail: your password stays as it is.\n",
                user.username,
                self.public_url,
                self.reset_ttl / 60,
            ),
            link: Some(link),
        });
        true
    }

    /// Mails an invitation: a link that sets the account's first password, valid for
    /// `AUTHENTICON_INVITATION_TIMEOUT`. Following it proves the address.
    pub async fn send_invitation(&self, user: &UserRow, audit: &AuditMeta) -> bool {
        let Some(link) = self.issue(user, Link::Invitation, audit).await else { return false };
        self.mailer.send_later(Mail {
            to: user.email.clone(),
            subject: "You have an account: choose your password".into(),
            body: format!(
                "An account \"{}\" was made for you at {}.\n\n\
                 To choose its password and sign in, open this link within {} days. It works once:\n\n{link}\n\n\
                 If you did not expect this, ignore this mail: nobody can sign in without the password.\n",
                user.username,
                self.public_url,
                self.invitation_ttl / 86_400,
            ),
            link: Some(link),
        });
        true
    }

    /// Mails a verification link to the user's address, if they have one; in the
    /// background (registration and email changes do not wait on mail).
    pub fn send_verification(self: &Arc<Self>, user: &UserRow, client: &ClientInfo) {
        if user.email.is_empty() || user.email_verified {
            return;
        }
        let (this, user, audit) = (Arc::clone(self), user.clone(), AuditMeta::client(client.clone()));
        self.mailer.spawn(async move {
            let Some(link) = this.issue(&user, Link::Verification, &audit).await else {
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

    /// The theft alert: a spent refresh token came back, so someone holds a copy of it.
    /// The owner learns when and from where each of the two uses came.
    pub fn alert_reuse(self: &Arc<Self>, reuse: Reuse, replay: ClientInfo) {
        let this = Arc::clone(self);
        let replayed_at = self.clock.now();
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
                    replayed_at,
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
        let when = describe_use(self.clock.now(), &client.ip, &client.user_agent);
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
            Notice::IdentityLinked { provider } | Notice::IdentityUnlinked { provider } => {
                let link = format!("{url}/linked-accounts");
                let (kind, subject, what, danger) = match notice {
                    Notice::IdentityLinked { .. } => (
                        "identity_linked",
                        "A sign-in method was linked to your account",
                        "can now sign in to",
                        "someone can sign in as you: sign in, unlink it, change your password and end \
                         the sessions you do not know",
                    ),
                    _ => (
                        "identity_unlinked",
                        "A sign-in method was unlinked from your account",
                        "can no longer sign in to",
                        "someone else changed your account: sign in, change your password and end the \
                         sessions you do not know",
                    ),
                };
                let body = format!(
                    "Your {provider} account {what} the account \"{name}\" at {url}:\n\n{when}\n\n\
                     If it was you, there is nothing to do. If not, {danger}:\n\n{link}\n"
                );
                (kind, subject, body, link)
            }
            Notice::FactorAdded { factor } => {
                let link = format!("{url}/two-factor");
                let body = format!(
                    "{factor} was added as a second factor of the account \"{name}\" at {url}:\n\n{when}\n\n\
                     If it was you, there is nothing to do. If not, someone can sign in as you: sign in, \
                     change your password, remove the factor and end the sessions you do not know:\n\n{link}\n"
                );
                ("factor_added", "A second factor was added to your account", body, link)
            }
            Notice::PersonalTokenCreated { name: token } => {
                let link = format!("{url}/tokens");
                let body = format!(
                    "A personal access token named \"{token}\" was created for the account \"{name}\" at \
                     {url}:\n\n{when}\n\nIf it was you, there is nothing to do. If not, someone can act as you \
                     through it: sign in, revoke it, change your password and end the sessions you do not know:\n\n{link}\n"
                );
                ("personal_token_created", "A personal access token was created for your account", body, link)
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
        let at = self.clock.now();
        self.mailer.spawn(async move {
            let event = AuditEvent::SecurityNoticeSent;
            if let Err(e) = store.record_audit(event, Some(&user_id), &detail, at, &audit).await {
                warn!(error = %e, "security notice: could not write the audit event");
            }
        });
    }

    /// Creates and stores a token for `user`; the link to the web app page that uses it.
    async fn issue(&self, user: &UserRow, link: Link, audit: &AuditMeta) -> Option<String> {
        let (purpose, page, ttl, event) = match link {
            Link::Verification => (
                MailPurpose::EmailVerification,
                "verify-email",
                self.verification_ttl,
                AuditEvent::EmailVerificationSent,
            ),
            Link::Reset => (
                MailPurpose::PasswordReset,
                "reset-password",
                self.reset_ttl,
                AuditEvent::PasswordResetRequested,
            ),
            // An invitation is a reset link that lives longer: it sets the first password.
            Link::Invitation => (
                MailPurpose::PasswordReset,
                "reset-password",
                self.invitation_ttl,
                AuditEvent::InvitationSent,
            ),
        };
        let (token, stored) = new_token();
        let now = self.clock.now();
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
    /// An external provider's account was linked (its display name).
    IdentityLinked {
        provider: &'a str,
    },
    IdentityUnlinked {
        provider: &'a str,
    },
    /// A personal access token was created (its name).
    PersonalTokenCreated {
        name: &'a str,
    },
}

/// One line of a mail: when, from where and with what something happened.
fn describe_use(at: i64, ip: &str, agent: &str) -> String {
    let agent = if agent.is_empty() { "unknown browser or client" } else { agent };
    format!("  {} from {} ({agent})", rfc3339(at), if ip.is_empty() { "an unknown address" } else { ip })
}
