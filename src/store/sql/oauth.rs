//! The identity provider's tables: clients, authorization requests and codes, consents.

use super::audit::insert_audit;
use super::sessions::insert_session;
use crate::crypto::constant_time_eq;
use crate::store::db::{sql, Conn};
use crate::store::{
    Approval, AuditEvent, AuditMeta, AuthorizationRow, ClientRow, ConsentRow, NewAuthorization, NewSession,
    RedeemOutcome, Redemption, Store, StoreError, StoredClient, Timestamp,
};

const CLIENT_COLUMNS: &str = "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, \
                              scopes, permissions, pre_consented, created_at, updated_at";

const AUTHORIZATION_COLUMNS: &str =
    "id, client_id, redirect_uri, scope, state, nonce, code_challenge, prompt, \
     max_age, login_hint, created_at, expires_at, answered_at, user_id, browser_session_id, auth_time, amr, \
     code_expires_at, code_used_at, grant_id";

/// The client's lists as stored (JSON arrays), in column order.
fn json_lists(c: &ClientRow) -> [String; 5] {
    [&c.redirect_uris, &c.post_logout_redirect_uris, &c.grant_types, &c.scopes, &c.permissions]
        .map(|list| serde_json::Value::from(list.clone()).to_string())
}

/// What the audit log keeps of a client: never its secret's hash.
fn client_detail(c: &ClientRow) -> serde_json::Value {
    serde_json::json!({
        "client_id": c.id, "name": c.name, "public": c.is_public(), "redirect_uris": c.redirect_uris,
        "grant_types": c.grant_types, "scopes": c.scopes, "permissions": c.permissions,
        "pre_consented": c.pre_consented,
    })
}

async fn revoke_client_grants(
    c: &mut Conn<'_>,
    client_id: &str,
    user_id: Option<&str>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let q = sql("UPDATE sessions SET revoked_at = $1 \
                 WHERE client_id = $2 AND revoked_at IS NULL AND ($3 = '' OR user_id = $3)");
    c.execute(q.bind(now).bind(client_id).bind(user_id.unwrap_or(""))).await
}

impl Store {
    pub async fn has_clients(&self) -> Result<bool, StoreError> {
        let q = sql("SELECT EXISTS (SELECT 1 FROM oauth_clients)");
        self.read().await?.conn().scalar::<bool>(q).await
    }

    pub async fn clients(&self) -> Result<Vec<ClientRow>, StoreError> {
        let q = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY name, id");
        let rows: Vec<StoredClient> = self.read().await?.conn().all(sql(&q)).await?;
        Ok(rows.into_iter().map(ClientRow::from).collect())
    }

    pub async fn client(&self, id: &str) -> Result<Option<ClientRow>, StoreError> {
        let q = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1");
        let row: Option<StoredClient> = self.read().await?.conn().optional(sql(&q).bind(id)).await?;
        Ok(row.map(ClientRow::from))
    }

    /// Audited as `client_created`; `Conflict` if the id is taken.
    pub async fn insert_client(&self, client: &ClientRow, audit: &AuditMeta) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let lists = json_lists(client);
        let q = format!("INSERT INTO oauth_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
        let q = sql(&q).bind(&client.id).bind(&client.name).bind(client.secret_hash.as_deref());
        let q = q.bind(&lists[0]).bind(&lists[1]).bind(&lists[2]).bind(&lists[3]).bind(&lists[4]);
        c.execute(q.bind(client.pre_consented).bind(client.created_at).bind(client.updated_at)).await?;
        let now = client.created_at;
        insert_audit(&mut c, AuditEvent::ClientCreated, None, &client_detail(client), now, audit).await?;
        tx.commit().await
    }

    /// Replaces everything but the id, the secret and the creation time; false when there
    /// is no such client. Grants keep their scopes (narrowed to the client's at their next
    /// refresh). With `redirects_changed`, the users' consents and every request or code
    /// not yet redeemed go: they were given for the old destinations. Audited as
    /// `client_updated`.
    pub async fn update_client(
        &self,
        client: &ClientRow,
        redirects_changed: bool,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let lists = json_lists(client);
        let q =
            sql("UPDATE oauth_clients SET name = $2, redirect_uris = $3, post_logout_redirect_uris = $4, \
                     grant_types = $5, scopes = $6, permissions = $7, pre_consented = $8, updated_at = $9 \
                     WHERE id = $1");
        let q = q.bind(&client.id).bind(&client.name);
        let q = q.bind(&lists[0]).bind(&lists[1]).bind(&lists[2]).bind(&lists[3]).bind(&lists[4]);
        if c.execute(q.bind(client.pre_consented).bind(client.updated_at)).await? == 0 {
            return Ok(false);
        }
        let now = client.updated_at;
        if redirects_changed {
            c.execute(sql("DELETE FROM oauth_consents WHERE client_id = $1").bind(&client.id)).await?;
            let q = sql("DELETE FROM oauth_authorizations WHERE client_id = $1 AND code_used_at IS NULL");
            c.execute(q.bind(&client.id)).await?;
        }
        insert_audit(&mut c, AuditEvent::ClientUpdated, None, &client_detail(client), now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A new secret (its hash); false when there is no such confidential client.
    /// Audited as `client_secret_rotated`.
    pub async fn set_client_secret(
        &self,
        id: &str,
        secret_hash: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE oauth_clients SET secret_hash = $2, updated_at = $3 WHERE id = $1 AND secret_hash IS NOT NULL");
        if c.execute(q.bind(id).bind(secret_hash).bind(now)).await? == 0 {
            return Ok(false);
        }
        let detail = serde_json::json!({ "client_id": id });
        insert_audit(&mut c, AuditEvent::ClientSecretRotated, None, &detail, now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes a client with its grants, requests and consents; false when there is none.
    /// Audited as `client_deleted`.
    pub async fn delete_client(
        &self,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        // Revoked first, so an access-token check that races the delete sees a revoked
        // grant rather than a live one; the rows then go with the client.
        revoke_client_grants(&mut c, id, None, now).await?;
        if c.execute(sql("DELETE FROM oauth_clients WHERE id = $1").bind(id)).await? == 0 {
            return Ok(false);
        }
        let detail = serde_json::json!({ "client_id": id });
        insert_audit(&mut c, AuditEvent::ClientDeleted, None, &detail, now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn insert_authorization(&self, a: &NewAuthorization) -> Result<(), StoreError> {
        let q = sql("INSERT INTO oauth_authorizations (id, client_id, redirect_uri, scope, state, nonce, \
                     code_challenge, prompt, max_age, login_hint, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        let q =
            q.bind(&a.id).bind(&a.client_id).bind(&a.redirect_uri).bind(&a.scope).bind(a.state.as_deref());
        let q = q.bind(a.nonce.as_deref()).bind(&a.code_challenge).bind(&a.prompt).bind(a.max_age);
        let q = q.bind(a.login_hint.as_deref()).bind(a.now).bind(a.expires_at);
        self.read().await?.conn().execute(q).await?;
        Ok(())
    }

    /// An unanswered, unexpired request by the hash of its handle.
    pub async fn pending_authorization(
        &self,
        id: &str,
        now: Timestamp,
    ) -> Result<Option<AuthorizationRow>, StoreError> {
        let q = format!(
            "SELECT {AUTHORIZATION_COLUMNS} FROM oauth_authorizations \
             WHERE id = $1 AND answered_at IS NULL AND expires_at > $2"
        );
        self.read().await?.conn().optional(sql(&q).bind(id).bind(now)).await
    }

    /// Answers a pending request with a code (and records the consent, if any); false
    /// when it was answered or expired meanwhile. Each request is answered once.
    pub async fn approve_authorization(
        &self,
        id: &str,
        client_id: &str,
        a: &Approval,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q =
            sql("UPDATE oauth_authorizations SET answered_at = $2, user_id = $3, browser_session_id = $4, \
                     auth_time = $5, amr = $6, code_hash = $7, code_expires_at = $8 \
                     WHERE id = $1 AND answered_at IS NULL AND expires_at > $2");
        let q = q.bind(id).bind(a.now).bind(&a.user_id).bind(&a.browser_session_id).bind(a.auth_time);
        if c.execute(q.bind(&a.amr).bind(&a.code_hash).bind(a.code_expires_at)).await? == 0 {
            return Ok(false);
        }
        if let Some(scope) = &a.consent {
            let q = sql("DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2");
            c.execute(q.bind(&a.user_id).bind(client_id)).await?;
            let q = sql(
                "INSERT INTO oauth_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4)",
            );
            c.execute(q.bind(&a.user_id).bind(client_id).bind(scope).bind(a.now)).await?;
            let detail = serde_json::json!({ "client_id": client_id, "scope": scope });
            insert_audit(&mut c, AuditEvent::ConsentGranted, Some(&a.user_id), &detail, a.now, audit).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Answers a pending request with an error (nothing to record but that it is spent).
    pub async fn close_authorization(&self, id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let q = sql("UPDATE oauth_authorizations SET answered_at = $2 WHERE id = $1 AND answered_at IS NULL");
        Ok(self.read().await?.conn().execute(q.bind(id).bind(now)).await? > 0)
    }

    /// The answered request a code stands for, unlocked (to prepare the grant).
    pub async fn authorization_by_code(
        &self,
        code_hash: &str,
    ) -> Result<Option<AuthorizationRow>, StoreError> {
        let q = format!("SELECT {AUTHORIZATION_COLUMNS} FROM oauth_authorizations WHERE code_hash = $1");
        self.read().await?.conn().optional(sql(&q).bind(code_hash)).await
    }

    /// Spends a code and starts `grant` for it, in one transaction. Everything the
    /// exchange presents is compared under the code's lock; a code that does not match is
    /// spent all the same, and a spent one presented again revokes the grant it started
    /// (RFC 9700 §4.5). Audited as `oauth_token_issued` or `oauth_code_replayed`.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        r: &Redemption,
        grant: &NewSession,
        audit: &AuditMeta,
    ) -> Result<RedeemOutcome, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = format!(
            "SELECT {AUTHORIZATION_COLUMNS} FROM oauth_authorizations WHERE code_hash = $1{}",
            c.backend().for_update()
        );
        let Some(row) = c.optional::<AuthorizationRow>(sql(&q).bind(code_hash)).await? else {
            return Ok(RedeemOutcome::Invalid);
        };
        let user_id = row.user_id.clone().unwrap_or_default();
        if row.code_used_at.is_some() {
            if let Some(grant_id) = &row.grant_id {
                let q = sql("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL");
                c.execute(q.bind(r.now).bind(grant_id)).await?;
            }
            let detail = serde_json::json!({ "client_id": row.client_id, "grant_id": row.grant_id });
            insert_audit(&mut c, AuditEvent::OauthCodeReplayed, Some(&user_id), &detail, r.now, audit)
                .await?;
            tx.commit().await?;
            return Ok(RedeemOutcome::Replayed { user_id });
        }
        let active: Option<bool> =
            c.optional_scalar(sql("SELECT is_active FROM users WHERE id = $1").bind(&user_id)).await?;
        // SECURITY: the browser session the user approved from must still stand: signing
        // out (or "log out everywhere") before the exchange leaves the code worthless.
        let q = sql("SELECT COUNT(*) FROM sessions \
                     WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3");
        let approver = row.browser_session_id.as_deref().unwrap_or_default();
        let approver_live: i64 = c.scalar(q.bind(approver).bind(&user_id).bind(r.now)).await?;
        let matches = row.client_id == r.client_id
            && row.redirect_uri == r.redirect_uri
            && constant_time_eq(&row.code_challenge, &r.challenge_of_verifier)
            && row.code_expires_at.is_some_and(|t| t > r.now)
            && grant.user_id == user_id
            && active == Some(true)
            && approver_live == 1;
        let q = sql("UPDATE oauth_authorizations SET code_used_at = $2, grant_id = $3 WHERE code_hash = $1");
        let grant_id = matches.then_some(grant.id.as_str());
        c.execute(q.bind(code_hash).bind(r.now).bind(grant_id)).await?;
        if !matches {
            tx.commit().await?;
            return Ok(RedeemOutcome::Invalid);
        }
        insert_session(&mut c, grant).await?;
        let detail = serde_json::json!({
            "client_id": row.client_id, "grant_type": "authorization_code", "grant_id": grant.id, "scope": row.scope,
        });
        insert_audit(&mut c, AuditEvent::OauthTokenIssued, Some(&user_id), &detail, r.now, audit).await?;
        tx.commit().await?;
        Ok(RedeemOutcome::Redeemed(Box::new(row)))
    }

    /// The scopes the user consented to for the client, if they did.
    pub async fn consent(&self, user_id: &str, client_id: &str) -> Result<Option<String>, StoreError> {
        let q = sql("SELECT scope FROM oauth_consents WHERE user_id = $1 AND client_id = $2");
        self.read().await?.conn().optional_scalar(q.bind(user_id).bind(client_id)).await
    }

    /// The applications the user consented to, or holds a live grant of.
    pub async fn consents(&self, user_id: &str, now: Timestamp) -> Result<Vec<ConsentRow>, StoreError> {
        let q = sql("SELECT c.id AS client_id, c.name AS client_name, COALESCE(o.scope, '') AS scope, \
                     COALESCE(o.granted_at, MIN(s.created_at)) AS granted_at, COUNT(s.id) AS grants \
                     FROM oauth_clients c \
                     LEFT JOIN oauth_consents o ON o.client_id = c.id AND o.user_id = $1 \
                     LEFT JOIN sessions s ON s.client_id = c.id AND s.user_id = $1 \
                       AND s.revoked_at IS NULL AND s.expires_at > $2 \
                     GROUP BY c.id, c.name, o.scope, o.granted_at \
                     HAVING o.scope IS NOT NULL OR COUNT(s.id) > 0 \
                     ORDER BY c.name, c.id");
        self.read().await?.conn().all(q.bind(user_id).bind(now)).await
    }

    /// Forgets the user's consent to the client and ends its grants; false when there was
    /// neither. Audited as `consent_revoked`.
    pub async fn revoke_consent(
        &self,
        user_id: &str,
        client_id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("DELETE FROM oauth_consents WHERE user_id = $1 AND client_id = $2");
        let forgotten = c.execute(q.bind(user_id).bind(client_id)).await?;
        let ended = revoke_client_grants(&mut c, client_id, Some(user_id), now).await?;
        // A code the user approved before disconnecting would start a new grant.
        let q = sql("DELETE FROM oauth_authorizations \
                     WHERE user_id = $1 AND client_id = $2 AND code_used_at IS NULL");
        let voided = c.execute(q.bind(user_id).bind(client_id)).await?;
        if forgotten + ended + voided == 0 {
            return Ok(false);
        }
        let detail = serde_json::json!({ "client_id": client_id, "grants_revoked": ended });
        insert_audit(&mut c, AuditEvent::ConsentRevoked, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Drops requests and codes long past use.
    pub async fn flush_authorizations(&self, before: Timestamp) -> Result<u64, StoreError> {
        let q = sql("DELETE FROM oauth_authorizations WHERE expires_at < $1 AND (code_expires_at IS NULL OR code_expires_at < $1)");
        self.read().await?.conn().execute(q.bind(before)).await
    }
}
