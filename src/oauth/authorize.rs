//! The authorization endpoint (RFC 6749 §4.1, OpenID Connect Core §3.1.2). The request
//! is checked here; one that is safe to answer at its redirect URI is kept under a random
//! handle while the web app signs the user in (the one login flow) and asks their
//! consent, then answered once: a code, or an error, with `state` and `iss` (RFC 9207).

use super::clients::AUTHORIZATION_CODE;
use super::{pkce_shaped, redirect, scopes, Provider, CODE_TTL, REQUEST_TTL};
use crate::auth::login::AMR_PASSWORD;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::ClientInfo;
use crate::store::{
    Approval, AuditMeta, AuthorizationRow, ClientRow, NewAuthorization, StoreError, UserWithRoles,
};

const MAX_STATE_CHARS: usize = 1000;
const MAX_HINT_CHARS: usize = 200;

/// The query of `GET /oauth/authorize`, as received.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// Where a checked request goes next.
pub enum AuthorizeStart {
    /// To the web app, which shows the user this request (`/authorize?request=…`).
    Pending { handle: String },
    /// Back to the client at once (an error at its redirect URI).
    Redirect(String),
    /// Nowhere safe: no valid client or redirect URI, so the user is told on our page
    /// (RFC 6749 §4.1.2.1: never redirect to an unchecked URI).
    Refused(String),
}

/// The user's answer to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// They approved on the consent screen (or had nothing to approve).
    Allow,
    Deny,
    /// `prompt=none`: nothing was shown; a code only if nothing needed asking.
    Silent,
}

/// What the web app shows for a pending request.
#[derive(Debug, Clone)]
pub struct RequestView {
    pub client_id: String,
    pub client_name: String,
    /// Where the answer goes (the redirect URI's host), so the user sees who receives it.
    pub redirect_host: String,
    pub scopes: Vec<(String, String)>,
    pub prompt: String,
    pub login_hint: Option<String>,
    /// No signed-in user, or one whose sign-in is older than the request allows.
    pub login_required: bool,
    /// The user has not yet consented to all these scopes for this client.
    pub consent_required: bool,
}

/// The signed-in user answering, and the browser session they answer from.
pub struct Answerer<'a> {
    pub user: &'a UserWithRoles,
    pub session_id: &'a str,
}

/// Why a request cannot be answered as asked; never a redirect.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("no such pending request")]
    NotFound,
    /// The request wants a (fresh) sign-in first.
    #[error("login required")]
    LoginRequired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An error answered at the client's redirect URI.
fn error_redirect(uri: &str, error: &str, description: &str, state: Option<&str>, iss: &str) -> String {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", iss));
    redirect::with_params(uri, &params)
}

impl Provider {
    /// Checks a request: refused outright without a registered client and redirect
    /// URI; any other fault is answered at that URI; a good one waits for the user.
    pub async fn start_authorization(
        &self,
        p: AuthorizeParams,
        from: &ClientInfo,
    ) -> Result<AuthorizeStart, StoreError> {
        let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty() && c.len() <= 100) else {
            return Ok(AuthorizeStart::Refused("The request names no client (client_id).".into()));
        };
        let Some(client) = self.store.client(client_id).await? else {
            return Ok(AuthorizeStart::Refused("The request names an unknown client.".into()));
        };
        let Some(asked) = p.redirect_uri.as_deref() else {
            return Ok(AuthorizeStart::Refused("The request names no redirect_uri.".into()));
        };
        let Some(uri) = redirect::matching(&client.redirect_uris, asked).map(|_| asked.to_string()) else {
            return Ok(AuthorizeStart::Refused(
                "The redirect_uri is not one registered for this client: it must match exactly.".into(),
            ));
        };
        let state = p.state.as_deref();
        if state.is_some_and(|s| s.len() > MAX_STATE_CHARS) {
            return Ok(AuthorizeStart::Redirect(error_redirect(
                &uri,
                "invalid_request",
                "state is too long.",
                None,
                &self.issuer,
            )));
        }
        let fail = |error: &str, description: &str| {
            Ok(AuthorizeStart::Redirect(error_redirect(&uri, error, description, state, &self.issuer)))
        };
        if p.request.is_some() {
            return fail("request_not_supported", "Request objects are not supported.");
        }
        if p.request_uri.is_some() {
            return fail("request_uri_not_supported", "request_uri is not supported.");
        }
        if p.response_type.as_deref() != Some("code") {
            return fail("unsupported_response_type", "Only response_type=code is supported.");
        }
        if p.response_mode.as_deref().is_some_and(|m| m != "query") {
            return fail("invalid_request", "Only response_mode=query is supported.");
        }
        if !client.allows_grant(AUTHORIZATION_CODE) {
            return fail("unauthorized_client", "This client may not use the authorization code flow.");
        }
        let Some(asked_scopes) = p.scope.as_deref().and_then(scopes::parse).filter(|s| !s.is_empty()) else {
            return fail("invalid_scope", "Name the scopes wanted (scope), space-separated.");
        };
        if let Some(extra) = asked_scopes.iter().find(|s| !scopes::has(&client.scopes, s)) {
            return fail("invalid_scope", &format!("This client may not ask for the scope {extra}."));
        }
        // SECURITY: PKCE with S256 for every client, confidential ones too (RFC 9700
        // §2.1.1); `plain`, or none, is refused.
        let Some(challenge) = p.code_challenge.as_deref() else {
            return fail(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256.",
            );
        };
        if p.code_challenge_method.as_deref() != Some("S256") {
            return fail("invalid_request", "Only code_challenge_method=S256 is accepted.");
        }
        if !pkce_shaped(challenge) || challenge.len() != 43 {
            return fail("invalid_request", "code_challenge is not an S256 challenge.");
        }
        let prompt = p.prompt.clone().unwrap_or_default();
        let prompts: Vec<&str> = prompt.split(' ').filter(|s| !s.is_empty()).collect();
        if prompts.iter().any(|p| !matches!(*p, "none" | "login" | "consent" | "select_account")) {
            return fail("invalid_request", "prompt takes none, login, consent or select_account.");
        }
        if prompts.contains(&"none") && prompts.len() > 1 {
            return fail("invalid_request", "prompt=none cannot be combined with other values.");
        }
        let max_age = match p.max_age.as_deref() {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(v) if v >= 0 => Some(v),
                _ => return fail("invalid_request", "max_age must be a number of seconds."),
            },
        };
        if p.nonce.as_deref().is_some_and(|n| n.len() > MAX_STATE_CHARS) {
            return fail("invalid_request", "nonce is too long.");
        }
        let login_hint =
            p.login_hint.filter(|h| !h.is_empty()).map(|h| h.chars().take(MAX_HINT_CHARS).collect());
        // Each request is a stored row until it is answered or expires.
        if self.throttle.authorization(&from.ip).await.is_some() {
            metrics::counter!("authenticon_throttled_total", "scope" => "authorize").increment(1);
            return fail(
                "temporarily_unavailable",
                "Too many sign-in requests from this address; try again later.",
            );
        }
        let handle = random_token(32);
        let now = self.clock.now();
        self.store
            .insert_authorization(&NewAuthorization {
                id: sha256_hex(&handle),
                client_id: client.id.clone(),
                redirect_uri: uri,
                scope: asked_scopes.join(" "),
                state: p.state,
                nonce: p.nonce,
                code_challenge: challenge.to_string(),
                prompt: prompts.join(" "),
                max_age,
                login_hint,
                now,
                expires_at: now + REQUEST_TTL,
            })
            .await?;
        Ok(AuthorizeStart::Pending { handle })
    }

    /// A pending request, its client, and what answering it needs of the user.
    pub async fn describe(
        &self,
        handle: &str,
        answerer: Option<&Answerer<'_>>,
    ) -> Result<RequestView, AnswerError> {
        let (request, client) = self.pending(handle).await?;
        let login_required = self.login_required(&request, answerer).await?;
        let consent_required = match answerer {
            Some(a) => self.consent_required(&request, &client, a.user).await?,
            None => !client.pre_consented,
        };
        Ok(RequestView {
            client_id: client.id,
            client_name: client.name,
            redirect_host: url::Url::parse(&request.redirect_uri)
                .ok()
                .and_then(|u| u.host_str().map(String::from))
                .unwrap_or_default(),
            scopes: request.scope.split(' ').map(|s| (s.to_string(), scopes::describe(s))).collect(),
            prompt: request.prompt,
            login_hint: request.login_hint,
            login_required,
            consent_required,
        })
    }

    /// Answers a pending request; the URI to send the browser to. Each request is
    /// answered once.
    pub async fn answer(
        &self,
        handle: &str,
        answerer: Option<&Answerer<'_>>,
        decision: Decision,
        audit: &AuditMeta,
    ) -> Result<String, AnswerError> {
        let (request, client) = self.pending(handle).await?;
        let silent = decision == Decision::Silent || request.prompt == "none";
        if self.login_required(&request, answerer).await? {
            if silent {
                return self.refuse(&request, "login_required", "The user is not signed in.").await;
            }
            return Err(AnswerError::LoginRequired);
        }
        let Some(answerer) = answerer else { return Err(AnswerError::LoginRequired) };
        if decision == Decision::Deny {
            return self.refuse(&request, "access_denied", "The user declined.").await;
        }
        let consent_required = self.consent_required(&request, &client, answerer.user).await?;
        if consent_required && silent {
            return self
                .refuse(&request, "consent_required", "The user has not consented to this application.")
                .await;
        }
        if !answerer.user.user.is_active {
            return Err(AnswerError::LoginRequired);
        }
        let session = self.store.session_state(answerer.session_id).await?;
        let (auth_time, amr) = match &session {
            Some(s) => (s.auth_time.unwrap_or(s.created_at), s.amr.clone()),
            None => return Err(AnswerError::LoginRequired),
        };
        let amr = if amr.is_empty() { AMR_PASSWORD.join(" ") } else { amr };
        let code = random_token(32);
        let now = self.clock.now();
        // What the user has consented to for this client: before, and now these too.
        let consent = match client.pre_consented {
            true => None,
            false => {
                let before =
                    self.store.consent(&answerer.user.user.id, &client.id).await?.unwrap_or_default();
                let mut all: Vec<&str> = before.split(' ').filter(|s| !s.is_empty()).collect();
                for s in request.scope.split(' ') {
                    if !all.contains(&s) {
                        all.push(s);
                    }
                }
                Some(all.join(" "))
            }
        };
        let approval = Approval {
            user_id: answerer.user.user.id.clone(),
            browser_session_id: answerer.session_id.to_string(),
            auth_time,
            amr,
            code_hash: sha256_hex(&code),
            code_expires_at: now + CODE_TTL,
            consent,
            now,
        };
        if !self.store.approve_authorization(&request.id, &client.id, &approval, audit).await? {
            return Err(AnswerError::NotFound);
        }
        let mut params = vec![("code", code.as_str())];
        if let Some(state) = request.state.as_deref() {
            params.push(("state", state));
        }
        params.push(("iss", self.issuer.as_str()));
        Ok(redirect::with_params(&request.redirect_uri, &params))
    }

    /// Answers a request with an error at its redirect URI, spending it.
    async fn refuse(
        &self,
        request: &AuthorizationRow,
        error: &str,
        description: &str,
    ) -> Result<String, AnswerError> {
        self.store.close_authorization(&request.id, self.clock.now()).await?;
        let state = request.state.as_deref();
        Ok(error_redirect(&request.redirect_uri, error, description, state, &self.issuer))
    }

    async fn pending(&self, handle: &str) -> Result<(AuthorizationRow, ClientRow), AnswerError> {
        if handle.len() > 100 {
            return Err(AnswerError::NotFound);
        }
        let request = self
            .store
            .pending_authorization(&sha256_hex(handle), self.clock.now())
            .await?
            .ok_or(AnswerError::NotFound)?;
        let client = self.store.client(&request.client_id).await?.ok_or(AnswerError::NotFound)?;
        Ok((request, client))
    }

    /// Whether the request needs a sign-in the answerer has not made: none at all,
    /// `prompt=login` and no sign-in since the request, or one older than `max_age`.
    async fn login_required(
        &self,
        request: &AuthorizationRow,
        answerer: Option<&Answerer<'_>>,
    ) -> Result<bool, StoreError> {
        let Some(answerer) = answerer else { return Ok(true) };
        let Some(session) = self.store.session_state(answerer.session_id).await? else { return Ok(true) };
        if session.revoked_at.is_some() || session.user_id != answerer.user.user.id {
            return Ok(true);
        }
        let auth_time = session.auth_time.unwrap_or(session.created_at);
        // A sign-in made for this request is fresh enough for it, however long the user
        // then spends on the consent screen (else `max_age=0` would ask forever).
        if auth_time >= request.created_at {
            return Ok(false);
        }
        let fresh_login = request.prompt.split(' ').any(|p| p == "login" || p == "select_account");
        Ok(fresh_login || request.max_age.is_some_and(|max| self.clock.now() - auth_time > max))
    }

    async fn consent_required(
        &self,
        request: &AuthorizationRow,
        client: &ClientRow,
        user: &UserWithRoles,
    ) -> Result<bool, StoreError> {
        if client.pre_consented {
            return Ok(false);
        }
        if request.prompt.split(' ').any(|p| p == "consent") {
            return Ok(true);
        }
        let given = self.store.consent(&user.user.id, &client.id).await?.unwrap_or_default();
        let given: Vec<&str> = given.split(' ').collect();
        Ok(request.scope.split(' ').any(|s| !given.contains(&s)))
    }
}
