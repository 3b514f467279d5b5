//! `authenticon createsuperuser`: the first administrator, as Django's command makes one.

use anyhow::{bail, Context};

use super::cli_client;
use super::users::account_error;
use crate::app::AppState;
use crate::auth::accounts::Registration;
use crate::domain::Secret;
use crate::store::AuditMeta;

pub async fn create_superuser(
    state: &AppState,
    username: Option<String>,
    email: String,
    no_input: bool,
) -> anyhow::Result<()> {
    let username = match username {
        Some(u) => u,
        None if no_input => bail!("--username is required with --no-input"),
        None => prompt_line("Username: ")?,
    };
    let password = match std::env::var("AUTHENTICON_SUPERUSER_PASSWORD") {
        Ok(p) if !p.is_empty() => Secret::new(p),
        _ if no_input => bail!("AUTHENTICON_SUPERUSER_PASSWORD must be set with --no-input"),
        _ => prompt_password()?,
    };
    let registration = Registration {
        username,
        email,
        password: Some(password),
        is_superuser: true,
        roles: Default::default(),
    };
    let audit = AuditMeta::client(cli_client());
    let user = state.accounts.create_user(registration, &audit).await.map_err(account_error)?;
    println!("Superuser {} created successfully.", user.user.username);
    Ok(())
}

fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    use std::io::Write;
    print!("{prompt}");
    std::io::stdout().flush()?;
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        bail!("no input (use --username and --no-input to run unattended)");
    }
    Ok(line.trim().to_string())
}

fn prompt_password() -> anyhow::Result<Secret> {
    for _ in 0..3 {
        let first = rpassword::prompt_password("Password: ").context("reading the password")?;
        let second = rpassword::prompt_password("Password (again): ").context("reading the password")?;
        if first == second {
            return Ok(Secret::new(first));
        }
        eprintln!("Error: Your passwords didn't match.");
    }
    bail!("passwords did not match")
}
