//! Roles and their permissions.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRow {
    pub name: String,
    pub description: String,
    pub builtin: bool,
    pub permissions: Vec<String>,
    /// How many users hold it.
    pub holders: i64,
}

/// The constraint `set_user_roles` and `update_role` name when what the caller decided
/// on changed before the write.
pub const CHANGED_MEANWHILE: &str = "changed_meanwhile";
