//! Roles and permissions: what a user may do, and the service that manages roles.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::accounts::UserCache;
use crate::fields::FieldErrors;
use crate::store::{AuditMeta, RoleRow, Store, StoreError, UserWithRoles};
use crate::tokens::now;

/// Permissions the service itself checks; the built-in `admin` role holds them all.
pub const BUILTIN_PERMISSIONS: [&str; 5] =
    ["users.view", "users.manage", "roles.view", "roles.manage", "audit.view"];

/// The role `migrate` creates; it cannot be deleted or lose a built-in permission.
pub const ADMIN_ROLE: &str = "admin";

/// A user's effective permissions: the union of their roles', or everything known for a
/// superuser (API.md "Roles and permissions"), sorted.
pub fn effective_permissions(user: &UserWithRoles) -> Vec<String> {
    let mut perms = user.permissions.clone();
    if user.user.is_superuser {
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

/// `[a-z0-9_.-]{1,64}`
pub fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// `[a-z0-9_.:-]{1,100}`
pub fn valid_permission(p: &str) -> bool {
    (1..=100).contains(&p.len())
        && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.:-".contains(&b))
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
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub struct Roles {
    store: Arc<dyn Store>,
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
    pub fn new(store: Arc<dyn Store>, cache: Arc<UserCache>) -> Self {
        Self { store, cache }
    }

    pub async fn list(&self) -> Result<Vec<RoleRow>, RoleError> {
        Ok(self.store.list_roles().await?)
    }

    pub async fn get(&self, name: &str) -> Result<RoleRow, RoleError> {
        self.store.role(name).await?.ok_or(RoleError::NotFound)
    }

    pub async fn create(
        &self,
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
        let role = RoleRow {
            name: name.to_string(),
            description: description.to_string(),
            builtin: false,
            permissions,
        };
        match self.store.create_role(&role, now(), audit).await {
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
        name: &str,
        description: Option<&str>,
        permissions: Option<&[String]>,
        audit: &AuditMeta,
    ) -> Result<RoleRow, RoleError> {
        let current = self.get(name).await?;
        let permissions = match permissions {
            Some(p) => Some(normalize_permissions(p).map_err(RoleError::Invalid)?),
            None => None,
        };
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
            .update_role(name, description, permissions.as_deref(), now(), audit)
            .await?
            .ok_or(RoleError::NotFound)
    }

    pub async fn delete(&self, name: &str, audit: &AuditMeta) -> Result<(), RoleError> {
        let role = self.get(name).await?;
        if role.builtin {
            return Err(RoleError::Refused(format!("The built-in role \"{name}\" cannot be deleted.")));
        }
        if self.store.delete_role(name, now(), audit).await? {
            self.cache.clear();
            Ok(())
        } else {
            Err(RoleError::NotFound)
        }
    }

    /// Replaces a user's roles; unknown role names are field errors.
    pub async fn assign(
        &self,
        user_id: &str,
        roles: &[String],
        audit: &AuditMeta,
    ) -> Result<UserWithRoles, RoleError> {
        let known: BTreeSet<String> = self.store.list_roles().await?.into_iter().map(|r| r.name).collect();
        let wanted: BTreeSet<String> = roles.iter().cloned().collect();
        let mut errors = FieldErrors::default();
        for unknown in wanted.iter().filter(|r| !known.contains(*r)) {
            errors.add("roles", format!("Object with name={unknown} does not exist."));
        }
        errors.into_result().map_err(RoleError::Invalid)?;
        let wanted: Vec<String> = wanted.into_iter().collect();
        let result = self.store.set_user_roles(user_id, &wanted, now(), audit).await;
        self.cache.invalidate(user_id);
        match result {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(RoleError::NotFound),
            // A role deleted between the check and the write.
            Err(StoreError::Conflict { .. }) => {
                Err(RoleError::Invalid(FieldErrors::one("roles", "One of the roles no longer exists.")))
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_permissions() {
        for ok in ["admin", "editor", "a", "team.eu-west_2", &"x".repeat(64)] {
            assert!(valid_role_name(ok), "{ok}");
        }
        for bad in ["", "Admin", "has space", "a:b", &"x".repeat(65), "é"] {
            assert!(!valid_role_name(bad), "{bad}");
        }
        for ok in ["reports.view", "articles:edit", "a-b_c.d", &"p".repeat(100)] {
            assert!(valid_permission(ok), "{ok}");
        }
        for bad in ["", "Reports.view", "x y", "a/b", &"p".repeat(101)] {
            assert!(!valid_permission(bad), "{bad}");
        }
    }
}
