//! Webhooks: other systems hear of what happens here (users, sessions, passwords,
//! factors, roles, applications, personal access tokens), signed per the Standard Webhooks
//! specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
//!
//! Deliveries are made from the audit log, which every change writes in its own
//! transaction, so a crash between a change and its delivery loses nothing: each instance
//! turns new audit entries into deliveries (`dispatch`), one cursor shared through the
//! store, and sends the deliveries whose turn has come (`send`). Delivery is at least once,
//! in order per endpoint (hence per user): an endpoint's next delivery waits for the one
//! before it. Failures are retried with a growing pause for about eleven hours; a `4xx`
//! (other than 408 and 429) or the last retry makes a delivery dead, kept with the others
//! in the endpoint's log and replayable.

mod delivery;
mod events;
mod network;
mod signing;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::task::TaskTracker;
use tracing::warn;

pub use events::{is_event_type, EVENT_TYPES, SECURITY_EVENT_TYPES};

use crate::crypto::seal;
use crate::domain::{Clock, FieldErrors, Secret};
use crate::store::{
    AuditMeta, NewDelivery, Page, Store, StoreError, WebhookChanges, WebhookDeliveryRow, WebhookEndpointRow,
};

/// How often each instance looks for new audit entries and due deliveries.
const POLL: Duration = Duration::from_secs(1);
/// Audit entries read at a time.
const BATCH: i64 = 500;
/// Deliveries under way at once (each of a different endpoint).
const CLAIM: i64 = 32;
/// How long an instance holds the deliveries it is sending: three times the longest an
/// attempt takes, so a batch sent side by side finishes well within it; one that died
/// meanwhile leaves them to the others after this.
const LEASE_SECONDS: i64 = 30;
/// How long a missing audit entry (a transaction still running, on PostgreSQL, whose id
/// was taken before a later one's commit) holds back the entries after it; past this it
/// was rolled back.
const GAP_WAIT: Duration = Duration::from_secs(5);
/// The pause after each failed attempt; after the last, the delivery is dead.
const RETRY_AFTER: [i64; 8] = [5, 30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600];
/// A receiver's time to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long the delivery log keeps delivered deliveries, and dead ones (to replay).
const KEEP_DELIVERED_SECONDS: i64 = 7 * 24 * 3600;
const KEEP_DEAD_SECONDS: i64 = 30 * 24 * 3600;
/// `typ` of a Security Event Token (RFC 8417 §2.3).
const SET_TYP: &str = "secevent+jwt";

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("field errors")]
    Fields(FieldErrors),
    #[error("no such webhook")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("sealing the webhook secret: {0}")]
    Seal(String),
}

/// An endpoint as an administrator describes it; on change every field is optional.
#[derive(Debug, Clone, Default)]
pub struct EndpointSpec {
    pub url: Option<String>,
    /// `standard` (the default) or `set`; fixed at creation.
    pub format: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// What signs Security Event Tokens: the key others verify the service's tokens with
/// (the token service provides it; this layer does not reach up for it).
pub trait EventSigner: Send + Sync {
    /// Whether a published key signs (an asymmetric algorithm, or the provider's keys).
    fn can_sign(&self) -> bool;
    /// A compact JWS of `claims` with header `typ`.
    fn sign(&self, typ: &str, claims: &serde_json::Value) -> Result<String, String>;
}

/// An endpoint and, just after it was made or its secret rotated, the secret.
pub struct WithSecret {
    pub endpoint: WebhookEndpointRow,
    pub secret: Option<String>,
}

pub struct Webhooks {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Seals endpoints' secrets, as signing keys and queued mails are sealed.
    sealing: Secret,
    http: reqwest::Client,
    /// Where deliveries may go (see `network`).
    guard: network::Guard,
    /// Signs Security Event Tokens with the published key.
    signer: Arc<dyn EventSigner>,
    /// `iss` of Security Event Tokens: the identity provider's.
    issuer: String,
    /// The first missing audit entry seen, and since when.
    gap: Mutex<Option<(i64, Instant)>>,
    /// The worker's rounds; a graceful shutdown waits for the one under way.
    tasks: TaskTracker,
}

fn field(name: &str, message: &str) -> WebhookError {
    WebhookError::Fields(FieldErrors::one(name, message))
}

/// The address a URL names when its host is one, not a name.
fn literal_ip(url: &str) -> Option<std::net::IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(v4.into()),
        url::Host::Ipv6(v6) => Some(v6.into()),
        url::Host::Domain(_) => None,
    }
}

/// An `http(s)` URL with a host and no credentials in it.
fn valid_url(url: &str) -> Result<(), WebhookError> {
    let parsed = url::Url::parse(url).map_err(|_| field("url", "Enter a valid URL."))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err(field("url", "Enter an http or https URL."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(field("url", "Credentials do not belong in the URL: deliveries are signed."));
    }
    Ok(())
}

fn valid_events(events: &[String]) -> Result<String, WebhookError> {
    if events.is_empty() {
        return Err(field("events", "Choose at least one event type."));
    }
    if let Some(unknown) = events.iter().find(|e| !is_event_type(e)) {
        return Err(field("events", &format!("“{unknown}” is not an event type.")));
    }
    let mut events = events.to_vec();
    events.sort();
    events.dedup();
    Ok(events.join(" "))
}

impl Webhooks {
    pub fn new(
        store: Arc<Store>,
        clock: Arc<dyn Clock>,
        sealing: Secret,
        allowed: Vec<ipnet::IpNet>,
        signer: Arc<dyn EventSigner>,
        issuer: String,
    ) -> Self {
        crate::crypto::install_tls_provider();
        let guard = network::Guard::new(allowed);
        // SECURITY: no redirect is followed: a receiver must not steer a signed delivery
        // (or the service's requests) elsewhere; and every name is resolved through the
        // guard, so the address connected to is the one checked.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would resolve and reach the address itself,
            // past the guard.
            .no_proxy()
            .dns_resolver(Arc::new(guard.clone()))
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent("Authenticon-Webhooks")
            .build()
            .unwrap_or_default();
        let (gap, tasks) = (Mutex::new(None), TaskTracker::new());
        Self { store, clock, sealing, http, guard, signer, issuer, gap, tasks }
    }

    /// A URL deliveries may go to: well formed, and not an internal address written out
    /// (names are checked as they are resolved, at each delivery).
    fn valid_url(&self, url: &str) -> Result<(), WebhookError> {
        valid_url(url)?;
        if let Some(ip) = literal_ip(url).filter(|ip| !self.guard.permits(*ip)) {
            return Err(field(
                "url",
                &format!("Deliveries to {ip} are refused: it is an internal address (AUTHENTICON_WEBHOOK_ALLOWED_NETWORKS)."),
            ));
        }
        Ok(())
    }

    fn seal_secret(&self, secret: &str) -> Result<String, WebhookError> {
        seal(&Secret::new(secret), &self.sealing).map_err(|e| WebhookError::Seal(e.to_string()))
    }

    pub async fn create(&self, spec: EndpointSpec, audit: &AuditMeta) -> Result<WithSecret, WebhookError> {
        let url = spec.url.ok_or_else(|| field("url", crate::domain::REQUIRED))?;
        self.valid_url(&url)?;
        let events = valid_events(&spec.events.ok_or_else(|| field("events", crate::domain::REQUIRED))?)?;
        let format = spec.format.unwrap_or_else(|| "standard".into());
        match format.as_str() {
            "standard" => {}
            "set" => self.security_events_possible(&events)?,
            _ => return Err(field("format", "One of standard, set.")),
        }
        let secret = signing::new_secret();
        let now = self.clock.now();
        let row = WebhookEndpointRow {
            id: uuid::Uuid::new_v4().simple().to_string(),
            url,
            description: spec.description.unwrap_or_default(),
            events,
            format,
            // A Security Event Token is signed with the published key: no secret to share.
            secret_sealed: self.seal_secret(&secret)?,
            enabled: spec.enabled.unwrap_or(true),
            after_audit_id: 0,
            created_at: now,
            updated_at: now,
        };
        let endpoint = self.store.create_webhook(&row, audit).await?;
        let secret = (endpoint.format == "standard").then_some(secret);
        Ok(WithSecret { endpoint, secret })
    }

    /// Security Event Tokens are signed with a published key, and exist for some events.
    fn security_events_possible(&self, events: &str) -> Result<(), WebhookError> {
        if !self.signer.can_sign() {
            return Err(field(
                "format",
                "Security Event Tokens are signed with a published key: set AUTHENTICON_JWT_ALGORITHM to RS256, ES256 or EdDSA.",
            ));
        }
        if let Some(other) = events.split(' ').find(|e| !SECURITY_EVENT_TYPES.contains(e)) {
            return Err(field("events", &format!("“{other}” has no Security Event Token.")));
        }
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<WebhookEndpointRow>, WebhookError> {
        Ok(self.store.list_webhooks().await?)
    }

    pub async fn get(&self, id: &str) -> Result<WebhookEndpointRow, WebhookError> {
        self.store.webhook(id).await?.ok_or(WebhookError::NotFound)
    }

    /// Changes an endpoint; with `rotate_secret`, a new secret (in the answer, once).
    pub async fn update(
        &self,
        id: &str,
        spec: EndpointSpec,
        rotate_secret: bool,
        audit: &AuditMeta,
    ) -> Result<WithSecret, WebhookError> {
        if let Some(url) = &spec.url {
            self.valid_url(url)?;
        }
        let current = self.get(id).await?;
        if spec.format.as_ref().is_some_and(|f| *f != current.format) {
            return Err(field("format", "The format is fixed when the endpoint is registered."));
        }
        let events = spec.events.as_deref().map(valid_events).transpose()?;
        if let (Some(events), "set") = (&events, current.format.as_str()) {
            self.security_events_possible(events)?;
        }
        let rotate_secret = rotate_secret && current.format == "standard";
        let secret = rotate_secret.then(signing::new_secret);
        let sealed = secret.as_deref().map(|s| self.seal_secret(s)).transpose()?;
        let changes =
            WebhookChanges { url: spec.url, description: spec.description, events, enabled: spec.enabled };
        let endpoint = self
            .store
            .update_webhook(id, &changes, sealed.as_deref(), self.clock.now(), audit)
            .await?
            .ok_or(WebhookError::NotFound)?;
        Ok(WithSecret { endpoint, secret })
    }

    pub async fn delete(&self, id: &str, audit: &AuditMeta) -> Result<(), WebhookError> {
        match self.store.delete_webhook(id, self.clock.now(), audit).await? {
            true => Ok(()),
            false => Err(WebhookError::NotFound),
        }
    }

    pub async fn deliveries(
        &self,
        id: &str,
        status: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<Page<WebhookDeliveryRow>, WebhookError> {
        self.get(id).await?;
        if status.is_some_and(|s| !matches!(s, "pending" | "delivered" | "dead")) {
            return Err(field("status", "One of pending, delivered, dead."));
        }
        Ok(self.store.list_webhook_deliveries(id, status, offset, limit).await?)
    }

    /// Sends dead deliveries again (one, or all of the endpoint's); how many.
    pub async fn replay(
        &self,
        id: &str,
        delivery: Option<&str>,
        audit: &AuditMeta,
    ) -> Result<u64, WebhookError> {
        self.get(id).await?;
        let replayed = self.store.replay_webhook_deliveries(id, delivery, self.clock.now(), audit).await?;
        if delivery.is_some() && replayed == 0 {
            return Err(WebhookError::NotFound);
        }
        Ok(replayed)
    }

    /// Dispatches and sends until shutdown (started by `serve`): two loops, so that
    /// deliveries under way never hold up turning new audit entries into deliveries.
    pub fn start(self: &Arc<Self>) {
        for sends in [false, true] {
            let webhooks = Arc::clone(self);
            tokio::spawn(async move {
                // Not in the first second: a starting instance answers requests first.
                tokio::time::sleep(POLL).await;
                while !webhooks.tasks.is_closed() {
                    let round = Arc::clone(&webhooks);
                    let work = async move {
                        match sends {
                            true => round.send_due().await,
                            false => round.dispatch_all().await,
                        }
                    };
                    let _ = webhooks.tasks.spawn(work).await;
                    tokio::time::sleep(POLL).await;
                }
            });
        }
    }

    /// At shutdown: no new round starts, and those under way may finish (their attempts
    /// recorded, so none is left leased and sent again late). True when they did in time.
    pub async fn drain(&self, limit: Duration) -> bool {
        self.tasks.close();
        tokio::time::timeout(limit, self.tasks.wait()).await.is_ok()
    }

    /// One round of each: new audit entries into deliveries, then every delivery due now.
    pub async fn run_once(self: &Arc<Self>) {
        self.dispatch_all().await;
        self.send_due().await;
    }

    /// Drops old entries of the delivery log (run periodically).
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let now = self.clock.now();
        self.store.prune_webhook_deliveries(now - KEEP_DELIVERED_SECONDS, now - KEEP_DEAD_SECONDS).await
    }

    async fn dispatch_all(&self) {
        loop {
            match self.dispatch().await {
                Ok(true) => continue,
                Ok(false) => return,
                Err(e) => return warn!(error = %e, "could not turn audit entries into webhook deliveries"),
            }
        }
    }

    /// Whether the audit entry `id`, missing after the cursor, has been missing long
    /// enough to count as rolled back.
    fn gap_expired(&self, id: i64) -> bool {
        let mut gap = self.gap.lock().unwrap_or_else(|p| p.into_inner());
        match *gap {
            Some((seen, since)) if seen == id => since.elapsed() >= GAP_WAIT,
            _ => {
                *gap = Some((id, Instant::now()));
                false
            }
        }
    }

    /// Turns the next audit entries into deliveries; whether it moved the cursor.
    async fn dispatch(&self) -> Result<bool, StoreError> {
        let backlog = self.store.webhook_backlog(BATCH).await?;
        let Some(start) = backlog.endpoints.iter().map(|e| e.after_audit_id).min() else { return Ok(false) };
        let start = backlog.cursor.max(start);
        let mut last = start;
        let mut deliveries = Vec::new();
        for entry in &backlog.entries {
            // On PostgreSQL an id is taken when the entry is written, not when its
            // transaction commits: a missing one may still come.
            if entry.id != last + 1 && !self.gap_expired(last + 1) {
                break;
            }
            last = entry.id;
            let detail: serde_json::Value = serde_json::from_str(&entry.detail).unwrap_or_default();
            let Some(event) = events::event_type(entry, &detail) else { continue };
            let wanted = backlog
                .endpoints
                .iter()
                .filter(|e| entry.id > e.after_audit_id && e.event_types().any(|t| t == event));
            for endpoint in wanted {
                let payload = match endpoint.format.as_str() {
                    "set" => match events::security_event(entry, event, &detail, &self.issuer) {
                        Some(claims) => claims.to_string(),
                        None => continue,
                    },
                    _ => events::payload(entry, event, detail.clone()),
                };
                deliveries.push(NewDelivery {
                    id: format!("msg_{}", uuid::Uuid::new_v4().simple()),
                    endpoint_id: endpoint.id.clone(),
                    seq: entry.id,
                    event: event.to_string(),
                    payload,
                });
            }
        }
        if last == start {
            return Ok(false);
        }
        self.store.record_webhook_deliveries(backlog.cursor, last, &deliveries, self.clock.now()).await
    }
}
