//! Single-use tokens (mailed links, and the `mfa_token` between login steps) and the
//! mail outbox.

use super::audit::insert_audit;
use super::users::{revoke_sessions_of, user_with_roles};
use sha2::Digest;

use crate::crypto::{constant_time_eq, OpaqueToken};
use crate::store::db::{sql, Conn};
use crate::store::{
    AuditEvent, AuditMeta, MailPurpose, MailTokenRow, NewMailToken, OutboxMail, Store, StoreError, Timestamp,
};

/// What a reset link is made for: the account's address, password, superuser flag and
/// permissions, as one digest. SECURITY: a link mailed to an address someone
/// else chose (an administrator's invitation) must not open the account once its owner
/// changed the address or the password, or once it was given more power than the sender
/// held; so a reset link is live only while the account stands as it did.
async fn standing(c: &mut Conn<'_>, user_id: &str) -> Result<String, StoreError> {
    let Some(u) = user_with_roles(c, user_id).await? else { return Ok(String::new()) };
    let state = format!(
        "{}\n{}\n{}\n{}",
        u.user.email.to_lowercase(),
        // The hash, not the time of the change: every new password has a new salt.
        u.user.password_hash,
        u.user.is_superuser,
        u.permissions.join(",")
    );
    Ok(hex::encode(sha2::Sha256::digest(state.as_bytes())))
}

/// A mail token that is unspent, unexpired, of `purpose`, and whose verifier matches
/// (compared in constant time); a reset link also only while its account stands as it
/// did (see `standing`); locked for the transaction when `lock`.
async fn live_mail_token(
    c: &mut Conn<'_>,
    token: &OpaqueToken,
    purpose: MailPurpose,
    now: Timestamp,
    lock: bool,
) -> Result<Option<MailTokenRow>, StoreError> {
    let q = format!(
        "SELECT user_id, email, verifier_hash, standing FROM mail_tokens \
         WHERE id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3{}",
        if lock { c.backend().for_update() } else { "" }
    );
    let row: Option<MailTokenRow> =
        c.optional(sql(&q).bind(&token.id).bind(purpose.as_str()).bind(now)).await?;
    let Some(row) = row.filter(|r| constant_time_eq(&r.verifier_hash, &token.verifier_hash)) else {
        return Ok(None);
    };
    if purpose == MailPurpose::PasswordReset
        && (row.standing.is_empty() || row.standing != standing(c, &row.user_id).await?)
    {
        return Ok(None);
    }
    Ok(Some(row))
}

async fn spend(c: &mut Conn<'_>, id: &str, now: Timestamp) -> Result<(), StoreError> {
    c.execute(sql("UPDATE mail_tokens SET used_at = $1 WHERE id = $2").bind(now).bind(id)).await?;
    Ok(())
}

impl Store {
    /// Records a single-use token, audited as `event` (if any) in the same transaction.
    pub async fn insert_mail_token(
        &self,
        t: &NewMailToken,
        event: Option<AuditEvent>,
        audit: &AuditMeta,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let standing = match t.purpose {
            MailPurpose::PasswordReset => standing(&mut c, &t.user_id).await?,
            _ => String::new(),
        };
        let q = sql(
            "INSERT INTO mail_tokens (id, verifier_hash, purpose, user_id, email, created_at, expires_at, \
                     standing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.verifier_hash)
        .bind(t.purpose.as_str())
        .bind(&t.user_id)
        .bind(&t.email)
        .bind(t.now)
        .bind(t.expires_at)
        .bind(&standing);
        c.execute(q).await?;
        if let Some(event) = event {
            let detail = serde_json::json!({ "email": t.email, "expires_at": t.expires_at });
            insert_audit(&mut c, event, Some(&t.user_id), &detail, t.now, audit).await?;
        }
        tx.commit().await
    }

    /// The token, if it is live (unspent, unexpired, of this purpose, verifier matching).
    pub async fn mail_token(
        &self,
        token: &OpaqueToken,
        purpose: MailPurpose,
        now: Timestamp,
    ) -> Result<Option<MailTokenRow>, StoreError> {
        live_mail_token(&mut self.read().await?.conn(), token, purpose, now, false).await
    }

    /// Spends a live reset token and sets the password: every session and personal access
    /// token of the user is revoked and every other reset token spent. The user's id, or `None` if the token
    /// is not live (or the user no longer active).
    pub async fn reset_password(
        &self,
        token: &OpaqueToken,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let Some(row) = live_mail_token(&mut c, token, MailPurpose::PasswordReset, now, true).await? else {
            return Ok(None);
        };
        // Following the link proves the address, as a verification mail would.
        let q = sql("UPDATE users SET password_hash = $1, password_changed_at = $2, \
                     email_verified = CASE WHEN lower(email) = lower($3) THEN TRUE ELSE email_verified END \
                     WHERE id = $4 AND is_active = TRUE");
        if c.execute(q.bind(password_hash).bind(now).bind(&row.email).bind(&row.user_id)).await? == 0 {
            return Ok(None);
        }
        // This token and every other reset link of the user: one reset per mail.
        let q = sql(
            "UPDATE mail_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
        );
        c.execute(q.bind(now).bind(&row.user_id).bind(MailPurpose::PasswordReset.as_str())).await?;
        let revoked = revoke_sessions_of(&mut c, &row.user_id, now).await?;
        // A reset is how an account is taken back: what a thief made with the old
        // password (personal access tokens) ends with it.
        let q = sql("UPDATE personal_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL");
        let tokens = c.execute(q.bind(now).bind(&row.user_id)).await?;
        let detail = serde_json::json!({ "sessions_revoked": revoked, "personal_tokens_revoked": tokens });
        insert_audit(&mut c, AuditEvent::PasswordReset, Some(&row.user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(Some(row.user_id))
    }

    /// Spends a live verification token and marks the address verified if it is still
    /// the user's. The user's id, or `None`.
    pub async fn verify_email(
        &self,
        token: &OpaqueToken,
        now: Timestamp,
        audit: &AuditMeta,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let Some(row) = live_mail_token(&mut c, token, MailPurpose::EmailVerification, now, true).await?
        else {
            return Ok(None);
        };
        // Only if the address is still the user's: a link to an old address verifies
        // nothing.
        let q = sql("UPDATE users SET email_verified = TRUE \
                     WHERE id = $1 AND lower(email) = lower($2) AND email <> ''");
        if c.execute(q.bind(&row.user_id).bind(&row.email)).await? == 0 {
            return Ok(None);
        }
        spend(&mut c, &token.id, now).await?;
        let detail = serde_json::json!({ "email": row.email });
        insert_audit(&mut c, AuditEvent::EmailVerified, Some(&row.user_id), &detail, now, audit).await?;
        tx.commit().await?;
        Ok(Some(row.user_id))
    }

    /// Spends a live token of `purpose`; the user it was for, or `None` if not live.
    pub async fn spend_token(
        &self,
        token: &OpaqueToken,
        purpose: MailPurpose,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let Some(row) = live_mail_token(&mut c, token, purpose, now, true).await? else {
            return Ok(None);
        };
        spend(&mut c, &token.id, now).await?;
        tx.commit().await?;
        Ok(Some(row.user_id))
    }

    /// Puts a sealed mail in the outbox, due at once.
    pub async fn enqueue_mail(&self, id: &str, sealed: &str, now: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let q =
            sql("INSERT INTO mail_outbox (id, sealed, created_at, next_attempt_at) VALUES ($1, $2, $3, $3)");
        tx.conn().execute(q.bind(id).bind(sealed).bind(now)).await?;
        tx.commit().await
    }

    /// Claims up to `limit` due mails until `lease_until`: no other instance gets them
    /// meanwhile, and a mail whose sender died is due again when its lease ends.
    pub async fn claim_mails(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> Result<Vec<OutboxMail>, StoreError> {
        let mut tx = self.write().await?;
        // The outer condition is checked again on the row as it is when updated
        // (PostgreSQL), so of two instances claiming at once only one gets a mail.
        let q = sql("UPDATE mail_outbox SET claimed_until = $1 \
                     WHERE claimed_until <= $2 AND next_attempt_at <= $2 AND id IN ( \
                         SELECT id FROM mail_outbox WHERE claimed_until <= $2 AND next_attempt_at <= $2 \
                         ORDER BY next_attempt_at LIMIT $3) \
                     RETURNING id, sealed, created_at, attempts");
        let rows = tx.conn().all(q.bind(lease_until).bind(now).bind(limit)).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Sent, or given up: out of the outbox.
    pub async fn delete_mail(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        tx.conn().execute(sql("DELETE FROM mail_outbox WHERE id = $1").bind(id)).await?;
        tx.commit().await
    }

    /// A failed attempt: the mail is due again at `next_attempt_at`.
    pub async fn retry_mail(
        &self,
        id: &str,
        next_attempt_at: Timestamp,
        error: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let q =
            sql("UPDATE mail_outbox SET attempts = attempts + 1, next_attempt_at = $2, claimed_until = 0, \
                     last_error = $3 WHERE id = $1");
        tx.conn().execute(q.bind(id).bind(next_attempt_at).bind(error)).await?;
        tx.commit().await
    }

    /// How many mails wait in the outbox.
    pub async fn pending_mails(&self) -> Result<i64, StoreError> {
        self.read().await?.conn().scalar(sql("SELECT COUNT(*) FROM mail_outbox")).await
    }
}
