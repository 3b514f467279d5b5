//! Sign-in with external identity providers. A trip to a provider starts here (state,
//! nonce and PKCE verifier stored, bound to the starting browser by a cookie) and comes
//! back here, where the provider's answer is checked (`upstream`) and mapped to an
//! account: a linked identity signs its user in, an address that is an existing
//! account's is only *offered* for linking (the owner must sign in to that account in the
//! same browser), and otherwise a new account is made where the provider allows it.
//! Whether the user then needs a second factor is the login flow's decision, as for a
//! password.

mod accounts;
mod upstream;

use std::collections::BTreeMap;
use std::sync::Arc;

use tracing::warn;

pub use upstream::{ExternalClaims, UpstreamError};
use upstream::{Http, Upstream};

use crate::config::{ExternalProvider, Signup};
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::domain::{ClientInfo, Clock, Timestamp};
use crate::notify::{Notice, Notices};
use crate::store::{
    AuditEvent, AuditMeta, ExternalIdentityRow, ExternalLoginRow, LinkOfferRow, Store, StoreError,
};
use crate::throttle::Throttle;
use crate::tokens::UserCache;

/// How long a browser has between leaving for the provider and coming back.
const TRIP_LIFETIME: i64 = 600;
/// How long an offer to link waits for its sign-in.
const OFFER_LIFETIME: i64 = 900;

#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    #[error("no such provider")]
    UnknownProvider,
    /// The callback's state is unknown, spent or expired.
    #[error("sign-in expired or already used")]
    Expired,
    /// A live trip's callback opened in a browser that did not start it (login CSRF).
    #[error("sign-in started in another browser")]
    WrongBrowser,
    /// The provider said no (the person cancelled, or the provider refused the client).
    #[error("the provider refused: {0}")]
    Denied(String),
    /// The provider could not be reached or answered nonsense.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The answer failed a check (id token, nonce, issuer, subject).
    #[error("the provider's answer was refused: {0}")]
    Refused(String),
    /// The provider did not vouch for an address, and one is needed (a new account, a link).
    #[error("the provider's email address is not verified")]
    EmailNotVerified,
    /// No account is linked and this provider may not make one for this address.
    #[error("no account for this sign-in")]
    NoAccount,
    /// The identity is linked to another account.
    #[error("identity linked to another account")]
    IdentityTaken,
    /// Unlinking would leave the account no way to sign in.
    #[error("last way to sign in")]
    LastWay,
    #[error("not found")]
    NotFound,
    #[error("throttled for {0} s")]
    Throttled(u64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UpstreamError> for ExternalError {
    fn from(e: UpstreamError) -> Self {
        match e {
            UpstreamError::Unavailable(why) => ExternalError::Unavailable(why),
            UpstreamError::Refused(why) => ExternalError::Refused(why),
        }
    }
}

/// Why a trip is made.
pub enum Purpose {
    /// Sign in (or up); the web app goes to `next` afterwards.
    SignIn { next: String },
    /// A signed-in user (with a fresh proof of presence) links this provider.
    Link { user_id: String },
}

/// A trip started: where to send the browser, and the value of the cookie that binds the
/// callback to this browser.
pub struct Trip {
    pub redirect_to: String,
    pub binding: String,
}

/// What the callback's query string brought.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
}

/// Where a callback leaves the browser.
pub enum Arrival {
    /// A linked identity: sign its user in (the login flow decides the rest).
    SignIn { user_id: String, provider: String, next: String },
    /// Linked to the signed-in user who asked.
    Linked { provider: String },
    /// The verified address is an existing account's: linked once that account signs in
    /// in this browser (`token` goes in an HttpOnly cookie, never in a URL).
    Offer { token: String, provider: String, next: String },
}

/// A provider as the login page shows it.
pub struct ProviderView {
    pub name: String,
    pub display_name: String,
}

/// A linked identity as its owner and administrators see it.
pub struct IdentityView {
    pub row: ExternalIdentityRow,
    pub display_name: String,
}

/// A path of the web app's own, or `/`: never another site (open redirect).
pub fn local_path(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 1024
        && !next.chars().any(|c| c.is_control());
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

pub struct External {
    store: Arc<Store>,
    throttle: Arc<Throttle>,
    cache: Arc<UserCache>,
    notices: Arc<Notices>,
    clock: Arc<dyn Clock>,
    http: Option<Http>,
    upstreams: BTreeMap<String, Upstream>,
}

impl External {
    pub fn new(
        providers: &[ExternalProvider],
        public_url: &str,
        store: Arc<Store>,
        throttle: Arc<Throttle>,
        cache: Arc<UserCache>,
        notices: Arc<Notices>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let http = match providers.is_empty() {
            true => None,
            false => match Http::new() {
                Ok(http) => Some(http),
                Err(e) => {
                    warn!(error = %e, "no HTTP client for external providers");
                    None
                }
            },
        };
        let upstreams =
            providers.iter().map(|p| (p.name.clone(), Upstream::new(p.clone(), public_url))).collect();
        Self { store, throttle, cache, notices, clock, http, upstreams }
    }

    pub fn providers(&self) -> Vec<ProviderView> {
        self.upstreams
            .values()
            .map(|u| ProviderView {
                name: u.config.name.clone(),
                display_name: u.config.display_name.clone(),
            })
            .collect()
    }

    fn upstream(&self, name: &str) -> Result<(&Upstream, &Http), ExternalError> {
        let upstream = self.upstreams.get(name).ok_or(ExternalError::UnknownProvider)?;
        let http = self.http.as_ref().ok_or_else(|| ExternalError::Unavailable("no HTTP client".into()))?;
        Ok((upstream, http))
    }

    fn display_name(&self, provider: &str) -> String {
        self.upstreams
            .get(provider)
            .map(|u| u.config.display_name.clone())
            .unwrap_or_else(|| provider.to_string())
    }

    /// The redirect URI to register at each provider.
    pub fn redirect_uri(&self, name: &str) -> Option<&str> {
        self.upstreams.get(name).map(|u| u.redirect_uri())
    }

    /// Starts a trip: counted per address (each stores a row until it comes back or
    /// expires), then stored only once the provider's address is known, so a provider
    /// that is down leaves nothing behind.
    pub async fn begin(
        &self,
        name: &str,
        purpose: Purpose,
        client: &ClientInfo,
    ) -> Result<Trip, ExternalError> {
        let (upstream, http) = self.upstream(name)?;
        if let Some(wait) = self.throttle.authorization(&client.ip).await {
            return Err(ExternalError::Throttled(wait));
        }
        let (state, nonce, verifier, binding) =
            (random_token(32), random_token(32), random_token(32), random_token(32));
        let departure = upstream.departure(http, &state, &nonce, &verifier).await?;
        let now = self.clock.now();
        let (link_user_id, next_path) = match purpose {
            Purpose::SignIn { next } => (None, local_path(&next)),
            Purpose::Link { user_id } => (Some(user_id), String::new()),
        };
        let row = ExternalLoginRow {
            state_hash: sha256_hex(&state),
            provider: name.to_string(),
            binding_hash: sha256_hex(&binding),
            nonce,
            pkce_verifier: verifier,
            link_user_id,
            next_path,
            created_at: now,
            expires_at: now + TRIP_LIFETIME,
        };
        self.store.insert_external_login(&row).await?;
        Ok(Trip { redirect_to: departure.url, binding })
    }

    /// The provider's answer. The trip is spent whatever comes of it; failures are
    /// audited as `external_login_failed`.
    pub async fn finish(
        &self,
        name: &str,
        callback: Callback,
        binding: Option<&str>,
        client: &ClientInfo,
    ) -> Result<Arrival, ExternalError> {
        let outcome = self.arrive(name, callback, binding, client).await;
        if let Err(e) = &outcome {
            let reason = match e {
                ExternalError::Expired => "expired",
                ExternalError::WrongBrowser => "wrong_browser",
                ExternalError::Denied(_) => "denied",
                ExternalError::Unavailable(_) => "unavailable",
                ExternalError::Refused(_) => "refused",
                ExternalError::EmailNotVerified => "email_not_verified",
                ExternalError::NoAccount => "no_account",
                ExternalError::IdentityTaken => "identity_taken",
                _ => "other",
            };
            // Debug (quoted, escaped): the name comes from the path and the error may carry the
            // provider's own text; neither may start a forged line in the text log.
            warn!(provider = ?name, error = ?e.to_string(), "external sign-in failed");
            metrics::counter!("authenticon_logins_total", "outcome" => "external_failure").increment(1);
            // A callback with no live trip behind it is anyone's junk request: logged and
            // counted, but it writes nothing (it costs an attacker nothing to send).
            if !matches!(e, ExternalError::UnknownProvider | ExternalError::Store(_) | ExternalError::Expired)
            {
                let detail = serde_json::json!({ "provider": name, "reason": reason });
                let audit = AuditMeta::client(client.clone());
                let now = self.clock.now();
                if let Err(e) =
                    self.store.record_audit(AuditEvent::ExternalLoginFailed, None, &detail, now, &audit).await
                {
                    warn!(error = %e, "could not write audit event");
                }
            }
        }
        outcome
    }

    async fn arrive(
        &self,
        name: &str,
        callback: Callback,
        binding: Option<&str>,
        client: &ClientInfo,
    ) -> Result<Arrival, ExternalError> {
        self.upstreams.get(name).ok_or(ExternalError::UnknownProvider)?;
        let state = callback.state.as_deref().filter(|s| s.len() <= 256).ok_or(ExternalError::Expired)?;
        let now = self.clock.now();
        let trip =
            self.store.take_external_login(&sha256_hex(state), now).await?.ok_or(ExternalError::Expired)?;
        // SECURITY: only the browser that left may come back (login CSRF: an attacker's
        // callback URL opened in a victim's browser signs no one in).
        let same_browser = binding.is_some_and(|b| constant_time_eq(&sha256_hex(b), &trip.binding_hash));
        if trip.provider != name {
            return Err(ExternalError::Expired);
        }
        if !same_browser {
            return Err(ExternalError::WrongBrowser);
        }
        let (upstream, http) = self.upstream(name)?;
        if let Some(error) = callback.error {
            return Err(ExternalError::Denied(error.chars().take(64).collect()));
        }
        // RFC 9207: an authorization response that names its issuer must name this one
        // (mix-up attacks between providers).
        if let (Some(expected), Some(iss)) = (upstream.issuer(), callback.iss.as_deref()) {
            if iss.trim_end_matches('/') != expected {
                return Err(ExternalError::Refused(format!("iss {iss:?} is not {expected:?}")));
            }
        }
        let code = callback.code.as_deref().filter(|c| !c.is_empty() && c.len() <= 2048);
        let code = code.ok_or_else(|| ExternalError::Refused("no code".into()))?;
        let claims = upstream.arrival(http, code, &trip.pkce_verifier, &trip.nonce).await?;
        let audit = AuditMeta::client(client.clone());
        let verified_email =
            claims.email.as_ref().filter(|_| claims.email_verified).map(|e| e.trim().to_string());
        let linked = self.store.external_identity(name, upstream.issuer_key(), &claims.subject).await?;

        if let Some(user_id) = trip.link_user_id {
            return match linked {
                Some(identity) if identity.user_id == user_id => {
                    Ok(Arrival::Linked { provider: name.into() })
                }
                Some(_) => Err(ExternalError::IdentityTaken),
                None => {
                    let identity = self.identity_row(&user_id, name, &claims, verified_email.as_deref(), now);
                    match self
                        .store
                        .link_external_identity(&identity, &AuditMeta::actor(&user_id, client.clone()))
                        .await
                    {
                        Err(StoreError::Conflict { .. }) => Err(ExternalError::IdentityTaken),
                        Err(e) => Err(e.into()),
                        Ok(()) => {
                            self.tell(&user_id, name, true, client).await;
                            Ok(Arrival::Linked { provider: name.into() })
                        }
                    }
                }
            };
        }
        let next = trip.next_path;
        if let Some(identity) = linked {
            self.store
                .touch_external_identity(&identity.id, verified_email.as_deref().unwrap_or(""), now)
                .await?;
            self.map_roles(upstream, &identity.user_id, &claims, &audit).await?;
            return Ok(Arrival::SignIn { user_id: identity.user_id, provider: name.into(), next });
        }
        // SECURITY: from here on an address decides, so it must be one the provider verified.
        let email = verified_email.ok_or(ExternalError::EmailNotVerified)?;
        if self.store.count_users_with_verified_email(&email).await? > 0 {
            // Never linked by the address alone: the account's owner must prove it.
            let token = random_token(32);
            let offer = LinkOfferRow {
                token_hash: sha256_hex(&token),
                provider: name.to_string(),
                issuer: upstream.issuer_key().to_string(),
                subject: claims.subject.clone(),
                email: email.to_lowercase(),
                created_at: now,
                expires_at: now + OFFER_LIFETIME,
            };
            self.store.insert_link_offer(&offer).await?;
            return Ok(Arrival::Offer { token, provider: name.into(), next });
        }
        if !signup_allowed(&upstream.config, &email, claims.organization_domain.as_deref()) {
            return Err(ExternalError::NoAccount);
        }
        let user_id = self.create_account(name, &claims, &email, &audit).await?;
        self.map_roles(upstream, &user_id, &claims, &audit).await?;
        Ok(Arrival::SignIn { user_id, provider: name.into(), next })
    }

    /// Mails the owner that a way into their account was added or taken away (as for a
    /// second factor); a failure to read the account only loses the mail.
    pub(super) async fn tell(&self, user_id: &str, provider: &str, linked: bool, client: &ClientInfo) {
        let Ok(Some(user)) = self.store.user_by_id(user_id).await else { return };
        let provider = self.display_name(provider);
        let notice = match linked {
            true => Notice::IdentityLinked { provider: &provider },
            false => Notice::IdentityUnlinked { provider: &provider },
        };
        self.notices.notify(&user.user, notice, client);
    }

    fn identity_row(
        &self,
        user_id: &str,
        provider: &str,
        claims: &ExternalClaims,
        verified_email: Option<&str>,
        now: Timestamp,
    ) -> ExternalIdentityRow {
        ExternalIdentityRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user_id.to_string(),
            provider: provider.to_string(),
            issuer: self.upstreams.get(provider).map(|u| u.issuer_key().to_string()).unwrap_or_default(),
            subject: claims.subject.clone(),
            email: verified_email.unwrap_or("").to_string(),
            created_at: now,
            last_used_at: Some(now),
        }
    }
}

/// Whether a new account may be made: by the provider's sign-up setting, and for a
/// domain list by the address's domain and, where the provider names the organization
/// (`domain_claim`), by that too.
fn signup_allowed(provider: &ExternalProvider, email: &str, organization: Option<&str>) -> bool {
    match &provider.signup {
        Signup::Off => false,
        Signup::On => true,
        Signup::Domains(domains) => {
            let domain = email.rsplit_once('@').map(|(_, d)| d.to_lowercase()).unwrap_or_default();
            let organization_ok = match &provider.domain_claim {
                Some(_) => organization.is_some_and(|o| domains.iter().any(|d| d == o)),
                None => true,
            };
            domains.contains(&domain) && organization_ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_a_local_path_or_home() {
        assert_eq!(local_path("/authorize?request=abc"), "/authorize?request=abc");
        for bad in ["https://evil.example/", "//evil.example", "/\\evil.example", "evil", "/a\nb", ""] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }

    fn provider(signup: Signup, domain_claim: Option<&str>) -> ExternalProvider {
        ExternalProvider {
            name: "p".into(),
            display_name: "P".into(),
            protocol: crate::config::Protocol::OpenIdConnect { issuer: "https://p.example".into() },
            client_id: "c".into(),
            client_secret: crate::domain::Secret::new("s"),
            scopes: Vec::new(),
            signup,
            domain_claim: domain_claim.map(String::from),
            roles_claim: None,
            roles: BTreeMap::new(),
        }
    }

    #[test]
    fn signup_by_domain() {
        let d = provider(Signup::Domains(vec!["example.com".into()]), None);
        assert!(signup_allowed(&d, "ann@Example.com", None));
        assert!(!signup_allowed(&d, "ann@example.com.evil.test", None));
        assert!(!signup_allowed(&d, "ann@sub.example.com", None));
        assert!(!signup_allowed(&provider(Signup::Off, None), "ann@example.com", None));
    }

    #[test]
    fn a_domain_claim_must_name_the_organization_too() {
        // Google: a personal account registered with a work address has no `hd`.
        let google = provider(Signup::Domains(vec!["example.com".into()]), Some("hd"));
        assert!(!signup_allowed(&google, "ann@example.com", None));
        assert!(!signup_allowed(&google, "ann@example.com", Some("other.example")));
        assert!(signup_allowed(&google, "ann@example.com", Some("example.com")));
        assert!(signup_allowed(&provider(Signup::On, Some("hd")), "ann@gmail.com", None));
    }
}
