//! Shared application state: built once at start-up, cloned into every handler.

use std::sync::Arc;

use crate::accounts::{Accounts, UserCache};
use crate::audit::Audit;
use crate::config::Config;
use crate::mail::{MailError, Mailer};
use crate::mfa::Mfa;
use crate::passkeys::Passkeys;
use crate::passwords::{HashError, Hasher};
use crate::presence::Presence;
use crate::rbac::Roles;
use crate::recovery::Recovery;
use crate::secret::{self, SecretError, SecretSource};
use crate::store::{self, Store, StoreError};
use crate::throttle::Throttle;
use crate::tokens::{JwtCodec, TokenService};

/// Cheap to clone: one reference count, since axum clones the state for every
/// extractor and middleware of every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenService>,
    pub accounts: Arc<Accounts>,
    pub roles: Arc<Roles>,
    pub audit: Arc<Audit>,
    pub recovery: Arc<Recovery>,
    pub mfa: Arc<Mfa>,
    /// Proof of presence for sensitive changes.
    pub presence: Arc<Presence>,
    /// Renders `/metrics`; the recorder behind it is process-wide.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("password hasher: {0}")]
    Hasher(#[from] HashError),
    #[error("AUTHENTICON_REDIS_URL: {0}")]
    Redis(String),
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl AppState {
    /// Connects the store (without migrating) and builds the services. Also says where
    /// the signing secret came from, so start-up can report a generated one.
    pub async fn build(config: Config) -> Result<(Self, SecretSource), StartError> {
        let store = store::connect(&config).await?;
        let in_memory = config.database_url.starts_with("sqlite:") && config.sqlite_path().is_none();
        let (secret, source) = secret::resolve(config.secret_key.as_ref(), config.sqlite_path(), in_memory)?;
        let hasher = Hasher::new(config.argon2, config.hash_concurrency)?;
        let codec = JwtCodec::new(&config, &secret);
        let cache = Arc::new(UserCache::new(config.user_cache_ttl));
        let mut tokens =
            TokenService::new(&config, codec, Arc::clone(&store), secret.clone(), Arc::clone(&cache));
        let throttle = Throttle::new(
            config.throttle.clone(),
            config.redis_url.as_ref().map(|u| u.expose()),
            &config.redis_key_prefix,
        )
        .map_err(StartError::Redis)?;
        let throttle = Arc::new(throttle);
        let recovery = Arc::new(Recovery::new(
            &config,
            Arc::clone(&store),
            Mailer::new(&config, Arc::clone(&store), secret.clone())?,
            Arc::clone(&throttle),
            hasher.clone(),
            Arc::clone(&cache),
        ));
        let alerts = Arc::clone(&recovery);
        tokens.set_reuse_alert(Arc::new(move |reuse, replay| alerts.alert_reuse(reuse, replay)));
        let passkeys = Arc::new(Passkeys::new(
            Arc::clone(&store),
            Arc::clone(&throttle),
            &config.public_url(),
            &config.mfa_issuer,
        ));
        let accounts = Accounts::new(
            Arc::clone(&store),
            hasher,
            Arc::clone(&throttle),
            config.registration_open,
            config.require_verified_email,
            Arc::clone(&cache),
        );
        let mfa = Arc::new(Mfa::new(
            Arc::clone(&store),
            Arc::clone(&throttle),
            passkeys,
            secret.clone(),
            &config.mfa_issuer,
        ));
        let accounts = Arc::new(accounts);
        let presence = Arc::new(Presence::new(
            Arc::clone(&store),
            Arc::clone(&accounts),
            Arc::clone(&mfa),
            config.reauth_window,
        ));
        let state = AppState(Arc::new(Services {
            config: Arc::new(config),
            store: Arc::clone(&store),
            tokens: Arc::new(tokens),
            accounts,
            roles: Arc::new(Roles::new(Arc::clone(&store), cache)),
            audit: Arc::new(Audit::new(Arc::clone(&store))),
            recovery,
            mfa,
            presence,
            metrics: crate::telemetry::metrics_handle(),
        }));
        Ok((state, source))
    }
}
