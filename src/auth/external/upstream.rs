//! Talking to an external provider: the address a browser is sent to, and what the
//! callback's code is worth. OpenID Connect through the `openidconnect` crate (discovery,
//! PKCE, nonce, issuer, audience, expiry and signature checked there); GitHub through
//! `oauth2` and its documented user and emails API, since it issues no id token.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreProviderMetadata};
use openidconnect::{
    AccessToken, AdditionalClaims, AsyncHttpClient, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};

use crate::config::{ExternalProvider, Protocol};
use crate::domain::error_chain;

/// How long discovery and keys are reused before they are fetched again.
const METADATA_LIFETIME: Duration = Duration::from_secs(600);
/// No provider call may hold a sign-in longer than this.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read from a provider (discovery, keys, tokens, profile are a few KiB).
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// Why a provider's answer could not be used.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The provider could not be reached, or answered with something unusable (5xx, not
    /// JSON): the provider's fault, 502 to the browser.
    #[error("provider unavailable: {0}")]
    Unavailable(String),
    /// The answer was there but fails a check (id token, issuer, nonce, subject): refused.
    #[error("provider answer refused: {0}")]
    Refused(String),
}

/// What a provider vouches for about the person who signed in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalClaims {
    /// The provider's stable id of the person.
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub preferred_username: Option<String>,
    /// Values of the provider's configured roles claim.
    pub role_values: Vec<String>,
    /// The provider's configured domain claim (Google's `hd`), if the answer has it.
    pub organization_domain: Option<String>,
}

/// The HTTP client every provider call goes through (the crates' own `reqwest` feature
/// would bring a second, older reqwest into the build). SECURITY: it follows no redirect (a
/// provider's metadata must not steer calls elsewhere: SSRF) and gives up after
/// `CALL_TIMEOUT`.
#[derive(Clone)]
pub struct Http(reqwest::Client);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Http {
    pub fn new() -> Result<Self, String> {
        crate::crypto::install_tls_provider();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .user_agent("Authenticon")
            .build()
            .map(Http)
            .map_err(|e| e.to_string())
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(|e| HttpError(e.to_string()))?;
            let response = self.0.execute(request).await.map_err(|e| HttpError(e.to_string()))?;
            let mut out = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let body = read_capped(response).await.map_err(HttpError)?;
            out.body(body).map_err(|e| HttpError(e.to_string()))
        })
    }
}

/// Every claim of an id token or userinfo answer beyond the standard ones, for the
/// configured roles claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for OtherClaims {}

/// The values of a claim that is a string or a list of strings.
fn claim_values(claims: &serde_json::Map<String, serde_json::Value>, name: &str) -> Vec<String> {
    match claims.get(name) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(items)) => {
            items.iter().filter_map(|v| v.as_str().map(String::from)).collect()
        }
        _ => Vec::new(),
    }
}

/// What the browser is sent to, and what the callback must bring back to be believed.
pub struct Departure {
    pub url: String,
}

/// One configured provider, with its discovery cached.
pub struct Upstream {
    pub config: ExternalProvider,
    redirect_uri: String,
    metadata: Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Upstream {
    pub fn new(config: ExternalProvider, public_url: &str) -> Self {
        let redirect_uri =
            format!("{}/oauth/external/{}/callback", public_url.trim_end_matches('/'), config.name);
        Self { config, redirect_uri, metadata: Mutex::new(None) }
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Who vouches for this provider's subjects: the issuer, or GitHub's address.
    pub fn issuer_key(&self) -> &str {
        match &self.config.protocol {
            Protocol::OpenIdConnect { issuer } => issuer,
            Protocol::GitHub { web_url, .. } => web_url,
        }
    }

    /// The issuer a callback's `iss` parameter must name (RFC 9207), for OpenID Connect.
    pub fn issuer(&self) -> Option<&str> {
        match &self.config.protocol {
            Protocol::OpenIdConnect { issuer } => Some(issuer),
            Protocol::GitHub { .. } => None,
        }
    }

    /// The provider's metadata, fetched (discovery and keys) when older than
    /// `METADATA_LIFETIME` or when `fresh` asks for it.
    async fn metadata(&self, http: &Http, fresh: bool) -> Result<CoreProviderMetadata, UpstreamError> {
        if !fresh {
            let cached = self.metadata.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, m)) = cached.as_ref().filter(|(at, _)| at.elapsed() < METADATA_LIFETIME) {
                let _ = at;
                return Ok(m.clone());
            }
        }
        let Some(issuer) = self.issuer() else {
            return Err(UpstreamError::Refused("not OpenID Connect".into()));
        };
        let issuer = IssuerUrl::new(issuer.to_string()).map_err(|e| UpstreamError::Refused(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, http).await.map_err(|e| {
            // A metadata document naming another issuer is a refusal, not an outage.
            match e {
                openidconnect::DiscoveryError::Validation(v) => UpstreamError::Refused(v),
                other => UpstreamError::Unavailable(error_chain(&other)),
            }
        })?;
        *self.metadata.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn oidc_client(
        &self,
        metadata: CoreProviderMetadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        UpstreamError,
    > {
        let redirect =
            RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| UpstreamError::Refused(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.expose().to_string())),
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authorization address for this trip.
    pub async fn departure(
        &self,
        http: &Http,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<Departure, UpstreamError> {
        let challenge =
            PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier.to_string()));
        let scopes = self.config.scopes.iter().filter(|s| *s != "openid").map(|s| Scope::new(s.clone()));
        match &self.config.protocol {
            Protocol::OpenIdConnect { .. } => {
                let client = self.oidc_client(self.metadata(http, false).await?)?;
                let (state, nonce) = (state.to_string(), nonce.to_string());
                let (url, _, _) = client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || CsrfToken::new(state),
                        move || Nonce::new(nonce),
                    )
                    .add_scopes(scopes)
                    .set_pkce_challenge(challenge)
                    .url();
                Ok(Departure { url: url.to_string() })
            }
            Protocol::GitHub { .. } => {
                let client = self.github_client()?;
                let state = state.to_string();
                let (url, _) = client
                    .authorize_url(move || oauth2::CsrfToken::new(state))
                    .add_scopes(self.config.scopes.iter().map(|s| oauth2::Scope::new(s.clone())))
                    .set_pkce_challenge(oauth2::PkceCodeChallenge::from_code_verifier_sha256(
                        &oauth2::PkceCodeVerifier::new(verifier.to_string()),
                    ))
                    .url();
                Ok(Departure { url: url.to_string() })
            }
        }
    }

    /// Redeems the callback's code and returns what the provider vouches for, every check
    /// made: the id token's signature, issuer, audience, expiry and nonce (OpenID
    /// Connect), userinfo's subject matching the id token's.
    pub async fn arrival(
        &self,
        http: &Http,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<ExternalClaims, UpstreamError> {
        match &self.config.protocol {
            Protocol::OpenIdConnect { .. } => self.oidc_arrival(http, code, verifier, nonce).await,
            Protocol::GitHub { api_url, .. } => self.github_arrival(http, api_url, code, verifier).await,
        }
    }

    async fn oidc_arrival(
        &self,
        http: &Http,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<ExternalClaims, UpstreamError> {
        let client = self.oidc_client(self.metadata(http, false).await?)?;
        let request = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| UpstreamError::Refused(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()));
        let tokens = request.request_async(http).await.map_err(token_error)?;
        let id_token = tokens.id_token().ok_or_else(|| UpstreamError::Refused("no id token".into()))?;
        let verified = id_token.claims(&client.id_token_verifier(), &Nonce::new(nonce.to_string()));
        let claims = match verified {
            Ok(claims) => claims.clone(),
            Err(e) => {
                // Keys may have rotated since they were fetched: once more with fresh ones.
                let client = self.oidc_client(self.metadata(http, true).await?)?;
                let verifier = client.id_token_verifier();
                let claims = id_token
                    .claims(&verifier, &Nonce::new(nonce.to_string()))
                    .map_err(|_| UpstreamError::Refused(format!("id token: {e}")))?
                    .clone();
                claims
            }
        };
        let subject = claims.subject().to_string();
        let mut out = ExternalClaims {
            subject: subject.clone(),
            email: claims.email().map(|e| e.to_string()),
            email_verified: claims.email_verified().unwrap_or(false),
            preferred_username: claims.preferred_username().map(|u| u.to_string()),
            role_values: Vec::new(),
            organization_domain: None,
        };
        let mut extra = id_token_payload(&id_token.to_string());
        // Providers that keep the profile out of the id token (scopes answered at
        // userinfo) are asked there, the subject held to the id token's.
        if let Ok(request) = client.user_info(tokens.access_token().clone(), Some(claims.subject().clone())) {
            let info: Result<UserInfoClaims<OtherClaims, CoreGenderClaim>, _> =
                request.request_async(http).await;
            match info {
                Ok(info) => {
                    if out.email.is_none() {
                        out.email = info.email().map(|e| e.to_string());
                        out.email_verified = info.email_verified().unwrap_or(false);
                    }
                    if out.preferred_username.is_none() {
                        out.preferred_username = info.preferred_username().map(|u| u.to_string());
                    }
                    for (k, v) in &info.additional_claims().rest {
                        extra.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                Err(openidconnect::UserInfoError::ClaimsVerification(e)) => {
                    return Err(UpstreamError::Refused(format!("userinfo: {e}")))
                }
                Err(e) => return Err(UpstreamError::Unavailable(format!("userinfo: {}", error_chain(&e)))),
            }
        }
        if let Some(claim) = &self.config.roles_claim {
            out.role_values = claim_values(&extra, claim);
        }
        if let Some(claim) = &self.config.domain_claim {
            out.organization_domain =
                claim_values(&extra, claim).into_iter().next().map(|d| d.to_lowercase());
        }
        Ok(out)
    }

    fn github_client(
        &self,
    ) -> Result<
        oauth2::basic::BasicClient<
            oauth2::EndpointSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        UpstreamError,
    > {
        let Protocol::GitHub { web_url, .. } = &self.config.protocol else {
            return Err(UpstreamError::Refused("not GitHub".into()));
        };
        let bad = |e: url::ParseError| UpstreamError::Refused(e.to_string());
        Ok(oauth2::basic::BasicClient::new(oauth2::ClientId::new(self.config.client_id.clone()))
            .set_client_secret(oauth2::ClientSecret::new(self.config.client_secret.expose().to_string()))
            .set_auth_uri(oauth2::AuthUrl::new(format!("{web_url}/login/oauth/authorize")).map_err(bad)?)
            .set_token_uri(oauth2::TokenUrl::new(format!("{web_url}/login/oauth/access_token")).map_err(bad)?)
            .set_redirect_uri(oauth2::RedirectUrl::new(self.redirect_uri.clone()).map_err(bad)?)
            // GitHub documents the secret as a form parameter.
            .set_auth_type(oauth2::AuthType::RequestBody))
    }

    /// GitHub: the code for an access token, then `GET /user` (the numeric id is the
    /// subject) and `GET /user/emails` (the primary address, if GitHub verified it).
    async fn github_arrival(
        &self,
        http: &Http,
        api_url: &str,
        code: &str,
        verifier: &str,
    ) -> Result<ExternalClaims, UpstreamError> {
        let client = self.github_client()?;
        let tokens = client
            .exchange_code(oauth2::AuthorizationCode::new(code.to_string()))
            .set_pkce_verifier(oauth2::PkceCodeVerifier::new(verifier.to_string()))
            .request_async(http)
            .await
            .map_err(token_error)?;
        let token = tokens.access_token();
        #[derive(Deserialize)]
        struct User {
            id: u64,
            login: String,
        }
        #[derive(Deserialize)]
        struct Email {
            email: String,
            primary: bool,
            verified: bool,
        }
        let user: User = github_get(http, &format!("{api_url}/user"), token).await?;
        let emails: Vec<Email> = github_get(http, &format!("{api_url}/user/emails"), token).await?;
        let primary = emails.into_iter().find(|e| e.primary);
        Ok(ExternalClaims {
            subject: user.id.to_string(),
            email_verified: primary.as_ref().is_some_and(|e| e.verified),
            email: primary.map(|e| e.email),
            preferred_username: Some(user.login),
            role_values: Vec::new(),
            organization_domain: None,
        })
    }
}

async fn github_get<T: serde::de::DeserializeOwned>(
    http: &Http,
    url: &str,
    token: &AccessToken,
) -> Result<T, UpstreamError> {
    let response = http
        .0
        .get(url)
        .bearer_auth(token.secret())
        .header("Accept", "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| UpstreamError::Unavailable(e.to_string()))?;
    let status = response.status();
    if status.is_server_error() {
        return Err(UpstreamError::Unavailable(format!("{url}: {status}")));
    }
    if !status.is_success() {
        return Err(UpstreamError::Refused(format!("{url}: {status}")));
    }
    let body = read_capped(response).await.map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))?;
    serde_json::from_slice(&body).map_err(|e| UpstreamError::Unavailable(format!("{url}: {e}")))
}

/// An answer's body, refused past `MAX_ANSWER_BYTES` (a hostile or broken provider must
/// not fill the memory).
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let too_big = || format!("answer larger than {MAX_ANSWER_BYTES} bytes");
    if response.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A token request's failure: the provider refusing the code is a refusal; no answer,
/// or one that is not an OAuth answer, is the provider's outage.
fn token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    e: oauth2::RequestTokenError<RE, T>,
) -> UpstreamError {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => {
            UpstreamError::Refused(format!("token endpoint: {r}"))
        }
        oauth2::RequestTokenError::Request(e) => UpstreamError::Unavailable(format!("token endpoint: {e}")),
        other => UpstreamError::Unavailable(format!("token endpoint: {}", error_chain(&other))),
    }
}

/// The claims of an id token already verified, as JSON (for claims the crate does not
/// type, like a roles claim).
fn id_token_payload(token: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine;
    token
        .split('.')
        .nth(1)
        .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}
