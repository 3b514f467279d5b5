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
use crate::fields::FieldErrors;
use crate::rbac::{Actor, RoleError};
use crate::secret::{Secret, SecretSource};
use crate::state::AppState;
use crate::store::{AuditMeta, UserChanges};
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
        #[arg(long, allow_hyphen_values = true)]
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
    /// Import users and groups from Django's `manage.py dumpdata auth.user auth.group`
    /// output. Groups become roles; password hashes are kept (pbkdf2_sha256, argon2,
    /// bcrypt_sha256, bcrypt) and upgraded to Argon2id at each user's first login.
    #[command(name = "import-django")]
    ImportDjango {
        /// The dumpdata JSON file.
        file: PathBuf,
        /// Map a Django group named "admin" onto the built-in admin role (every
        /// administrative permission); without it such a group is reported and skipped.
        #[arg(long)]
        admin_group: bool,
        /// Map groups onto roles of the same name that exist here but no import made;
        /// without it such a group is reported and skipped.
        #[arg(long)]
        existing_roles: bool,
    },
    /// Check the configuration and the services it names (database, schema, signing
    /// keys, Redis) and say what was found, like Django's `check`. Exits 1 on a problem.
    Check,
    /// Print the OpenAPI 3.1 document (what `GET /api/schema/` serves) and exit.
    Openapi,
    /// Manage signing keys (RS256, ES256, EdDSA): generate, list, activate, retire.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage roles and their permissions.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// List users, assign roles, activate and deactivate (USER is a username or an id).
    #[command(subcommand)]
    Users(UsersCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every stored key: kid, algorithm, status, dates.
    List,
    /// Generate a key pair and publish it (in the JWKS, not signing yet).
    Generate {
        /// RS256, ES256 or EdDSA; default: AUTHENTICON_JWT_ALGORITHM.
        #[arg(long)]
        algorithm: Option<String>,
    },
    /// Start signing with a published key; the current signing key retires. Wait until
    /// every instance has picked up the published key (30 s) before activating it.
    Activate {
        /// As `keys list` shows it (it may start with `-`).
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Retire a key that does not sign; it stays in the JWKS until its tokens expire.
    Retire {
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Drop a key at once (it leaked): it leaves the JWKS and every token it signed fails
    /// (on running instances within 30 s). Revoking the signing key makes a new one.
    Revoke {
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCommand {
    /// Every role with its permissions.
    List,
    /// Create a role.
    Create {
        // Names and usernames may start with `-`: taken as values, not flags.
        #[arg(allow_hyphen_values = true)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A permission the role holds (repeat for more).
        #[arg(long = "permission", value_name = "PERMISSION", allow_hyphen_values = true)]
        permissions: Vec<String>,
    },
    /// Add permissions to a role.
    Grant {
        #[arg(allow_hyphen_values = true)]
        role: String,
        #[arg(required = true, allow_hyphen_values = true)]
        permissions: Vec<String>,
    },
    /// Remove permissions from a role.
    Revoke {
        #[arg(allow_hyphen_values = true)]
        role: String,
        #[arg(required = true, allow_hyphen_values = true)]
        permissions: Vec<String>,
    },
    /// Delete a role (its holders lose it).
    Delete {
        #[arg(allow_hyphen_values = true)]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Users with their roles.
    List {
        /// Part of a username or email.
        #[arg(long, default_value = "")]
        search: String,
    },
    /// Give a user a role.
    AssignRole {
        #[arg(allow_hyphen_values = true)]
        user: String,
        #[arg(allow_hyphen_values = true)]
        role: String,
    },
    /// Take a role from a user.
    RemoveRole {
        #[arg(allow_hyphen_values = true)]
        user: String,
        #[arg(allow_hyphen_values = true)]
        role: String,
    },
    /// Deactivate a user: every session is revoked at once.
    Deactivate {
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
    /// Activate a user again.
    Activate {
        #[arg(allow_hyphen_values = true)]
        user: String,
    },
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
    if let Command::Openapi = command {
        // Needs no database: the document is generated from the code.
        println!("{}", serde_json::to_string_pretty(&crate::http::openapi())?);
        return Ok(());
    }
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
        Command::Openapi => Ok(()),
        Command::Check => check(&state).await,
        Command::ImportDjango { file, admin_group, existing_roles } => {
            state.store.migrate().await?;
            let text =
                std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let audit = AuditMeta::client(cli_client());
            let options = crate::import::ImportOptions { admin_group, existing_roles };
            let report = crate::import::import_django(&state.store, &text, &audit, options)
                .await
                .map_err(|e| anyhow!("{}: {e}", file.display()))?;
            for (line, reason) in &report.problems {
                eprintln!("{}:{line}: skipped: {reason}", file.display());
            }
            println!(
                "Imported from {}: {} user(s) created, {} updated, {} skipped; {} role(s) created from groups.",
                file.display(),
                report.created,
                report.updated,
                report.skipped,
                report.roles_created
            );
            Ok(())
        }
        Command::Keys(cmd) => {
            state.store.migrate().await?;
            keys_command(&state, cmd).await
        }
        Command::Roles(cmd) => {
            state.store.migrate().await?;
            roles_command(&state, cmd).await
        }
        Command::Users(cmd) => {
            state.store.migrate().await?;
            users_command(&state, cmd).await
        }
    }
}

/// One line for a set of field errors: `field: message message; field: message`.
fn field_errors_line(errors: &FieldErrors) -> String {
    let lines: Vec<String> =
        errors.0.iter().map(|(field, msgs)| format!("{field}: {}", msgs.join(" "))).collect();
    lines.join("; ")
}

fn role_error(e: RoleError) -> anyhow::Error {
    match e {
        RoleError::Invalid(errors) => anyhow!(field_errors_line(&errors)),
        RoleError::NotFound => anyhow!("no such role"),
        other => anyhow!(other.to_string()),
    }
}

fn account_error(e: AccountError) -> anyhow::Error {
    match e {
        AccountError::Invalid(errors) => anyhow!(field_errors_line(&errors)),
        AccountError::NotFound => anyhow!("no such user"),
        other => anyhow!(other.to_string()),
    }
}

/// One line per finding; problems are counted and make the command fail.
async fn check(state: &AppState) -> anyhow::Result<()> {
    let config = &state.config;
    let mut problems = 0;
    let mut say = |ok: bool, line: String| {
        if !ok {
            problems += 1;
        }
        println!("{} {line}", if ok { "ok   " } else { "ERROR" });
    };
    say(
        true,
        format!(
            "configuration: bind {}, database {}, algorithm {}, access {} s, refresh {} s",
            config.bind,
            redact_url(&config.database_url),
            config.jwt_algorithm.name(),
            config.access_token_lifetime.as_secs(),
            config.refresh_token_lifetime.as_secs()
        ),
    );
    match state.store.ping().await {
        Ok(()) => say(true, "database: reachable".into()),
        Err(e) => say(false, format!("database: {e}")),
    }
    match state.store.list_roles().await {
        Ok(roles) => say(true, format!("schema: migrated ({} role(s))", roles.len())),
        Err(e) => say(false, format!("schema: not usable ({e}); run `authenticon migrate`")),
    }
    if !config.jwt_algorithm.is_hmac() && config.jwt_private_key_file.is_none() {
        match state.tokens.list_keys().await {
            Ok(keys)
                if keys
                    .iter()
                    .any(|k| k.status == "active" && k.algorithm == config.jwt_algorithm.name()) =>
            {
                say(true, format!("signing keys: an active {} key", config.jwt_algorithm.name()))
            }
            Ok(_) => say(
                true,
                format!(
                    "signing keys: none active yet; `serve` will generate a {} key",
                    config.jwt_algorithm.name()
                ),
            ),
            Err(e) => say(false, format!("signing keys: {e}")),
        }
    }
    if let Ok(waiting) = state.store.pending_mails().await {
        let route = state.recovery.mailer().describe();
        say(true, format!("mail: by {route}; {waiting} waiting in the outbox"));
        if state.recovery.mailer().writes_files() {
            println!(
                "WARN  mail: no AUTHENTICON_SMTP_URL, so mails (reset and verification links) are only written to {route}: nobody receives them"
            );
        }
    }
    match config.public_url_warning() {
        Some(warning) => println!("WARN  public URL: {warning}"),
        None => say(true, format!("public URL: {} (links in mails, passkeys)", config.public_url())),
    }
    if let Some(url) = &config.redis_url {
        let reachable = async {
            let client = redis::Client::open(url.expose()).map_err(|e| e.to_string())?;
            let mut conn = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                client.get_multiplexed_async_connection(),
            )
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
            redis::cmd("PING").query_async::<String>(&mut conn).await.map_err(|e| e.to_string())
        };
        match reachable.await {
            Ok(_) => say(true, "redis: reachable (shared rate limits)".into()),
            Err(e) => say(false, format!("redis: {e} (rate limits would fall back to in-process counters)")),
        }
    }
    if problems == 0 {
        println!("System check identified no issues.");
        Ok(())
    } else {
        bail!("system check identified {problems} issue(s)")
    }
}

async fn keys_command(state: &AppState, cmd: KeysCommand) -> anyhow::Result<()> {
    let tokens = &state.tokens;
    match cmd {
        KeysCommand::List => {
            let date = |t: Option<i64>| t.map(crate::http::models::rfc3339).unwrap_or_else(|| "-".into());
            for k in tokens.list_keys().await? {
                println!(
                    "{}\t{}\t{}\tcreated {}\tactivated {}\tretired {}",
                    k.kid,
                    k.algorithm,
                    k.status,
                    date(Some(k.created_at)),
                    date(k.activated_at),
                    date(k.retired_at)
                );
            }
        }
        KeysCommand::Generate { algorithm } => {
            let algorithm = match algorithm {
                Some(name) => crate::config::JwtAlgorithm::parse(&name)
                    .filter(|a| !a.is_hmac())
                    .ok_or_else(|| anyhow!("--algorithm: expected RS256, ES256 or EdDSA, got {name:?}"))?,
                None if tokens.algorithm().is_hmac() => {
                    bail!(
                        "AUTHENTICON_JWT_ALGORITHM is {}: HMAC uses the secret, not keys; pass --algorithm",
                        tokens.algorithm().name()
                    )
                }
                None => tokens.algorithm(),
            };
            let key = tokens.generate_key(algorithm).await?;
            println!(
                "Key {} ({}) generated and published; activate it with: authenticon keys activate {}",
                key.kid, key.algorithm, key.kid
            );
        }
        KeysCommand::Activate { kid } => {
            tokens.activate_key(&kid).await?;
            println!("Key {kid} now signs new tokens; the previous key is retired.");
        }
        KeysCommand::Retire { kid } => {
            tokens.retire_key(&kid).await?;
            println!("Key {kid} retired; it verifies until its last token expires.");
        }
        KeysCommand::Revoke { kid } => {
            tokens.revoke_key(&kid).await?;
            println!(
                "Key {kid} revoked: tokens it signed no longer verify (on running instances within 30 s)."
            );
        }
    }
    Ok(())
}

async fn roles_command(state: &AppState, cmd: RolesCommand) -> anyhow::Result<()> {
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
            let mut all = roles.get(&role).await.map_err(role_error)?.permissions;
            all.extend(permissions);
            let updated =
                roles.update(Actor::Operator, &role, None, Some(&all), &audit).await.map_err(role_error)?;
            println!("Role {} now holds: {}.", updated.name, updated.permissions.join(", "));
        }
        RolesCommand::Revoke { role, permissions } => {
            let mut all = roles.get(&role).await.map_err(role_error)?.permissions;
            all.retain(|p| !permissions.contains(p));
            let updated =
                roles.update(Actor::Operator, &role, None, Some(&all), &audit).await.map_err(role_error)?;
            println!("Role {} now holds: {}.", updated.name, updated.permissions.join(", "));
        }
        RolesCommand::Delete { name } => {
            roles.delete(Actor::Operator, &name, &audit).await.map_err(role_error)?;
            println!("Role {name} deleted.");
        }
    }
    Ok(())
}

async fn users_command(state: &AppState, cmd: UsersCommand) -> anyhow::Result<()> {
    let audit = AuditMeta::client(cli_client());
    let accounts = &state.accounts;
    match cmd {
        UsersCommand::List { search } => {
            let mut offset = 0;
            loop {
                let page = accounts.list_users(&search, offset, 100).await.map_err(account_error)?;
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
    state.tokens.load_keys().await.context("loading signing keys")?;
    // Keys rotated by an operator (on any instance) take effect here within 30 s.
    let tokens = std::sync::Arc::clone(&state.tokens);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
        every.tick().await;
        loop {
            every.tick().await;
            if let Err(e) = tokens.load_keys().await {
                warn!(error = %e, "could not reload signing keys; keeping the current ones");
            }
        }
    });
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    crate::memory::release_freed();
    let bind = state.config.bind;
    let listener =
        tokio::net::TcpListener::bind(bind).await.with_context(|| format!("cannot listen on {bind}"))?;
    let addr = listener.local_addr()?;
    info!(%addr, "listening on http://{addr}");
    info!(mail = %state.recovery.mailer().describe(), "mail goes out by this route");
    if state.recovery.mailer().writes_files() {
        warn!(mail = %state.recovery.mailer().describe(),
            "no AUTHENTICON_SMTP_URL: mails are only written to files; set it before users rely on reset links");
    }
    state.recovery.mailer().start_outbox();
    if let Some(warning) = state.config.public_url_warning() {
        warn!("{warning}");
    }
    let limits = state.config.connection_limits();
    if let Some(metrics_addr) = state.config.metrics_bind {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {metrics_addr} (AUTHENTICON_METRICS_BIND)"))?;
        info!(addr = %metrics_listener.local_addr()?, "metrics on their own address");
        let router = crate::http::service::metrics_router(state.clone());
        tokio::spawn(crate::http::server::serve_forever(metrics_listener, router, limits));
    }
    let mailer = state.recovery.mailer().clone();
    crate::http::server::serve(listener, crate::app(state), limits, shutdown).await?;
    if !mailer.drain(std::time::Duration::from_secs(30)).await {
        warn!("gave up waiting for mails still being sent");
    }
    info!("shut down cleanly");
    Ok(())
}

/// SIGINT or SIGTERM: stop accepting, let in-flight requests finish. The handlers are
/// installed here, before the server says it is listening: a future that installed them
/// on its first poll left a window in which a prompt SIGTERM killed the process outright.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let (mut term, mut int) = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::terminate())?, signal(SignalKind::interrupt())?)
    };
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        info!("shutdown signal received; finishing in-flight requests");
    })
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
    let audit = AuditMeta::client(cli_client());
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
