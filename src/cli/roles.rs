//! `authenticon roles`: roles and their permissions, as the operator (unbounded).

use anyhow::anyhow;

use super::{cli_client, field_errors_line, RolesCommand};
use crate::app::AppState;
use crate::auth::rbac::{Actor, RoleError};
use crate::store::AuditMeta;

pub(super) fn role_error(e: RoleError) -> anyhow::Error {
    match e {
        RoleError::Invalid(errors) => field_errors_line(&errors),
        RoleError::NotFound => anyhow!("no such role"),
        other => anyhow!(other.to_string()),
    }
}

pub async fn run(state: &AppState, cmd: RolesCommand) -> anyhow::Result<()> {
    let audit = AuditMeta::client(cli_client());
    let roles = &state.roles;
    match cmd {
        RolesCommand::List => {
            for role in roles.list().await.map_err(role_error)? {
                println!("{}\t{}\t{}", role.name, role.permissions.join(","), role.description);
            }
        }
        RolesCommand::Create { name, description, permissions } => {
            let role = roles
                .create(Actor::Operator, &name, &description, &permissions, &audit)
                .await
                .map_err(role_error)?;
            println!("Role {} created with permissions: {}.", role.name, role.permissions.join(", "));
        }
        RolesCommand::Grant { role, permissions } => {
            let updated = roles
                .change_permissions(Actor::Operator, &role, &permissions, &[], &audit)
                .await
                .map_err(role_error)?;
            println!("Role {} now holds: {}.", updated.name, updated.permissions.join(", "));
        }
        RolesCommand::Revoke { role, permissions } => {
            let updated = roles
                .change_permissions(Actor::Operator, &role, &[], &permissions, &audit)
                .await
                .map_err(role_error)?;
            println!("Role {} now holds: {}.", updated.name, updated.permissions.join(", "));
        }
        RolesCommand::Delete { name } => {
            roles.delete(Actor::Operator, &name, &audit).await.map_err(role_error)?;
            println!("Role {name} deleted.");
        }
    }
    Ok(())
}
