//! The composition root: every service built once, in dependency order, and shared.
//! Nothing is patched in after construction: each service gets what it needs here.

use std::sync::Arc;

use crate::auth::accounts::Accounts;
use crate::auth::admin::{AdminDeps, UserAdmin};
use crate::auth::audit::Audit;
use crate::auth::external::External;
use crate::auth::login::LoginFlow;
use crate::auth::mfa::passkeys::Passkeys;
use crate::auth::mfa::Mfa;
use crate::auth::personal_tokens::PersonalTokens;
use crate::auth::presence::Presence;
use crate::auth::rbac::Roles;
use crate::auth::recovery::Recovery;
use crate::config::Config;
use crate::crypto::passwords::{HashError, Hasher};
use crate::crypto::secret_key::{self, SecretError, SecretSource};
use crate::domain::{Clock, SystemClock};
use crate::notify::{MailError, Mailer, Notices, Webhooks};
use crate::oauth::{Clients, Provider};
use crate::store::{Store, StoreError};
use crate::throttle::{RedisError, Throttle};
use crate::tokens::{TokenService, UserCache};

/// Cheap to clone: one reference count, since axum clones the state for every
/// extractor and middleware of every request.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub store: Arc<Store>,
    pub tokens: Arc<TokenService>,
    pub login: Arc<LoginFlow>,
    pub accounts: Arc<Accounts>,
    /// What administrators do to one user beyond editing it.
    pub admin: Arc<UserAdmin>,
    pub roles: Arc<Roles>,
    pub audit: Arc<Audit>,
    pub recovery: Arc<Recovery>,
    pub notices: Arc<Notices>,
    pub mfa: Arc<Mfa>,
    /// Proof of presence for sensitive changes.
    pub presence: Arc<Presence>,
    /// The identity provider for other applications.
    pub oauth: Arc<Provider>,
    /// The applications registered with it.
    pub clients: Arc<Clients>,
    /// Sign-in with external identity providers.
    pub external: Arc<External>,
    /// Users' own API keys.
    pub personal_tokens: Arc<PersonalTokens>,
    /// Other systems told what happened.
    pub webhooks: Arc<Webhooks>,
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
    Redis(#[from] RedisError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

impl AppState {
    /// Connects the store (without migrating) and builds the services on the system
    /// clock. Also says where the signing secret came from, so start-up can report a
    /// generated one.
    pub async fn build(config: Config) -> Result<(Self, SecretSource), StartError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As `build`, on the given clock (tests move it forward instead of sleeping).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, SecretSource), StartError> {
        let store = Arc::new(Store::connect(&config).await?);
        let in_memory = config.database_url.starts_with("sqlite:") && config.sqlite_path().is_none();
        let (secret, source) =
            secret_key::resolve(config.secret_key.as_ref(), config.sqlite_path(), in_memory)?;
        let hasher = Hasher::new(config.argon2, config.hash_concurrency)?;
        let cache = Arc::new(UserCache::new(config.user_cache_ttl));
        let redis_url = config.redis_url.as_ref().map(|u| u.expose());
        let throttle = Arc::new(Throttle::new(config.throttle.clone(), redis_url, &config.redis_key_prefix)?);
        let mailer = Mailer::new(&config, Arc::clone(&store), secret.clone(), Arc::clone(&clock))?;
        let notices = Arc::new(Notices::new(&config, Arc::clone(&store), mailer, Arc::clone(&clock)));
        let tokens = Arc::new(TokenService::new(
            &config,
            secret.clone(),
            Arc::clone(&store),
            Arc::clone(&cache),
            Arc::clone(&notices),
            Arc::clone(&throttle),
            Arc::clone(&clock),
        ));
        let passkeys = Arc::new(Passkeys::new(
            Arc::clone(&store),
            Arc::clone(&throttle),
            Arc::clone(&clock),
            &config.public_url(),
            &config.mfa_issuer,
        ));
        let mfa = Arc::new(Mfa::new(
            Arc::clone(&store),
            Arc::clone(&throttle),
            Arc::clone(&clock),
            passkeys,
            secret.clone(),
            &config.mfa_issuer,
        ));
        let login = Arc::new(LoginFlow::new(
            Arc::clone(&store),
            hasher.clone(),
            Arc::clone(&throttle),
            Arc::clone(&mfa),
            Arc::clone(&clock),
            config.require_verified_email,
        ));
        let accounts = Arc::new(Accounts::new(
            Arc::clone(&store),
            hasher.clone(),
            Arc::clone(&throttle),
            Arc::clone(&notices),
            Arc::clone(&cache),
            Arc::clone(&clock),
            config.registration_open,
        ));
        let recovery = Arc::new(Recovery::new(
            Arc::clone(&store),
            Arc::clone(&notices),
            Arc::clone(&throttle),
            hasher,
            Arc::clone(&cache),
            Arc::clone(&clock),
        ));
        let presence = Arc::new(Presence::new(
            Arc::clone(&store),
            Arc::clone(&accounts),
            Arc::clone(&mfa),
            Arc::clone(&clock),
            config.reauth_window,
        ));
        let roles = Arc::new(Roles::new(Arc::clone(&store), Arc::clone(&cache), Arc::clone(&clock)));
        let external = Arc::new(External::new(
            &config.external_providers,
            &config.public_url(),
            Arc::clone(&store),
            Arc::clone(&throttle),
            Arc::clone(&cache),
            Arc::clone(&notices),
            Arc::clone(&clock),
        ));
        let admin = Arc::new(UserAdmin::new(AdminDeps {
            store: Arc::clone(&store),
            accounts: Arc::clone(&accounts),
            roles: Arc::clone(&roles),
            mfa: Arc::clone(&mfa),
            notices: Arc::clone(&notices),
            throttle: Arc::clone(&throttle),
            cache,
            clock: Arc::clone(&clock),
        }));
        let oauth = Arc::new(Provider::new(
            Arc::clone(&store),
            Arc::clone(&tokens),
            Arc::clone(&throttle),
            Arc::clone(&clock),
            config.issuer(),
        ));
        let personal_tokens = Arc::new(PersonalTokens::new(
            Arc::clone(&store),
            Arc::clone(&tokens),
            Arc::clone(&notices),
            Arc::clone(&clock),
            config.personal_token_max_lifetime,
        ));
        let clients = Arc::new(Clients::new(Arc::clone(&store), Arc::clone(&tokens), Arc::clone(&clock)));
        let webhooks = Arc::new(Webhooks::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            secret.clone(),
            config.webhook_allowed_networks.clone(),
            Arc::clone(&tokens) as Arc<dyn crate::notify::webhooks::EventSigner>,
            config.issuer(),
        ));
        let state = AppState(Arc::new(Services {
            webhooks,
            oauth,
            clients,
            external,
            personal_tokens,
            roles,
            admin,
            audit: Arc::new(Audit::new(Arc::clone(&store), Arc::clone(&clock))),
            config: Arc::new(config),
            clock,
            store,
            tokens,
            login,
            accounts,
            recovery,
            notices,
            mfa,
            presence,
            metrics: super::telemetry::metrics_handle(),
        }));
        Ok((state, source))
    }
}
