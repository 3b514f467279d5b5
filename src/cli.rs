//! The `authenticon` command line, in the manner of Django's management commands.
//! Every command exits non-zero with one clear line on bad input.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use tracing::{info, warn};

use crate::accounts::{AccountError, Registration};
use crate::config::{redact_url, Config};
use crate::secret::{Secret, SecretSource};
use crate::state::AppState;
use crate::telemetry;
use crate::tokens::now;

#[derive(Debug, Parser)]
#[command(name = "authenticon", version, about = "JWT authentication service")]
pub struct Cli {
    /// TOML file with settings (keys as the AUTHENTICON_* variables, without the prefix,
    /// e.g. `bind = "0.0.0.0:8000"`). Environment variables win over it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (applies pending migrations first).
    Serve {
        /// Address to listen on; overrides AUTHENTICON_BIND.
        #[arg(long, value_name = "ADDR")]
        bind: Option<SocketAddr>,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Create a superuser. The password comes from AUTHENTICON_SUPERUSER_PASSWORD with
    /// --no-input, otherwise it is prompted for without echo.
    #[command(name = "createsuperuser")]
    CreateSuperuser {
        #[arg(long)]
        username: Option<String>,
        #[arg(long, default_value = "")]
        email: String,
        /// Never prompt; fail instead.
        #[arg(long)]
        no_input: bool,
    },
    /// Delete expired refresh-token records.
    #[command(name = "flushexpiredtokens")]
    FlushExpiredTokens,
}

pub fn run(cli: Cli) -> ExitCode {
    let mut config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(config.log_format);
    if let Command::Serve { bind: Some(addr) } = &cli.command {
        config.bind = *addr;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    let db = redact_url(&config.database_url);
    let (state, secret_source) = AppState::build(config).await.with_context(|| format!("opening {db}"))?;
    match command {
        Command::Serve { .. } => {
            report_secret(&secret_source);
            serve(state).await
        }
        Command::Migrate => {
            state.store.migrate().await?;
            println!("Migrations applied to {db}.");
            Ok(())
        }
        Command::CreateSuperuser { username, email, no_input } => {
            state.store.migrate().await?;
            create_superuser(&state, username, email, no_input).await
        }
        Command::FlushExpiredTokens => {
            state.store.migrate().await?;
            let n = state.store.flush_expired(now()).await?;
            println!("Deleted {n} expired refresh token(s).");
            Ok(())
        }
    }
}

fn report_secret(source: &SecretSource) {
    match source {
        SecretSource::Generated(path) => warn!(
            path = %path.display(),
            "no AUTHENTICON_SECRET_KEY set: generated a signing secret and saved it (mode 0600) beside the database"
        ),
        SecretSource::Ephemeral => {
            warn!("no AUTHENTICON_SECRET_KEY set: using a random secret for this in-memory database")
        }
        SecretSource::File(_) | SecretSource::Configured => {}
    }
}

async fn serve(state: AppState) -> anyhow::Result<()> {
    state.store.migrate().await.context("applying migrations")?;
    let bind = state.config.bind;
    let listener =
        tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    info!(%addr, "listening on http://{addr}");
    let app = crate::app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    info!("shut down cleanly");
    Ok(())
}

/// SIGINT or SIGTERM: stop accepting, let in-flight requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    info!("shutdown signal received; finishing in-flight requests");
}

async fn create_superuser(
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
    let registration = Registration { username, email, password, is_superuser: true };
    let audit = crate::store::AuditMeta::client(cli_client());
    match state.accounts.create_user(registration, &audit).await {
        Ok(user) => {
            println!("Superuser {} created successfully.", user.user.username);
            Ok(())
        }
        Err(AccountError::Invalid(errors)) => {
            let lines: Vec<String> =
                errors.0.iter().map(|(field, msgs)| format!("{field}: {}", msgs.join(" "))).collect();
            Err(anyhow!(lines.join("; ")))
        }
        Err(e) => Err(e.into()),
    }
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

/// How command-line changes appear in the audit log: no address, this user agent.
fn cli_client() -> crate::store::ClientInfo {
    crate::store::ClientInfo { ip: String::new(), user_agent: "authenticon-cli".into() }
}
