//! The one login flow. Every way in ends here and is decided here: a password (then a
//! second factor when the account has one), a passkey alone, and later the OIDC
//! authorize endpoint and external providers. Throttles, the verified-email rule, the
//! second-factor rule, the active-user rule and the audit trail apply to all of them
//! alike; callers only turn the outcome into a token pair or a cookie session.

use std::sync::Arc;

use tracing::warn;

use super::mfa::{FirstStep, Mfa, MfaError, Proof};
use crate::crypto::passwords::{HashError, Hasher};
use crate::domain::{normalize_username, username_key, ClientInfo, Clock, Secret};
use crate::store::{AuditEvent, AuditMeta, Store, StoreError, UserWithRoles};
use crate::throttle::Throttle;

/// A user who passed every login step, and how: OpenID Connect `amr` values (RFC 8176).
pub struct Proven {
    pub user: UserWithRoles,
    pub amr: &'static [&'static str],
}

/// A password alone.
pub const AMR_PASSWORD: &[&str] = &["pwd"];
/// A password and a code (authenticator app or recovery code).
pub const AMR_PASSWORD_CODE: &[&str] = &["pwd", "otp", "mfa"];
/// A password and a passkey.
pub const AMR_PASSWORD_PASSKEY: &[&str] = &["pwd", "hwk", "mfa"];
/// A passkey alone (it verifies its user).
pub const AMR_PASSKEY: &[&str] = &["hwk", "user"];
/// An external identity provider's sign-in. `ext` is not in RFC 8176's registry, which
/// has no value for federation; the provider's own methods are not passed on, since
/// nothing here checked them.
pub const AMR_EXTERNAL: &[&str] = &["ext"];
/// An external provider's sign-in and a code.
pub const AMR_EXTERNAL_CODE: &[&str] = &["ext", "otp", "mfa"];
/// An external provider's sign-in and a passkey.
pub const AMR_EXTERNAL_PASSKEY: &[&str] = &["ext", "hwk", "mfa"];

/// Where a login step leaves the user.
pub enum LoginOutcome {
    /// Every step passed: start a session for this user.
    Done(Proven),
    /// The password was right and the account has a second factor: the second step
    /// presents this token and one of these methods.
    SecondFactor { mfa_token: String, methods: Vec<&'static str> },
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// A wrong username or password, or an inactive account: one answer for all.
    #[error("wrong credentials")]
    WrongCredentials,
    /// The right password, but the address is not verified and the service requires it.
    #[error("email not verified")]
    EmailNotVerified,
    /// The account went away between two steps.
    #[error("user not found")]
    UserNotFound,
    #[error("throttled for {0} s")]
    Throttled(u64),
    /// The second step's or the passkey's own refusals (a wrong code, an expired token).
    #[error(transparent)]
    Mfa(#[from] MfaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

pub struct LoginFlow {
    store: Arc<Store>,
    hasher: Hasher,
    throttle: Arc<Throttle>,
    mfa: Arc<Mfa>,
    clock: Arc<dyn Clock>,
    require_verified_email: bool,
}

impl LoginFlow {
    pub fn new(
        store: Arc<Store>,
        hasher: Hasher,
        throttle: Arc<Throttle>,
        mfa: Arc<Mfa>,
        clock: Arc<dyn Clock>,
        require_verified_email: bool,
    ) -> Self {
        Self { store, hasher, throttle, mfa, clock, require_verified_email }
    }

    /// The password step. Throttled attempts are refused before any hashing; every
    /// attempt is counted before the hash is checked and stays counted unless the
    /// password was right; failures are audited.
    pub async fn password(
        &self,
        username: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<LoginOutcome, LoginError> {
        let key = username_key(&normalize_username(username.trim()));
        let keys = self.throttle.login_keys(&key, &client.ip);
        let audit = AuditMeta::client(client.clone());
        let attempt = match self.throttle.begin_login(&keys).await {
            Ok(attempt) => attempt,
            Err(wait) => return Err(self.throttled(&key, wait, &audit).await),
        };
        let user = match self.check_credentials(&key, password).await? {
            Ok(user) => user,
            Err(known_user) => {
                metrics::counter!("authenticon_logins_total", "outcome" => "failure").increment(1);
                // SECURITY: the attempted name is recorded only when it is a real
                // account; people type passwords into username fields.
                let reason = if known_user.is_some() { "bad_credentials" } else { "unknown_user" };
                let detail = serde_json::json!({ "reason": reason });
                self.note(AuditEvent::LoginFailed, known_user.as_deref(), detail, &audit).await;
                return Err(LoginError::WrongCredentials);
            }
        };
        // Only after the password was right: the answers below reveal nothing to a guesser.
        self.throttle.login_succeeded(attempt).await;
        self.first_factor_passed(user, FirstStep::Password).await
    }

    /// What follows a first factor that proved `user`: the verified-address rule, then the
    /// second factor when the account has one.
    async fn first_factor_passed(
        &self,
        user: UserWithRoles,
        first: FirstStep,
    ) -> Result<LoginOutcome, LoginError> {
        if self.require_verified_email && !user.user.email_verified {
            metrics::counter!("authenticon_logins_total", "outcome" => "email_not_verified").increment(1);
            return Err(LoginError::EmailNotVerified);
        }
        metrics::counter!("authenticon_logins_total", "outcome" => "success").increment(1);
        let status = self.mfa.status(&user.user.id).await?;
        if status.enabled() {
            let mfa_token = self.mfa.challenge(&user.user.id, first).await?;
            return Ok(LoginOutcome::SecondFactor { mfa_token, methods: status.methods() });
        }
        let amr = match first {
            FirstStep::Password => AMR_PASSWORD,
            FirstStep::External => AMR_EXTERNAL,
        };
        Ok(LoginOutcome::Done(Proven { user, amr }))
    }

    /// The second step: the `mfa_token` of the password step and a code or a passkey's
    /// answer.
    pub async fn second_factor(
        &self,
        mfa_token: &str,
        proof: Proof,
        client: &ClientInfo,
    ) -> Result<Proven, LoginError> {
        let by_code = matches!(proof, Proof::Code(_));
        let (user_id, first) = self.mfa.complete(mfa_token, proof, client).await?;
        let amr = match (first, by_code) {
            (FirstStep::Password, true) => AMR_PASSWORD_CODE,
            (FirstStep::Password, false) => AMR_PASSWORD_PASSKEY,
            (FirstStep::External, true) => AMR_EXTERNAL_CODE,
            (FirstStep::External, false) => AMR_EXTERNAL_PASSKEY,
        };
        Ok(Proven { user: self.active(&user_id).await?, amr })
    }

    /// A login with a passkey alone (it verifies its user, so it is both factors). The
    /// same rule as a password login: a passkey is no proof of the address.
    pub async fn passkey(
        &self,
        ceremony: &str,
        answer: serde_json::Value,
        client: &ClientInfo,
    ) -> Result<Proven, LoginError> {
        let user_id = self.mfa.passkeys.finish_login(ceremony, answer, client).await?;
        let user = self.active(&user_id).await?;
        if self.require_verified_email && !user.user.email_verified {
            return Err(LoginError::EmailNotVerified);
        }
        Ok(Proven { user, amr: AMR_PASSKEY })
    }

    /// A sign-in through an external provider, its answer checked and mapped to this
    /// account (`auth::external`): the same rules as a password from here on (active
    /// account, verified address when required, the second factor when the account has
    /// one).
    pub async fn external(&self, user_id: &str) -> Result<LoginOutcome, LoginError> {
        let user = self.active(user_id).await?;
        self.first_factor_passed(user, FirstStep::External).await
    }

    /// The user a step proved, as long as the account is active.
    async fn active(&self, user_id: &str) -> Result<UserWithRoles, LoginError> {
        let user = self.store.user_by_id(user_id).await?.ok_or(LoginError::UserNotFound)?;
        if !user.user.is_active {
            return Err(LoginError::WrongCredentials);
        }
        Ok(user)
    }

    /// Checks a username and password. Unknown user, wrong password and inactive user
    /// fail alike and take the same time (a dummy hash is verified for unknown users).
    /// The inner error carries the id of the account when the name was a real one.
    async fn check_credentials(
        &self,
        key: &str,
        password: &Secret,
    ) -> Result<Result<UserWithRoles, Option<String>>, LoginError> {
        let user = self.store.user_by_username_key(key).await?;
        let ok = self.hasher.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
        let user = match user {
            Some(u) if ok && u.is_active => u,
            other => return Ok(Err(other.map(|u| u.id))),
        };
        if self.hasher.needs_rehash(&user.password_hash) {
            self.upgrade_hash(&user.id, &user.password_hash, password).await;
        }
        // SECURITY: the account as it stands now, but only if its password is still the
        // one just checked and it is still active: a reset (or deactivation) committing
        // while the hash was checked ends this login here, and the session it would open
        // is refused again when written if one commits later (`Store::start_session`).
        let now = self.store.user_by_id(&user.id).await?;
        Ok(now
            .filter(|u| u.user.is_active && u.user.password_changed_at == user.password_changed_at)
            .ok_or(Some(user.id)))
    }

    /// Re-hashes with the configured parameters; a failure only delays the upgrade.
    async fn upgrade_hash(&self, id: &str, old_hash: &str, password: &Secret) {
        let upgraded = match self.hasher.hash(password).await {
            Ok(new_hash) => {
                self.store.upgrade_password_hash(id, old_hash, &new_hash).await.map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(error) = upgraded {
            warn!(user_id = %id, %error, "could not upgrade password hash");
        }
    }

    /// A refused login: counted, audited, and the wait to tell the client.
    async fn throttled(&self, key: &str, wait: u64, audit: &AuditMeta) -> LoginError {
        warn!(address = %audit.client.ip, "login throttled");
        metrics::counter!("authenticon_logins_total", "outcome" => "throttled").increment(1);
        metrics::counter!("authenticon_throttled_total", "scope" => "login").increment(1);
        let known = self.store.user_by_username_key(key).await.ok().flatten();
        let detail = serde_json::json!({ "scope": "login", "retry_after": wait });
        self.note(AuditEvent::Throttled, known.as_ref().map(|u| u.id.as_str()), detail, audit).await;
        LoginError::Throttled(wait)
    }

    /// Records an event that changes nothing; a store failure only loses the record.
    async fn note(
        &self,
        event: AuditEvent,
        user_id: Option<&str>,
        detail: serde_json::Value,
        audit: &AuditMeta,
    ) {
        if let Err(e) = self.store.record_audit(event, user_id, &detail, self.clock.now(), audit).await {
            warn!(error = %e, event = event.as_str(), "could not write audit event");
        }
    }
}
