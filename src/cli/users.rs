//! `authenticon users`: list, assign roles, activate and deactivate, as the operator.

use anyhow::anyhow;

use super::roles::role_error;
use super::{cli_client, field_errors_line, UsersCommand};
use crate::app::AppState;
use crate::auth::accounts::AccountError;
use crate::auth::rbac::Actor;
use crate::store::{AuditMeta, UserChanges, UserFilter};

pub(super) fn account_error(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::Invalid(errors) => field_errors_line(&errors),
        AccountError::NotFound => anyhow!("no such user"),
        other => anyhow!(other.to_string()),
    }
}

pub async fn run(state: &AppState, cmd: UsersCommand) -> anyhow::Result<()> {
    let audit = AuditMeta::client(cli_client());
    let accounts = &state.accounts;
    match cmd {
        UsersCommand::List { search } => {
            let mut offset = 0;
            loop {
                let filter = UserFilter { search: search.clone(), ..UserFilter::default() };
                let page = accounts.list_users(filter, offset, 100).await.map_err(account_error)?;
                for u in &page.rows {
                    let flags = match (u.user.is_active, u.user.is_superuser) {
                        (true, true) => "active,superuser",
                        (true, false) => "active",
                        (false, true) => "inactive,superuser",
                        (false, false) => "inactive",
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        u.user.id,
                        u.user.username,
                        u.user.email,
                        flags,
                        u.roles.join(",")
                    );
                }
                offset += page.rows.len() as i64;
                if page.rows.is_empty() || offset >= page.count {
                    break;
                }
            }
        }
        UsersCommand::AssignRole { user, role } => {
            let target = accounts.find_user(&user).await.map_err(account_error)?;
            let mut wanted = target.roles.clone();
            wanted.push(role);
            let updated = state
                .roles
                .assign(Actor::Operator, &target.user.id, &wanted, &audit)
                .await
                .map_err(role_error)?;
            println!("{} now has roles: {}.", updated.user.username, updated.roles.join(", "));
        }
        UsersCommand::RemoveRole { user, role } => {
            let target = accounts.find_user(&user).await.map_err(account_error)?;
            let wanted: Vec<String> = target.roles.iter().filter(|r| **r != role).cloned().collect();
            let updated = state
                .roles
                .assign(Actor::Operator, &target.user.id, &wanted, &audit)
                .await
                .map_err(role_error)?;
            println!("{} now has roles: {}.", updated.user.username, updated.roles.join(", "));
        }
        UsersCommand::Deactivate { user } => {
            let target = accounts.find_user(&user).await.map_err(account_error)?;
            let changes = UserChanges { email: None, is_active: Some(false) };
            accounts
                .update_user(Actor::Operator, &target.user.id, changes, &cli_client())
                .await
                .map_err(account_error)?;
            println!("{} deactivated; their sessions are revoked.", target.user.username);
        }
        UsersCommand::Activate { user } => {
            let target = accounts.find_user(&user).await.map_err(account_error)?;
            let changes = UserChanges { email: None, is_active: Some(true) };
            accounts
                .update_user(Actor::Operator, &target.user.id, changes, &cli_client())
                .await
                .map_err(account_error)?;
            println!("{} activated.", target.user.username);
        }
    }
    Ok(())
}
