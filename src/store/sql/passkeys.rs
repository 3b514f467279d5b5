//! Passkeys (WebAuthn credentials) and the ceremonies that register and use them.

use super::audit::insert_audit;
use super::mfa::{drop_orphan_recovery_codes, put_recovery_codes};
use crate::store::db::sql;
use crate::store::{AuditEvent, AuditMeta, CeremonyRow, PasskeyRow, Store, StoreError, Timestamp};

const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, name, passkey, created_at, last_used_at";

impl Store {
    /// The user's passkeys, oldest first.
    pub async fn passkeys(&self, user_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let q = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id");
        self.read().await?.conn().all(sql(&q).bind(user_id)).await
    }

    pub async fn passkey_by_credential(&self, credential_id: &str) -> Result<Option<PasskeyRow>, StoreError> {
        let q = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1");
        self.read().await?.conn().optional(sql(&q).bind(credential_id)).await
    }

    /// Registers a passkey and, when given, a first set of recovery codes; audited
    /// `mfa_enabled`. False when the credential is registered already (to anyone).
    pub async fn insert_passkey(
        &self,
        passkey: &PasskeyRow,
        code_hashes: &[String],
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("INSERT INTO passkeys (id, user_id, credential_id, name, passkey, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (credential_id) DO NOTHING")
        .bind(&passkey.id)
        .bind(&passkey.user_id)
        .bind(&passkey.credential_id)
        .bind(&passkey.name)
        .bind(&passkey.passkey)
        .bind(passkey.created_at);
        if c.execute(q).await? == 0 {
            return Ok(false);
        }
        if !code_hashes.is_empty() {
            put_recovery_codes(&mut c, &passkey.user_id, code_hashes).await?;
        }
        let detail = serde_json::json!({
            "factor": "passkey", "name": passkey.name, "recovery_codes": code_hashes.len(),
        });
        insert_audit(
            &mut c,
            AuditEvent::MfaEnabled,
            Some(&passkey.user_id),
            &detail,
            passkey.created_at,
            audit,
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores the credential's new counter after a use.
    pub async fn touch_passkey(&self, id: &str, passkey: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let q = sql("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3");
        tx.conn().execute(q.bind(passkey).bind(now).bind(id)).await?;
        tx.commit().await
    }

    /// Removes one passkey of the user (and the recovery codes, when no factor is left);
    /// audited `mfa_disabled`. False when the user has no passkey by that id.
    pub async fn delete_passkey(
        &self,
        user_id: &str,
        id: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name");
        let Some(name) = c.optional_scalar::<String>(q.bind(id).bind(user_id)).await? else {
            return Ok(false);
        };
        drop_orphan_recovery_codes(&mut c, user_id).await?;
        let detail = serde_json::json!({ "factor": "passkey", "name": name });
        insert_audit(&mut c, AuditEvent::MfaDisabled, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a ceremony (replacing one with the same id) and drops expired ones.
    pub async fn put_ceremony(&self, ceremony: &CeremonyRow, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("DELETE FROM webauthn_ceremonies WHERE id = $1 OR expires_at <= $2");
        c.execute(q.bind(&ceremony.id).bind(now)).await?;
        // Two starts of one ceremony at once (a double click) both succeed: the later
        // one's challenge stands.
        let q = sql("INSERT INTO webauthn_ceremonies (id, kind, user_id, state, expires_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, user_id = excluded.user_id, \
                     state = excluded.state, expires_at = excluded.expires_at")
        .bind(&ceremony.id)
        .bind(&ceremony.kind)
        .bind(&ceremony.user_id)
        .bind(&ceremony.state)
        .bind(ceremony.expires_at);
        c.execute(q).await?;
        tx.commit().await
    }

    /// Takes (deletes and returns) a live ceremony of `kind`: each is finished once.
    pub async fn take_ceremony(
        &self,
        id: &str,
        kind: &str,
        now: Timestamp,
    ) -> Result<Option<CeremonyRow>, StoreError> {
        let mut tx = self.write().await?;
        let q = sql("DELETE FROM webauthn_ceremonies WHERE id = $1 AND kind = $2 \
                     RETURNING id, kind, user_id, state, expires_at");
        let row: Option<CeremonyRow> = tx.conn().optional(q.bind(id).bind(kind)).await?;
        tx.commit().await?;
        Ok(row.filter(|c| c.expires_at > now))
    }
}
