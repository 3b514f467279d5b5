//! What clients and resource servers ask of tokens after issuance: userinfo (OpenID
//! Connect Core §5.3), introspection (RFC 7662), revocation (RFC 7009), and the
//! RP-initiated logout that ends the user's browser session.

use serde_json::{json, Value};

use super::claims::{AccessClaims, IdClaims, ProfileClaims};
use super::{redirect, scopes, ClientCredentials, OAuthError, Provider};
use crate::domain::ClientInfo;
use crate::store::{AuditMeta, ClientRow};
use crate::tokens::{TokenType, ACCESS_TOKEN_TYP, ID_TOKEN_TYP};

/// A client permission that lets it introspect any token (a resource server's).
pub const INTROSPECT_ANY: &str = "tokens.introspect";

/// `RFC 7662` answer: `{"active": false}` alone, or the token's facts.
pub struct Introspection(pub Value);

/// `GET /oauth/logout`'s query.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// Where a logout sends the browser.
pub enum LogoutEnd {
    /// Back to the client, at its registered post-logout URI.
    Client(String),
    /// To the web app: `signed_out` when the session was ended here, else a page that
    /// asks the user (no proof of which session was meant).
    App { signed_out: bool },
}

impl Provider {
    /// Checks a client access token: signature and `typ`, issuer, lifetime, and that its
    /// grant stands and its user is active (revocation reaches access tokens).
    pub async fn check_access(&self, token: &str) -> Result<AccessClaims, OAuthError> {
        let invalid = || OAuthError::InvalidToken("The access token is invalid, expired or revoked.".into());
        let claims: AccessClaims =
            self.tokens.verify_provider(token, ACCESS_TOKEN_TYP).map_err(|_| invalid())?;
        let now = self.clock.now();
        if claims.iss != self.issuer || claims.exp < now || claims.iat > now + 60 {
            return Err(invalid());
        }
        match &claims.sid {
            Some(sid) => {
                let live = self.tokens.live_session(&claims.sub, sid).await?;
                let user = self.store.user_by_id(&claims.sub).await?;
                if live.is_none_or(|s| s.client_id.as_deref() != Some(claims.client_id.as_str()))
                    || !user.is_some_and(|u| u.user.is_active)
                {
                    return Err(invalid());
                }
            }
            // A service account's token: only as good as its client.
            None => {
                if self.store.client(&claims.client_id).await?.is_none() || claims.sub != claims.client_id {
                    return Err(invalid());
                }
            }
        }
        Ok(claims)
    }

    /// `GET|POST /oauth/userinfo`: the claims the grant's scopes release.
    pub async fn userinfo(&self, token: &str) -> Result<Value, OAuthError> {
        let claims = self.check_access(token).await?;
        let granted = scopes::parse(&claims.scope).unwrap_or_default();
        if claims.sid.is_none() || !scopes::has(&granted, scopes::OPENID) {
            return Err(OAuthError::InsufficientScope(
                "userinfo needs a user's token with the openid scope.".into(),
            ));
        }
        let user = self.store.user_by_id(&claims.sub).await?.ok_or_else(|| {
            OAuthError::InvalidToken("The access token is invalid, expired or revoked.".into())
        })?;
        let mut body = serde_json::to_value(ProfileClaims::of(&user, &granted)).unwrap_or_else(|_| json!({}));
        body["sub"] = json!(user.user.id);
        Ok(body)
    }

    /// `POST /oauth/introspect` (confidential clients): a client sees its own tokens, and
    /// a resource server holding `tokens.introspect` any; every other answer is inactive.
    pub async fn introspect(
        &self,
        creds: &ClientCredentials,
        token: &str,
        from: &ClientInfo,
    ) -> Result<Introspection, OAuthError> {
        let caller = self.authenticate_client(creds, from).await?;
        if caller.is_public() {
            return Err(OAuthError::UnauthorizedClient("Only a confidential client may introspect.".into()));
        }
        let may_see = |client_id: &str| {
            caller.id == client_id || caller.permissions.iter().any(|p| p == INTROSPECT_ANY)
        };
        if let Ok(c) = self.check_access(token).await {
            if may_see(&c.client_id) {
                let username = match &c.sid {
                    Some(_) => self.store.user_by_id(&c.sub).await?.map(|u| u.user.username),
                    None => None,
                };
                let mut body = json!({
                    "active": true, "scope": c.scope, "client_id": c.client_id, "token_type": "Bearer",
                    "exp": c.exp, "iat": c.iat, "sub": c.sub, "aud": c.aud, "iss": c.iss, "jti": c.jti,
                });
                if let Some(name) = username {
                    body["username"] = json!(name);
                }
                if let Some(p) = c.permissions {
                    body["permissions"] = json!(p);
                }
                return Ok(Introspection(body));
            }
        }
        if let Some(body) = self.introspect_refresh(&caller, token).await? {
            return Ok(Introspection(body));
        }
        Ok(Introspection(json!({ "active": false })))
    }

    /// A client's own live refresh token, introspected.
    async fn introspect_refresh(&self, caller: &ClientRow, token: &str) -> Result<Option<Value>, OAuthError> {
        let Ok(claims) = self.tokens.verify_own(token, TokenType::Refresh) else { return Ok(None) };
        let Some(grant) = self.tokens.live_session(&claims.user_id, &claims.sid).await? else {
            return Ok(None);
        };
        if grant.client_id.as_deref() != Some(caller.id.as_str())
            || !self.tokens.refresh_is_live(&claims.jti, &caller.id).await?
        {
            return Ok(None);
        }
        Ok(Some(json!({
            "active": true, "scope": grant.scope, "client_id": caller.id, "token_type": "refresh_token",
            "exp": claims.exp, "iat": claims.iat, "sub": claims.sub, "iss": self.issuer,
        })))
    }

    /// `POST /oauth/revoke` (RFC 7009): a client ends its own grant by a refresh or an
    /// access token of it. Unknown, foreign and dead tokens are answered alike (`200`).
    pub async fn revoke(
        &self,
        creds: &ClientCredentials,
        token: &str,
        from: ClientInfo,
    ) -> Result<(), OAuthError> {
        let client = self.authenticate_client(creds, &from).await?;
        if self.tokens.verify_own(token, TokenType::Refresh).is_ok() {
            // Invalid, foreign or spent: nothing of this client's to end.
            let _ = self.tokens.revoke_grant(token, &client.id, from).await;
            return Ok(());
        }
        if let Ok(claims) = self.check_access(token).await {
            if let (Some(sid), true) = (&claims.sid, claims.client_id == client.id) {
                self.store
                    .revoke_user_session(&claims.sub, sid, self.clock.now(), &AuditMeta::client(from))
                    .await?;
                self.tokens.forget_user(&claims.sub);
            }
        }
        Ok(())
    }

    /// `GET /oauth/logout`. With a valid `id_token_hint` (expired is fine: OpenID
    /// Connect RP-Initiated Logout §2) the browser session it names ends, and the browser
    /// goes back to the client's registered `post_logout_redirect_uri`; if that session
    /// had already ended, the web app asks the user instead. SECURITY: without
    /// the hint no URI is followed (no open redirect), and the web app asks the user.
    pub async fn logout(&self, req: &LogoutRequest, from: ClientInfo) -> Result<LogoutEnd, OAuthError> {
        let hint = match req.id_token_hint.as_deref() {
            None => None,
            Some(token) => {
                let claims: IdClaims = self.tokens.verify_provider(token, ID_TOKEN_TYP).map_err(|_| {
                    OAuthError::InvalidRequest("id_token_hint is not an id token of ours.".into())
                })?;
                if claims.iss != self.issuer || req.client_id.as_ref().is_some_and(|c| *c != claims.aud) {
                    return Err(OAuthError::InvalidRequest(
                        "id_token_hint was not issued to this client.".into(),
                    ));
                }
                Some(claims)
            }
        };
        let Some(hint) = hint else {
            if req.post_logout_redirect_uri.is_some() {
                return Err(OAuthError::InvalidRequest(
                    "post_logout_redirect_uri is followed only with an id_token_hint.".into(),
                ));
            }
            return Ok(LogoutEnd::App { signed_out: false });
        };
        let client = self.store.client(&hint.aud).await?;
        let target = match (&req.post_logout_redirect_uri, &client) {
            (None, _) => None,
            (Some(uri), Some(c)) if c.post_logout_redirect_uris.iter().any(|r| r == uri) => Some(uri.clone()),
            (Some(_), _) => {
                return Err(OAuthError::InvalidRequest(
                    "post_logout_redirect_uri is not one registered for this client.".into(),
                ))
            }
        };
        // SECURITY: the application is told the user signed out only when the session its
        // id token names was live and has now ended. Otherwise (ended before, or another
        // sign-in since) the web app asks the user about the browser's current session.
        let ended = match &hint.sid {
            None => false,
            Some(sid) => {
                let audit = AuditMeta::client(from);
                self.store.revoke_user_session(&hint.sub, sid, self.clock.now(), &audit).await?
            }
        };
        if !ended {
            return Ok(LogoutEnd::App { signed_out: false });
        }
        self.tokens.forget_user(&hint.sub);
        Ok(match target {
            Some(uri) => {
                let params: Vec<(&str, &str)> =
                    req.state.as_deref().map(|s| ("state", s)).into_iter().collect();
                LogoutEnd::Client(redirect::with_params(&uri, &params))
            }
            None => LogoutEnd::App { signed_out: true },
        })
    }
}
