//! Every setting, declared once: its name, how a value is read into `Config` and shown
//! back, and its help. `Config::from_values` reads through this table, `check` prints
//! what differs from the defaults through it, and the README's settings tables are this
//! table rendered (`authenticon settings`; a test keeps the README in step).

use std::time::Duration;

use super::values::{
    boolean, is_origin, lifetime, limit, list, number, parse_net, positive_lifetime, redact_url,
    show_lifetime,
};
use super::{Config, ConfigError, JwtAlgorithm, LogFormat, ENV_PREFIX};
use crate::domain::{valid_role_name, Secret};

/// Which README table a setting is listed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    General,
    Throttling,
}

/// How much of a bad value an error line may repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redact {
    No,
    /// A URL: everything but its password.
    Url,
    /// Nothing.
    All,
}

impl Redact {
    pub fn apply(self, v: &str) -> String {
        match self {
            Redact::No => v.to_string(),
            Redact::Url => redact_url(v),
            Redact::All => "[redacted]".into(),
        }
    }
}

pub struct Setting {
    /// Without the `AUTHENTICON_` prefix (and lower-case in the TOML file).
    pub name: &'static str,
    pub section: Section,
    /// Reads a (trimmed, non-empty) value; the error says what was expected.
    pub set: fn(&mut Config, &str) -> Result<(), &'static str>,
    /// The value in force, as it would be written; empty when unset.
    pub show: fn(&Config) -> String,
    /// What the README says of the default, when it is not a value (`generated`).
    pub default_doc: Option<&'static str>,
    pub help: &'static str,
    pub redact: Redact,
}

const fn setting(
    name: &'static str,
    set: fn(&mut Config, &str) -> Result<(), &'static str>,
    show: fn(&Config) -> String,
    help: &'static str,
) -> Setting {
    Setting { name, section: Section::General, set, show, default_doc: None, help, redact: Redact::No }
}

impl Setting {
    const fn throttling(self) -> Self {
        Setting { section: Section::Throttling, ..self }
    }

    const fn default_doc(self, doc: &'static str) -> Self {
        Setting { default_doc: Some(doc), ..self }
    }

    const fn redact(self, redact: Redact) -> Self {
        Setting { redact, ..self }
    }

    /// The default as the README shows it.
    pub fn default_text(&self) -> String {
        match self.default_doc {
            Some(doc) => doc.to_string(),
            None => match (self.show)(&Config::default()) {
                v if v.is_empty() => "unset".into(),
                v => format!("`{v}`"),
            },
        }
    }
}

/// Stores a value read; for the table's one-line `set`s.
fn put<T>(slot: &mut T, value: T) -> Result<(), &'static str> {
    *slot = value;
    Ok(())
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn secret(v: &Option<Secret>) -> String {
    if v.is_some() {
        "[redacted]".into()
    } else {
        String::new()
    }
}

fn path(v: &Option<std::path::PathBuf>) -> String {
    v.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
}

fn joined(v: &[String]) -> String {
    v.join(",")
}

fn secret_key(c: &mut Config, v: &str) -> Result<(), &'static str> {
    if v.chars().count() < 32 {
        return Err("at least 32 characters");
    }
    c.secret_key = Some(Secret::new(v));
    Ok(())
}

/// An orchestrator's secret mount: read when no value is given inline (the inline one,
/// read first, wins).
fn secret_key_file(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.secret_key_file = Some(v.into());
    if c.secret_key.is_some() {
        return Ok(());
    }
    let text = std::fs::read_to_string(v).map_err(|_| "a readable file holding the secret")?;
    secret_key(c, text.trim()).map_err(|_| "a file holding a secret of at least 32 characters")
}

fn personal_token_max_lifetime(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.personal_token_max_lifetime = match v {
        "none" => None,
        v => Some(positive_lifetime(v).map_err(|_| "a lifetime like 365d, or none")?),
    };
    Ok(())
}

/// At least a day: a slip of the unit (`30s` for `30d`) must not wipe the log.
fn audit_retention(c: &mut Config, v: &str) -> Result<(), &'static str> {
    const EXPECTED: &str = "a lifetime of at least 1d, like 365d, or none";
    c.audit_retention = match v {
        "none" => None,
        v => Some(positive_lifetime(v).ok().filter(|d| d.as_secs() >= 86_400).ok_or(EXPECTED)?),
    };
    Ok(())
}

fn database_url(c: &mut Config, v: &str) -> Result<(), &'static str> {
    if !(v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://")) {
        return Err("a sqlite://PATH or postgres://… URL");
    }
    c.database_url = v.to_string();
    Ok(())
}

fn smtp_url(c: &mut Config, v: &str) -> Result<(), &'static str> {
    let known = ["smtp://", "smtps://"].iter().any(|p| v.starts_with(p));
    if !known || lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(v).is_err() {
        return Err("an smtp://[USER:PASS@]HOST[:PORT][?tls=required] or smtps:// URL");
    }
    c.smtp_url = Some(Secret::new(v));
    Ok(())
}

fn public_url(c: &mut Config, v: &str) -> Result<(), &'static str> {
    if !(v.starts_with("http://") || v.starts_with("https://")) || v.contains(['?', '#', ' ']) {
        return Err("the web app's address, like https://auth.example.com");
    }
    c.public_url = Some(v.trim_end_matches('/').to_string());
    Ok(())
}

fn networks(v: &str) -> Result<Vec<ipnet::IpNet>, &'static str> {
    list(v)
        .iter()
        .map(|s| parse_net(s))
        .collect::<Option<Vec<_>>>()
        .ok_or("comma-separated addresses or CIDR ranges")
}

fn trusted_proxies(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.trusted_proxies = networks(v)?;
    Ok(())
}

fn webhook_allowed_networks(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.webhook_allowed_networks = networks(v)?;
    Ok(())
}

fn cors_allowed_origins(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.cors_allowed_origins = list(v);
    if !c.cors_allowed_origins.iter().all(|o| is_origin(o)) {
        return Err("comma-separated origins like https://app.example.com");
    }
    Ok(())
}

fn mfa_required_roles(c: &mut Config, v: &str) -> Result<(), &'static str> {
    c.mfa_required_roles = list(v);
    if !c.mfa_required_roles.iter().all(|r| valid_role_name(r)) {
        return Err("comma-separated role names like admin,support");
    }
    Ok(())
}

fn address(v: &str, expected: &'static str) -> Result<std::net::SocketAddr, &'static str> {
    v.parse().map_err(|_| expected)
}

fn duration(d: Duration) -> String {
    show_lifetime(d)
}

/// Every setting, in the order the README lists them.
pub static SETTINGS: &[Setting] = &[
    setting("BIND", |c, v| put(&mut c.bind, address(v, "an address like 127.0.0.1:8000")?), |c| c.bind.to_string(),
        "listen address"),
    setting("DATABASE_URL", database_url, |c| redact_url(&c.database_url), "the database").redact(Redact::Url),
    setting("SECRET_KEY", secret_key, |c| secret(&c.secret_key),
        "signing secret, at least 32 characters; see below").default_doc("generated").redact(Redact::All),
    setting("SECRET_KEY_FILE", secret_key_file, |c| path(&c.secret_key_file),
        "read the secret from this file instead (secret mounts)").redact(Redact::All),
    setting("ACCESS_TOKEN_LIFETIME", |c, v| put(&mut c.access_token_lifetime, positive_lifetime(v)?),
        |c| duration(c.access_token_lifetime), "seconds, or `30s`, `5m`, `1h`, `1d`"),
    setting("REFRESH_TOKEN_LIFETIME", |c, v| put(&mut c.refresh_token_lifetime, positive_lifetime(v)?),
        |c| duration(c.refresh_token_lifetime), "as above"),
    setting("JWT_ALGORITHM",
        |c, v| put(&mut c.jwt_algorithm, JwtAlgorithm::parse(v).ok_or("one of HS256, HS384, HS512, RS256, ES256, EdDSA")?),
        |c| c.jwt_algorithm.name().into(),
        "`HS256`, `HS384`, `HS512` (the secret signs), or `RS256`, `ES256`, `EdDSA` (key pairs, JWKS)"),
    setting("JWT_PRIVATE_KEY_FILE", |c, v| put(&mut c.jwt_private_key_file, Some(v.into())),
        |c| path(&c.jwt_private_key_file),
        "a PKCS#8 PEM private key (RS256/ES256/EdDSA) to sign with instead of stored keys; its public half is published"),
    setting("JWT_LEEWAY", |c, v| put(&mut c.jwt_leeway, lifetime(v)?), |c| duration(c.jwt_leeway),
        "clock-skew allowance for `exp`/`nbf`"),
    setting("JWT_ISSUER", |c, v| put(&mut c.jwt_issuer, Some(v.into())), |c| opt(&c.jwt_issuer), "set and verify `iss`"),
    setting("JWT_AUDIENCE", |c, v| put(&mut c.jwt_audience, Some(v.into())), |c| opt(&c.jwt_audience),
        "set and verify `aud`"),
    setting("REFRESH_REUSE_INTERVAL", |c, v| put(&mut c.refresh_reuse_interval, lifetime(v)?),
        |c| duration(c.refresh_reuse_interval), "see \"Tokens\""),
    setting("SESSION_ABSOLUTE_LIFETIME", |c, v| put(&mut c.session_absolute_lifetime, positive_lifetime(v)?),
        |c| duration(c.session_absolute_lifetime),
        "a session ends this long after its login, however often it is refreshed"),
    setting("REAUTH_WINDOW", |c, v| put(&mut c.reauth_window, positive_lifetime(v)?), |c| duration(c.reauth_window),
        "how long `POST /api/me/reauthenticate/` covers sensitive changes (see \"Tokens\")"),
    setting("PERSONAL_TOKEN_MAX_LIFETIME", personal_token_max_lifetime,
        |c| c.personal_token_max_lifetime.map(duration).unwrap_or_else(|| "none".into()),
        "the longest `expires_in` a personal access token may ask for; `none` also allows tokens that never expire (see \"Personal access tokens\")"),
    setting("REGISTRATION_OPEN", |c, v| put(&mut c.registration_open, boolean(v)?), |c| c.registration_open.to_string(),
        "`false` makes `/register/` answer `403`"),
    setting("MAX_BODY_BYTES",
        |c, v| put(&mut c.max_body_bytes, number(v, 1024, 16 * 1024 * 1024, "a byte count from 1024 to 16777216")?),
        |c| c.max_body_bytes.to_string(), "larger bodies get `413`"),
    setting("ARGON2_MEMORY_KIB",
        |c, v| put(&mut c.argon2.memory_kib, number(v, 19_456, 4 * 1024 * 1024, "KiB from 19456 (OWASP's minimum) to 4194304")?),
        |c| c.argon2.memory_kib.to_string(), "Argon2id memory cost (OWASP minimum enforced)"),
    setting("ARGON2_ITERATIONS", |c, v| put(&mut c.argon2.iterations, number(v, 2, 100, "a number from 2 to 100")?),
        |c| c.argon2.iterations.to_string(), "Argon2id time cost"),
    setting("ARGON2_PARALLELISM", |c, v| put(&mut c.argon2.parallelism, number(v, 1, 64, "a number from 1 to 64")?),
        |c| c.argon2.parallelism.to_string(), "Argon2id lanes"),
    setting("HASH_CONCURRENCY", |c, v| put(&mut c.hash_concurrency, number(v, 1, 1024, "a number from 1 to 1024")?),
        |c| c.hash_concurrency.to_string(), "concurrent hashes (each holds the Argon2 memory)")
        .default_doc("number of cores"),
    setting("DB_POOL_SIZE", |c, v| put(&mut c.db_pool_size, number(v, 1, 1000, "a number from 1 to 1000")?),
        |c| c.db_pool_size.to_string(), "connections in the pool"),
    setting("DB_ACQUIRE_TIMEOUT", |c, v| put(&mut c.db_acquire_timeout, positive_lifetime(v)?),
        |c| duration(c.db_acquire_timeout), "how long a request waits for a connection before answering `503`"),
    setting("ROTATION_BATCH", |c, v| put(&mut c.rotation_batch, number(v, 1, 512, "a number from 1 to 512")?),
        |c| c.rotation_batch.to_string(),
        "the most refresh-token rotations written in one transaction (group commit, see \"Running at scale\"); `1` writes each alone"),
    setting("CLEANUP_INTERVAL", |c, v| put(&mut c.cleanup_interval, lifetime(v)?), |c| duration(c.cleanup_interval),
        "how often `serve` deletes expired refresh tokens and sessions (and audit entries past `AUDIT_RETENTION`), in small batches; `0` leaves it to `flushexpiredtokens`"),
    setting("AUDIT_RETENTION", audit_retention,
        |c| c.audit_retention.map(duration).unwrap_or_else(|| "none".into()),
        "audit entries older than this (at least `1d`) are deleted by the cleanup, once webhooks were made from them (e.g. `365d`); `none` keeps them all"),
    setting("USER_CACHE_TTL", |c, v| put(&mut c.user_cache_ttl, lifetime(v)?), |c| duration(c.user_cache_ttl),
        "how long a protected route may reuse the user it read; `0` reads every time (see \"Tokens\")"),
    setting("TRUSTED_PROXIES", trusted_proxies,
        |c| c.trusted_proxies.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(","),
        "addresses or CIDR ranges of your reverse proxies; only their `X-Forwarded-For` / `X-Forwarded-Proto` are believed"),
    setting("WEBHOOK_ALLOWED_NETWORKS", webhook_allowed_networks,
        |c| c.webhook_allowed_networks.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(","),
        "loopback, private or link-local addresses or CIDR ranges webhook deliveries may reach (e.g. `10.1.0.0/16` for internal receivers); others are refused")
        .default_doc("unset (public addresses only)"),
    setting("CORS_ALLOWED_ORIGINS", cors_allowed_origins, |c| joined(&c.cors_allowed_origins),
        "comma-separated origins allowed to call the API from a browser, e.g. `https://app.example.com`")
        .default_doc("unset (CORS off)"),
    setting("REQUEST_TIMEOUT", |c, v| put(&mut c.request_timeout, positive_lifetime(v)?), |c| duration(c.request_timeout),
        "a whole request, body included (`408` past it)"),
    setting("HEADER_READ_TIMEOUT", |c, v| put(&mut c.header_read_timeout, positive_lifetime(v)?),
        |c| duration(c.header_read_timeout), "a request's line and headers (slow clients are cut off)"),
    setting("MAX_HEADER_BYTES",
        |c, v| put(&mut c.max_header_bytes, number(v, 8192, 1024 * 1024, "a byte count from 8192 to 1048576")?),
        |c| c.max_header_bytes.to_string(), "a request's line and headers (`431` past it)"),
    setting("REDIS_URL",
        |c, v| {
            if !v.starts_with("redis://") && !v.starts_with("unix://") {
                return Err("a redis://HOST[:PORT][/DB] URL");
            }
            put(&mut c.redis_url, Some(Secret::new(v)))
        },
        |c| secret(&c.redis_url), "shared rate-limit counters (see \"Running at scale\")").redact(Redact::Url),
    setting("REDIS_KEY_PREFIX", |c, v| put(&mut c.redis_key_prefix, v.into()), |c| c.redis_key_prefix.clone(),
        "namespace of the keys in Redis"),
    setting("SMTP_URL", smtp_url, |c| secret(&c.smtp_url),
        "`smtp://[user:pass@]host[:port][?tls=required]` or `smtps://…` (see \"Mail\")")
        .default_doc("unset (mails become `.eml` files)").redact(Redact::Url),
    setting("MAIL_FROM",
        |c, v| {
            v.parse::<lettre::message::Mailbox>().map_err(|_| "an address like Name <noreply@example.com>")?;
            put(&mut c.mail_from, v.into())
        },
        |c| c.mail_from.clone(), "sender of every mail"),
    setting("MAIL_DIR", |c, v| put(&mut c.mail_dir, Some(v.into())), |c| path(&c.mail_dir),
        "where mails go without SMTP").default_doc("`mail/` beside the database"),
    setting("PUBLIC_URL", public_url, |c| opt(&c.public_url),
        "the web app's address, for links in mails; its host is the passkeys' relying party. Set it behind a \
         reverse proxy: `serve` and `check` warn when `AUTHENTICON_TRUSTED_PROXIES` is set without it")
        .default_doc("`http://` + bind address (`localhost` for `0.0.0.0` or `::`)"),
    setting("PASSWORD_RESET_TIMEOUT", |c, v| put(&mut c.password_reset_timeout, positive_lifetime(v)?),
        |c| duration(c.password_reset_timeout), "how long a reset link works"),
    setting("EMAIL_VERIFICATION_TIMEOUT", |c, v| put(&mut c.email_verification_timeout, positive_lifetime(v)?),
        |c| duration(c.email_verification_timeout), "how long a verification link works"),
    setting("INVITATION_TIMEOUT", |c, v| put(&mut c.invitation_timeout, positive_lifetime(v)?),
        |c| duration(c.invitation_timeout), "how long an invitation to a new account (its first-password link) works"),
    setting("REQUIRE_VERIFIED_EMAIL", |c, v| put(&mut c.require_verified_email, boolean(v)?),
        |c| c.require_verified_email.to_string(), "refuse logins until the email address is verified"),
    setting("THROTTLE_PASSWORD_RESET_PER_ADDRESS", |c, v| put(&mut c.throttle.password_reset_per_address, limit(v)?),
        |c| c.throttle.password_reset_per_address.to_string(), "reset requests per client address"),
    setting("THROTTLE_PASSWORD_RESET_PER_EMAIL", |c, v| put(&mut c.throttle.password_reset_per_email, limit(v)?),
        |c| c.throttle.password_reset_per_email.to_string(), "reset requests per email address"),
    setting("THROTTLE_PASSWORD_RESET_WINDOW", |c, v| put(&mut c.throttle.password_reset_window, positive_lifetime(v)?),
        |c| duration(c.throttle.password_reset_window), "the window of both reset counts"),
    setting("MFA_ISSUER",
        |c, v| {
            if v.contains(':') {
                return Err("a name without a colon");
            }
            put(&mut c.mfa_issuer, v.into())
        },
        |c| c.mfa_issuer.clone(), "the name authenticator apps show, and the passkey relying party's name"),
    setting("MFA_REQUIRED_ROLES", mfa_required_roles, |c| joined(&c.mfa_required_roles),
        "roles whose permissions work only once their holder has a second factor"),
    setting("LOG_FORMAT",
        |c, v| {
            c.log_format = match v {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err("text or json"),
            };
            Ok(())
        },
        |c| match c.log_format {
            LogFormat::Text => "text".into(),
            LogFormat::Json => "json".into(),
        },
        "`text` or `json`"),
    setting("LOG", |c, v| put(&mut c.log, Some(v.into())), |c| opt(&c.log),
        "log filter (`debug`, `authenticon=debug,info`, …)").default_doc("`info`"),
    setting("METRICS_BIND",
        |c, v| put(&mut c.metrics_bind, Some(address(v, "an address like 127.0.0.1:9100")?)),
        |c| c.metrics_bind.map(|a| a.to_string()).unwrap_or_default(),
        "serve `/metrics` on this address instead of the API's"),
    setting("THROTTLE_LOGIN_PER_USER_AND_ADDRESS", |c, v| put(&mut c.throttle.login_per_user_and_address, limit(v)?),
        |c| c.throttle.login_per_user_and_address.to_string(), "failed logins per username and client address")
        .throttling(),
    setting("THROTTLE_LOGIN_PER_USER", |c, v| put(&mut c.throttle.login_per_user, limit(v)?),
        |c| c.throttle.login_per_user.to_string(), "failed logins per username, from any address").throttling(),
    setting("THROTTLE_LOGIN_PER_ADDRESS", |c, v| put(&mut c.throttle.login_per_address, limit(v)?),
        |c| c.throttle.login_per_address.to_string(), "failed logins per client address, over all usernames")
        .throttling(),
    setting("THROTTLE_LOGIN_WINDOW", |c, v| put(&mut c.throttle.login_window, positive_lifetime(v)?),
        |c| duration(c.throttle.login_window), "the sliding window of the login counts").throttling(),
    setting("THROTTLE_REGISTRATIONS_PER_ADDRESS", |c, v| put(&mut c.throttle.registrations_per_address, limit(v)?),
        |c| c.throttle.registrations_per_address.to_string(), "registrations per client address").throttling(),
    setting("THROTTLE_REGISTRATION_WINDOW", |c, v| put(&mut c.throttle.registration_window, positive_lifetime(v)?),
        |c| duration(c.throttle.registration_window), "the window of the registration count").throttling(),
    setting("THROTTLE_PASSKEY_LOGINS_PER_ADDRESS", |c, v| put(&mut c.throttle.passkey_logins_per_address, limit(v)?),
        |c| c.throttle.passkey_logins_per_address.to_string(),
        "passwordless passkey logins started per client address, in the login window").throttling(),
    setting("THROTTLE_AUTHORIZATIONS_PER_ADDRESS", |c, v| put(&mut c.throttle.authorizations_per_address, limit(v)?),
        |c| c.throttle.authorizations_per_address.to_string(),
        "identity-provider authorization requests per client address, in the login window").throttling(),
];

/// Rules between settings, checked once all are read.
pub(super) fn check_combinations(c: &Config) -> Result<(), ConfigError> {
    if c.jwt_private_key_file.is_some() && c.jwt_algorithm.is_hmac() {
        return Err(ConfigError {
            key: "JWT_PRIVATE_KEY_FILE",
            expected: "AUTHENTICON_JWT_ALGORITHM set to RS256, ES256 or EdDSA alongside it",
            got: c.jwt_algorithm.name().into(),
        });
    }
    Ok(())
}

/// The settings whose value differs from the default, as `check` reports them (secrets
/// and URL passwords redacted).
pub fn settings_in_effect(c: &Config) -> Vec<(String, String)> {
    let defaults = Config::default();
    SETTINGS
        .iter()
        .filter(|s| (s.show)(c) != (s.show)(&defaults))
        .map(|s| (format!("{ENV_PREFIX}{}", s.name), (s.show)(c)))
        .collect()
}

/// A section's settings as the README's Markdown table.
pub fn reference_table(section: Section) -> String {
    let mut out = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for s in SETTINGS.iter().filter(|s| s.section == section) {
        out.push_str(&format!("| `{ENV_PREFIX}{}` | {} | {} |\n", s.name, s.default_text(), s.help));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_reads_back_as_itself() {
        // A default shown in the README is a value the setting accepts, and means the
        // default: `show` and `set` agree.
        for s in SETTINGS {
            let shown = (s.show)(&Config::default());
            if shown.is_empty() || s.default_doc.is_some() {
                continue;
            }
            let mut c = Config::default();
            assert_eq!((s.set)(&mut c, &shown), Ok(()), "{}", s.name);
            assert_eq!((s.show)(&c), shown, "{}", s.name);
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    fn with_values(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_values(&map)
    }

    #[test]
    fn audit_retention_is_a_day_or_more_and_cleanup_can_be_left_to_cron() {
        assert_eq!(with_values(&[]).unwrap().audit_retention, None);
        assert_eq!(
            with_values(&[("AUDIT_RETENTION", "365d")]).unwrap().audit_retention,
            Some(Duration::from_secs(365 * 86_400))
        );
        assert_eq!(with_values(&[("AUDIT_RETENTION", "none")]).unwrap().audit_retention, None);
        for slip in ["30s", "23h", "0", "forever"] {
            let e = with_values(&[("AUDIT_RETENTION", slip)]).unwrap_err();
            assert_eq!(
                (e.key, e.expected),
                ("AUDIT_RETENTION", "a lifetime of at least 1d, like 365d, or none")
            );
        }
        assert_eq!(with_values(&[]).unwrap().cleanup_interval, Duration::from_secs(3600));
        assert!(with_values(&[("CLEANUP_INTERVAL", "0")]).unwrap().cleanup_interval.is_zero());
        assert_eq!(with_values(&[]).unwrap().rotation_batch, 64);
        assert_eq!(with_values(&[("ROTATION_BATCH", "0")]).unwrap_err().key, "ROTATION_BATCH");
    }

    #[test]
    fn the_readme_lists_every_setting_as_this_table_says() {
        let readme = include_str!("../../README.md");
        for (section, marker) in [(Section::General, "settings"), (Section::Throttling, "throttling")] {
            let start = format!("<!-- {marker}:start -->\n");
            let end = format!("<!-- {marker}:end -->");
            let from = readme.find(&start).map(|i| i + start.len());
            let to = readme.find(&end);
            let (Some(from), Some(to)) = (from, to) else {
                panic!("README.md has no {start:?} … {end:?} block")
            };
            assert_eq!(
                &readme[from..to],
                reference_table(section),
                "README.md's {marker} table is stale: run `authenticon settings` and paste its output"
            );
        }
    }
}
