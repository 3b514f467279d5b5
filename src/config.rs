//! Typed configuration, merged from defaults, an optional TOML file and `AUTHENTICON_*`
//! environment variables (the environment wins). Nothing else reads the environment:
//! tests build a `Config` in code.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use crate::secret::Secret;
use crate::throttle::ThrottleLimits;

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

#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    /// `None` means: generate one beside the SQLite database (see `secret::resolve`).
    pub secret_key: Option<Secret>,
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
    pub request_timeout: Duration,
    /// Time a client gets to send a request's line and headers (slowloris defence).
    pub header_read_timeout: Duration,
    /// Largest request line plus headers; beyond it the answer is 431.
    pub max_header_bytes: usize,
    pub log_format: LogFormat,
    /// Serve `/metrics` on this address only (not on the API's). `None`: on the API's.
    pub metrics_bind: Option<SocketAddr>,
    /// Shared rate-limit counters; `None` keeps them in process.
    pub redis_url: Option<Secret>,
    /// Namespace of this deployment's keys in Redis.
    pub redis_key_prefix: String,
    pub throttle: ThrottleLimits,
    /// Proxies whose `X-Forwarded-For`/`X-Forwarded-Proto` are believed. Empty: none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
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
    /// Refuse logins until the user has verified their email address.
    pub require_verified_email: bool,
    /// The name authenticator apps show next to the account.
    pub mfa_issuer: String,
    /// Roles whose holders must have a second factor: without one, every route guarded
    /// by a permission answers `403 mfa_enrollment_required`.
    pub mfa_required_roles: Vec<String>,
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

/// Hides the password in `scheme://user:password@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => {
                    format!("{}{}:[redacted]{}", &url[..scheme_end + 3], &creds[..colon], &url[at..])
                }
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            database_url: "sqlite://authenticon.db".into(),
            secret_key: None,
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
            max_body_bytes: 64 * 1024,
            registration_open: true,
            argon2: Argon2Cost::default(),
            hash_concurrency: cores,
            user_cache_ttl: Duration::from_secs(1),
            db_pool_size: 10,
            db_acquire_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            log_format: LogFormat::Text,
            metrics_bind: None,
            redis_url: None,
            redis_key_prefix: "authenticon".into(),
            throttle: ThrottleLimits::default(),
            trusted_proxies: Vec::new(),
            cors_allowed_origins: Vec::new(),
            smtp_url: None,
            mail_from: "Authenticon <noreply@localhost>".into(),
            mail_dir: None,
            public_url: None,
            password_reset_timeout: Duration::from_secs(30 * 60),
            email_verification_timeout: Duration::from_secs(3 * 86_400),
            require_verified_email: false,
            mfa_issuer: "Authenticon".into(),
            mfa_required_roles: Vec::new(),
        }
    }
}

impl Config {
    pub fn connection_limits(&self) -> crate::http::server::ConnectionLimits {
        crate::http::server::ConnectionLimits {
            header_read_timeout: self.header_read_timeout,
            max_head_bytes: self.max_header_bytes,
        }
    }

    /// Defaults, then the TOML file (if any), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, LoadError> {
        let mut values = match file {
            Some(path) => read_toml(path)?,
            None => BTreeMap::new(),
        };
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(ENV_PREFIX) {
                values.insert(name.to_string(), value);
            }
        }
        Ok(Self::from_values(&values)?)
    }

    /// Builds a config from `NAME -> value` pairs (names without the prefix).
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut c = Config::default();
        let get = |k: &str| values.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());

        if let Some(v) = get("BIND") {
            c.bind = v.parse().map_err(|_| bad("BIND", "an address like 127.0.0.1:8000", v))?;
        }
        if let Some(v) = get("DATABASE_URL") {
            if !(v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://")) {
                return Err(bad("DATABASE_URL", "a sqlite://PATH or postgres://… URL", &redact_url(v)));
            }
            c.database_url = v.to_string();
        }
        // A file (an orchestrator's secret mount) is read when no value is given inline.
        let from_file = match (get("SECRET_KEY"), get("SECRET_KEY_FILE")) {
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|_| bad("SECRET_KEY_FILE", "a readable file holding the secret", path))?,
            ),
            _ => None,
        };
        if let Some(v) = get("SECRET_KEY").or(from_file.as_deref().map(str::trim)) {
            if v.chars().count() < 32 {
                return Err(ConfigError {
                    key: "SECRET_KEY",
                    expected: "at least 32 characters",
                    got: "[redacted]".into(),
                });
            }
            c.secret_key = Some(Secret::new(v));
        }
        if let Some(v) = get("ACCESS_TOKEN_LIFETIME") {
            c.access_token_lifetime = positive_lifetime("ACCESS_TOKEN_LIFETIME", v)?;
        }
        if let Some(v) = get("REFRESH_TOKEN_LIFETIME") {
            c.refresh_token_lifetime = positive_lifetime("REFRESH_TOKEN_LIFETIME", v)?;
        }
        if let Some(v) = get("JWT_ALGORITHM") {
            c.jwt_algorithm = JwtAlgorithm::parse(v)
                .ok_or_else(|| bad("JWT_ALGORITHM", "one of HS256, HS384, HS512, RS256, ES256, EdDSA", v))?;
        }
        c.jwt_private_key_file = get("JWT_PRIVATE_KEY_FILE").map(std::path::PathBuf::from);
        if c.jwt_private_key_file.is_some() && c.jwt_algorithm.is_hmac() {
            return Err(bad(
                "JWT_PRIVATE_KEY_FILE",
                "AUTHENTICON_JWT_ALGORITHM set to RS256, ES256 or EdDSA alongside it",
                c.jwt_algorithm.name(),
            ));
        }
        if let Some(v) = get("JWT_LEEWAY") {
            c.jwt_leeway = lifetime("JWT_LEEWAY", v)?;
        }
        c.jwt_issuer = get("JWT_ISSUER").map(str::to_string);
        c.jwt_audience = get("JWT_AUDIENCE").map(str::to_string);
        if let Some(v) = get("REFRESH_REUSE_INTERVAL") {
            c.refresh_reuse_interval = lifetime("REFRESH_REUSE_INTERVAL", v)?;
        }
        if let Some(v) = get("MAX_BODY_BYTES") {
            c.max_body_bytes =
                number("MAX_BODY_BYTES", v, 1024, 16 * 1024 * 1024, "a byte count from 1024 to 16777216")?;
        }
        if let Some(v) = get("REGISTRATION_OPEN") {
            c.registration_open = boolean("REGISTRATION_OPEN", v)?;
        }
        if let Some(v) = get("ARGON2_MEMORY_KIB") {
            c.argon2.memory_kib = number(
                "ARGON2_MEMORY_KIB",
                v,
                19_456,
                4 * 1024 * 1024,
                "KiB from 19456 (OWASP's minimum) to 4194304",
            )?;
        }
        if let Some(v) = get("ARGON2_ITERATIONS") {
            c.argon2.iterations = number("ARGON2_ITERATIONS", v, 2, 100, "a number from 2 to 100")?;
        }
        if let Some(v) = get("ARGON2_PARALLELISM") {
            c.argon2.parallelism = number("ARGON2_PARALLELISM", v, 1, 64, "a number from 1 to 64")?;
        }
        if let Some(v) = get("HASH_CONCURRENCY") {
            c.hash_concurrency = number("HASH_CONCURRENCY", v, 1, 1024, "a number from 1 to 1024")?;
        }
        if let Some(v) = get("SESSION_ABSOLUTE_LIFETIME") {
            c.session_absolute_lifetime = positive_lifetime("SESSION_ABSOLUTE_LIFETIME", v)?;
        }
        if let Some(v) = get("REAUTH_WINDOW") {
            c.reauth_window = positive_lifetime("REAUTH_WINDOW", v)?;
        }
        if let Some(v) = get("USER_CACHE_TTL") {
            c.user_cache_ttl = lifetime("USER_CACHE_TTL", v)?;
        }
        if let Some(v) = get("DB_POOL_SIZE") {
            c.db_pool_size = number("DB_POOL_SIZE", v, 1, 1000, "a number from 1 to 1000")?;
        }
        if let Some(v) = get("DB_ACQUIRE_TIMEOUT") {
            c.db_acquire_timeout = positive_lifetime("DB_ACQUIRE_TIMEOUT", v)?;
        }
        if let Some(v) = get("REQUEST_TIMEOUT") {
            c.request_timeout = positive_lifetime("REQUEST_TIMEOUT", v)?;
        }
        if let Some(v) = get("REDIS_URL") {
            if !v.starts_with("redis://") && !v.starts_with("unix://") {
                return Err(bad("REDIS_URL", "a redis://HOST[:PORT][/DB] URL", &redact_url(v)));
            }
            c.redis_url = Some(Secret::new(v));
        }
        if let Some(v) = get("REDIS_KEY_PREFIX") {
            c.redis_key_prefix = v.to_string();
        }
        let t = &mut c.throttle;
        let limit = |key: &'static str, v: &str| {
            number::<u32>(key, v, 0, 1_000_000, "a count from 0 (off) to 1000000")
        };
        if let Some(v) = get("THROTTLE_LOGIN_PER_USER_AND_ADDRESS") {
            t.login_per_user_and_address = limit("THROTTLE_LOGIN_PER_USER_AND_ADDRESS", v)?;
        }
        if let Some(v) = get("THROTTLE_LOGIN_PER_USER") {
            t.login_per_user = limit("THROTTLE_LOGIN_PER_USER", v)?;
        }
        if let Some(v) = get("THROTTLE_LOGIN_PER_ADDRESS") {
            t.login_per_address = limit("THROTTLE_LOGIN_PER_ADDRESS", v)?;
        }
        if let Some(v) = get("THROTTLE_LOGIN_WINDOW") {
            t.login_window = positive_lifetime("THROTTLE_LOGIN_WINDOW", v)?;
        }
        if let Some(v) = get("THROTTLE_REGISTRATIONS_PER_ADDRESS") {
            t.registrations_per_address = limit("THROTTLE_REGISTRATIONS_PER_ADDRESS", v)?;
        }
        if let Some(v) = get("THROTTLE_PASSKEY_LOGINS_PER_ADDRESS") {
            t.passkey_logins_per_address = limit("THROTTLE_PASSKEY_LOGINS_PER_ADDRESS", v)?;
        }
        if let Some(v) = get("THROTTLE_REGISTRATION_WINDOW") {
            t.registration_window = positive_lifetime("THROTTLE_REGISTRATION_WINDOW", v)?;
        }
        if let Some(v) = get("TRUSTED_PROXIES") {
            c.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_net)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("TRUSTED_PROXIES", "comma-separated addresses or CIDR ranges", v))?;
        }
        if let Some(v) = get("CORS_ALLOWED_ORIGINS") {
            c.cors_allowed_origins =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
            if !c.cors_allowed_origins.iter().all(|o| is_origin(o)) {
                return Err(bad(
                    "CORS_ALLOWED_ORIGINS",
                    "comma-separated origins like https://app.example.com",
                    v,
                ));
            }
        }
        if let Some(v) = get("HEADER_READ_TIMEOUT") {
            c.header_read_timeout = positive_lifetime("HEADER_READ_TIMEOUT", v)?;
        }
        if let Some(v) = get("MAX_HEADER_BYTES") {
            c.max_header_bytes =
                number("MAX_HEADER_BYTES", v, 8192, 1024 * 1024, "a byte count from 8192 to 1048576")?;
        }
        if let Some(v) = get("METRICS_BIND") {
            c.metrics_bind =
                Some(v.parse().map_err(|_| bad("METRICS_BIND", "an address like 127.0.0.1:9100", v))?);
        }
        if let Some(v) = get("THROTTLE_PASSWORD_RESET_PER_ADDRESS") {
            t.password_reset_per_address = limit("THROTTLE_PASSWORD_RESET_PER_ADDRESS", v)?;
        }
        if let Some(v) = get("THROTTLE_PASSWORD_RESET_PER_EMAIL") {
            t.password_reset_per_email = limit("THROTTLE_PASSWORD_RESET_PER_EMAIL", v)?;
        }
        if let Some(v) = get("THROTTLE_PASSWORD_RESET_WINDOW") {
            t.password_reset_window = positive_lifetime("THROTTLE_PASSWORD_RESET_WINDOW", v)?;
        }
        if let Some(v) = get("SMTP_URL") {
            let known = ["smtp://", "smtps://"].iter().any(|p| v.starts_with(p));
            if !known || lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(v).is_err() {
                return Err(bad(
                    "SMTP_URL",
                    "an smtp://[USER:PASS@]HOST[:PORT][?tls=required] or smtps:// URL",
                    &redact_url(v),
                ));
            }
            c.smtp_url = Some(Secret::new(v));
        }
        if let Some(v) = get("MAIL_FROM") {
            if v.parse::<lettre::message::Mailbox>().is_err() {
                return Err(bad("MAIL_FROM", "an address like Name <noreply@example.com>", v));
            }
            c.mail_from = v.to_string();
        }
        if let Some(v) = get("MAIL_DIR") {
            c.mail_dir = Some(v.into());
        }
        if let Some(v) = get("PUBLIC_URL") {
            let ok = (v.starts_with("http://") || v.starts_with("https://")) && !v.contains(['?', '#', ' ']);
            if !ok {
                return Err(bad("PUBLIC_URL", "the web app's address, like https://auth.example.com", v));
            }
            c.public_url = Some(v.trim_end_matches('/').to_string());
        }
        if let Some(v) = get("PASSWORD_RESET_TIMEOUT") {
            c.password_reset_timeout = positive_lifetime("PASSWORD_RESET_TIMEOUT", v)?;
        }
        if let Some(v) = get("EMAIL_VERIFICATION_TIMEOUT") {
            c.email_verification_timeout = positive_lifetime("EMAIL_VERIFICATION_TIMEOUT", v)?;
        }
        if let Some(v) = get("REQUIRE_VERIFIED_EMAIL") {
            c.require_verified_email = boolean("REQUIRE_VERIFIED_EMAIL", v)?;
        }
        if let Some(v) = get("MFA_ISSUER") {
            if v.contains(':') {
                return Err(bad("MFA_ISSUER", "a name without a colon", v));
            }
            c.mfa_issuer = v.to_string();
        }
        if let Some(v) = get("MFA_REQUIRED_ROLES") {
            c.mfa_required_roles =
                v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
            if !c.mfa_required_roles.iter().all(|r| crate::rbac::valid_role_name(r)) {
                return Err(bad("MFA_REQUIRED_ROLES", "comma-separated role names like admin,support", v));
            }
        }
        if let Some(v) = get("LOG_FORMAT") {
            c.log_format = match v {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(bad("LOG_FORMAT", "text or json", v)),
            };
        }
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

fn read_toml(path: &Path) -> Result<BTreeMap<String, String>, LoadError> {
    let file_err = |reason: String| LoadError::File { path: path.display().to_string(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| file_err(e.message().to_string()))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => {
                return Err(file_err(format!("{key}: expected a string, number or boolean, got {other}")))
            }
        };
        out.insert(key.to_ascii_uppercase(), value);
    }
    Ok(out)
}

/// `10.0.0.0/8`, or one address (`127.0.0.1`, `::1`) as a single-host range.
fn parse_net(s: &str) -> Option<ipnet::IpNet> {
    s.parse::<ipnet::IpNet>().ok().or_else(|| s.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

/// `scheme://host[:port]`, nothing after: what a browser sends as `Origin`.
fn is_origin(o: &str) -> bool {
    let Some((scheme, rest)) = o.split_once("://") else { return false };
    matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '*'])
}

fn bad(key: &'static str, expected: &'static str, got: &str) -> ConfigError {
    ConfigError { key, expected, got: got.to_string() }
}

const LIFETIME_EXPECTED: &str = "a number of seconds or a duration like 30s, 5m, 1h, 1d";

/// Parses `300`, `30s`, `5m`, `1h`, `1d` (simplejwt's timedelta settings, written short).
pub fn parse_lifetime(value: &str) -> Option<Duration> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().ok()?;
    let secs = match unit {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3_600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    // Ten years is far past any sane lifetime and keeps `exp` arithmetic safe.
    (secs <= 10 * 365 * 86_400).then(|| Duration::from_secs(secs))
}

fn lifetime(key: &'static str, v: &str) -> Result<Duration, ConfigError> {
    parse_lifetime(v).ok_or_else(|| bad(key, LIFETIME_EXPECTED, v))
}

fn positive_lifetime(key: &'static str, v: &str) -> Result<Duration, ConfigError> {
    match parse_lifetime(v) {
        Some(d) if !d.is_zero() => Ok(d),
        _ => Err(bad(key, "a positive number of seconds or a duration like 30s, 5m, 1h, 1d", v)),
    }
}

fn number<T>(key: &'static str, v: &str, min: T, max: T, expected: &'static str) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(bad(key, expected, v)),
    }
}

fn boolean(key: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(bad(key, "true or false", v)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lifetimes_parse_like_the_docs_say() {
        let cases = [
            ("300", Some(300)),
            ("30s", Some(30)),
            ("5m", Some(300)),
            ("1h", Some(3_600)),
            ("1d", Some(86_400)),
            ("0", Some(0)),
            ("", None),
            ("5x", None),
            ("-5", None),
            ("1.5h", None),
            ("m", None),
            ("99999999999d", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_lifetime(input).map(|d| d.as_secs()), want, "{input:?}");
        }
    }

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_values(&map)
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
