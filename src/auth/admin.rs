//! What an administrator does to one user beyond editing it: create it (with an
//! invitation), send it a reset link, end its sessions, see its factors and lockouts and
//! lift them. Every change is bounded (SECURITY: the actor must hold everything the user
//! holds; only a superuser touches a superuser) and audited, refusals included.

use std::sync::Arc;

use tracing::info;

use super::accounts::{AccountError, Accounts, Registration};
use super::mfa::passkeys::PasskeyInfo;
use super::mfa::{Mfa, MfaError};
use super::rbac::{record_denial, Actor, Denial, RoleError, Roles};
use crate::domain::{username_key, ClientInfo, Clock, FieldErrors, Secret, Timestamp};
use crate::notify::Notices;
use crate::store::{AuditMeta, SessionRow, Store, StoreError, UserWithRoles, CHANGED_MEANWHILE};
use crate::throttle::Throttle;
use crate::tokens::UserCache;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    /// Bounded delegation refused it; why, for the client.
    #[error("denied: {0}")]
    Denied(String),
    /// Cannot be done to this user as it stands (`400 {"detail"}`); a fixed message.
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Role(#[from] RoleError),
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The user changed between the judgement and the write (see `Judged`): nothing was done.
fn changed_meanwhile<T>(result: Result<T, StoreError>) -> Result<T, AdminError> {
    result.map_err(|e| match e {
        StoreError::Conflict { constraint } if constraint == CHANGED_MEANWHILE => {
            AdminError::Refused("This user changed meanwhile: reload and try again.")
        }
        other => other.into(),
    })
}

/// A user an administrator makes.
pub struct NewAccount {
    pub username: String,
    pub email: String,
    /// `None`: the user chooses it by the invitation.
    pub password: Option<Secret>,
    pub roles: Vec<String>,
    /// Mail a link that sets the password (needs an email address).
    pub invite: bool,
}

/// What "send a reset link" sent.
pub enum LinkSent {
    Reset,
    /// The user has not chosen a password yet: a new invitation.
    Invitation,
}

/// A user's factors and lockouts, for the security tab.
pub struct Security {
    pub totp: bool,
    pub passkeys: Vec<PasskeyInfo>,
    pub recovery_codes_left: i64,
    /// Wrong codes lock the factor until then.
    pub totp_locked_until: Option<Timestamp>,
    /// Failed logins counted against the username now (any address).
    pub login_failures: u32,
    /// Whether that count stops the username's logins.
    pub login_locked: bool,
}

pub struct UserAdmin {
    store: Arc<Store>,
    accounts: Arc<Accounts>,
    roles: Arc<Roles>,
    mfa: Arc<Mfa>,
    notices: Arc<Notices>,
    throttle: Arc<Throttle>,
    cache: Arc<UserCache>,
    clock: Arc<dyn Clock>,
}

pub struct AdminDeps {
    pub store: Arc<Store>,
    pub accounts: Arc<Accounts>,
    pub roles: Arc<Roles>,
    pub mfa: Arc<Mfa>,
    pub notices: Arc<Notices>,
    pub throttle: Arc<Throttle>,
    pub cache: Arc<UserCache>,
    pub clock: Arc<dyn Clock>,
}

impl UserAdmin {
    pub fn new(d: AdminDeps) -> Self {
        let AdminDeps { store, accounts, roles, mfa, notices, throttle, cache, clock } = d;
        Self { store, accounts, roles, mfa, notices, throttle, cache, clock }
    }

    /// The user, if `actor` may manage them (a refusal is audited as `action`), and the
    /// audit record for the change, holding the judgement (see `Judged`).
    async fn managed(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        action: &str,
        client: &ClientInfo,
    ) -> Result<(UserWithRoles, AuditMeta), AdminError> {
        let audit = AuditMeta::actor(&actor.user.id, client.clone());
        let target = self.store.user_by_id(user_id).await?.ok_or(AdminError::NotFound)?;
        if let Err(Denial(reason)) = Actor::User(actor).may_manage(&target) {
            record_denial(&self.store, Some(user_id), action, &reason, self.clock.now(), &audit).await;
            return Err(AdminError::Denied(reason));
        }
        let audit = audit.judged(&target);
        Ok((target, audit))
    }

    /// Whether `actor` may act on `user_id` (bounded delegation, as `managed`): the audit
    /// metadata to record the change with, or the refusal (itself audited).
    pub async fn judge(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        action: &str,
        client: &ClientInfo,
    ) -> Result<AuditMeta, AdminError> {
        Ok(self.managed(actor, user_id, action, client).await?.1)
    }

    /// Mails to an address an administrator names are throttled like reset requests, so
    /// the console cannot be used to flood a mailbox.
    async fn mail_allowed(&self, client: &ClientInfo, email: &str) -> Result<(), AdminError> {
        match self.throttle.password_reset(&client.ip, email).await {
            Some(wait) => {
                metrics::counter!("authenticon_throttled_total", "scope" => "admin_mail").increment(1);
                Err(AdminError::Throttled(wait))
            }
            None => Ok(()),
        }
    }

    /// Makes a user, with roles the actor may give, and mails an invitation when asked.
    /// Without a password the user gets none usable, so an invitation is required; with
    /// one, none is sent (the link would outlive the password the administrator chose).
    pub async fn create_user(
        &self,
        actor: &UserWithRoles,
        new: NewAccount,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AdminError> {
        let mut errors = FieldErrors::default();
        match (&new.password, new.invite) {
            (None, false) => errors.add("password", "Give a password, or send an invitation to choose one."),
            (Some(_), true) => {
                errors.add("send_invitation", "Give a password or send an invitation, not both.")
            }
            _ => {}
        }
        if new.invite && new.email.is_empty() {
            errors.add("email", "An invitation needs an email address.");
        }
        errors.into_result().map_err(AdminError::Invalid)?;
        let audit = AuditMeta::actor(&actor.user.id, client.clone());
        // Judged before the account exists and held to by the write that makes it: a
        // refused role, or one that changed meanwhile, leaves no user behind.
        let roles = self.roles.check_grantable(Actor::User(actor), &new.roles, &audit).await?;
        if new.invite {
            self.mail_allowed(client, &new.email).await?;
        }
        let registration = Registration {
            username: new.username,
            email: new.email,
            password: new.password,
            is_superuser: false,
            roles,
        };
        let user = self.accounts.create_user(registration, &audit).await?;
        if new.invite && !self.notices.send_invitation(&user.user, &audit).await {
            // The account exists without a usable password; "send reset link" invites again.
            return Err(AdminError::Refused(
                "The user was made, but the invitation could not be sent: send it again from their page.",
            ));
        }
        info!(user_id = %user.user.id, actor = %actor.user.id, invited = new.invite, "user created by an administrator");
        Ok(user)
    }

    /// Mails the user a reset link. SECURITY: only to a verified address, as for
    /// `/api/password-reset/`: an address typed in by someone is no proof of whose it is.
    /// The one exception is a user still without a usable password (invited, never
    /// signed in): they get a new invitation to their address, as the first one went.
    pub async fn send_reset_link(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        client: &ClientInfo,
    ) -> Result<LinkSent, AdminError> {
        let (target, audit) = self.managed(actor, user_id, "password_reset", client).await?;
        if !target.user.is_active {
            return Err(AdminError::Refused("This user is inactive."));
        }
        let invited = !target.user.has_usable_password() && !target.user.email.is_empty();
        if !invited && (target.user.email.is_empty() || !target.user.email_verified) {
            return Err(AdminError::Refused("This user has no verified email address to send a link to."));
        }
        self.mail_allowed(client, &target.user.email).await?;
        let sent = match invited {
            true => self.notices.send_invitation(&target.user, &audit).await,
            false => self.notices.send_reset_link(&target.user, &audit).await,
        };
        match (sent, invited) {
            (false, _) => Err(AdminError::Refused("The link could not be sent: try again.")),
            (true, true) => Ok(LinkSent::Invitation),
            (true, false) => Ok(LinkSent::Reset),
        }
    }

    /// The user's live sessions, most recently used first.
    pub async fn sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, AdminError> {
        self.store.user_by_id(user_id).await?.ok_or(AdminError::NotFound)?;
        Ok(self.store.list_sessions(user_id, self.clock.now()).await?)
    }

    /// Ends one session of the user; false when it is not one of theirs, or not live.
    pub async fn end_session(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        session_id: &str,
        client: &ClientInfo,
    ) -> Result<bool, AdminError> {
        let (_, audit) = self.managed(actor, user_id, "session_revoke", client).await?;
        let ended = changed_meanwhile(
            self.store.revoke_user_session(user_id, session_id, self.clock.now(), &audit).await,
        )?;
        self.cache.invalidate(user_id);
        Ok(ended)
    }

    /// Ends every session of the user: their refresh and access tokens stop at once.
    pub async fn end_all_sessions(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        client: &ClientInfo,
    ) -> Result<u64, AdminError> {
        let (_, audit) = self.managed(actor, user_id, "session_revoke", client).await?;
        let ended =
            changed_meanwhile(self.store.revoke_all_sessions(user_id, self.clock.now(), &audit).await)?;
        self.cache.invalidate(user_id);
        Ok(ended)
    }

    pub async fn security(&self, user_id: &str) -> Result<Security, AdminError> {
        let user = self.store.user_by_id(user_id).await?.ok_or(AdminError::NotFound)?.user;
        let status = self.mfa.status(user_id).await?;
        let now = self.clock.now();
        let totp_locked_until =
            self.store.totp_factor(user_id).await?.map(|f| f.locked_until).filter(|until| *until > now);
        let (login_failures, login_locked) =
            self.throttle.login_failures(&username_key(&user.username)).await;
        Ok(Security {
            totp: status.totp,
            passkeys: self.mfa.passkeys.list(user_id).await?,
            recovery_codes_left: status.recovery_codes_left,
            totp_locked_until,
            login_failures,
            login_locked,
        })
    }

    /// Lifts the user's lockouts: the failed-login counts of their username and the
    /// second factor's lock. Audited as `lockout_cleared`.
    pub async fn clear_lockouts(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        client: &ClientInfo,
    ) -> Result<(), AdminError> {
        let (target, audit) = self.managed(actor, user_id, "lockout_clear", client).await?;
        // The second factor's lock and the record first, in one transaction held to the
        // judgement; the username's counts (memory or Redis) only after it passed.
        let detail = serde_json::json!({ "login": true, "second_factor": true });
        changed_meanwhile(self.store.clear_lockout(user_id, &detail, self.clock.now(), &audit).await)?;
        self.throttle.clear_login(&username_key(&target.user.username)).await;
        Ok(())
    }

    /// Removes every factor of the user (a lost device); false when there was none.
    pub async fn reset_factors(
        &self,
        actor: &UserWithRoles,
        user_id: &str,
        client: &ClientInfo,
    ) -> Result<bool, AdminError> {
        // SECURITY: removing a stronger account's factors is a step to taking it over.
        let (_, audit) = self.managed(actor, user_id, "mfa_reset", client).await?;
        match self.mfa.reset(user_id, &audit).await {
            Err(MfaError::Store(e)) => changed_meanwhile(Err(e)),
            other => Ok(other?),
        }
    }
}
