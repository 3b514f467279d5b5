//! Registering the applications that sign their users in here: what each may do
//! (grants, scopes, redirect URIs, its own permissions) and its secret, shown once.
//! SECURITY: a client's permissions are bounded like a role's (the actor must hold
//! them), and its secret is 256 random bits of which only the SHA-256 is kept.

use std::sync::Arc;

use super::{redirect, scopes};
use crate::auth::rbac::{record_denial, Actor};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{valid_permission, Clock, FieldErrors};
use crate::store::{AuditMeta, ClientRow, Store, StoreError};
use crate::tokens::TokenService;

pub const AUTHORIZATION_CODE: &str = "authorization_code";
pub const REFRESH_TOKEN: &str = "refresh_token";
pub const CLIENT_CREDENTIALS: &str = "client_credentials";
pub const GRANT_TYPES: [&str; 3] = [AUTHORIZATION_CODE, REFRESH_TOKEN, CLIENT_CREDENTIALS];

const MAX_NAME_CHARS: usize = 100;
const MAX_URIS: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("not found")]
    NotFound,
    /// Bounded delegation: permissions the actor does not hold.
    #[error("denied: {0}")]
    Denied(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("signing keys: {0}")]
    Keys(String),
}

/// What an administrator says of a client; `None` fields keep their value (or default,
/// on creation).
#[derive(Debug, Clone, Default)]
pub struct ClientSpec {
    pub name: Option<String>,
    pub public: Option<bool>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub permissions: Option<Vec<String>>,
    pub pre_consented: Option<bool>,
}

/// A client and, when one was just made, its secret (shown this once).
pub struct WithSecret {
    pub client: ClientRow,
    pub secret: Option<String>,
}

/// How a client secret is kept: 256 random bits need no slow hash.
pub fn hash_secret(secret: &str) -> String {
    sha256_hex(secret)
}

pub struct Clients {
    store: Arc<Store>,
    tokens: Arc<TokenService>,
    clock: Arc<dyn Clock>,
}

impl Clients {
    pub fn new(store: Arc<Store>, tokens: Arc<TokenService>, clock: Arc<dyn Clock>) -> Self {
        Self { store, tokens, clock }
    }

    pub async fn list(&self) -> Result<Vec<ClientRow>, ClientError> {
        Ok(self.store.clients().await?)
    }

    pub async fn get(&self, id: &str) -> Result<ClientRow, ClientError> {
        self.store.client(id).await?.ok_or(ClientError::NotFound)
    }

    /// Registers a client; a confidential one gets its secret, returned this once.
    pub async fn create(
        &self,
        actor: Actor<'_>,
        spec: ClientSpec,
        audit: &AuditMeta,
    ) -> Result<WithSecret, ClientError> {
        let now = self.clock.now();
        let public = spec.public.unwrap_or(false);
        let secret = (!public).then(|| random_token(32));
        let grant_types =
            spec.grant_types.clone().unwrap_or_else(|| vec![AUTHORIZATION_CODE.into(), REFRESH_TOKEN.into()]);
        let client = ClientRow {
            id: random_token(16),
            name: spec.name.clone().unwrap_or_default(),
            secret_hash: secret.as_deref().map(hash_secret),
            redirect_uris: spec.redirect_uris.clone().unwrap_or_default(),
            post_logout_redirect_uris: spec.post_logout_redirect_uris.clone().unwrap_or_default(),
            grant_types,
            scopes: spec.scopes.clone().unwrap_or_else(|| {
                [scopes::OPENID, scopes::PROFILE, scopes::EMAIL, scopes::OFFLINE_ACCESS]
                    .map(String::from)
                    .to_vec()
            }),
            permissions: spec.permissions.clone().unwrap_or_default(),
            pre_consented: spec.pre_consented.unwrap_or(false),
            created_at: now,
            updated_at: now,
        };
        validate(&client).map_err(ClientError::Invalid)?;
        self.may_skip_consent(actor, false, client.pre_consented, audit).await?;
        self.bounded(actor, &client.permissions, &[], audit).await?;
        self.store.insert_client(&client, audit).await?;
        // The provider's key pair, if this is the first client of an HMAC-signed service.
        self.tokens.load_keys().await.map_err(|e| ClientError::Keys(e.to_string()))?;
        Ok(WithSecret { client, secret })
    }

    /// Changes what `spec` names. A public client stays public and a confidential one
    /// confidential (a secret is made or dropped only by re-registering).
    pub async fn update(
        &self,
        actor: Actor<'_>,
        id: &str,
        spec: ClientSpec,
        audit: &AuditMeta,
    ) -> Result<ClientRow, ClientError> {
        let current = self.get(id).await?;
        if spec.public.is_some_and(|p| p != current.is_public()) {
            return Err(ClientError::Invalid(FieldErrors::one(
                "public",
                "A client cannot change between public and confidential; register a new one.",
            )));
        }
        let mut next = current.clone();
        if let Some(v) = &spec.name {
            next.name = v.clone();
        }
        if let Some(v) = &spec.redirect_uris {
            next.redirect_uris = v.clone();
        }
        if let Some(v) = &spec.post_logout_redirect_uris {
            next.post_logout_redirect_uris = v.clone();
        }
        if let Some(v) = &spec.grant_types {
            next.grant_types = v.clone();
        }
        if let Some(v) = &spec.scopes {
            next.scopes = v.clone();
        }
        if let Some(v) = &spec.permissions {
            next.permissions = v.clone();
        }
        if let Some(v) = spec.pre_consented {
            next.pre_consented = v;
        }
        next.updated_at = self.clock.now();
        validate(&next).map_err(ClientError::Invalid)?;
        self.may_skip_consent(actor, current.pre_consented, next.pre_consented, audit).await?;
        // Where a consent-free client sends its codes, and what it may ask, are the same
        // decision as letting it skip consent.
        let reach_changed = !same_set(&next.redirect_uris, &current.redirect_uris)
            || !same_set(&next.scopes, &current.scopes)
            || !same_set(&next.grant_types, &current.grant_types);
        if current.pre_consented && reach_changed {
            self.superuser_only(actor, "Only a superuser may change where a pre-consented application sends its users, or what it may ask.", audit).await?;
        }
        self.bounded(actor, &next.permissions, &current.permissions, audit).await?;
        let redirects_changed = !same_set(&next.redirect_uris, &current.redirect_uris)
            || !same_set(&next.post_logout_redirect_uris, &current.post_logout_redirect_uris);
        match self.store.update_client(&next, redirects_changed, audit).await? {
            true => Ok(next),
            false => Err(ClientError::NotFound),
        }
    }

    /// A new secret for a confidential client; the old one stops working at once.
    pub async fn rotate_secret(
        &self,
        actor: Actor<'_>,
        id: &str,
        audit: &AuditMeta,
    ) -> Result<WithSecret, ClientError> {
        let client = self.get(id).await?;
        if client.is_public() {
            return Err(ClientError::Invalid(FieldErrors::one("public", "A public client has no secret.")));
        }
        // Whoever may rotate the secret acts as the client: it must hold what the client
        // holds, and be trusted with every user's sign-in if the client skips consent.
        self.bounded(actor, &client.permissions, &[], audit).await?;
        if client.pre_consented {
            self.superuser_only(
                actor,
                "Only a superuser may rotate the secret of a pre-consented application.",
                audit,
            )
            .await?;
        }
        let secret = random_token(32);
        if !self.store.set_client_secret(id, &hash_secret(&secret), self.clock.now(), audit).await? {
            return Err(ClientError::NotFound);
        }
        Ok(WithSecret { client, secret: Some(secret) })
    }

    /// Removes a client; its grants end, and their access tokens with them.
    pub async fn delete(&self, actor: Actor<'_>, id: &str, audit: &AuditMeta) -> Result<(), ClientError> {
        let client = self.get(id).await?;
        self.bounded(actor, &client.permissions, &[], audit).await?;
        match self.store.delete_client(id, self.clock.now(), audit).await? {
            true => Ok(()),
            false => Err(ClientError::NotFound),
        }
    }

    /// SECURITY: a pre-consented client gets every user's data without asking them, so
    /// only a superuser (or the operator) decides it, never a `clients.manage` delegate.
    async fn may_skip_consent(
        &self,
        actor: Actor<'_>,
        before: bool,
        after: bool,
        audit: &AuditMeta,
    ) -> Result<(), ClientError> {
        if before == after {
            return Ok(());
        }
        self.superuser_only(
            actor,
            "Only a superuser may decide that an application skips the consent screen.",
            audit,
        )
        .await
    }

    /// Refuses (and records) unless the actor is a superuser or the operator.
    async fn superuser_only(
        &self,
        actor: Actor<'_>,
        reason: &str,
        audit: &AuditMeta,
    ) -> Result<(), ClientError> {
        let superuser = match actor {
            Actor::Operator => true,
            Actor::User(u) => u.user.is_superuser,
        };
        if superuser {
            return Ok(());
        }
        record_denial(&self.store, None, "client_change", reason, self.clock.now(), audit).await;
        Err(ClientError::Denied(reason.into()))
    }

    /// SECURITY (bounded delegation): giving a client permissions, or taking them away,
    /// is giving them; the actor must hold each one that changes hands. Acting on a
    /// client that holds more (rotating its secret, deleting it) needs all it holds.
    async fn bounded(
        &self,
        actor: Actor<'_>,
        after: &[String],
        before: &[String],
        audit: &AuditMeta,
    ) -> Result<(), ClientError> {
        let changed: Vec<&String> = after
            .iter()
            .filter(|p| !before.contains(p))
            .chain(before.iter().filter(|p| !after.contains(p)))
            .collect();
        let missing = actor.missing(changed);
        if missing.is_empty() {
            return Ok(());
        }
        let reason = format!(
            "You can only give a client permissions you hold yourself; you do not hold {}.",
            missing.join(", ")
        );
        record_denial(&self.store, None, "client_change", &reason, self.clock.now(), audit).await;
        Err(ClientError::Denied(reason))
    }
}

/// Whether two lists hold the same strings, in any order.
fn same_set(a: &[String], b: &[String]) -> bool {
    a.iter().all(|x| b.contains(x)) && b.iter().all(|x| a.contains(x))
}

/// Field errors of a client as it would be stored.
fn validate(c: &ClientRow) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = c.name.trim();
    if name.is_empty() {
        errors.add("name", "This field may not be blank.");
    } else if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        errors.add("name", format!("Enter a name of at most {MAX_NAME_CHARS} printable characters."));
    }
    for (field, uris) in
        [("redirect_uris", &c.redirect_uris), ("post_logout_redirect_uris", &c.post_logout_redirect_uris)]
    {
        if uris.len() > MAX_URIS {
            errors.add(field, format!("Ensure this field has no more than {MAX_URIS} elements."));
        }
        for uri in uris {
            if let Err(why) = redirect::registrable(uri) {
                errors.add(field, format!("{uri}: {why}"));
            }
        }
    }
    for grant in &c.grant_types {
        if !GRANT_TYPES.contains(&grant.as_str()) {
            errors.add("grant_types", format!("\u{201c}{grant}\u{201d} is not a valid choice."));
        }
    }
    let has = |g: &str| c.grant_types.iter().any(|x| x == g);
    if c.grant_types.is_empty() {
        errors.add("grant_types", "Give the client at least one grant type.");
    }
    if c.is_public() && has(CLIENT_CREDENTIALS) {
        errors.add(
            "grant_types",
            "A public client cannot use client_credentials: it has no secret to prove it.",
        );
    }
    if has(REFRESH_TOKEN) && !has(AUTHORIZATION_CODE) {
        errors.add("grant_types", "refresh_token comes with authorization_code.");
    }
    if has(AUTHORIZATION_CODE) && c.redirect_uris.is_empty() {
        errors.add("redirect_uris", "authorization_code needs at least one redirect URI.");
    }
    for scope in &c.scopes {
        if !scopes::well_formed(scope) {
            errors.add(
                "scopes",
                format!("\u{201c}{scope}\u{201d} is not a valid scope (a-z, 0-9, _ . : - /)."),
            );
        }
    }
    for p in &c.permissions {
        if !valid_permission(p) {
            errors.add("permissions", format!("\u{201c}{p}\u{201d} is not a valid permission."));
        }
    }
    if !c.permissions.is_empty() && !has(CLIENT_CREDENTIALS) {
        errors.add("permissions", "Only a client with client_credentials acts on its own permissions.");
    }
    errors.into_result()
}
