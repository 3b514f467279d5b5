//! Typed configuration, merged from defaults, an optional TOML file and `AUTHENTICON_*`
//! environment variables (the environment wins). Each setting is declared once, in
//! `settings::SETTINGS` (name, how it is read and shown, help); the parser, `check` and
//! the README's tables come from there. Nothing else reads the environment: tests build a
//! `Config` in code.

mod external;
mod settings;
mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::domain::Secret;

pub use external::{ExternalProvider, Protocol, Signup};
pub use settings::{reference_table, settings_in_effect, Section, Setting, SETTINGS};
pub use values::{parse_lifetime, redact_url};

/// Prefix of every environment variable the service reads.
pub const ENV_PREFIX: &str = "AUTHENTICON_";

/// One bad setting: names the variable and what it expects, in one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{ENV_PREFIX}{key}: expected {expected}, got {got:?}")]
pub struct ConfigError {
    pub key: &'static str,
    pub expected: &'static str,
    pub got: String,
}

/// Errors reading the `--config` file, before any value is looked at.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("config file {path}: {reason}")]
    File { path: String, reason: String },
    #[error(transparent)]
    Value(#[from] ConfigError),
}

/// The algorithms tokens are signed with: HMAC with the secret, or a key pair from the
/// store (published in the JWKS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwtAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    ES256,
    EdDSA,
}

impl JwtAlgorithm {
    pub const ALL: [JwtAlgorithm; 6] =
        [Self::HS256, Self::HS384, Self::HS512, Self::RS256, Self::ES256, Self::EdDSA];

    pub fn as_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
            Self::HS384 => jsonwebtoken::Algorithm::HS384,
            Self::HS512 => jsonwebtoken::Algorithm::HS512,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Argon2id cost. Defaults are OWASP's minimum (m=19 MiB, t=2, p=1); lower values are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

/// Throttle limits; a limit of 0 is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub login_per_user_and_address: u32,
    pub login_per_user: u32,
    pub login_per_address: u32,
    pub login_window: Duration,
    pub registrations_per_address: u32,
    pub registration_window: Duration,
    /// Password-reset requests, counted whether or not the address has an account.
    pub password_reset_per_address: u32,
    pub password_reset_per_email: u32,
    pub password_reset_window: Duration,
    /// Passwordless passkey logins started (each stores a challenge), per address, in
    /// the login window.
    pub passkey_logins_per_address: u32,
    /// Authorization requests (`/oauth/authorize`, each stored until answered or
    /// expired), per address, in the login window.
    pub authorizations_per_address: u32,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            login_per_user_and_address: 5,
            login_per_user: 20,
            login_per_address: 100,
            login_window: Duration::from_secs(15 * 60),
            registrations_per_address: 1000,
            registration_window: Duration::from_secs(3600),
            password_reset_per_address: 20,
            password_reset_per_email: 5,
            password_reset_window: Duration::from_secs(3600),
            passkey_logins_per_address: 1000,
            authorizations_per_address: 1000,
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    /// `None` means: generate one beside the SQLite database (see `crypto::secret_key`).
    pub secret_key: Option<Secret>,
    /// Where `secret_key` was read from, when it came from a file.
    pub secret_key_file: Option<std::path::PathBuf>,
    pub access_token_lifetime: Duration,
    pub refresh_token_lifetime: Duration,
    pub jwt_algorithm: JwtAlgorithm,
    /// A PKCS#8 PEM private key to sign with instead of the stored keys.
    pub jwt_private_key_file: Option<std::path::PathBuf>,
    pub jwt_leeway: Duration,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// How long a spent refresh token may be presented again without counting as reuse.
    pub refresh_reuse_interval: Duration,
    /// A session ends this long after its login, however often it was refreshed.
    pub session_absolute_lifetime: Duration,
    /// How long a proof of presence (`/api/me/reauthenticate/`) covers sensitive changes.
    pub reauth_window: Duration,
    /// The longest a personal access token may live; `None`: tokens may never expire.
    pub personal_token_max_lifetime: Option<Duration>,
    pub max_body_bytes: usize,
    pub registration_open: bool,
    pub argon2: Argon2Cost,
    /// Concurrent password hashes; each holds `argon2.memory_kib` of memory.
    pub hash_concurrency: usize,
    /// How long a protected route may reuse a user it read (changes made on this
    /// instance apply at once regardless). Zero: read every time.
    pub user_cache_ttl: Duration,
    pub db_pool_size: u32,
    pub db_acquire_timeout: Duration,
    /// The most refresh rotations one transaction takes (group commit); 1 turns
    /// grouping off.
    pub rotation_batch: usize,
    /// How often a serving instance deletes expired tokens and sessions (and audit
    /// entries past `audit_retention`). Zero: never (`flushexpiredtokens` from cron).
    pub cleanup_interval: Duration,
    /// Audit entries older than this are deleted by the cleanup; `None` keeps them all.
    pub audit_retention: Option<Duration>,
    pub request_timeout: Duration,
    /// Time a client gets to send a request's line and headers (slowloris defence).
    pub header_read_timeout: Duration,
    /// Largest request line plus headers; beyond it the answer is 431.
    pub max_header_bytes: usize,
    pub log_format: LogFormat,
    /// The log filter (`AUTHENTICON_LOG`); `None`: `info`, with SQL statements at `warn`.
    pub log: Option<String>,
    /// Serve `/metrics` on this address only (not on the API's). `None`: on the API's.
    pub metrics_bind: Option<SocketAddr>,
    /// Shared rate-limit counters; `None` keeps them in process.
    pub redis_url: Option<Secret>,
    /// Namespace of this deployment's keys in Redis.
    pub redis_key_prefix: String,
    pub throttle: ThrottleLimits,
    /// Proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed. Empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Networks webhook deliveries may reach although they are loopback, private or
    /// link-local. Empty: public addresses only.
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// Origins allowed to call the API from a browser. Empty: CORS off.
    pub cors_allowed_origins: Vec<String>,
    /// Mail: SMTP server, as `smtp://[user:pass@]host[:port]` (STARTTLS with
    /// `?tls=required`) or `smtps://…`. `None`: mails are written as `.eml` files to
    /// `mail_dir` instead.
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    /// Where mails go without SMTP. `None`: `mail/` beside the SQLite database (or the
    /// working directory).
    pub mail_dir: Option<std::path::PathBuf>,
    /// The web app's address as users reach it, for links in mails. `None`: `http://BIND`.
    pub public_url: Option<String>,
    pub password_reset_timeout: Duration,
    pub email_verification_timeout: Duration,
    /// How long an invitation (a new account's first-password link) works.
    pub invitation_timeout: Duration,
    /// Refuse logins until the user has verified their email address.
    pub require_verified_email: bool,
    /// The name authenticator apps show next to the account.
    pub mfa_issuer: String,
    /// Roles whose holders must have a second factor: without one, every route guarded
    /// by a permission answers `403 mfa_enrollment_required`.
    pub mfa_required_roles: Vec<String>,
    /// Sign-in with other identity providers (the settings file's
    /// `[external_providers.<name>]` tables).
    pub external_providers: Vec<ExternalProvider>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("database_url", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("refresh_token_lifetime", &self.refresh_token_lifetime)
            .field("jwt_algorithm", &self.jwt_algorithm)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database_url: "sqlite://authenticon.db".into(),
            secret_key: None,
            secret_key_file: None,
            access_token_lifetime: Duration::from_secs(300),
            refresh_token_lifetime: Duration::from_secs(86_400),
            jwt_algorithm: JwtAlgorithm::HS256,
            jwt_private_key_file: None,
            jwt_leeway: Duration::ZERO,
            jwt_issuer: None,
            jwt_audience: None,
            refresh_reuse_interval: Duration::ZERO,
            session_absolute_lifetime: Duration::from_secs(30 * 86_400),
            reauth_window: Duration::from_secs(300),
            personal_token_max_lifetime: Some(Duration::from_secs(365 * 86_400)),
            max_body_bytes: 64 * 1024,
            registration_open: true,
            argon2: Argon2Cost::default(),
            hash_concurrency: cores,
            user_cache_ttl: Duration::from_secs(1),
            db_pool_size: 10,
            db_acquire_timeout: Duration::from_secs(5),
            rotation_batch: 64,
            cleanup_interval: Duration::from_secs(3_600),
            audit_retention: None,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            log_format: LogFormat::Text,
            log: None,
            metrics_bind: None,
            redis_url: None,
            redis_key_prefix: "authenticon".into(),
            throttle: ThrottleLimits::default(),
            trusted_proxies: Vec::new(),
            webhook_allowed_networks: Vec::new(),
            cors_allowed_origins: Vec::new(),
            smtp_url: None,
            mail_from: "Authenticon <noreply@localhost>".into(),
            mail_dir: None,
            public_url: None,
            password_reset_timeout: Duration::from_secs(30 * 60),
            email_verification_timeout: Duration::from_secs(3 * 86_400),
            invitation_timeout: Duration::from_secs(7 * 86_400),
            require_verified_email: false,
            mfa_issuer: "Authenticon".into(),
            mfa_required_roles: Vec::new(),
            external_providers: Vec::new(),
        }
    }
}

impl Config {
    /// Defaults, then the TOML file (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, LoadError> {
        let (mut values, providers) = match file {
            Some(path) => read_toml(path)?,
            None => (BTreeMap::new(), Vec::new()),
        };
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                values.insert(name.to_string(), value);
            }
        }
        let mut config = Self::from_values(&values)?;
        config.external_providers = providers;
        Ok(config)
    }

    /// Builds a config from `NAME -> value` pairs (names without the prefix); names no
    /// setting has are ignored, empty values count as unset.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        for setting in SETTINGS {
            if let Some(v) = values.get(setting.name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                (setting.set)(&mut c, v).map_err(|expected| ConfigError {
                    key: setting.name,
                    expected,
                    got: setting.redact.apply(v),
                })?;
            }
        }
        settings::check_combinations(&c)?;
        Ok(c)
    }

    /// Base of the links in mails, and the passkeys' relying party. Unset, it is the
    /// bind address, except that an address serving every interface (`0.0.0.0`, `::`)
    /// is reached as `localhost` on this machine: it is no address a browser can open.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| match self.bind.ip().is_unspecified() {
            true => format!("http://localhost:{}", self.bind.port()),
            false => format!("http://{}", self.bind),
        })
    }

    /// The issuer tokens and discovery name: `AUTHENTICON_JWT_ISSUER`, or the public URL.
    /// SECURITY: from configuration, never from a request's `Host`.
    pub fn issuer(&self) -> String {
        self.jwt_issuer.clone().unwrap_or_else(|| self.public_url().trim_end_matches('/').to_string())
    }

    /// Why the default public URL is probably wrong here: behind a trusted proxy, users
    /// reach the service at an address it cannot see, and mail links and passkeys would
    /// name the bind address instead.
    pub fn public_url_warning(&self) -> Option<String> {
        (self.public_url.is_none() && !self.trusted_proxies.is_empty()).then(|| {
            format!(
                "AUTHENTICON_PUBLIC_URL is not set, but AUTHENTICON_TRUSTED_PROXIES is: links in mails \
                 and passkeys will use {}; set it to the address users open",
                self.public_url()
            )
        })
    }

    /// Where mails are written when no SMTP server is configured.
    pub fn mail_dir(&self) -> std::path::PathBuf {
        if let Some(dir) = &self.mail_dir {
            return dir.clone();
        }
        let beside = self.sqlite_path().and_then(|p| Path::new(p).parent()).unwrap_or(Path::new(""));
        let base = if beside.as_os_str().is_empty() { Path::new(".") } else { beside };
        base.join("mail")
    }

    /// The SQLite database file, when the store is a file-backed SQLite database.
    pub fn sqlite_path(&self) -> Option<&str> {
        let rest = self.database_url.strip_prefix("sqlite:")?;
        let rest = rest.trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or(rest);
        (!path.is_empty() && path != ":memory:").then_some(path)
    }
}

/// The file's flat settings, and its external providers.
fn read_toml(path: &Path) -> Result<(BTreeMap<String, String>, Vec<ExternalProvider>), LoadError> {
    let file_err = |reason: String| LoadError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file_err(e.message().to_string()))?;
    let mut out = BTreeMap::new();
    let mut providers = Vec::new();
    for (key, value) in table {
        if key == "external_providers" {
            providers = external::parse_providers(&value).map_err(file_err)?;
            continue;
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(file_err(format!("{key}: expected a string, number or boolean, got {other}")))
            }
        };
        let name = key.to_ascii_uppercase();
        // SECURITY: a misspelt `database_url` would quietly leave the default (SQLite) in place.
        if !SETTINGS.iter().any(|s| s.name == name) {
            return Err(file_err(format!("{key}: no such setting (`authenticon settings` lists them)")));
        }
        out.insert(name, value);
    }
    Ok((out, providers))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_values(&map)
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_an_error_not_a_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("authenticon.toml");
        std::fs::write(&path, "databse_url = \"postgres://db/a\"\n").unwrap();
        assert!(read_toml(&path).unwrap_err().to_string().contains("databse_url: no such setting"));
        std::fs::write(&path, "database_url = \"postgres://db/a\"\n").unwrap();
        assert_eq!(read_toml(&path).unwrap().0.get("DATABASE_URL").unwrap(), "postgres://db/a");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = with(&[("ACCESS_TOKEN_LIFETIME", "soon")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "AUTHENTICON_ACCESS_TOKEN_LIFETIME: expected a positive number of seconds or a duration like 30s, 5m, 1h, 1d, got \"soon\""
        );
        assert_eq!(with(&[("BIND", "nowhere")]).unwrap_err().key, "BIND");
        assert_eq!(with(&[("JWT_ALGORITHM", "none")]).unwrap_err().key, "JWT_ALGORITHM");
        assert_eq!(with(&[("ARGON2_MEMORY_KIB", "1024")]).unwrap_err().key, "ARGON2_MEMORY_KIB");
        assert_eq!(with(&[("DATABASE_URL", "mysql://x")]).unwrap_err().key, "DATABASE_URL");
    }

    #[test]
    fn a_short_secret_is_refused_without_echoing_it() {
        let e = with(&[("SECRET_KEY", "tooshort")]).unwrap_err();
        assert!(!e.to_string().contains("tooshort"), "{e}");
    }

    #[test]
    fn the_secret_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, format!("{}\n", "s".repeat(40))).unwrap();
        let c = with(&[("SECRET_KEY_FILE", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.secret_key.unwrap().expose(), "s".repeat(40));
        let e = with(&[("SECRET_KEY_FILE", "/nonexistent/secret")]).unwrap_err();
        assert_eq!(e.key, "SECRET_KEY_FILE");
    }

    #[test]
    fn the_public_url_defaults_to_an_address_a_browser_can_open() {
        assert_eq!(with(&[]).unwrap().public_url(), "http://127.0.0.1:8000");
        assert_eq!(with(&[("BIND", "0.0.0.0:9000")]).unwrap().public_url(), "http://localhost:9000");
        assert_eq!(with(&[("BIND", "[::]:9000")]).unwrap().public_url(), "http://localhost:9000");
        let set = with(&[("BIND", "0.0.0.0:9000"), ("PUBLIC_URL", "https://auth.example.com/")]).unwrap();
        assert_eq!(set.public_url(), "https://auth.example.com");
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = with(&[]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(c.access_token_lifetime.as_secs(), 300);
        assert_eq!(c.refresh_token_lifetime.as_secs(), 86_400);
        assert_eq!(c.jwt_algorithm, JwtAlgorithm::HS256);
        assert_eq!(c.max_body_bytes, 65_536);
        assert_eq!(c.sqlite_path(), Some("authenticon.db"));
    }

    #[test]
    fn sqlite_paths_and_redaction() {
        let c = with(&[("DATABASE_URL", "sqlite:///tmp/a.db?mode=rwc")]).unwrap();
        assert_eq!(c.sqlite_path(), Some("/tmp/a.db"));
        let c = with(&[("DATABASE_URL", "sqlite::memory:")]).unwrap();
        assert_eq!(c.sqlite_path(), None);
        assert_eq!(redact_url("postgres://u:pw@h/db"), "postgres://u:[redacted]@h/db");
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }
}
