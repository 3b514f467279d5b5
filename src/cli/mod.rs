//! The `authenticon` command line, in the manner of Django's management commands: the
//! clap types and the dispatch here, one file per command group. Every command exits
//! non-zero with one clear line on bad input.

mod check;
mod clients;
mod healthcheck;
mod import;
mod keys;
mod roles;
mod serve;
mod superuser;
mod users;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};

use crate::app::cleanup::{self, Cleanup};
use crate::app::{telemetry, AppState};
use crate::config::{redact_url, reference_table, Config, Section};
use crate::domain::{ClientInfo, FieldErrors};

#[derive(Debug, Parser)]
#[command(name = "authenticon", version, about = "JWT authentication service")]
pub struct Cli {
    /// TOML file with settings (keys as the AUTHENTICON_* variables, without the prefix,
    /// e.g. `bind = "0.0.0.0:8000"`), and the `[external_providers.<name>]` tables.
    /// Environment variables win over it.
    #[arg(long, global = true, value_name = "FILE", env = "AUTHENTICON_CONFIG")]
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
    /// Delete expired refresh-token records and sessions (and audit entries past
    /// AUTHENTICON_AUDIT_RETENTION), in small batches that live traffic runs beside.
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
    /// Ask a running server's /readyz and exit 0 when it answers 200, else 1 with one line
    /// (the container image's HEALTHCHECK: no shell or curl needed). Opens no database.
    Healthcheck {
        /// The readiness URL; default: /readyz at AUTHENTICON_BIND (a wildcard address is
        /// asked on loopback).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
    },
    /// Print the OpenAPI 3.1 document (what `GET /api/schema/` serves) and exit.
    Openapi,
    /// Print the settings reference (every AUTHENTICON_* variable, its default and
    /// meaning) as the README's Markdown tables, and exit.
    Settings,
    /// Manage signing keys (RS256, ES256, EdDSA): generate, list, activate, retire.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage roles and their permissions.
    #[command(subcommand)]
    Roles(RolesCommand),
    /// List users, assign roles, activate and deactivate (USER is a username or an id).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Register the applications that sign their users in here (OAuth 2.1 / OpenID Connect).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Webhook endpoints: other systems told what happens here (signed, retried, logged).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Every endpoint: id, enabled, URL, events.
    List,
    /// The event types an endpoint may ask for.
    EventTypes,
    /// Register an endpoint; prints {"id", "secret"} (the secret this once).
    Add {
        url: String,
        /// An event type (repeat for more); see `event-types`.
        #[arg(long = "event", value_name = "TYPE", required = true)]
        events: Vec<String>,
        #[arg(long)]
        description: Option<String>,
        /// standard (Standard Webhooks, the default) or set (Security Event Tokens, RFC 8935)
        #[arg(long)]
        format: Option<String>,
    },
    /// Turn an endpoint on or off (a disabled one is sent nothing; what happens meanwhile waits).
    Enable {
        id: String,
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        enabled: bool,
    },
    /// A new secret (printed once); the old one stops signing at once.
    RotateSecret { id: String },
    /// Remove an endpoint and its delivery log.
    Remove { id: String },
    /// The endpoint's latest deliveries (50), newest first; only those of --status if given.
    Deliveries {
        id: String,
        /// pending, delivered or dead
        #[arg(long)]
        status: Option<String>,
    },
    /// Send dead deliveries again: one (--delivery) or all of the endpoint's.
    Replay {
        id: String,
        #[arg(long)]
        delivery: Option<String>,
    },
}

/// What `clients create` and `clients update` say of a client.
#[derive(Debug, clap::Args)]
pub struct ClientArgs {
    #[arg(long)]
    pub name: Option<String>,
    /// An exact redirect URI (repeat for more); on update, replaces the list.
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return (repeat for more); on update, replaces the list.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// authorization_code, refresh_token or client_credentials (repeat); default the first two.
    #[arg(long = "grant", value_name = "GRANT")]
    pub grants: Vec<String>,
    /// A scope the client may ask for (repeat); default openid profile email offline_access.
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A permission the client holds itself with client_credentials (repeat).
    #[arg(long = "permission", value_name = "PERMISSION")]
    pub permissions: Vec<String>,
    /// First-party: its users are not asked to consent.
    #[arg(long)]
    pub pre_consented: Option<bool>,
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Every client: id, name, kind, grants.
    List,
    /// Register a client; prints {"client_id", "client_secret"} (no secret for --public).
    Create {
        #[command(flatten)]
        spec: ClientArgs,
        /// A public client (a SPA, a native app): no secret, PKCE only.
        #[arg(long)]
        public: bool,
    },
    /// One client, as JSON.
    Show { client_id: String },
    /// Change a client: the options given replace those values.
    Update {
        client_id: String,
        #[command(flatten)]
        spec: ClientArgs,
    },
    /// A new secret (printed once); the old one stops working at once.
    RotateSecret { client_id: String },
    /// Remove a client: its grants end, and their tokens with them.
    Delete { client_id: String },
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
    let serving = matches!(cli.command, Command::Serve { .. });
    let log = telemetry::init(config.log_format, config.log.as_deref(), serving);
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
    let outcome = runtime.block_on(dispatch(cli.command, config));
    drop(runtime);
    // The log lines still queued go out before the error line, which comes last.
    drop(log);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, config: Config) -> anyhow::Result<()> {
    // These need no database: the document and the reference come from the code.
    match command {
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::http::openapi())?);
            return Ok(());
        }
        Command::Settings => {
            println!("{}\n{}", reference_table(Section::General), reference_table(Section::Throttling));
            return Ok(());
        }
        Command::Healthcheck { url } => {
            let url = url.unwrap_or_else(|| healthcheck::readyz_url(config.bind));
            return healthcheck::check(&url).await;
        }
        _ => {}
    }
    let db = redact_url(&config.database_url);
    let (state, secret_source) = AppState::build(config).await.with_context(|| format!("opening {db}"))?;
    if let Command::Serve { .. } = command {
        return serve::serve(state, &secret_source).await;
    }
    if let Command::Check = command {
        return check::check(&state).await;
    }
    // Every other command works on the schema as this version knows it.
    state.store.migrate().await?;
    match command {
        Command::Migrate => {
            println!("Migrations applied to {db}.");
            Ok(())
        }
        Command::CreateSuperuser { username, email, no_input } => {
            superuser::create_superuser(&state, username, email, no_input).await
        }
        Command::FlushExpiredTokens => {
            let cleanup = Cleanup {
                batch: cleanup::BATCH,
                audit_retention: state.config.audit_retention,
                pause: Duration::from_millis(2),
            };
            let deleted = cleanup.run(&state.store, state.clock.now()).await?;
            println!("Deleted {} expired refresh token(s).", deleted.tokens);
            tracing::info!(
                sessions = deleted.sessions,
                audit = deleted.audit,
                "expired sessions and audit entries deleted"
            );
            // simplejwt's one line stays the output; spent authorization requests go too.
            let n = state.store.flush_authorizations(state.clock.now()).await?;
            tracing::info!(deleted = n, "expired authorization requests deleted");
            let n = state.store.flush_external_logins(state.clock.now()).await?;
            tracing::info!(deleted = n, "expired external sign-ins deleted");
            Ok(())
        }
        Command::ImportDjango { file, admin_group, existing_roles } => {
            import::import_django(&state, &file, admin_group, existing_roles).await
        }
        Command::Keys(cmd) => keys::run(&state, cmd).await,
        Command::Roles(cmd) => roles::run(&state, cmd).await,
        Command::Users(cmd) => users::run(&state, cmd).await,
        Command::Clients(cmd) => clients::run(&state, cmd).await,
        Command::Webhooks(cmd) => webhooks::run(&state, cmd).await,
        Command::Serve { .. }
        | Command::Check
        | Command::Healthcheck { .. }
        | Command::Openapi
        | Command::Settings => Ok(()),
    }
}

/// One line for a set of field errors: `field: message message; field: message`.
fn field_errors_line(errors: &FieldErrors) -> anyhow::Error {
    let lines: Vec<String> =
        errors.0.iter().map(|(field, msgs)| format!("{field}: {}", msgs.join(" "))).collect();
    anyhow!(lines.join("; "))
}

/// How command-line changes appear in the audit log: no address, this user agent.
fn cli_client() -> ClientInfo {
    ClientInfo { ip: String::new(), user_agent: "authenticon-cli".into() }
}
