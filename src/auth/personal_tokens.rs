//! Personal access tokens: a user's own API keys for scripts and CI. Made only by a
//! signed-in session with a fresh proof of presence (the route asks for it), holding at
//! most the permissions their user holds then, capped again at each use by what the user
//! holds now (`rbac::within`); listed without the secret, revoked by their user or an
//! administrator. Checking one on a request is the token service's (`tokens::personal`).

use std::sync::Arc;

use tracing::info;

use super::rbac::has_permission;
use crate::crypto::sha256_hex;
use crate::domain::{valid_permission, ClientInfo, Clock, FieldErrors};
use crate::notify::{Notice, Notices};
use crate::store::{AuditMeta, PersonalTokenRow, Store, StoreError, UserWithRoles};
use crate::tokens::{personal, TokenService};

/// Live (neither revoked nor expired) tokens one user may hold.
pub const MAX_LIVE_TOKENS: i64 = 50;
/// The shortest lifetime a token may ask for, in seconds.
pub const MIN_LIFETIME: i64 = 60;
/// Permissions one token may list.
pub const MAX_PERMISSIONS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum PersonalTokenError {
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// The user holds `MAX_LIVE_TOKENS` live tokens already.
    #[error("too many tokens")]
    TooMany,
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Characters that change how the rest of a text reads: controls, line and paragraph
/// separators, zero-width characters and bidirectional overrides.
fn hides_text(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// What a new token is asked to be.
pub struct NewToken {
    pub name: String,
    pub permissions: Vec<String>,
    /// Seconds it lives; `None` for a token that never expires (only when no maximum
    /// lifetime is configured).
    pub expires_in: Option<i64>,
}

/// A token just made: its text, shown this once, and what is stored of it.
pub struct Created {
    pub token: String,
    pub row: PersonalTokenRow,
}

pub struct PersonalTokens {
    store: Arc<Store>,
    tokens: Arc<TokenService>,
    notices: Arc<Notices>,
    clock: Arc<dyn Clock>,
    /// `AUTHENTICON_PERSONAL_TOKEN_MAX_LIFETIME` in seconds; `None`: no maximum.
    max_lifetime: Option<i64>,
}

impl PersonalTokens {
    pub fn new(
        store: Arc<Store>,
        tokens: Arc<TokenService>,
        notices: Arc<Notices>,
        clock: Arc<dyn Clock>,
        max_lifetime: Option<std::time::Duration>,
    ) -> Self {
        let max_lifetime = max_lifetime.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Self { store, tokens, notices, clock, max_lifetime }
    }

    /// The longest lifetime a token may ask for, in seconds (`None`: unbounded).
    pub fn max_lifetime(&self) -> Option<i64> {
        self.max_lifetime
    }

    fn check(&self, user: &UserWithRoles, new: &mut NewToken) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::default();
        // The name goes into a mail: no line breaks to forge a paragraph with.
        if new.name.chars().any(hides_text) {
            errors.add("name", "The name may not contain control or invisible characters.");
        }
        new.permissions.sort();
        new.permissions.dedup();
        if new.permissions.len() > MAX_PERMISSIONS {
            errors.add(
                "permissions",
                format!("Ensure this field has no more than {MAX_PERMISSIONS} elements."),
            );
        }
        for p in &new.permissions {
            if !valid_permission(p) {
                errors.add("permissions", format!("\u{201c}{p}\u{201d} is not a valid permission."));
            } else if !has_permission(user, p) {
                // SECURITY: no one grants what they do not hold.
                errors.add("permissions", format!("You do not hold the permission \u{201c}{p}\u{201d}."));
            }
        }
        match (new.expires_in, self.max_lifetime) {
            (None, Some(max)) => errors
                .add("expires_in", format!("A token must expire: give a lifetime of at most {max} seconds.")),
            (Some(s), _) if s < MIN_LIFETIME => errors
                .add("expires_in", format!("Ensure this value is greater than or equal to {MIN_LIFETIME}.")),
            (Some(s), Some(max)) if s > max => {
                errors.add("expires_in", format!("Ensure this value is less than or equal to {max}."))
            }
            _ => {}
        }
        errors.into_result()
    }

    /// Makes a token for `user` (who proved their presence just now). Audited as
    /// `personal_token_created`, and the owner is told by mail.
    pub async fn create(
        &self,
        user: &UserWithRoles,
        mut new: NewToken,
        client: &ClientInfo,
    ) -> Result<Created, PersonalTokenError> {
        self.check(user, &mut new).map_err(PersonalTokenError::Invalid)?;
        let token = personal::generate();
        let now = self.clock.now();
        let row = PersonalTokenRow {
            id: uuid::Uuid::new_v4().simple().to_string(),
            user_id: user.user.id.clone(),
            name: new.name,
            prefix: personal::shown_prefix(&token),
            digest: sha256_hex(&token),
            permissions: new.permissions.join(" "),
            created_at: now,
            expires_at: new.expires_in.map(|s| now.saturating_add(s)),
            last_used_at: None,
            last_used_ip: String::new(),
            revoked_at: None,
        };
        let audit = AuditMeta::client(client.clone());
        match self.store.insert_personal_token(&row, MAX_LIVE_TOKENS, &audit).await {
            Ok(true) => {}
            Ok(false) => return Err(PersonalTokenError::TooMany),
            // The user was deleted meanwhile.
            Err(StoreError::Conflict { .. }) => return Err(PersonalTokenError::NotFound),
            Err(e) => return Err(e.into()),
        }
        info!(user_id = %row.user_id, token_id = %row.id, "personal access token created");
        self.notices.notify(&user.user, Notice::PersonalTokenCreated { name: &row.name }, client);
        Ok(Created { token, row })
    }

    /// A user's tokens (not revoked; expired ones included), newest first, with the last
    /// uses this instance saw and has not written yet (no write for a read).
    pub async fn list(&self, user_id: &str) -> Result<Vec<PersonalTokenRow>, PersonalTokenError> {
        let mut tokens = self.store.personal_tokens_of(user_id).await?;
        for t in &mut tokens {
            if let Some((at, ip)) = self.tokens.unwritten_personal_token_use(&t.id) {
                if t.last_used_at.is_none_or(|stored| stored <= at) {
                    t.last_used_at = Some(at);
                    t.last_used_ip = ip;
                }
            }
        }
        Ok(tokens)
    }

    /// Revokes every token of `user_id` at once; how many.
    pub async fn revoke_all(&self, user_id: &str, audit: &AuditMeta) -> Result<u64, PersonalTokenError> {
        let count = self.store.revoke_all_personal_tokens(user_id, self.clock.now(), audit).await?;
        self.tokens.forget_personal_tokens(user_id);
        info!(%user_id, count, "every personal access token of the user revoked");
        Ok(count)
    }

    /// Revokes one of `user_id`'s tokens: refused from the next request on (on this
    /// instance at once, elsewhere within the cache lifetime). Audited as
    /// `personal_token_revoked` (with the administrator as actor when it is one).
    pub async fn revoke(&self, user_id: &str, id: &str, audit: &AuditMeta) -> Result<(), PersonalTokenError> {
        let revoked = self.store.revoke_personal_token(user_id, id, self.clock.now(), audit).await?;
        self.tokens.forget_personal_tokens(user_id);
        if revoked.is_none() {
            return Err(PersonalTokenError::NotFound);
        }
        info!(%user_id, token_id = %id, "personal access token revoked");
        Ok(())
    }
}
