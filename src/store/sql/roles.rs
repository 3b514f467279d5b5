//! Roles, their permissions, and who holds them.

use super::audit::insert_audit;
use super::users::user_with_roles;
use crate::store::db::{sql, Conn};
use crate::store::AuditEvent;
use crate::store::{AuditMeta, RoleRow, Store, StoreError, Timestamp, UserWithRoles, CHANGED_MEANWHILE};

#[derive(sqlx::FromRow)]
struct RoleHead {
    name: String,
    description: String,
    builtin: bool,
    holders: i64,
}

async fn load_role(c: &mut Conn<'_>, name: &str) -> Result<Option<RoleRow>, StoreError> {
    let q = sql("SELECT name, description, builtin, \
                 (SELECT COUNT(*) FROM user_roles ur WHERE ur.role = roles.name) AS holders \
                 FROM roles WHERE name = $1")
    .bind(name);
    let Some(head) = c.optional::<RoleHead>(q).await? else { return Ok(None) };
    let q = sql("SELECT permission FROM role_permissions WHERE role = $1 ORDER BY permission").bind(name);
    let permissions = c.scalars(q).await?;
    Ok(Some(RoleRow {
        name: head.name,
        description: head.description,
        builtin: head.builtin,
        permissions,
        holders: head.holders,
    }))
}

async fn replace_permissions(c: &mut Conn<'_>, role: &str, permissions: &[String]) -> Result<(), StoreError> {
    c.execute(sql("DELETE FROM role_permissions WHERE role = $1").bind(role)).await?;
    for p in permissions {
        c.execute(sql("INSERT INTO role_permissions (role, permission) VALUES ($1, $2)").bind(role).bind(p))
            .await?;
    }
    Ok(())
}

/// Whether two lists hold the same strings, in any order.
pub(super) fn same_set(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a.dedup();
    b.dedup();
    a == b
}

impl Store {
    /// Replaces a user's roles; `Conflict` when a role does not exist, or
    /// `Conflict { CHANGED_MEANWHILE }` when the user's roles are no longer `expected`
    /// (what the caller checked). `None` when the user does not exist. Audited as
    /// `roles_assigned`.
    pub async fn set_user_roles(
        &self,
        user_id: &str,
        roles: &[String],
        expected: Option<&[String]>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<UserWithRoles>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        // The user's row locked (PostgreSQL; SQLite's write lock covers it), so the roles
        // compared below are the ones replaced.
        let q = format!("SELECT id FROM users WHERE id = $1{}", c.backend().for_update());
        c.optional_scalar::<String>(sql(&q).bind(user_id)).await?;
        let Some(before) = user_with_roles(&mut c, user_id).await? else { return Ok(None) };
        if expected.is_some_and(|e| !same_set(e, &before.roles)) {
            return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
        }
        c.execute(sql("DELETE FROM user_roles WHERE user_id = $1").bind(user_id)).await?;
        for role in roles {
            // An unknown role fails the foreign key: `Conflict`, and nothing changes.
            c.execute(sql("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)").bind(user_id).bind(role))
                .await?;
        }
        let after = user_with_roles(&mut c, user_id).await?;
        let new_roles = after.as_ref().map(|u| u.roles.clone()).unwrap_or_default();
        let detail = serde_json::json!({ "before": before.roles, "after": new_roles });
        insert_audit(&mut c, AuditEvent::RolesAssigned, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn list_roles(&self) -> Result<Vec<RoleRow>, StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let names: Vec<String> = c.scalars(sql("SELECT name FROM roles ORDER BY name")).await?;
        let mut roles = Vec::with_capacity(names.len());
        for name in names {
            if let Some(role) = load_role(&mut c, &name).await? {
                roles.push(role);
            }
        }
        Ok(roles)
    }

    /// Every permission some role holds, sorted.
    pub async fn permissions_in_use(&self) -> Result<Vec<String>, StoreError> {
        let q = sql("SELECT DISTINCT permission FROM role_permissions ORDER BY permission");
        self.read().await?.conn().scalars(q).await
    }

    pub async fn role(&self, name: &str) -> Result<Option<RoleRow>, StoreError> {
        load_role(&mut self.read().await?.conn(), name).await
    }

    /// `Conflict` when the name is taken. Audited as `role_created`.
    pub async fn create_role(
        &self,
        role: &RoleRow,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<RoleRow, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("INSERT INTO roles (name, description, builtin) VALUES ($1, $2, FALSE)");
        c.execute(q.bind(&role.name).bind(&role.description)).await?;
        replace_permissions(&mut c, &role.name, &role.permissions).await?;
        let created = load_role(&mut c, &role.name)
            .await?
            .ok_or_else(|| StoreError::Other("role vanished inside its transaction".into()))?;
        let detail = serde_json::json!({ "role": created.name, "permissions": created.permissions });
        insert_audit(&mut c, AuditEvent::RoleCreated, None, &detail, now, audit).await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Changes description and/or replaces permissions; `Conflict { CHANGED_MEANWHILE }`
    /// when the permissions are no longer `expected`. Audited as `role_updated`.
    pub async fn update_role(
        &self,
        name: &str,
        description: Option<&str>,
        permissions: Option<&[String]>,
        expected: Option<&[String]>,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<RoleRow>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!("SELECT name FROM roles WHERE name = $1{}", c.backend().for_update());
        c.optional_scalar::<String>(sql(&q).bind(name)).await?;
        let Some(before) = load_role(&mut c, name).await? else { return Ok(None) };
        if expected.is_some_and(|e| !same_set(e, &before.permissions)) {
            return Err(StoreError::Conflict { constraint: CHANGED_MEANWHILE.into() });
        }
        if let Some(d) = description {
            c.execute(sql("UPDATE roles SET description = $1 WHERE name = $2").bind(d).bind(name)).await?;
        }
        if let Some(p) = permissions {
            replace_permissions(&mut c, name, p).await?;
        }
        let after = load_role(&mut c, name).await?;
        let detail = serde_json::json!({
            "role": name,
            "permissions_before": before.permissions,
            "permissions_after": after.as_ref().map(|r| r.permissions.clone()),
            "description_changed": description.is_some_and(|d| d != before.description),
        });
        insert_audit(&mut c, AuditEvent::RoleUpdated, None, &detail, now, audit).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Audited as `role_deleted`; false when there is no such role.
    pub async fn delete_role(
        &self,
        name: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let holders: Vec<String> =
            c.scalars(sql("SELECT user_id FROM user_roles WHERE role = $1").bind(name)).await?;
        let deleted =
            c.execute(sql("DELETE FROM roles WHERE name = $1 AND NOT builtin").bind(name)).await? > 0;
        if deleted {
            let detail = serde_json::json!({ "role": name, "holders": holders });
            insert_audit(&mut c, AuditEvent::RoleDeleted, None, &detail, now, audit).await?;
        }
        tx.commit().await?;
        Ok(deleted)
    }
}
