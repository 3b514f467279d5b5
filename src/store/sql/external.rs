//! Sign-in with external providers: linked identities, the trips to a provider between
//! start and callback, offers to link, and the roles a provider's claim maps to.

use super::audit::insert_audit;
use super::users::{roles_and_permissions, user_with_roles};
use crate::store::db::{sql, Conn};
use crate::store::{
    AuditEvent, AuditMeta, ExternalIdentityRow, ExternalLoginRow, LinkOfferRow, MappedRoles, NewUser, Store,
    StoreError, Timestamp, Unlinked, UserRow,
};

const IDENTITY_COLUMNS: &str = "id, user_id, provider, issuer, subject, email, created_at, last_used_at";
const LOGIN_COLUMNS: &str =
    "state_hash, provider, binding_hash, nonce, pkce_verifier, link_user_id, next_path, \
                             created_at, expires_at";
const OFFER_COLUMNS: &str = "token_hash, provider, issuer, subject, email, created_at, expires_at";

async fn insert_identity(
    c: &mut Conn<'_>,
    i: &ExternalIdentityRow,
    audit: &AuditMeta,
) -> Result<(), StoreError> {
    let q = format!(
        "INSERT INTO external_identities ({IDENTITY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    let q = sql(&q)
        .bind(&i.id)
        .bind(&i.user_id)
        .bind(&i.provider)
        .bind(&i.issuer)
        .bind(&i.subject)
        .bind(&i.email);
    c.execute(q.bind(i.created_at).bind(i.last_used_at)).await?;
    let detail = serde_json::json!({ "provider": i.provider, "email": i.email });
    insert_audit(c, AuditEvent::IdentityLinked, Some(&i.user_id), &detail, i.created_at, audit).await
}

impl Store {
    pub async fn insert_external_login(&self, row: &ExternalLoginRow) -> Result<(), StoreError> {
        let q = format!(
            "INSERT INTO external_logins ({LOGIN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let q = sql(&q).bind(&row.state_hash).bind(&row.provider).bind(&row.binding_hash).bind(&row.nonce);
        let q = q.bind(&row.pkce_verifier).bind(row.link_user_id.as_deref()).bind(&row.next_path);
        self.read().await?.conn().execute(q.bind(row.created_at).bind(row.expires_at)).await?;
        Ok(())
    }

    /// Takes a trip by the hash of its `state`: deleted whatever comes of it, so a
    /// callback counts once. `None` when unknown, spent or expired.
    pub async fn take_external_login(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> Result<Option<ExternalLoginRow>, StoreError> {
        let q = format!("DELETE FROM external_logins WHERE state_hash = $1 RETURNING {LOGIN_COLUMNS}");
        let row: Option<ExternalLoginRow> =
            self.read().await?.conn().optional(sql(&q).bind(state_hash)).await?;
        Ok(row.filter(|r| r.expires_at > now))
    }

    pub async fn external_identity(
        &self,
        provider: &str,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<ExternalIdentityRow>, StoreError> {
        let q = format!(
            "SELECT {IDENTITY_COLUMNS} FROM external_identities \
             WHERE provider = $1 AND issuer = $2 AND subject = $3"
        );
        self.read().await?.conn().optional(sql(&q).bind(provider).bind(issuer).bind(subject)).await
    }

    /// Accounts, active or not, that proved they own this address (case-insensitive).
    /// SECURITY: an address typed into an account but never verified is no claim to it.
    pub async fn count_users_with_verified_email(&self, email: &str) -> Result<i64, StoreError> {
        let q = sql(
            "SELECT COUNT(*) FROM users WHERE lower(email) = $1 AND email <> '' AND email_verified = TRUE",
        );
        self.read().await?.conn().scalar::<i64>(q.bind(email.to_lowercase().as_str())).await
    }

    pub async fn external_identities_of(
        &self,
        user_id: &str,
    ) -> Result<Vec<ExternalIdentityRow>, StoreError> {
        let q = format!(
            "SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE user_id = $1 ORDER BY provider, created_at"
        );
        self.read().await?.conn().all(sql(&q).bind(user_id)).await
    }

    /// Records a sign-in through an identity, and the address the provider vouches for now.
    pub async fn touch_external_identity(
        &self,
        id: &str,
        email: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let q = sql("UPDATE external_identities SET last_used_at = $2, email = $3 WHERE id = $1");
        self.read().await?.conn().execute(q.bind(id).bind(now).bind(email)).await?;
        Ok(())
    }

    /// Links an identity to its user; `Conflict` when the identity is someone's already.
    /// Audited as `identity_linked`.
    pub async fn link_external_identity(
        &self,
        identity: &ExternalIdentityRow,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_identity(&mut tx.conn(), identity, audit).await?;
        tx.commit().await
    }

    /// A new account for an external identity, its address verified by the provider, and
    /// the identity linked to it: all or nothing. `Conflict` when the username or the
    /// identity is taken. Audited as `register` and `identity_linked`.
    pub async fn create_external_user(
        &self,
        u: NewUser,
        identity: &ExternalIdentityRow,
        audit: &AuditMeta,
    ) -> Result<UserRow, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = "INSERT INTO users (id, username, username_key, email, password_hash, is_active, \
                 is_superuser, date_joined, last_login, password_changed_at, email_verified) \
                 VALUES ($1, $2, $3, $4, $5, TRUE, FALSE, $6, NULL, $6, TRUE)";
        let q = sql(q).bind(&u.id).bind(&u.username).bind(&u.username_key).bind(&u.email);
        c.execute(q.bind(&u.password_hash).bind(u.now)).await?;
        let detail = serde_json::json!({ "is_superuser": false, "provider": identity.provider });
        insert_audit(&mut c, AuditEvent::Register, Some(&u.id), &detail, u.now, audit).await?;
        insert_identity(&mut c, identity, audit).await?;
        let Some(user) = user_with_roles(&mut c, &u.id).await? else {
            return Err(StoreError::Other("the new user went away".into()));
        };
        tx.commit().await?;
        Ok(user.user)
    }

    /// Unlinks one of the user's identities unless it is their last way to sign in.
    /// Audited as `identity_unlinked`.
    pub async fn unlink_external_identity(
        &self,
        user_id: &str,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Unlinked, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!("SELECT password_hash FROM users WHERE id = $1{}", c.backend().for_update());
        let Some(hash) = c.optional_scalar::<String>(sql(&q).bind(user_id)).await? else {
            return Ok(Unlinked::NotFound);
        };
        let q = format!("SELECT {IDENTITY_COLUMNS} FROM external_identities WHERE id = $1 AND user_id = $2");
        let Some(identity) = c.optional::<ExternalIdentityRow>(sql(&q).bind(id).bind(user_id)).await? else {
            return Ok(Unlinked::NotFound);
        };
        let q = sql("SELECT (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) \
                     + (SELECT COUNT(*) FROM external_identities WHERE user_id = $1 AND id <> $2)");
        let other_ways = c.scalar::<i64>(q.bind(user_id).bind(id)).await?;
        if hash.starts_with('!') && other_ways == 0 {
            return Ok(Unlinked::LastWay);
        }
        c.execute(sql("DELETE FROM external_identities WHERE id = $1").bind(id)).await?;
        let detail = serde_json::json!({ "provider": identity.provider, "email": identity.email });
        insert_audit(&mut c, AuditEvent::IdentityUnlinked, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(Unlinked::Done)
    }

    pub async fn insert_link_offer(&self, offer: &LinkOfferRow) -> Result<(), StoreError> {
        let q =
            format!("INSERT INTO external_link_offers ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        let q = sql(&q).bind(&offer.token_hash).bind(&offer.provider).bind(&offer.issuer);
        let q = q.bind(&offer.subject).bind(&offer.email);
        self.read().await?.conn().execute(q.bind(offer.created_at).bind(offer.expires_at)).await?;
        Ok(())
    }

    /// Takes an offer by the hash of its token (deleted either way); `None` when
    /// unknown, spent or expired.
    pub async fn take_link_offer(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<LinkOfferRow>, StoreError> {
        let q = format!("DELETE FROM external_link_offers WHERE token_hash = $1 RETURNING {OFFER_COLUMNS}");
        let row: Option<LinkOfferRow> = self.read().await?.conn().optional(sql(&q).bind(token_hash)).await?;
        Ok(row.filter(|r| r.expires_at > now))
    }

    /// Gives the roles a provider's claim maps to and takes away the mapped ones it no
    /// longer gives; roles outside `managed` are never touched, and a mapped role that
    /// does not exist is skipped. The user's roles after; audited as `roles_assigned`
    /// when they changed.
    pub async fn apply_mapped_roles(
        &self,
        user_id: &str,
        mapped: &MappedRoles,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!("SELECT id FROM users WHERE id = $1{}", c.backend().for_update());
        c.optional_scalar::<String>(sql(&q).bind(user_id)).await?;
        let (before, _) = roles_and_permissions(&mut c, user_id).await?;
        for role in mapped.managed.iter().filter(|r| !mapped.wanted.contains(r) && before.contains(r)) {
            c.execute(
                sql("DELETE FROM user_roles WHERE user_id = $1 AND role = $2").bind(user_id).bind(role),
            )
            .await?;
        }
        for role in mapped.wanted.iter().filter(|r| mapped.managed.contains(r) && !before.contains(r)) {
            let q = sql("INSERT INTO user_roles (user_id, role) SELECT $1, name FROM roles WHERE name = $2");
            c.execute(q.bind(user_id).bind(role)).await?;
        }
        let (after, _) = roles_and_permissions(&mut c, user_id).await?;
        if after != before {
            let detail =
                serde_json::json!({ "before": before, "after": after, "source": "external_provider" });
            insert_audit(&mut c, AuditEvent::RolesAssigned, Some(user_id), &detail, now, audit).await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    /// Drops trips and offers past their time.
    pub async fn flush_external_logins(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut c = self.read().await?;
        let mut conn = c.conn();
        let trips =
            conn.execute(sql("DELETE FROM external_logins WHERE expires_at < $1").bind(before)).await?;
        let offers =
            conn.execute(sql("DELETE FROM external_link_offers WHERE expires_at < $1").bind(before)).await?;
        Ok(trips + offers)
    }
}
