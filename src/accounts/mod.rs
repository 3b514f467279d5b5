//! Account service: registration, authentication, password and email changes.

mod rules;
mod user_cache;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use rules::{check_new_password, email_is_valid, normalize_username, username_key, MAX_USERNAME_CHARS};
pub use user_cache::UserCache;

use rules::username_errors;

use tracing::{info, warn};

use crate::fields::FieldErrors;
use crate::passwords::{validate_password, HashError, Hasher, UserAttributes};
use crate::rbac::{record_denial, Actor};
use crate::secret::Secret;
use crate::store::{
    AuditEvent, AuditMeta, ClientInfo, NewUser, Page, Store, StoreError, UserChanges, UserRow, UserWithRoles,
    LAST_SUPERUSER,
};
use crate::throttle::Throttle;
use crate::tokens::now;

pub const MAX_EMAIL_CHARS: usize = 254;
/// Django's wording for a wrong old password, for the password that confirms a change.
pub const WRONG_PASSWORD: &str = "Your password was entered incorrectly. Please enter it again.";

const USERNAME_TAKEN: &str = "A user with that username already exists.";
pub const EMAIL_INVALID: &str = "Enter a valid email address.";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("email not verified")]
    EmailNotVerified,
    /// A request that cannot be honoured as it stands (`400 {"detail": ...}`).
    #[error("{0}")]
    Refused(String),
    #[error("wrong old password")]
    WrongOldPassword,
    #[error("registration is closed")]
    RegistrationClosed,
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error("user not found")]
    NotFound,
    /// A sensitive change without a fresh proof of presence.
    #[error("reauthentication required")]
    ReauthenticationRequired,
    /// Bounded delegation: the actor may not do this to this user.
    #[error("denied: {0}")]
    Denied(String),
    /// A fault of ours (sealing, a stored state that does not read back): `500`, logged,
    /// its text never shown to the client.
    #[error("internal: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: Secret,
    pub is_superuser: bool,
}

pub struct Accounts {
    store: Arc<dyn Store>,
    hasher: Hasher,
    throttle: Arc<Throttle>,
    registration_open: bool,
    require_verified_email: bool,
    /// Until when (Unix ms) token lookups skip the store after it failed to answer.
    store_down_until: AtomicI64,
    cache: Arc<UserCache>,
}

/// How long a protected request waits for the user lookup before trusting the token.
const TOKEN_USER_LOOKUP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed lookup, how long lookups are skipped (one request per period probes).
const STORE_DOWN_BACKOFF_MS: i64 = 2_000;

fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Accounts {
    pub fn new(
        store: Arc<dyn Store>,
        hasher: Hasher,
        throttle: Arc<Throttle>,
        registration_open: bool,
        require_verified_email: bool,
        cache: Arc<UserCache>,
    ) -> Self {
        Self {
            store,
            hasher,
            throttle,
            registration_open,
            require_verified_email,
            store_down_until: AtomicI64::new(0),
            cache,
        }
    }

    /// The user behind a verified access token. `Ok(None)` when the store cannot answer
    /// promptly: verification itself needs no database, so protected routes keep working
    /// on the token's claims during an outage instead of waiting out the pool's timeout.
    pub async fn user_for_token(&self, id: &str) -> Result<Option<Arc<UserWithRoles>>, AccountError> {
        if let Some(user) = self.cache.get(id) {
            return Ok(Some(user));
        }
        if now_ms() < self.store_down_until.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let seen = self.cache.epoch();
        let outage = match tokio::time::timeout(TOKEN_USER_LOOKUP_TIMEOUT, self.user(id)).await {
            Ok(Err(AccountError::Store(StoreError::Unavailable(reason)))) => reason,
            Ok(Ok(user)) => {
                let user = Arc::new(user);
                self.cache.put(&user, seen);
                return Ok(Some(user));
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => "user lookup timed out".to_string(),
        };
        warn!(reason = %outage, "store unavailable; accepting access tokens on their signature alone");
        self.store_down_until.store(now_ms() + STORE_DOWN_BACKOFF_MS, Ordering::Relaxed);
        Ok(None)
    }

    /// Whether the session an access token names still stands (API.md "Trust rules":
    /// revocation reaches access tokens). From the cache, so a busy protected route does
    /// not query per request; a revocation on this instance drops the entry at once,
    /// one elsewhere is seen within the cache lifetime. `None` when the store cannot
    /// answer (as for `user_for_token`).
    pub async fn session_is_live(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<Option<bool>, AccountError> {
        if let Some(live) = self.cache.session(user_id, session_id) {
            return Ok(Some(live));
        }
        if now_ms() < self.store_down_until.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let seen = self.cache.epoch();
        match tokio::time::timeout(TOKEN_USER_LOOKUP_TIMEOUT, self.store.session_state(session_id)).await {
            Ok(Ok(state)) => {
                // SECURITY: a session that is gone, revoked, or someone else's ends the token.
                let live = state.is_some_and(|s| s.revoked_at.is_none() && s.user_id == user_id);
                self.cache.put_session(user_id, session_id, live, seen);
                Ok(Some(live))
            }
            Ok(Err(StoreError::Unavailable(reason))) => {
                warn!(reason = %reason, "store unavailable; accepting access tokens on their signature alone");
                self.store_down_until.store(now_ms() + STORE_DOWN_BACKOFF_MS, Ordering::Relaxed);
                Ok(None)
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => {
                self.store_down_until.store(now_ms() + STORE_DOWN_BACKOFF_MS, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    /// `/register/`: honours the registration switch and the per-address limit.
    pub async fn register(
        &self,
        r: Registration,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AccountError> {
        if !self.registration_open {
            return Err(AccountError::RegistrationClosed);
        }
        let audit = AuditMeta::client(client.clone());
        if let Some(wait) = self.throttle.registration(&client.ip).await {
            warn!(address = %client.ip, "registration throttled");
            metrics::counter!("authenticon_throttled_total", "scope" => "register").increment(1);
            self.note(AuditEvent::Throttled, None, serde_json::json!({ "scope": "register" }), &audit).await;
            return Err(AccountError::Throttled(wait));
        }
        self.create_user(r, &audit).await
    }

    /// Records an event that changes nothing; a store failure only loses the record.
    async fn note(
        &self,
        event: AuditEvent,
        user_id: Option<&str>,
        detail: serde_json::Value,
        audit: &AuditMeta,
    ) {
        if let Err(e) = self.store.record_audit(event, user_id, &detail, now(), audit).await {
            warn!(error = %e, event = event.as_str(), "could not write audit event");
        }
    }

    /// A login attempt: throttled attempts are refused before any hashing; failures are
    /// counted and audited, and a success clears this username-and-address count.
    pub async fn login(
        &self,
        username: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AccountError> {
        let key = username_key(&normalize_username(username.trim()));
        let keys = self.throttle.login_keys(&key, &client.ip);
        let audit = AuditMeta::client(client.clone());
        let attempt = match self.throttle.begin_login(&keys).await {
            Ok(attempt) => attempt,
            Err(wait) => return Err(self.login_throttled(&key, wait, &audit).await),
        };
        match self.check_credentials(&key, password).await? {
            // Only after the password was right: the answer reveals nothing to a guesser.
            Ok(user) if self.require_verified_email && !user.user.email_verified => {
                self.throttle.login_succeeded(attempt).await;
                metrics::counter!("authenticon_logins_total", "outcome" => "email_not_verified").increment(1);
                Err(AccountError::EmailNotVerified)
            }
            Ok(user) => {
                self.throttle.login_succeeded(attempt).await;
                metrics::counter!("authenticon_logins_total", "outcome" => "success").increment(1);
                Ok(user)
            }
            Err(known_user) => {
                // The attempt stays counted: it was taken before the hash was checked.
                metrics::counter!("authenticon_logins_total", "outcome" => "failure").increment(1);
                // SECURITY: the attempted name is recorded only when it is a real account;
                // people type passwords into username fields.
                let detail = serde_json::json!({ "reason": if known_user.is_some() { "bad_credentials" } else { "unknown_user" } });
                self.note(AuditEvent::LoginFailed, known_user.as_deref(), detail, &audit).await;
                Err(AccountError::WrongCredentials)
            }
        }
    }

    /// A refused login: counted, audited, and the wait to tell the client.
    async fn login_throttled(&self, key: &str, wait: u64, audit: &AuditMeta) -> AccountError {
        warn!(address = %audit.client.ip, "login throttled");
        metrics::counter!("authenticon_logins_total", "outcome" => "throttled").increment(1);
        metrics::counter!("authenticon_throttled_total", "scope" => "login").increment(1);
        let known = self.store.user_by_username_key(key).await.ok().flatten();
        let detail = serde_json::json!({ "scope": "login", "retry_after": wait });
        self.note(AuditEvent::Throttled, known.as_ref().map(|u| u.id.as_str()), detail, audit).await;
        AccountError::Throttled(wait)
    }

    /// Creates a user after every check registration makes (also used by the CLI).
    pub async fn create_user(
        &self,
        r: Registration,
        audit: &AuditMeta,
    ) -> Result<UserWithRoles, AccountError> {
        let username = normalize_username(&r.username);
        let key = username_key(&username);
        let mut errors = FieldErrors::default();
        errors.extend("username", username_errors(&username));
        if !r.email.is_empty() && !email_is_valid(&r.email) {
            errors.add("email", EMAIL_INVALID);
        }
        let attrs = UserAttributes { username: &username, email: &r.email };
        errors.extend("password", validate_password(r.password.expose(), &attrs));
        if !errors.has("username") && self.store.user_by_username_key(&key).await?.is_some() {
            errors.add("username", USERNAME_TAKEN);
        }
        errors.into_result().map_err(AccountError::Invalid)?;

        let password_hash = self.hasher.hash(&r.password).await?;
        let new = NewUser {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            username_key: key,
            email: r.email,
            password_hash,
            is_superuser: r.is_superuser,
            now: now(),
        };
        let user = match self.store.create_user(new, audit).await {
            Ok(user) => user,
            // Two registrations raced for one name: the unique index decided.
            Err(StoreError::Conflict { .. }) => {
                return Err(AccountError::Invalid(FieldErrors::one("username", USERNAME_TAKEN)));
            }
            Err(e) => return Err(e.into()),
        };
        info!(user_id = %user.id, "user registered");
        Ok(UserWithRoles { user, roles: vec![], permissions: vec![] })
    }

    /// Checks a username and password. Unknown user, wrong password and inactive user
    /// fail alike and take the same time (a dummy hash is verified for unknown users).
    /// The inner error carries the id of the account when the name was a real one.
    async fn check_credentials(
        &self,
        key: &str,
        password: &Secret,
    ) -> Result<Result<UserWithRoles, Option<String>>, AccountError> {
        let user = self.store.user_by_username_key(key).await?;
        let ok = self.hasher.verify(password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
        let user = match user {
            Some(u) if ok && u.is_active => u,
            other => return Ok(Err(other.map(|u| u.id))),
        };
        if self.hasher.needs_rehash(&user.password_hash) {
            self.upgrade_hash(&user.id, &user.password_hash, password).await;
        }
        match self.store.user_by_id(&user.id).await? {
            Some(u) => Ok(Ok(u)),
            None => Ok(Err(None)),
        }
    }

    /// Re-hashes with the configured parameters; a failure only delays the upgrade.
    async fn upgrade_hash(&self, id: &str, old_hash: &str, password: &Secret) {
        match self.hasher.hash(password).await {
            Ok(new_hash) => {
                if let Err(e) = self.store.upgrade_password_hash(id, old_hash, &new_hash).await {
                    warn!(user_id = %id, error = %e, "could not upgrade password hash");
                }
            }
            Err(e) => warn!(user_id = %id, error = %e, "could not upgrade password hash"),
        }
    }

    pub async fn user(&self, id: &str) -> Result<UserWithRoles, AccountError> {
        self.store.user_by_id(id).await?.ok_or(AccountError::NotFound)
    }

    /// Changes the password after checking the old one; every other session is revoked.
    pub async fn change_password(
        &self,
        id: &str,
        keep_session: &str,
        old_password: &Secret,
        new_password: &Secret,
        client: &ClientInfo,
    ) -> Result<UserRow, AccountError> {
        let user = self.user(id).await?.user;
        if !self.recheck_password(&user, old_password, client).await? {
            return Err(AccountError::WrongOldPassword);
        }
        check_new_password(new_password, &user)?;
        let hash = self.hasher.hash(new_password).await?;
        let audit = AuditMeta::actor(id, client.clone());
        self.store.set_password(id, &hash, Some(keep_session), now(), &audit).await?;
        self.cache.invalidate(id);
        info!(user_id = %id, "password changed; other sessions revoked");
        Ok(user)
    }

    /// Asks a signed-in user for their password again before a change that an access
    /// token alone must not make (removing a second factor).
    pub async fn confirm_password(
        &self,
        id: &str,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.user(id).await?.user;
        if self.recheck_password(&user, password, client).await? {
            return Ok(());
        }
        Err(AccountError::Invalid(FieldErrors::one("password", WRONG_PASSWORD)))
    }

    /// The password of a signed-in user, asked again. Counted in the login throttle as a
    /// login with their username from this address: an access token (a stolen one) must
    /// not guess passwords faster than the login form lets anyone.
    async fn recheck_password(
        &self,
        user: &UserRow,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<bool, AccountError> {
        let keys = self.throttle.login_keys(&username_key(&user.username), &client.ip);
        let attempt = match self.throttle.begin_login(&keys).await {
            Ok(attempt) => attempt,
            Err(wait) => {
                warn!(user_id = %user.id, address = %client.ip, "password re-check throttled");
                metrics::counter!("authenticon_throttled_total", "scope" => "password_check").increment(1);
                return Err(AccountError::Throttled(wait));
            }
        };
        let right = self.hasher.verify(password, Some(&user.password_hash)).await?;
        if right {
            self.throttle.login_succeeded(attempt).await;
        }
        Ok(right)
    }

    /// A user changes their own email.
    pub async fn set_email(
        &self,
        id: &str,
        email: &str,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AccountError> {
        if !email.is_empty() && !email_is_valid(email) {
            return Err(AccountError::Invalid(FieldErrors::one("email", EMAIL_INVALID)));
        }
        let changes = UserChanges { email: Some(email.to_string()), is_active: None };
        let audit = AuditMeta::actor(id, client.clone());
        let user = self.store.update_user(id, &changes, now(), &audit).await?;
        self.cache.invalidate(id);
        user.ok_or(AccountError::NotFound)
    }

    /// Users matching `search` (username or email, case-insensitive), a page at a time.
    pub async fn list_users(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<Page<UserWithRoles>, AccountError> {
        Ok(self.store.list_users(&search.trim().to_lowercase(), offset, limit).await?)
    }

    /// A user, by id or (for operators) by username.
    pub async fn find_user(&self, id_or_username: &str) -> Result<UserWithRoles, AccountError> {
        if let Some(u) = self.store.user_by_id(id_or_username).await? {
            return Ok(u);
        }
        let key = username_key(&normalize_username(id_or_username.trim()));
        match self.store.user_by_username_key(&key).await? {
            Some(u) => self.user(&u.id).await,
            None => Err(AccountError::NotFound),
        }
    }

    /// An administrator changes a user's `is_active` or `email`. Nobody deactivates
    /// themself, and the last active superuser stays active, so the service always keeps
    /// someone who can administer it. Deactivation revokes every session of the user.
    pub async fn update_user(
        &self,
        actor: Actor<'_>,
        target_id: &str,
        changes: UserChanges,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AccountError> {
        let actor_id = actor.id();
        let target = self.user(target_id).await?;
        let audit = AuditMeta { actor_id: actor_id.map(str::to_string), client: client.clone() };
        if let Err(reason) = actor.may_manage(&target) {
            record_denial(&*self.store, Some(target_id), "user_update", &reason, &audit).await;
            return Err(AccountError::Denied(reason));
        }
        if let Some(email) = &changes.email {
            if !email.is_empty() && !email_is_valid(email) {
                return Err(AccountError::Invalid(FieldErrors::one("email", EMAIL_INVALID)));
            }
        }
        if changes.is_active == Some(false) && target.user.is_active && actor_id == Some(target_id) {
            return Err(AccountError::Invalid(FieldErrors::one(
                "is_active",
                "You cannot deactivate your own account.",
            )));
        }
        let updated = match self.store.update_user(target_id, &changes, now(), &audit).await {
            Ok(updated) => updated,
            // Checked inside the write (see the store), so two at once cannot pass it.
            Err(StoreError::Conflict { constraint }) if constraint == LAST_SUPERUSER => {
                return Err(AccountError::Invalid(FieldErrors::one(
                    "is_active",
                    "You cannot deactivate the last active superuser.",
                )));
            }
            Err(e) => return Err(e.into()),
        };
        self.cache.invalidate(target_id);
        if changes.is_active == Some(false) {
            info!(user_id = %target_id, "user deactivated; sessions revoked");
        }
        updated.ok_or(AccountError::NotFound)
    }
}
