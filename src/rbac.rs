//! Roles and permissions: what a user may do.

use crate::store::UserWithRoles;

/// Permissions the service itself checks; the built-in `admin` role holds them all.
pub const BUILTIN_PERMISSIONS: [&str; 5] =
    ["users.view", "users.manage", "roles.view", "roles.manage", "audit.view"];

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
