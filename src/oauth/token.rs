//! The token endpoint (RFC 6749 §3.2, OAuth 2.1): client authentication, then the
//! authorization code (with PKCE), refresh token (rotated, reuse detected) and client
//! credentials grants.

use tracing::warn;

use super::claims::{acr_of, amr_list, AccessClaims, IdClaims, ProfileClaims};
use super::clients::{hash_secret, AUTHORIZATION_CODE, CLIENT_CREDENTIALS, REFRESH_TOKEN};
use super::{pkce_shaped, s256, scopes, OAuthError, Provider};
use crate::crypto::{constant_time_eq, random_token, sha256_hex};
use crate::domain::ClientInfo;
use crate::store::{AuditEvent, AuditMeta, ClientRow, GrantOf, RedeemOutcome, Redemption, UserWithRoles};
use crate::throttle::address_key;
use crate::tokens::{ACCESS_TOKEN_TYP, ID_TOKEN_TYP};

/// A client's credentials as presented: by HTTP Basic (`client_secret_basic`), in the
/// body (`client_secret_post`), or its id alone (a public client).
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub basic: Option<(String, String)>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl ClientCredentials {
    /// Whether the client tried HTTP Basic (a refusal then carries `WWW-Authenticate`).
    pub fn used_basic(&self) -> bool {
        self.basic.is_some()
    }
}

/// The form of `POST /oauth/token`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

fn count(grant: &'static str, outcome: &'static str) {
    metrics::counter!("authenticon_oauth_tokens_total", "grant_type" => grant, "outcome" => outcome)
        .increment(1);
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is required.")))
}

impl Provider {
    /// Who is asking: a registered client proving its secret (confidential) or naming
    /// itself (public). SECURITY: failed secrets are throttled per address (see
    /// `Throttle::client_secret_failed`), and every failure reads alike.
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
        from: &ClientInfo,
    ) -> Result<ClientRow, OAuthError> {
        let (id, secret) = match (&creds.basic, &creds.client_id, &creds.client_secret) {
            (Some(_), _, Some(_)) => {
                return Err(OAuthError::InvalidRequest("Authenticate the client one way only.".into()))
            }
            (Some((id, secret)), body_id, None) => {
                if body_id.as_ref().is_some_and(|b| b != id) {
                    return Err(OAuthError::InvalidRequest("client_id differs from the credentials.".into()));
                }
                (id.clone(), Some(secret.clone()))
            }
            (None, Some(id), secret) => (id.clone(), secret.clone()),
            (None, None, _) => {
                return Err(OAuthError::InvalidClient("Client authentication is required.".into()))
            }
        };
        let failed = || OAuthError::InvalidClient("Client authentication failed.".into());
        if id.is_empty() || id.len() > 100 {
            return Err(failed());
        }
        let client = self.store.client(&id).await?;
        let ok = match (&client, &secret) {
            (Some(c), Some(secret)) => {
                c.secret_hash.as_deref().is_some_and(|h| constant_time_eq(h, &hash_secret(secret)))
            }
            // A public client names itself; a confidential one must prove it.
            (Some(c), None) => c.is_public(),
            (None, _) => false,
        };
        match (ok, client) {
            (true, Some(client)) => Ok(client),
            _ => {
                if let Some(wait) = self.throttle.client_secret_failed(&from.ip).await {
                    warn!(address = %address_key(&from.ip), "client authentication throttled");
                    metrics::counter!("authenticon_throttled_total", "scope" => "client").increment(1);
                    return Err(OAuthError::Throttled(wait));
                }
                let detail = serde_json::json!({ "client_id": id, "reason": "client_authentication" });
                self.refused(None, detail, from).await;
                Err(failed())
            }
        }
    }

    /// `POST /oauth/token`.
    pub async fn token(
        &self,
        req: TokenRequest,
        creds: &ClientCredentials,
        from: ClientInfo,
    ) -> Result<TokenResponse, OAuthError> {
        let grant = required(&req.grant_type, "grant_type")?.to_string();
        let client = self.authenticate_client(creds, &from).await?;
        self.tokens.provider_keys_ready().await?;
        match grant.as_str() {
            AUTHORIZATION_CODE => self.exchange_code(&client, &req, from).await,
            REFRESH_TOKEN => self.refresh(&client, &req, from).await,
            CLIENT_CREDENTIALS => self.client_credentials(&client, &req, from).await,
            other => {
                Err(OAuthError::UnsupportedGrantType(format!("The grant type {other} is not supported.")))
            }
        }
    }

    async fn exchange_code(
        &self,
        client: &ClientRow,
        req: &TokenRequest,
        from: ClientInfo,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.allows_grant(AUTHORIZATION_CODE) {
            return Err(OAuthError::UnauthorizedClient(
                "This client may not use authorization codes.".into(),
            ));
        }
        let code = required(&req.code, "code")?;
        let redirect_uri = required(&req.redirect_uri, "redirect_uri")?;
        let verifier = required(&req.code_verifier, "code_verifier")?;
        let invalid = || {
            OAuthError::InvalidGrant("The code is invalid, expired, or was issued for another client.".into())
        };
        if !pkce_shaped(verifier) || code.len() > 100 {
            return Err(invalid());
        }
        let code_hash = sha256_hex(code);
        let Some(row) = self.store.authorization_by_code(&code_hash).await? else {
            count(AUTHORIZATION_CODE, "invalid");
            return Err(invalid());
        };
        let user_id = row.user_id.clone().unwrap_or_default();
        let mut granted = scopes::parse(&row.scope).unwrap_or_default();
        // A scope taken from the client since the request is no longer given.
        granted.retain(|s| scopes::has(&client.scopes, s));
        let offline = scopes::has(&granted, scopes::OFFLINE_ACCESS) && client.allows_grant(REFRESH_TOKEN);
        let auth_time = row.auth_time.unwrap_or(row.created_at);
        let grant = GrantOf {
            client_id: client.id.clone(),
            scope: granted.join(" "),
            browser_session: row.browser_session_id.clone(),
        };
        let new =
            self.tokens.new_grant(&user_id, grant, row.amr.clone(), auth_time, offline, from.clone())?;
        let redemption = Redemption {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_string(),
            challenge_of_verifier: s256(verifier),
            now: self.clock.now(),
        };
        let audit = AuditMeta::client(from);
        match self.store.redeem_code(&code_hash, &redemption, &new.session, &audit).await? {
            RedeemOutcome::Redeemed(row) => {
                count(AUTHORIZATION_CODE, "issued");
                let user = self.store.user_by_id(&user_id).await?.ok_or_else(invalid)?;
                let session = Session {
                    grant_id: &new.session.id,
                    browser_session: row.browser_session_id.as_deref(),
                    amr: &row.amr,
                    auth_time,
                    nonce: row.nonce.as_deref(),
                };
                self.respond(client, &user, &granted, &session, new.refresh)
            }
            RedeemOutcome::Replayed { user_id } => {
                warn!(client_id = %client.id, %user_id, "authorization code replayed; its grant is revoked");
                self.tokens.forget_user(&user_id);
                count(AUTHORIZATION_CODE, "replayed");
                Err(invalid())
            }
            RedeemOutcome::Invalid => {
                count(AUTHORIZATION_CODE, "invalid");
                Err(invalid())
            }
        }
    }

    async fn refresh(
        &self,
        client: &ClientRow,
        req: &TokenRequest,
        from: ClientInfo,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.allows_grant(REFRESH_TOKEN) {
            return Err(OAuthError::UnauthorizedClient("This client may not use refresh tokens.".into()));
        }
        let refresh = required(&req.refresh_token, "refresh_token")?;
        // Refresh tokens come with offline_access; a client that lost it keeps none alive.
        if !scopes::has(&client.scopes, scopes::OFFLINE_ACCESS) {
            count(REFRESH_TOKEN, "invalid");
            return Err(OAuthError::InvalidGrant("This client may no longer keep access offline.".into()));
        }
        let refreshed = match self.tokens.refresh_grant(refresh, &client.id, from).await {
            Ok(r) => r,
            Err(e) => {
                count(REFRESH_TOKEN, "invalid");
                return Err(e.into());
            }
        };
        let state = self.store.session_state(&refreshed.grant_id).await?;
        let Some(state) = state else { return Err(OAuthError::InvalidGrant("The grant has ended.".into())) };
        let mut granted = scopes::parse(&state.scope).unwrap_or_default();
        // A scope taken from the client since the grant is no longer given.
        granted.retain(|s| scopes::has(&client.scopes, s));
        // A narrower scope may be asked for this access token (RFC 6749 §6).
        if let Some(asked) = req.scope.as_deref() {
            let asked =
                scopes::parse(asked).ok_or_else(|| OAuthError::InvalidScope("Malformed scope.".into()))?;
            if let Some(extra) = asked.iter().find(|s| !scopes::has(&granted, s)) {
                return Err(OAuthError::InvalidScope(format!("The scope {extra} was not granted.")));
            }
            granted = asked;
        }
        count(REFRESH_TOKEN, "issued");
        let auth_time = state.auth_time.unwrap_or(state.created_at);
        let session = Session {
            grant_id: &refreshed.grant_id,
            browser_session: state.browser_session_id.as_deref(),
            amr: &state.amr,
            auth_time,
            nonce: None,
        };
        self.respond(client, &refreshed.user, &granted, &session, Some(refreshed.refresh))
    }

    /// A service account's own token: `sub` is the client, with its permissions.
    async fn client_credentials(
        &self,
        client: &ClientRow,
        req: &TokenRequest,
        from: ClientInfo,
    ) -> Result<TokenResponse, OAuthError> {
        if client.is_public() || !client.allows_grant(CLIENT_CREDENTIALS) {
            let detail = serde_json::json!({ "client_id": client.id, "reason": "grant_not_allowed" });
            self.refused(None, detail, &from).await;
            return Err(OAuthError::UnauthorizedClient("This client may not use client_credentials.".into()));
        }
        // The user scopes mean nothing without a user.
        let own: Vec<String> =
            client.scopes.iter().filter(|s| !scopes::KNOWN.contains(&s.as_str())).cloned().collect();
        let granted = match req.scope.as_deref() {
            None => own,
            Some(asked) => {
                let asked = scopes::parse(asked)
                    .ok_or_else(|| OAuthError::InvalidScope("Malformed scope.".into()))?;
                if let Some(extra) = asked.iter().find(|s| !scopes::has(&own, s)) {
                    return Err(OAuthError::InvalidScope(format!(
                        "This client may not ask for the scope {extra}."
                    )));
                }
                asked
            }
        };
        let now = self.clock.now();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: client.id.clone(),
            aud: client.id.clone(),
            exp: now + self.tokens.access_lifetime(),
            iat: now,
            jti: random_token(32),
            client_id: client.id.clone(),
            scope: granted.join(" "),
            sid: None,
            auth_time: None,
            acr: None,
            amr: None,
            roles: None,
            permissions: Some(client.permissions.clone()),
        };
        let access_token = self.tokens.sign_provider(ACCESS_TOKEN_TYP, &claims)?;
        count(CLIENT_CREDENTIALS, "issued");
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.tokens.access_lifetime(),
            refresh_token: None,
            id_token: None,
            scope: claims.scope,
        })
    }

    /// The answer of a user grant: an access token, an id token with `openid`, and the
    /// refresh token if the grant has one.
    fn respond(
        &self,
        client: &ClientRow,
        user: &UserWithRoles,
        granted: &[String],
        session: &Session<'_>,
        refresh_token: Option<String>,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.clock.now();
        let lifetime = self.tokens.access_lifetime();
        let amr = amr_list(session.amr);
        let acr = acr_of(&amr).to_string();
        let profile = ProfileClaims::of(user, granted);
        let access = AccessClaims {
            iss: self.issuer.clone(),
            sub: user.user.id.clone(),
            aud: client.id.clone(),
            exp: now + lifetime,
            iat: now,
            jti: random_token(32),
            client_id: client.id.clone(),
            scope: granted.join(" "),
            sid: Some(session.grant_id.to_string()),
            auth_time: Some(session.auth_time),
            acr: Some(acr.clone()),
            amr: Some(amr.clone()),
            roles: profile.roles.clone(),
            permissions: profile.permissions.clone(),
        };
        let access_token = self.tokens.sign_provider(ACCESS_TOKEN_TYP, &access)?;
        let id_token = match scopes::has(granted, scopes::OPENID) {
            false => None,
            true => Some(self.tokens.sign_provider(
                ID_TOKEN_TYP,
                &IdClaims {
                    iss: self.issuer.clone(),
                    sub: user.user.id.clone(),
                    aud: client.id.clone(),
                    exp: now + lifetime,
                    iat: now,
                    auth_time: session.auth_time,
                    nonce: session.nonce.map(String::from),
                    amr,
                    acr,
                    azp: client.id.clone(),
                    sid: session.browser_session.map(String::from),
                    profile,
                },
            )?),
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: lifetime,
            refresh_token,
            id_token,
            scope: access.scope,
        })
    }

    /// A refusal worth an administrator's eye; a store failure only loses the record.
    pub(super) async fn refused(&self, user_id: Option<&str>, detail: serde_json::Value, from: &ClientInfo) {
        let audit = AuditMeta::client(from.clone());
        let now = self.clock.now();
        if let Err(e) = self.store.record_audit(AuditEvent::OauthRefused, user_id, &detail, now, &audit).await
        {
            warn!(error = %e, "could not write audit event");
        }
        metrics::counter!("authenticon_oauth_refusals_total").increment(1);
    }
}

/// The grant a user token is issued in, as the tokens state it.
struct Session<'a> {
    /// The grant: the access token's `sid` (ending the grant ends the token).
    grant_id: &'a str,
    /// The browser session the user approved from: the id token's `sid`, for logout.
    browser_session: Option<&'a str>,
    amr: &'a str,
    auth_time: i64,
    nonce: Option<&'a str>,
}
