//! Second factors: the TOTP factor with its failure lock, recovery codes, and removing
//! factors.

use super::audit::insert_audit;
use crate::store::db::{sql, Conn};
use crate::store::{AuditEvent, AuditMeta, Store, StoreError, Timestamp, TotpLock, TotpRow};

/// Recovery codes serve the factors; with none left (no TOTP, no passkey) they go.
pub(super) async fn drop_orphan_recovery_codes(c: &mut Conn<'_>, user_id: &str) -> Result<u64, StoreError> {
    let q = sql(
        "DELETE FROM recovery_codes WHERE user_id = $1 \
                 AND NOT EXISTS (SELECT 1 FROM passkeys WHERE user_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NOT NULL)",
    );
    c.execute(q.bind(user_id)).await
}

pub(super) async fn put_recovery_codes(
    c: &mut Conn<'_>,
    user_id: &str,
    code_hashes: &[String],
) -> Result<(), StoreError> {
    c.execute(sql("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id)).await?;
    for hash in code_hashes {
        c.execute(
            sql("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)").bind(user_id).bind(hash),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    pub async fn totp_factor(&self, user_id: &str) -> Result<Option<TotpRow>, StoreError> {
        let q = sql("SELECT secret, confirmed_at, last_step, failures, locked_until FROM totp_factors WHERE user_id = $1");
        self.read().await?.conn().optional(q.bind(user_id)).await
    }

    /// Starts (or restarts) an unconfirmed enrolment with this sealed secret.
    pub async fn start_totp(
        &self,
        user_id: &str,
        sealed_secret: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        // Never over a confirmed factor: that is turned off first, with a code.
        c.execute(sql("DELETE FROM totp_factors WHERE user_id = $1 AND confirmed_at IS NULL").bind(user_id))
            .await?;
        let q = sql("INSERT INTO totp_factors (user_id, secret, created_at) VALUES ($1, $2, $3)");
        c.execute(q.bind(user_id).bind(sealed_secret).bind(now)).await?;
        tx.commit().await
    }

    /// Confirms the enrolment at `step` and replaces the recovery codes; audited
    /// `mfa_enabled`.
    pub async fn confirm_totp(
        &self,
        user_id: &str,
        step: i64,
        code_hashes: &[String],
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE totp_factors SET confirmed_at = $1, last_step = $2, failures = 0 \
                     WHERE user_id = $3 AND confirmed_at IS NULL");
        c.execute(q.bind(now).bind(step).bind(user_id)).await?;
        put_recovery_codes(&mut c, user_id, code_hashes).await?;
        let detail = serde_json::json!({ "factor": "totp", "recovery_codes": code_hashes.len() });
        insert_audit(&mut c, AuditEvent::MfaEnabled, Some(user_id), &detail, now, audit).await?;
        tx.commit().await
    }

    /// Accepts `step` if it is later than the last accepted one (a code works once);
    /// clears the failure count. False for a replayed step.
    pub async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let q =
            sql("UPDATE totp_factors SET last_step = $1, failures = 0 WHERE user_id = $2 AND last_step < $1");
        let n = tx.conn().execute(q.bind(step).bind(user_id)).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Counts a code about to be checked as a failure (a right one clears the count),
    /// and locks the factor as `lock` says; the failures now. `None` while the factor is
    /// locked (nothing is counted) or when there is no confirmed factor.
    pub async fn totp_attempt(
        &self,
        user_id: &str,
        now: Timestamp,
        lock: &TotpLock,
    ) -> Result<Option<i64>, StoreError> {
        // One statement: the count and the lock it may set cannot be raced by another
        // attempt. The `every`th failure locks, longer as they add up.
        let q = sql("UPDATE totp_factors SET failures = failures + 1, locked_until = CASE \
                       WHEN (failures + 1) % $3 <> 0 THEN locked_until \
                       WHEN failures + 1 >= $6 THEN $2 + $7 \
                       WHEN failures + 1 >= $4 THEN $2 + $5 \
                       ELSE $2 + $8 END \
                     WHERE user_id = $1 AND confirmed_at IS NOT NULL AND locked_until <= $2 \
                     RETURNING failures")
        .bind(user_id)
        .bind(now)
        .bind(lock.every)
        .bind(lock.second_at)
        .bind(lock.second_secs)
        .bind(lock.third_at)
        .bind(lock.third_secs)
        .bind(lock.first_secs);
        self.read().await?.conn().optional_scalar(q).await
    }

    /// After a right code of another kind (a recovery code): the count and any lock go.
    pub async fn clear_totp_failures(&self, user_id: &str) -> Result<(), StoreError> {
        let q = sql("UPDATE totp_factors SET failures = 0, locked_until = 0 WHERE user_id = $1");
        self.read().await?.conn().execute(q.bind(user_id)).await?;
        Ok(())
    }

    /// An administrator lifts the second factor's lock; audited as `lockout_cleared`.
    pub async fn clear_lockout(
        &self,
        user_id: &str,
        detail: &serde_json::Value,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let q = sql("UPDATE totp_factors SET failures = 0, locked_until = 0 WHERE user_id = $1");
        c.execute(q.bind(user_id)).await?;
        insert_audit(&mut c, AuditEvent::LockoutCleared, Some(user_id), detail, now, audit).await?;
        tx.commit().await
    }

    /// Spends one recovery code; false if it is not an unused code of the user.
    pub async fn use_recovery_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let q = sql("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL");
        let n = tx.conn().execute(q.bind(now).bind(user_id).bind(code_hash)).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Replaces the user's recovery codes (the old set stops working); audited.
    pub async fn replace_recovery_codes(
        &self,
        user_id: &str,
        code_hashes: &[String],
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        put_recovery_codes(&mut c, user_id, code_hashes).await?;
        let detail = serde_json::json!({ "recovery_codes": code_hashes.len() });
        insert_audit(&mut c, AuditEvent::RecoveryCodesRegenerated, Some(user_id), &detail, now, audit)
            .await?;
        tx.commit().await
    }

    pub async fn recovery_codes_left(&self, user_id: &str) -> Result<i64, StoreError> {
        let q = sql("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL");
        self.read().await?.conn().scalar(q.bind(user_id)).await
    }

    /// Removes the user's factors, audited as `event`: every factor (an administrator's
    /// reset), or only TOTP (the user turning it off; the recovery codes go too unless a
    /// passkey remains). False when there was nothing to remove.
    pub async fn remove_mfa(
        &self,
        user_id: &str,
        totp_only: bool,
        event: AuditEvent,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let factors = c.execute(sql("DELETE FROM totp_factors WHERE user_id = $1").bind(user_id)).await?;
        let passkeys = if totp_only {
            0
        } else {
            c.execute(sql("DELETE FROM passkeys WHERE user_id = $1").bind(user_id)).await?
        };
        let codes = drop_orphan_recovery_codes(&mut c, user_id).await?;
        if factors + passkeys + codes == 0 {
            return Ok(false);
        }
        let detail = serde_json::json!({ "factors": factors, "passkeys": passkeys, "recovery_codes": codes });
        insert_audit(&mut c, event, Some(user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(true)
    }
}
