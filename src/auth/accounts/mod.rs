//! Account service: registration, password and email changes, user administration.
//! Logging in is `auth::login`'s.

mod rules;

use std::sync::Arc;

pub use rules::check_new_password;

use tracing::{info, warn};

use super::rbac::{record_denial, Actor, Denial};
use crate::crypto::passwords::{validate_password, HashError, Hasher, UserAttributes};
use crate::domain::{
    email_is_valid, normalize_username, username_errors, username_key, ClientInfo, Clock, FieldErrors,
    Secret, EMAIL_INVALID,
};
use crate::notify::{Notice, Notices};
use crate::store::{
    AuditEvent, AuditMeta, NewUser, Page, RolesToGive, Store, StoreError, UserChanges, UserFilter, UserRow,
    UserWithRoles, CHANGED_MEANWHILE, LAST_SUPERUSER,
};
use crate::throttle::Throttle;
use crate::tokens::UserCache;

/// Django's wording for a wrong old password, for the password that confirms a change.
pub const WRONG_PASSWORD: &str = "Your password was entered incorrectly. Please enter it again.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const ROLES_CHANGED: &str = "A role changed meanwhile: reload and try again.";
const USER_CHANGED: &str = "This user changed meanwhile: reload and try again.";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("wrong old password")]
    WrongOldPassword,
    #[error("registration is closed")]
    RegistrationClosed,
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error("user not found")]
    NotFound,
    /// Bounded delegation: the actor may not do this to this user; why, for the client.
    #[error("denied: {0}")]
    Denied(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
}

pub struct Registration {
    pub username: String,
    pub email: String,
    /// `None`: no usable password yet (an invited user sets one by the mailed link).
    pub password: Option<Secret>,
    pub is_superuser: bool,
    /// Roles to make the user with (an administrator's new user), as judged.
    pub roles: RolesToGive,
}

/// The stored hash of an account without a usable password: no password matches it
/// (Django's "unusable password"), and checking one takes the dummy hash's time.
fn unusable_password() -> String {
    format!("!{}", hex::encode(rand::random::<[u8; 20]>()))
}

pub struct Accounts {
    store: Arc<Store>,
    hasher: Hasher,
    throttle: Arc<Throttle>,
    notices: Arc<Notices>,
    cache: Arc<UserCache>,
    clock: Arc<dyn Clock>,
    registration_open: bool,
}

impl Accounts {
    pub fn new(
        store: Arc<Store>,
        hasher: Hasher,
        throttle: Arc<Throttle>,
        notices: Arc<Notices>,
        cache: Arc<UserCache>,
        clock: Arc<dyn Clock>,
        registration_open: bool,
    ) -> Self {
        Self { store, hasher, throttle, notices, cache, clock, registration_open }
    }

    /// `/register/`: honours the registration switch and the per-address limit; mails a
    /// verification link when an address was given.
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
            let detail = serde_json::json!({ "scope": "register" });
            if let Err(e) =
                self.store.record_audit(AuditEvent::Throttled, None, &detail, self.clock.now(), &audit).await
            {
                warn!(error = %e, "could not write audit event");
            }
            return Err(AccountError::Throttled(wait));
        }
        let user = self.create_user(r, &audit).await?;
        self.notices.send_verification(&user.user, client);
        Ok(user)
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
        if let Some(password) = &r.password {
            let attrs = UserAttributes { username: &username, email: &r.email };
            errors.extend("password", validate_password(password.expose(), &attrs));
        }
        if !errors.has("username") && self.store.user_by_username_key(&key).await?.is_some() {
            errors.add("username", USERNAME_TAKEN);
        }
        errors.into_result().map_err(AccountError::Invalid)?;

        let password_hash = match &r.password {
            Some(password) => self.hasher.hash(password).await?,
            None => unusable_password(),
        };
        let new = NewUser {
            id: uuid::Uuid::new_v4().to_string(),
            username,
            username_key: key,
            email: r.email,
            password_hash,
            is_superuser: r.is_superuser,
            now: self.clock.now(),
            roles: r.roles.clone(),
        };
        let user = match self.store.create_user(new, audit).await {
            Ok(user) => user,
            Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE => {
                return Err(AccountError::Invalid(FieldErrors::one("roles", ROLES_CHANGED)));
            }
            // Two registrations raced for one name: the unique index decided.
            Err(StoreError::Conflict { .. }) => {
                return Err(AccountError::Invalid(FieldErrors::one("username", USERNAME_TAKEN)));
            }
            Err(e) => return Err(e.into()),
        };
        info!(user_id = %user.id, "user registered");
        Ok(UserWithRoles { user, roles: r.roles.names, permissions: r.roles.permissions })
    }

    pub async fn user(&self, id: &str) -> Result<UserWithRoles, AccountError> {
        self.store.user_by_id(id).await?.ok_or(AccountError::NotFound)
    }

    /// Changes the password after checking the old one; every other session is revoked,
    /// and the owner is told.
    pub async fn change_password(
        &self,
        id: &str,
        keep_session: &str,
        old_password: &Secret,
        new_password: &Secret,
        client: &ClientInfo,
    ) -> Result<(), AccountError> {
        let user = self.user(id).await?.user;
        if !self.recheck_password(&user, old_password, client).await? {
            return Err(AccountError::WrongOldPassword);
        }
        check_new_password(new_password, &user).map_err(AccountError::Invalid)?;
        let hash = self.hasher.hash(new_password).await?;
        let audit = AuditMeta::actor(id, client.clone());
        self.store.set_password(id, &hash, Some(keep_session), self.clock.now(), &audit).await?;
        self.cache.invalidate(id);
        info!(user_id = %id, "password changed; other sessions revoked");
        self.notices.notify(&user, Notice::PasswordChanged, client);
        Ok(())
    }

    /// Asks a signed-in user for their password again before a change that an access
    /// token alone must not make.
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

    /// A user changes their own email (the proof of presence is the caller's to check).
    /// The new address gets a verification link, the old one a notice.
    pub async fn set_email(
        &self,
        id: &str,
        email: &str,
        client: &ClientInfo,
    ) -> Result<UserWithRoles, AccountError> {
        if !email.is_empty() && !email_is_valid(email) {
            return Err(AccountError::Invalid(FieldErrors::one("email", EMAIL_INVALID)));
        }
        let before = self.user(id).await?.user;
        let changes = UserChanges { email: Some(email.to_string()), is_active: None };
        let audit = AuditMeta::actor(id, client.clone());
        let updated = self.store.update_user(id, &changes, self.clock.now(), &audit).await?;
        self.cache.invalidate(id);
        let updated = updated.ok_or(AccountError::NotFound)?;
        self.email_changed(&before, &updated.user, client);
        Ok(updated)
    }

    /// After an email change: a verification link to the new address, and a notice to
    /// the old one. Nothing when the address stayed the same.
    fn email_changed(&self, before: &UserRow, after: &UserRow, client: &ClientInfo) {
        if before.email == after.email {
            return;
        }
        self.notices.send_verification(after, client);
        self.notices.notify(before, Notice::EmailChanged { new_email: &after.email }, client);
    }

    /// Users matching `search` (username or email, case-insensitive), a page at a time.
    pub async fn list_users(
        &self,
        filter: UserFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Page<UserWithRoles>, AccountError> {
        let filter = UserFilter { search: filter.search.trim().to_lowercase(), ..filter };
        Ok(self.store.list_users(&filter, offset, limit).await?)
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
        let audit =
            AuditMeta { actor_id: actor_id.map(str::to_string), client: client.clone(), judged: None };
        if let Err(Denial(reason)) = actor.may_manage(&target) {
            record_denial(&self.store, Some(target_id), "user_update", &reason, self.clock.now(), &audit)
                .await;
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
        let audit = audit.judged(&target);
        let updated = match self.store.update_user(target_id, &changes, self.clock.now(), &audit).await {
            Ok(updated) => updated,
            // Checked inside the write (see the store), so two at once cannot pass it.
            Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE => {
                return Err(AccountError::Invalid(FieldErrors::one("non_field_errors", USER_CHANGED)));
            }
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
        let updated = updated.ok_or(AccountError::NotFound)?;
        self.email_changed(&target.user, &updated.user, client);
        Ok(updated)
    }
}
