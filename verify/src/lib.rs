//! Verify Authenticon access tokens in your own service, without calling Authenticon and
//! without its secret: the public keys come from its JWKS
//! (`/.well-known/jwks.json`), cached, and fetched again when a token names a key the
//! cache does not know (after a rotation), at most once per `refetch_interval`.
//!
//! With [`Verifier::revocation_feed`], tokens of sessions revoked at Authenticon (logout,
//! "log out everywhere", a password change, deactivation, refresh-token reuse) are refused
//! within a poll interval: a background task polls the signed feed
//! `/.well-known/revocations` (see `docs/revocation-feed.md`), still without a call per
//! request. While Authenticon cannot be reached the last good state keeps serving, for
//! `fail_closed_after`; then every token is refused until the feed answers again.
//!
//! ```no_run
//! use authenticon_verify::{Verifier, VerifiedUser};
//! use axum::{routing::get, Router};
//!
//! async fn hello(user: VerifiedUser) -> String {
//!     format!("hello, {}", user.claims.username.unwrap_or_default())
//! }
//!
//! # async fn run() {
//! let verifier = Verifier::new("http://127.0.0.1:8000/.well-known/jwks.json")
//!     .revocation_feed("http://127.0.0.1:8000/.well-known/revocations");
//! let app: Router = Router::new().route("/hello", get(hello)).with_state(verifier);
//! # }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{watch, RwLock};

/// The claims of an Authenticon access token.
#[derive(Debug, Clone, Deserialize)]
pub struct Claims {
    pub token_type: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub user_id: String,
    pub sub: String,
    pub sid: String,
    pub username: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("token invalid: {0}")]
    Invalid(String),
    #[error("the JWKS could not be fetched: {0}")]
    Jwks(String),
    /// The token's session, or every earlier token of its user, was revoked.
    #[error("token revoked")]
    Revoked,
    /// No poll of the revocation feed succeeded lately enough (or ever): refused, since
    /// a revocation could have been missed.
    #[error("the revocation feed could not be read: {0}")]
    Feed(String),
}

/// What the cache holds for one kid, and what may be done about it.
struct Lookup {
    key: Option<(Algorithm, DecodingKey)>,
    fresh: bool,
    stale_ok: bool,
    may_fetch: bool,
}

impl Lookup {
    /// The cached key, if it may still verify (fresh, or stale within the limit).
    fn usable(&self) -> Option<(Algorithm, DecodingKey)> {
        self.key.clone().filter(|_| self.fresh || self.stale_ok)
    }
}

struct Cache {
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    /// The last fetch that worked.
    fetched: Option<Instant>,
    /// The last fetch tried, worked or not (the refetch interval counts from it).
    tried: Option<Instant>,
}

impl Cache {
    fn empty() -> Self {
        Self { keys: HashMap::new(), fetched: None, tried: None }
    }
}

/// Checks tokens against an Authenticon JWKS. Cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    jwks_url: String,
    issuer: Option<String>,
    audience: Option<String>,
    refetch_interval: Duration,
    max_age: Duration,
    /// How long past `max_age` the last good keys serve while the JWKS cannot be fetched.
    stale_limit: Duration,
    http: reqwest::Client,
    cache: RwLock<Cache>,
    /// One fetch at a time; the cache itself is never locked across a fetch, so tokens
    /// of known keys keep verifying while the JWKS endpoint is slow.
    fetching: tokio::sync::Mutex<()>,
    feed: Option<Feed>,
}

/// The revocation feed's settings and what the poller learnt.
struct Feed {
    url: String,
    poll_interval: Duration,
    fail_closed_after: Duration,
    state: std::sync::RwLock<Revoked>,
    /// Whether the poller was started (on the first verification, inside a runtime).
    started: std::sync::Once,
    /// Becomes true at the first successful poll.
    ready: watch::Sender<bool>,
}

impl Feed {
    fn new(url: String, poll_interval: Duration, fail_closed_after: Duration) -> Self {
        Self {
            url,
            poll_interval,
            fail_closed_after,
            state: std::sync::RwLock::new(Revoked::default()),
            started: std::sync::Once::new(),
            ready: watch::channel(false).0,
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Revoked> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Revoked> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the feed said so far: revoked sessions and users' "not before", each with the time
/// after which no token it concerns can be valid.
#[derive(Default)]
struct Revoked {
    sessions: HashMap<String, u64>,
    users: HashMap<String, (u64, u64)>,
    cursor: u64,
    etag: Option<String>,
    last_ok: Option<Instant>,
}

/// One answer of the feed (its JWS payload).
#[derive(Deserialize)]
struct FeedPage {
    since: u64,
    cursor: u64,
    more: bool,
    sessions: Vec<SessionEntry>,
    users: Vec<UserEntry>,
}

#[derive(Deserialize)]
struct SessionEntry {
    sid: String,
    until: u64,
}

#[derive(Deserialize)]
struct UserEntry {
    user_id: String,
    not_before: u64,
    until: u64,
}

/// `typ` of the feed's answers.
const FEED_TYP: &str = "revocations+jwt";
/// Pages followed in one poll (each up to 1,000 entries).
const MAX_PAGES: usize = 100;

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Only asymmetric algorithms: a JWKS never carries an HMAC secret, and accepting HS*
/// here would let anyone sign with the public key.
const ALLOWED: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

impl Verifier {
    pub fn new(jwks_url: impl Into<String>) -> Self {
        Self::with_options(jwks_url, None, None)
    }

    /// With the `iss` and `aud` Authenticon is configured to put in its tokens.
    pub fn with_options(
        jwks_url: impl Into<String>,
        issuer: Option<String>,
        audience: Option<String>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                jwks_url: jwks_url.into(),
                issuer,
                audience,
                refetch_interval: Duration::from_secs(10),
                max_age: Duration::from_secs(300),
                stale_limit: Duration::from_secs(3600),
                http: {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                    reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap_or_default()
                },
                cache: RwLock::new(Cache::empty()),
                fetching: tokio::sync::Mutex::new(()),
                feed: None,
            }),
        }
    }

    fn rebuilt(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Arc::try_unwrap(self.inner).unwrap_or_else(|shared| Inner {
            jwks_url: shared.jwks_url.clone(),
            issuer: shared.issuer.clone(),
            audience: shared.audience.clone(),
            refetch_interval: shared.refetch_interval,
            max_age: shared.max_age,
            stale_limit: shared.stale_limit,
            http: shared.http.clone(),
            cache: RwLock::new(Cache::empty()),
            fetching: tokio::sync::Mutex::new(()),
            feed: shared
                .feed
                .as_ref()
                .map(|f| Feed::new(f.url.clone(), f.poll_interval, f.fail_closed_after)),
        });
        change(&mut inner);
        Self { inner: Arc::new(inner) }
    }

    /// The shortest time between two fetches of the JWKS for unknown kids (default 10 s).
    pub fn refetch_interval(self, interval: Duration) -> Self {
        self.rebuilt(|inner| inner.refetch_interval = interval)
    }

    /// How long fetched keys count as fresh (default 5 minutes). Past it the JWKS is
    /// fetched again; while that fails, the last good keys go on verifying for
    /// `stale_limit` more.
    pub fn max_age(self, max_age: Duration) -> Self {
        self.rebuilt(|inner| inner.max_age = max_age)
    }

    /// How long past `max_age` the last good keys serve while the JWKS cannot be fetched
    /// (default 1 hour); then tokens are refused until it can be again (fail closed).
    pub fn stale_limit(self, limit: Duration) -> Self {
        self.rebuilt(|inner| inner.stale_limit = limit)
    }

    /// Honours Authenticon's revocation feed (`…/.well-known/revocations`): polled every
    /// 2 seconds in the background, from the first verification on; tokens are refused
    /// until the first poll succeeded, and again once none has for 5 minutes.
    pub fn revocation_feed(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.rebuilt(|inner| {
            inner.feed = Some(Feed::new(url, Duration::from_secs(2), Duration::from_secs(300)));
        })
    }

    /// How often the revocation feed is polled (default 2 s).
    pub fn poll_interval(self, interval: Duration) -> Self {
        self.rebuilt(|inner| {
            if let Some(feed) = &mut inner.feed {
                feed.poll_interval = interval;
            }
        })
    }

    /// How long the last good state of the feed serves while it cannot be read (default
    /// 5 minutes); then every token is refused (fail closed).
    pub fn fail_closed_after(self, limit: Duration) -> Self {
        self.rebuilt(|inner| {
            if let Some(feed) = &mut inner.feed {
                feed.fail_closed_after = limit;
            }
        })
    }

    /// Verifies an access token: signature by a published key, algorithm, lifetime,
    /// `token_type`, `iss`/`aud` when configured, and the revocation feed when set.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let claims = self.verify_signed(token).await?;
        self.check_revocations(&claims).await?;
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str) -> Result<Claims, VerifyError> {
        if token.len() > 8 * 1024 {
            return Err(VerifyError::Invalid("token too long".into()));
        }
        let header = decode_header(token).map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let kid = header.kid.ok_or_else(|| VerifyError::Invalid("no kid".into()))?;
        let (alg, key) = self.key(&kid).await?;
        if header.alg != alg {
            return Err(VerifyError::Invalid("algorithm does not match the key".into()));
        }
        let mut validation = Validation::new(alg);
        validation.leeway = 0;
        validation.validate_nbf = true;
        match &self.inner.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        match &self.inner.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?
            .claims;
        if claims.token_type != "access" || claims.sub != claims.user_id {
            return Err(VerifyError::Invalid("not an access token".into()));
        }
        Ok(claims)
    }

    async fn key(&self, kid: &str) -> Result<(Algorithm, DecodingKey), VerifyError> {
        let unknown = || VerifyError::Invalid(format!("unknown kid {kid}"));
        let seen = self.lookup(kid).await;
        if let (Some(found), true) = (&seen.key, seen.fresh) {
            return Ok(found.clone());
        }
        // Stale keys, or an unknown kid (a new key?): fetch again, but not more often than
        // the interval (a flood of made-up kids must not become a flood of fetches).
        if !seen.may_fetch {
            return seen.usable().ok_or_else(unknown);
        }
        // One fetch at a time; while one runs, stale keys still serve the others.
        let _one_at_a_time = match self.inner.fetching.try_lock() {
            Ok(guard) => guard,
            Err(_) if seen.usable().is_some() => return seen.usable().ok_or_else(unknown),
            Err(_) => self.inner.fetching.lock().await,
        };
        // Another request may have fetched while this one waited.
        let seen = self.lookup(kid).await;
        if let (Some(found), true) = (&seen.key, seen.fresh) {
            return Ok(found.clone());
        }
        if !seen.may_fetch {
            return seen.usable().ok_or_else(unknown);
        }
        self.inner.cache.write().await.tried = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                let mut cache = self.inner.cache.write().await;
                cache.keys = keys;
                cache.fetched = Some(Instant::now());
                cache.keys.get(kid).cloned().ok_or_else(unknown)
            }
            // The endpoint is down: the last good keys go on verifying, for a while.
            Err(e) => seen.usable().ok_or(e),
        }
    }

    async fn lookup(&self, kid: &str) -> Lookup {
        let cache = self.inner.cache.read().await;
        let age = cache.fetched.map(|t| t.elapsed());
        Lookup {
            key: cache.keys.get(kid).cloned(),
            fresh: age.is_some_and(|a| a < self.inner.max_age),
            // SECURITY: stale keys are trusted only so long: a key revoked at the service
            // must stop verifying here too, even while its JWKS cannot be reached.
            stale_ok: age.is_some_and(|a| a < self.inner.max_age + self.inner.stale_limit),
            may_fetch: cache.tried.is_none_or(|t| t.elapsed() >= self.inner.refetch_interval),
        }
    }

    async fn check_revocations(&self, claims: &Claims) -> Result<(), VerifyError> {
        let Some(feed) = &self.inner.feed else { return Ok(()) };
        feed.started.call_once(|| {
            let weak = Arc::downgrade(&self.inner);
            tokio::spawn(poll_until_dropped(weak));
        });
        // The first answer is awaited (briefly): before it, nothing is known to be live.
        let mut ready = feed.ready.subscribe();
        let first = tokio::time::timeout(Duration::from_secs(5), ready.wait_for(|ok| *ok)).await;
        if !matches!(first, Ok(Ok(_))) {
            return Err(VerifyError::Feed("no answer yet".into()));
        }
        let state = feed.read();
        if state.last_ok.is_none_or(|t| t.elapsed() > feed.fail_closed_after) {
            return Err(VerifyError::Feed("no answer for longer than the fail-closed limit".into()));
        }
        if state.sessions.contains_key(&claims.sid) {
            return Err(VerifyError::Revoked);
        }
        if state.users.get(&claims.user_id).is_some_and(|(not_before, _)| claims.iat < *not_before) {
            return Err(VerifyError::Revoked);
        }
        Ok(())
    }

    /// Polls once, following `more`; records the time of success.
    async fn poll(&self, feed: &Feed) -> Result<(), VerifyError> {
        let fail = |e: String| VerifyError::Feed(e);
        for page in 0..MAX_PAGES {
            let (cursor, etag) = {
                let state = feed.read();
                (state.cursor, state.etag.clone())
            };
            let mut request = self.inner.http.get(&feed.url).query(&[("since", cursor)]);
            // Not while following `more`: "nothing new" would stop half-way.
            if let Some(etag) = etag.filter(|_| page == 0) {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            let response = request.send().await.map_err(|e| fail(e.to_string()))?;
            if response.status() == StatusCode::NOT_MODIFIED {
                break;
            }
            let response = response.error_for_status().map_err(|e| fail(e.to_string()))?;
            let etag = response.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
            let body = response.text().await.map_err(|e| fail(e.to_string()))?;
            let answer = self.verify_feed(&body).await?;
            if answer.since != cursor {
                return Err(fail("an answer for another cursor".into()));
            }
            let now = unix_now();
            let mut state = feed.write();
            for s in answer.sessions {
                state.sessions.insert(s.sid, s.until);
            }
            for u in answer.users {
                let entry = state.users.entry(u.user_id).or_insert((u.not_before, u.until));
                *entry = (entry.0.max(u.not_before), entry.1.max(u.until));
            }
            state.sessions.retain(|_, until| *until >= now);
            state.users.retain(|_, (_, until)| *until >= now);
            state.cursor = answer.cursor;
            state.etag = etag;
            if !answer.more {
                break;
            }
        }
        feed.write().last_ok = Some(Instant::now());
        feed.ready.send_replace(true);
        Ok(())
    }

    /// A feed answer: signed by a published key (asymmetric), of the feed's `typ`, from
    /// the configured issuer.
    async fn verify_feed(&self, jws: &str) -> Result<FeedPage, VerifyError> {
        let header = decode_header(jws).map_err(|e| VerifyError::Feed(e.to_string()))?;
        if header.typ.as_deref() != Some(FEED_TYP) {
            return Err(VerifyError::Feed("not a revocation feed".into()));
        }
        let kid = header.kid.ok_or_else(|| VerifyError::Feed("no kid".into()))?;
        let (alg, key) = self.key(&kid).await.map_err(|e| VerifyError::Feed(e.to_string()))?;
        if header.alg != alg {
            return Err(VerifyError::Feed("algorithm does not match the key".into()));
        }
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        match &self.inner.issuer {
            Some(iss) => validation.set_issuer(&[iss]),
            None => validation.iss = None,
        }
        decode::<FeedPage>(jws, &key, &validation)
            .map(|d| d.claims)
            .map_err(|e| VerifyError::Feed(e.to_string()))
    }

    async fn fetch(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, VerifyError> {
        let set: JwkSet = self
            .inner
            .http
            .get(&self.inner.jwks_url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| VerifyError::Jwks(e.to_string()))?
            .json()
            .await
            .map_err(|e| VerifyError::Jwks(e.to_string()))?;
        let mut keys = HashMap::new();
        for jwk in set.keys {
            if let Some(entry) = usable(&jwk) {
                keys.insert(entry.0, (entry.1, entry.2));
            }
        }
        Ok(keys)
    }
}

/// Polls the feed every interval until the last clone of the verifier is dropped.
async fn poll_until_dropped(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else { return };
        let verifier = Verifier { inner: strong };
        let Some(feed) = &verifier.inner.feed else { return };
        if let Err(e) = verifier.poll(feed).await {
            tracing::warn!(error = %e, "revocation feed not read; the last good state still serves");
        }
        let pause = feed.poll_interval;
        drop(verifier);
        tokio::time::sleep(pause).await;
    }
}

fn usable(jwk: &Jwk) -> Option<(String, Algorithm, DecodingKey)> {
    let kid = jwk.common.key_id.clone()?;
    let alg: Algorithm = jwk.common.key_algorithm?.to_string().parse().ok()?;
    if !ALLOWED.contains(&alg) {
        return None;
    }
    Some((kid, alg, DecodingKey::from_jwk(jwk).ok()?))
}

/// An axum extractor: a request with a valid `Authorization: Bearer` access token. Put a
/// [`Verifier`] in the router's state (or make it reachable with `FromRef`).
pub struct VerifiedUser {
    pub claims: Claims,
}

/// The rejection: `401` with a DRF-style JSON body and `WWW-Authenticate`.
pub struct Unauthorized(&'static str);

impl IntoResponse for Unauthorized {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "detail": self.0 }).to_string();
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"api\""), (header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl<S> FromRequestParts<S> for VerifiedUser
where
    Verifier: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Unauthorized;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Unauthorized> {
        let verifier = Verifier::from_ref(state);
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(Unauthorized("Authentication credentials were not provided."))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or(Unauthorized("Authentication credentials were not provided."))?;
        match verifier.verify(token.trim()).await {
            Ok(claims) => Ok(VerifiedUser { claims }),
            Err(e) => {
                tracing::debug!(error = %e, "token refused");
                Err(Unauthorized("Token is invalid or expired"))
            }
        }
    }
}
