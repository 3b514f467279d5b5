//! What an external sign-in does to accounts: new accounts made just in time, roles
//! from the provider's claim, offers to link completed by a sign-in, and the identities
//! an account has.

use tracing::info;

use super::{External, ExternalClaims, ExternalError, IdentityView, Upstream};
use crate::crypto::{random_token, sha256_hex};
use crate::domain::{normalize_username, username_errors, username_key, ClientInfo};
use crate::store::{
    AuditMeta, ExternalIdentityRow, MappedRoles, NewUser, RolesToGive, StoreError, Unlinked, UserWithRoles,
};

impl External {
    /// A new account for a verified address: a username from the provider's (or the
    /// address's), made unique; no usable password; the address verified.
    pub(super) async fn create_account(
        &self,
        provider: &str,
        claims: &ExternalClaims,
        email: &str,
        audit: &AuditMeta,
    ) -> Result<String, ExternalError> {
        let wanted =
            claims.preferred_username.clone().unwrap_or_else(|| email.split('@').next().unwrap_or("").into());
        let base: String = normalize_username(&wanted)
            .chars()
            .filter(|c| c.is_alphanumeric() || "@.+-_".contains(*c))
            .take(140)
            .collect();
        let base = if base.is_empty() { "user".to_string() } else { base };
        let now = self.clock.now();
        for attempt in 0..20 {
            let username = match attempt {
                0 => base.clone(),
                1..=9 => format!("{base}{}", attempt + 1),
                _ => format!("{base}-{}", &random_token(6)[..6]),
            };
            if !username_errors(&username).is_empty() {
                continue;
            }
            let user_id = uuid::Uuid::new_v4().to_string();
            let new = NewUser {
                id: user_id.clone(),
                username_key: username_key(&username),
                username,
                email: email.to_string(),
                password_hash: format!("!{}", hex::encode(rand::random::<[u8; 20]>())),
                is_superuser: false,
                now,
                roles: RolesToGive::default(),
            };
            let identity = self.identity_row(&user_id, provider, claims, Some(email), now);
            match self.store.create_external_user(new, &identity, audit).await {
                Ok(user) => {
                    info!(user_id = %user.id, provider = %provider, "user signed up through an external provider");
                    return Ok(user.id);
                }
                // The name is taken (or the identity was linked meanwhile: then the next
                // attempt fails the same way and the loop ends in an error).
                Err(StoreError::Conflict { constraint }) if !constraint.contains("external") => continue,
                Err(StoreError::Conflict { .. }) => return Err(ExternalError::IdentityTaken),
                Err(e) => return Err(e.into()),
            }
        }
        Err(ExternalError::Unavailable("no free username".into()))
    }

    /// The roles the provider's claim maps to, bounded by the mapping.
    pub(super) async fn map_roles(
        &self,
        upstream: &Upstream,
        user_id: &str,
        claims: &ExternalClaims,
        audit: &AuditMeta,
    ) -> Result<(), ExternalError> {
        if upstream.config.roles.is_empty() {
            return Ok(());
        }
        let Some(user) = self.store.user_by_id(user_id).await? else { return Ok(()) };
        let mut wanted: Vec<String> = claims
            .role_values
            .iter()
            .filter_map(|v| upstream.config.roles.get(v))
            .flatten()
            .cloned()
            .collect();
        wanted.sort();
        wanted.dedup();
        // An inactive account (refused by the login flow next) loses what the claim no
        // longer gives, and gains nothing.
        if !user.user.is_active {
            wanted.retain(|role| user.roles.contains(role));
        }
        self.set_mapped_roles(upstream, user_id, wanted, audit).await
    }

    async fn set_mapped_roles(
        &self,
        upstream: &Upstream,
        user_id: &str,
        wanted: Vec<String>,
        audit: &AuditMeta,
    ) -> Result<(), ExternalError> {
        let mapped = MappedRoles { managed: upstream.config.mapped_roles(), wanted };
        self.store.apply_mapped_roles(user_id, &mapped, self.clock.now(), audit).await?;
        self.cache.invalidate(user_id);
        Ok(())
    }

    /// Completes an offer once its account signed in (password, factor or passkey) in the
    /// browser holding it: links when the account's address is the one the provider
    /// verified. The provider's name when linked.
    pub async fn accept_offer(
        &self,
        token: &str,
        user: &UserWithRoles,
        client: &ClientInfo,
    ) -> Result<Option<String>, ExternalError> {
        let now = self.clock.now();
        let Some(offer) = self.store.take_link_offer(&sha256_hex(token), now).await? else { return Ok(None) };
        // SECURITY: the account must have proved the address too (not merely typed it in:
        // an attacker's account squatting the address must not collect the identity).
        if !user.user.email_verified || user.user.email.trim().to_lowercase() != offer.email {
            return Ok(None);
        }
        let identity = ExternalIdentityRow {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: user.user.id.clone(),
            provider: offer.provider.clone(),
            issuer: offer.issuer,
            subject: offer.subject,
            email: offer.email,
            created_at: now,
            last_used_at: Some(now),
        };
        match self.store.link_external_identity(&identity, &AuditMeta::client(client.clone())).await {
            Ok(()) => {
                self.tell(&user.user.id, &offer.provider, true, client).await;
                Ok(Some(offer.provider))
            }
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn identities(&self, user_id: &str) -> Result<Vec<IdentityView>, ExternalError> {
        let rows = self.store.external_identities_of(user_id).await?;
        Ok(rows
            .into_iter()
            .map(|row| IdentityView { display_name: self.display_name(&row.provider), row })
            .collect())
    }

    /// Unlinks one of the user's identities, unless it is their last way to sign in.
    /// The roles the provider's claim gave go with it, and the owner is told.
    pub async fn unlink(&self, user_id: &str, id: &str, audit: &AuditMeta) -> Result<(), ExternalError> {
        let identities = self.store.external_identities_of(user_id).await?;
        let provider = identities.into_iter().find(|i| i.id == id).map(|i| i.provider);
        match self.store.unlink_external_identity(user_id, id, self.clock.now(), audit).await? {
            Unlinked::Done => {}
            Unlinked::NotFound => return Err(ExternalError::NotFound),
            Unlinked::LastWay => return Err(ExternalError::LastWay),
        }
        let Some(provider) = provider else { return Ok(()) };
        self.tell(user_id, &provider, false, &audit.client).await;
        // The provider's roles go once no identity of it is left (one moved to a new
        // issuer may still give them).
        let remaining = self.store.external_identities_of(user_id).await?;
        if let Some(upstream) = self.upstreams.get(&provider).filter(|u| !u.config.roles.is_empty()) {
            if !remaining.iter().any(|i| i.provider == provider) {
                self.set_mapped_roles(upstream, user_id, Vec::new(), audit).await?;
            }
        }
        Ok(())
    }
}
