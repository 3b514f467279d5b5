//! Extractors: they run before a handler, so bad input and bad tokens never reach it.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::errors::ApiError;
use crate::app::AppState;
use crate::auth::rbac::{has_permission, within};
use crate::domain::ClientInfo;
use crate::store::{PersonalTokenRow, UserWithRoles};
use crate::tokens::{personal, Claims};

/// The token of an `Authorization: Bearer <token>` header. Another scheme counts as no
/// credentials (as in simplejwt); a Bearer header of the wrong shape is a bad token.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::AccessTokenNotValid)?.trim_ascii();
    // `to_str` let through visible ASCII and tabs only: space and tab are the only
    // bytes at or below b' ', and the only separators there can be.
    let (scheme, token) = value.split_once([' ', '\t']).unwrap_or((value, ""));
    if scheme != "Bearer" {
        return Ok(None);
    }
    let token = token.trim_ascii_start();
    // One pass over the whole token without stopping early, which compiles to wide
    // compares: a token is hundreds of bytes and this runs at every request.
    if token.is_empty() || token.bytes().fold(false, |seen, b| seen | (b <= b' ')) {
        return Err(ApiError::AccessTokenNotValid);
    }
    Ok(Some(token))
}

/// The caller of a protected route: a valid access token, or personal access token, of
/// an existing, active user.
pub struct AuthUser {
    user_id: String,
    /// The user as stored now; `None` only when the store is down (verification itself
    /// needs no database, so protected routes keep answering to access tokens).
    /// SECURITY: who the caller is, not what they may do: for a personal access token it
    /// is the whole user, and only `Require` caps permissions at the token's.
    pub user: Option<std::sync::Arc<UserWithRoles>>,
    pub credential: Credential,
}

/// What the caller presented.
// One per request, on the stack: boxing the claims would cost the busiest path an
// allocation to save bytes no one keeps.
#[allow(clippy::large_enum_variant)]
pub enum Credential {
    /// An access token of a signed-in session.
    Session(Claims),
    /// A personal access token: the permissions it lists, capped by the user's.
    PersonalToken(std::sync::Arc<PersonalTokenRow>),
}

impl AuthUser {
    pub fn id(&self) -> &str {
        &self.user_id
    }

    /// The caller's session. SECURITY: what needs one (a proof of presence, a password
    /// change, new personal access tokens) is refused to a personal access token, which
    /// a script holds, not a person at a keyboard.
    pub fn session_id(&self) -> Result<&str, ApiError> {
        match &self.credential {
            Credential::Session(claims) => Ok(&claims.sid),
            Credential::PersonalToken(_) => Err(ApiError::PERSONAL_TOKEN_NOT_ALLOWED),
        }
    }

    /// The access token's claims; `None` for a personal access token.
    pub fn claims(&self) -> Option<&Claims> {
        match &self.credential {
            Credential::Session(claims) => Some(claims),
            Credential::PersonalToken(_) => None,
        }
    }

    /// The permissions a personal access token lists; `None` for a session.
    fn token_permissions(&self) -> Option<Vec<String>> {
        match &self.credential {
            Credential::Session(_) => None,
            Credential::PersonalToken(token) => Some(token.permission_list()),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers)?.ok_or(ApiError::NotAuthenticated)?;
        let caller = if personal::looks_personal(token) {
            let Ok(Client(client)) = Client::from_request_parts(parts, app).await;
            let token = bearer_token(&parts.headers)?.ok_or(ApiError::NotAuthenticated)?;
            let caller = app.tokens.authenticate_personal(token, &client).await?;
            AuthUser {
                user_id: caller.user.user.id.clone(),
                user: Some(caller.user),
                credential: Credential::PersonalToken(caller.token),
            }
        } else {
            let caller = app.tokens.authenticate(token).await?;
            AuthUser {
                user_id: caller.claims.user_id.clone(),
                user: caller.user,
                credential: Credential::Session(caller.claims),
            }
        };
        if let Some(user) = parts.extensions.get::<super::middleware::RequestUser>() {
            user.set(&caller.user_id);
        }
        Ok(caller)
    }
}

/// A permission a route requires: a marker type naming it, so the requirement shows in
/// the handler's signature (`_: Require<RolesManage>`).
pub trait Permission {
    const NAME: &'static str;

    /// Whether `user` may pass: holds `NAME`, unless the marker says otherwise.
    fn held_by(user: &UserWithRoles) -> bool {
        has_permission(user, Self::NAME)
    }
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $ty:ident => $name:literal),* $(,)?) => {
        $( $(#[$doc])* pub struct $ty; impl Permission for $ty { const NAME: &'static str = $name; } )*
    };
}

permissions! {
    /// `users.view`: list and read users.
    UsersView => "users.view",
    /// `users.manage`: activate, deactivate, change email, assign roles.
    UsersManage => "users.manage",
    /// `roles.view`: list and read roles.
    RolesView => "roles.view",
    /// `roles.manage`: create, change, delete roles.
    RolesManage => "roles.manage",
    /// `audit.view`: read the audit log.
    AuditView => "audit.view",
    /// `clients.manage`: register and change the applications that sign users in here.
    ClientsManage => "clients.manage",
    /// `reports.view`: the example guarded route.
    ReportsView => "reports.view",
}

/// `webhooks.manage` with `audit.view`: an endpoint hears of every user's activity (and
/// its delivery log shows it), which is what the audit log shows; so whoever sends events
/// elsewhere must be allowed to read them here (no actor grants what it does not hold).
pub struct WebhooksManage;

impl Permission for WebhooksManage {
    const NAME: &'static str = "webhooks.manage";

    fn held_by(user: &UserWithRoles) -> bool {
        has_permission(user, Self::NAME) && has_permission(user, AuditView::NAME)
    }
}

/// `roles.view`, or `clients.manage`: the permissions to pick from are read by those who
/// edit roles and by those who give applications their permissions.
pub struct PermissionsView;

impl Permission for PermissionsView {
    const NAME: &'static str = "roles.view";

    fn held_by(user: &UserWithRoles) -> bool {
        has_permission(user, Self::NAME) || has_permission(user, ClientsManage::NAME)
    }
}

/// The guard: an authenticated user holding permission `P` right now. The check reads
/// the user's roles from the store on every request (bypassing the user cache), so a
/// revoked permission stops working at once; 401 without a valid token, 403 without the
/// permission, or (`mfa_enrollment_required`) while a role in
/// `AUTHENTICON_MFA_REQUIRED_ROLES` waits for the user to add a second factor.
pub struct Require<P: Permission> {
    pub user: UserWithRoles,
    pub auth: AuthUser,
    _permission: std::marker::PhantomData<P>,
}

impl<P: Permission> FromRequestParts<AppState> for Require<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, app).await?;
        // Always read fresh (never the short-lived user cache), so a permission revoked
        // anywhere stops working at once. Without the store: refuse rather than guess.
        let mut user = app.accounts.user(auth.id()).await?;
        // A personal access token acts with the permissions it lists that the user
        // still holds: a role removed since takes its permissions from the token too.
        if let Some(listed) = auth.token_permissions() {
            user = within(&user, &listed);
        }
        if !user.user.is_active {
            return Err(ApiError::UserInactive);
        }
        if !P::held_by(&user) {
            return Err(ApiError::Forbidden);
        }
        // A role that demands a second factor lends its permissions only once the user
        // has one (they can still sign in, and enrol at /api/mfa/).
        let required = &app.config.mfa_required_roles;
        if user.roles.iter().any(|r| required.contains(r)) && !app.mfa.status(&user.user.id).await?.enabled()
        {
            return Err(ApiError::MfaEnrollmentRequired);
        }
        Ok(Require { user, auth, _permission: std::marker::PhantomData })
    }
}

impl<P: Permission> Require<P> {
    pub fn id(&self) -> &str {
        &self.user.user.id
    }

    /// SECURITY: a personal access token does not act on its own user through the
    /// administrators' routes: what `/api/me/` refuses it (ending its owner's sessions,
    /// revoking their other tokens), and what it could grow into a takeover with
    /// (clearing the login lockout between guesses), these refuse it too.
    pub fn not_on_own_account(&self, target: &str) -> Result<(), ApiError> {
        if target == self.id() {
            self.auth.session_id()?;
        }
        Ok(())
    }
}

/// Who is calling from where: kept with sessions and audit events, and the key of the
/// per-address throttles.
pub struct Client(pub ClientInfo);

const MAX_USER_AGENT_CHARS: usize = 256;

fn peer_ip(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip())
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&ip))
}

/// The client's address. SECURITY: `X-Forwarded-For` is believed only when the peer is a
/// configured trusted proxy (anyone else could write anything there); then the entry
/// right of which only trusted proxies stand is the client, as each proxy appends the
/// address it saw.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?;
    if !is_trusted(peer, trusted) {
        return Some(peer);
    }
    // Right to left: each trusted proxy appended what it saw. The first address that is
    // not a trusted proxy is the client; a malformed entry ends the walk (what stands
    // left of it was written by the client), leaving the last proxy seen.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !is_trusted(ip, trusted) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Some(client)
}

/// Whether the request reached a trusted proxy over HTTPS (`X-Forwarded-Proto: https`).
pub fn forwarded_https(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> bool {
    peer.is_some_and(|p| is_trusted(p, trusted))
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let ip = client_ip(peer_ip(parts), &parts.headers, &app.config.trusted_proxies)
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).chars().take(MAX_USER_AGENT_CHARS).collect())
            .unwrap_or_default();
        Ok(Client(ClientInfo { ip, user_agent }))
    }
}

/// Whether this request arrived over HTTPS (directly we never do; through a trusted proxy).
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Https(forwarded_https(peer_ip(parts), &parts.headers, &app.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_takes_exactly_one_token() {
        let parse = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            bearer_token(&h).map(|t| t.map(str::to_string)).map_err(|e| e.to_string())
        };
        assert_eq!(parse("Bearer abc.def.ghi"), Ok(Some("abc.def.ghi".into())));
        assert_eq!(parse(" \tBearer \t abc  "), Ok(Some("abc".into())));
        assert_eq!(parse("Basic dXNlcjpwYXNz"), Ok(None));
        assert_eq!(parse("Bearerabc"), Ok(None));
        assert_eq!(parse("bearer abc"), Ok(None));
        let refused = Err(ApiError::AccessTokenNotValid.to_string());
        assert_eq!(parse("Bearer"), refused);
        assert_eq!(parse("Bearer   "), refused);
        assert_eq!(parse("Bearer abc def"), refused);
        assert_eq!(parse("Bearer abc\tdef"), refused);
        assert_eq!(bearer_token(&HeaderMap::new()).map_err(|e| e.to_string()), Ok(None));
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let h = headers("203.0.113.7, 10.1.1.1");
        // An untrusted peer: its header is ignored.
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &trusted), ip("198.51.100.1"));
        assert_eq!(client_ip(ip("198.51.100.1"), &h, &[]), ip("198.51.100.1"));
        // A trusted peer: the right-most untrusted entry is the client.
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.7"));
        // A spoofed left-most entry does not win over what the proxy saw.
        let h = headers("1.2.3.4, 203.0.113.7");
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.7"));
        // Garbage in the header: the peer.
        assert_eq!(client_ip(ip("10.0.0.2"), &headers("nonsense"), &trusted), ip("10.0.0.2"));
        // Garbage the client wrote left of what the proxy saw does not hide the client.
        let h = headers("nonsense, 203.0.113.7");
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("203.0.113.7"));
        // A malformed entry right of the client stops the walk at the last proxy.
        let h = headers("203.0.113.7, bogus, 10.1.1.1");
        assert_eq!(client_ip(ip("10.0.0.2"), &h, &trusted), ip("10.1.1.1"));
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
    }
}
