//! Roles and permissions: what a user may do, and the service that manages roles.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::domain::{valid_permission, valid_role_name, Clock, FieldErrors, Timestamp};
use crate::store::{
    AuditEvent, AuditMeta, RoleRow, RolesToGive, Store, StoreError, UserWithRoles, CHANGED_MEANWHILE,
};
use crate::tokens::UserCache;

/// The permissions of API.md's user administration; the built-in `admin` role holds them.
pub const BUILTIN_PERMISSIONS: [&str; 5] =
    ["users.view", "users.manage", "roles.view", "roles.manage", "audit.view"];

/// Every permission the service itself checks. `clients.manage` (registering the
/// applications that sign users in here, and what their service accounts hold) and
/// `webhooks.manage` (endpoints that hear of every user's changes) are not the `admin`
/// role's: each is given by a role of its own, so managing users, minting applications
/// and sending events elsewhere stay separate decisions.
pub const SERVICE_PERMISSIONS: [&str; 7] = [
    "users.view",
    "users.manage",
    "roles.view",
    "roles.manage",
    "audit.view",
    "clients.manage",
    "webhooks.manage",
];

/// The role `migrate` creates; it cannot be deleted or lose a built-in permission.
pub const ADMIN_ROLE: &str = "admin";

/// A user's effective permissions: the union of their roles', or everything known for a
/// superuser (API.md "Roles and permissions"), sorted.
pub fn effective_permissions(user: &UserWithRoles) -> Vec<String> {
    let mut perms = user.permissions.clone();
    if user.user.is_superuser {
        // API.md's list (a superuser holds `clients.manage` too: `has_permission`).
        perms.extend(BUILTIN_PERMISSIONS.iter().map(|p| p.to_string()));
    }
    perms.sort();
    perms.dedup();
    perms
}

/// Whether `user` may do what `permission` names. A superuser may do everything,
/// including permissions no role mentions yet.
pub fn has_permission(user: &UserWithRoles, permission: &str) -> bool {
    user.user.is_active && (user.user.is_superuser || user.permissions.iter().any(|p| p == permission))
}

/// The user as a personal access token lets them act: only the token's permissions that
/// the user holds now, and never as a superuser (a token is a grant of named
/// permissions, not of the whole account).
pub fn within(user: &UserWithRoles, token_permissions: &[String]) -> UserWithRoles {
    let permissions = token_permissions.iter().filter(|p| has_permission(user, p)).cloned().collect();
    let mut narrowed = UserWithRoles { user: user.user.clone(), roles: user.roles.clone(), permissions };
    narrowed.user.is_superuser = false;
    narrowed
}

/// Who makes an administrative change: an operator at the command line (who holds the
/// database anyway), or a user through the API, bounded by what they hold.
#[derive(Clone, Copy)]
pub enum Actor<'a> {
    Operator,
    User(&'a UserWithRoles),
}

impl Actor<'_> {
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Operator => None,
            Actor::User(u) => Some(&u.user.id),
        }
    }

    fn holds(&self, permission: &str) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(u) => has_permission(u, permission),
        }
    }

    /// Of `permissions`, those the actor does not hold, sorted.
    pub fn missing<'p>(&self, permissions: impl IntoIterator<Item = &'p String>) -> Vec<String> {
        let missing: BTreeSet<String> = permissions.into_iter().filter(|p| !self.holds(p)).cloned().collect();
        missing.into_iter().collect()
    }

    /// SECURITY (bounded delegation, API.md "Trust rules"): an actor may change, reset
    /// or assign roles to a user only when it holds everything that user holds, and
    /// only a superuser touches a superuser. Otherwise a delegate could take over a
    /// stronger account (its email, then a password reset). Why not, when refused.
    pub fn may_manage(&self, target: &UserWithRoles) -> Result<(), Denial> {
        let Actor::User(actor) = self else { return Ok(()) };
        if actor.user.is_superuser {
            return Ok(());
        }
        if target.user.is_superuser {
            return Err(Denial("Only a superuser can change a superuser.".into()));
        }
        let missing = self.missing(&target.permissions);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Denial(format!("This user holds permissions you do not hold: {}.", missing.join(", "))))
        }
    }
}

/// Why bounded delegation refused a change: the message for the `403`, naming what the
/// actor lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial(pub String);

/// What the caller judged changed before the write: decide again on what is there now.
fn changed_meanwhile(e: StoreError) -> RoleError {
    match e {
        StoreError::Conflict { constraint } if constraint == CHANGED_MEANWHILE => RoleError::Invalid(
            FieldErrors::one("non_field_errors", "This changed meanwhile: reload and try again."),
        ),
        other => other.into(),
    }
}

/// Records a refused administrative change; a store failure only loses the record.
pub async fn record_denial(
    store: &Store,
    target_user: Option<&str>,
    action: &str,
    reason: &str,
    now: Timestamp,
    audit: &AuditMeta,
) {
    let detail = serde_json::json!({ "action": action, "reason": reason });
    if let Err(e) = store.record_audit(AuditEvent::PermissionDenied, target_user, &detail, now, audit).await {
        tracing::warn!(error = %e, "could not write audit event");
    }
}

pub const ROLE_NAME_INVALID: &str =
    "Enter a valid role name: 1 to 64 characters of lower-case letters, digits, \"_\", \".\" and \"-\".";
pub const ROLE_NAME_TAKEN: &str = "role with this name already exists.";

fn permission_invalid(p: &str) -> String {
    format!(
        "\"{p}\" is not a valid permission: 1 to 100 characters of lower-case letters, digits, \"_\", \".\", \":\" and \"-\"."
    )
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Refused(&'static str),
    /// Bounded delegation: the actor may not grant or take what it does not hold.
    #[error("denied: {0}")]
    Denied(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Roles {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Role changes reach guarded routes at once: the users they affect are dropped.
    cache: Arc<UserCache>,
}

/// Checks permission strings and returns them sorted and without repeats.
pub fn normalize_permissions(perms: &[String]) -> Result<Vec<String>, FieldErrors> {
    let mut errors = FieldErrors::default();
    for p in perms.iter().filter(|p| !valid_permission(p)) {
        errors.add("permissions", permission_invalid(p));
    }
    errors.into_result()?;
    Ok(perms.iter().cloned().collect::<BTreeSet<_>>().into_iter().collect())
}

impl Roles {
    pub fn new(store: Arc<Store>, cache: Arc<UserCache>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock, cache }
    }

    pub async fn list(&self) -> Result<Vec<RoleRow>, RoleError> {
        Ok(self.store.list_roles().await?)
    }

    /// The permissions to offer when editing a role: the built-in ones, and those some
    /// role already holds (both sorted).
    pub async fn permissions(&self) -> Result<(Vec<String>, Vec<String>), RoleError> {
        let mut builtin: Vec<String> = SERVICE_PERMISSIONS.iter().map(|p| p.to_string()).collect();
        builtin.sort();
        Ok((builtin, self.store.permissions_in_use().await?))
    }

    pub async fn get(&self, name: &str) -> Result<RoleRow, RoleError> {
        self.store.role(name).await?.ok_or(RoleError::NotFound)
    }

    /// Refuses (and audits) a change that would grant or take permissions the actor
    /// does not hold.
    async fn bounded<'p>(
        &self,
        actor: Actor<'_>,
        action: &str,
        permissions: impl IntoIterator<Item = &'p String>,
        audit: &AuditMeta,
    ) -> Result<(), RoleError> {
        let missing = actor.missing(permissions);
        if missing.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "You can only grant or remove permissions you hold yourself; you do not hold {}.",
            missing.join(", ")
        );
        record_denial(&self.store, None, action, &reason, self.clock.now(), audit).await;
        Err(RoleError::Denied(reason))
    }

    pub async fn create(
        &self,
        actor: Actor<'_>,
        name: &str,
        description: &str,
        permissions: &[String],
        audit: &AuditMeta,
    ) -> Result<RoleRow, RoleError> {
        let mut errors = FieldErrors::default();
        if !valid_role_name(name) {
            errors.add("name", ROLE_NAME_INVALID);
        }
        let permissions = match normalize_permissions(permissions) {
            Ok(p) => p,
            Err(e) => {
                for (field, msgs) in e.0 {
                    errors.extend(&field, msgs);
                }
                vec![]
            }
        };
        if !errors.has("name") && self.store.role(name).await?.is_some() {
            errors.add("name", ROLE_NAME_TAKEN);
        }
        errors.into_result().map_err(RoleError::Invalid)?;
        self.bounded(actor, "role_create", &permissions, audit).await?;
        let role = RoleRow {
            name: name.to_string(),
            description: description.to_string(),
            builtin: false,
            permissions,
            holders: 0,
        };
        match self.store.create_role(&role, self.clock.now(), audit).await {
            Ok(r) => Ok(r),
            Err(StoreError::Conflict { .. }) => {
                Err(RoleError::Invalid(FieldErrors::one("name", ROLE_NAME_TAKEN)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Changes the description and/or replaces the permissions. The built-in `admin`
    /// role keeps every built-in permission.
    pub async fn update(
        &self,
        actor: Actor<'_>,
        name: &str,
        description: Option<&str>,
        permissions: Option<&[String]>,
        audit: &AuditMeta,
    ) -> Result<RoleRow, RoleError> {
        let current = self.get(name).await?;
        self.update_from(actor, current, description, permissions, audit).await
    }

    /// Adds and takes away some of a role's permissions (the command line's `roles grant`
    /// and `revoke`), computed from the same read the write then checks: two at once
    /// cannot lose one another's change.
    pub async fn change_permissions(
        &self,
        actor: Actor<'_>,
        name: &str,
        add: &[String],
        remove: &[String],
        audit: &AuditMeta,
    ) -> Result<RoleRow, RoleError> {
        let current = self.get(name).await?;
        let mut wanted: Vec<String> =
            current.permissions.iter().filter(|p| !remove.contains(p)).cloned().collect();
        wanted.extend(add.iter().cloned());
        self.update_from(actor, current, None, Some(&wanted), audit).await
    }

    /// `update` against the role as read in `current`.
    async fn update_from(
        &self,
        actor: Actor<'_>,
        current: RoleRow,
        description: Option<&str>,
        permissions: Option<&[String]>,
        audit: &AuditMeta,
    ) -> Result<RoleRow, RoleError> {
        let name = current.name.as_str();
        let permissions = match permissions {
            Some(p) => Some(normalize_permissions(p).map_err(RoleError::Invalid)?),
            None => None,
        };
        if let Some(perms) = &permissions {
            // Added and removed alike: taking a permission away is also a grant decision.
            let before: BTreeSet<&String> = current.permissions.iter().collect();
            let after: BTreeSet<&String> = perms.iter().collect();
            self.bounded(actor, "role_update", before.symmetric_difference(&after).copied(), audit).await?;
        }
        if let (true, Some(perms)) = (current.builtin, &permissions) {
            let missing: Vec<&str> =
                BUILTIN_PERMISSIONS.iter().copied().filter(|b| !perms.iter().any(|p| p == b)).collect();
            if !missing.is_empty() {
                return Err(RoleError::Invalid(FieldErrors::one(
                    "permissions",
                    format!(
                        "The built-in role \"{name}\" must keep its built-in permissions: {}.",
                        missing.join(", ")
                    ),
                )));
            }
        }
        self.store
            // SECURITY: the write checks that the permissions are still the ones judged
            // above: a change made in between is not silently undone.
            .update_role(
                name,
                description,
                permissions.as_deref(),
                Some(&current.permissions),
                self.clock.now(),
                audit,
            )
            .await
            .map_err(changed_meanwhile)?
            .ok_or(RoleError::NotFound)
    }

    pub async fn delete(&self, actor: Actor<'_>, name: &str, audit: &AuditMeta) -> Result<(), RoleError> {
        let role = self.get(name).await?;
        if role.builtin {
            // `admin` is the one built-in role.
            return Err(RoleError::Refused("The built-in role \"admin\" cannot be deleted."));
        }
        self.bounded(actor, "role_delete", &role.permissions, audit).await?;
        if self.store.delete_role(name, self.clock.now(), audit).await? {
            self.cache.clear();
            Ok(())
        } else {
            Err(RoleError::NotFound)
        }
    }

    /// Every role in `wanted` exists (else field errors under `roles`); all roles, read.
    async fn known_roles(&self, wanted: &BTreeSet<String>) -> Result<Vec<RoleRow>, RoleError> {
        let all = self.store.list_roles().await?;
        let mut errors = FieldErrors::default();
        for unknown in wanted.iter().filter(|r| !all.iter().any(|k| &k.name == *r)) {
            errors.add("roles", format!("Object with name={unknown} does not exist."));
        }
        errors.into_result().map_err(RoleError::Invalid)?;
        Ok(all)
    }

    /// SECURITY (bounded delegation): the actor must hold every permission of each role
    /// it gives or takes; a refusal is audited.
    async fn may_change_roles(
        &self,
        actor: Actor<'_>,
        all: &[RoleRow],
        held: &BTreeSet<String>,
        wanted: &BTreeSet<String>,
        user_id: Option<&str>,
        audit: &AuditMeta,
    ) -> Result<(), RoleError> {
        let changed: Vec<&String> = all
            .iter()
            .filter(|r| held.contains(&r.name) != wanted.contains(&r.name))
            .flat_map(|r| r.permissions.iter())
            .collect();
        let missing = actor.missing(changed);
        if missing.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "You can only assign or remove roles whose permissions you hold yourself; you do not hold {}.",
            missing.join(", ")
        );
        record_denial(&self.store, user_id, "roles_assign", &reason, self.clock.now(), audit).await;
        Err(RoleError::Denied(reason))
    }

    /// Before a user is made with `roles`: they exist, and the actor may give them. What
    /// was judged, for the write to hold to.
    pub async fn check_grantable(
        &self,
        actor: Actor<'_>,
        roles: &[String],
        audit: &AuditMeta,
    ) -> Result<RolesToGive, RoleError> {
        let wanted: BTreeSet<String> = roles.iter().cloned().collect();
        let all = self.known_roles(&wanted).await?;
        self.may_change_roles(actor, &all, &BTreeSet::new(), &wanted, None, audit).await?;
        let permissions: BTreeSet<String> = all
            .iter()
            .filter(|r| wanted.contains(&r.name))
            .flat_map(|r| r.permissions.iter().cloned())
            .collect();
        Ok(RolesToGive {
            names: wanted.into_iter().collect(),
            permissions: permissions.into_iter().collect(),
        })
    }

    /// Replaces a user's roles; unknown role names are field errors. The actor must be
    /// allowed to manage the user, and hold every permission of each role it adds or
    /// removes.
    pub async fn assign(
        &self,
        actor: Actor<'_>,
        user_id: &str,
        roles: &[String],
        audit: &AuditMeta,
    ) -> Result<UserWithRoles, RoleError> {
        let wanted: BTreeSet<String> = roles.iter().cloned().collect();
        let all = self.known_roles(&wanted).await?;
        let target = self.store.user_by_id(user_id).await?.ok_or(RoleError::NotFound)?;
        if let Err(Denial(reason)) = actor.may_manage(&target) {
            record_denial(&self.store, Some(user_id), "roles_assign", &reason, self.clock.now(), audit).await;
            return Err(RoleError::Denied(reason));
        }
        let held: BTreeSet<String> = target.roles.iter().cloned().collect();
        self.may_change_roles(actor, &all, &held, &wanted, Some(user_id), audit).await?;
        let wanted: Vec<String> = wanted.into_iter().collect();
        let result =
            self.store.set_user_roles(user_id, &wanted, Some(&target.roles), self.clock.now(), audit).await;
        self.cache.invalidate(user_id);
        match result {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(RoleError::NotFound),
            Err(StoreError::Conflict { constraint }) if constraint == CHANGED_MEANWHILE => {
                Err(changed_meanwhile(StoreError::Conflict { constraint }))
            }
            // A role deleted between the check and the write.
            Err(StoreError::Conflict { .. }) => {
                Err(RoleError::Invalid(FieldErrors::one("roles", "One of the roles no longer exists.")))
            }
            Err(e) => Err(e.into()),
        }
    }
}
