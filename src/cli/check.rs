//! `authenticon check`: the configuration and the services it names, like Django's
//! `check`.

use anyhow::bail;

use crate::app::AppState;
use crate::config::{redact_url, settings_in_effect};

/// One line per finding; problems are counted and make the command fail.
pub async fn check(state: &AppState) -> anyhow::Result<()> {
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
    // From the settings table: whatever differs from the defaults, secrets redacted.
    for (name, value) in settings_in_effect(config) {
        println!("      {name}={value}");
    }
    for provider in &config.external_providers {
        say(true, format!("external provider {}", provider.describe()));
        if let Some(uri) = state.external.redirect_uri(&provider.name) {
            println!("      register this redirect URI there: {uri}");
        }
    }
    match state.store.ping().await {
        Ok(()) => say(true, "database: reachable".into()),
        Err(e) => say(false, format!("database: {e}")),
    }
    match state.store.list_roles().await {
        Ok(roles) => {
            say(true, format!("schema: migrated ({} role(s))", roles.len()));
            // Every hot statement searches an index: none slows down as tables grow.
            match state.store.hot_query_plans().await {
                Ok(plans) => {
                    match plans.iter().filter(|p| p.reads_whole_table()).map(|p| p.name).collect::<Vec<_>>() {
                        scans if scans.is_empty() => {
                            say(true, format!("indexes: {} hot statements use them", plans.len()))
                        }
                        scans => {
                            say(false, format!("indexes: these read whole tables: {}", scans.join(", ")))
                        }
                    }
                }
                Err(e) => say(false, format!("indexes: could not be checked ({e})")),
            }
        }
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
    // The identity provider signs with key pairs even when the service's own tokens are
    // HMAC-signed, and its id tokens with RS256 whatever the rest: say which, once
    // applications exist.
    let access_alg = state.tokens.key_algorithm().name();
    let id_alg = crate::config::JwtAlgorithm::RS256.name();
    match (state.store.has_clients().await, state.tokens.list_keys().await) {
        (Ok(false), _) => say(true, "identity provider: no client registered".into()),
        (Ok(true), Ok(keys)) => {
            let from_file = |alg: &str| alg == access_alg && config.jwt_private_key_file.is_some();
            let active =
                |alg: &str| from_file(alg) || keys.iter().any(|k| k.status == "active" && k.algorithm == alg);
            let missing: Vec<&str> = [access_alg, id_alg].into_iter().filter(|a| !active(a)).collect();
            say(
                true,
                match missing.is_empty() {
                    true => format!(
                        "identity provider: {access_alg} key pair signs access tokens, {id_alg} id tokens"
                    ),
                    false => format!(
                        "identity provider: clients registered; `serve` will generate a {} key pair",
                        missing.join(" and a ")
                    ),
                },
            )
        }
        (Err(e), _) | (_, Err(crate::tokens::TokenError::Store(e))) => {
            say(false, format!("identity provider: {e}"))
        }
        (_, Err(e)) => say(false, format!("identity provider: {e}")),
    }
    if let Ok(waiting) = state.store.pending_mails().await {
        let route = state.notices.mailer().describe();
        say(true, format!("mail: by {route}; {waiting} waiting in the outbox"));
        if state.notices.mailer().writes_files() {
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
