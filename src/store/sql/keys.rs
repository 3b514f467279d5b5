//! Signing keys: stored sealed, published, activated, retired, revoked.

use crate::store::db::sql;
use crate::store::{SigningKeyRow, Store, StoreError, Timestamp};

impl Store {
    /// Every signing key, newest first.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRow>, StoreError> {
        let q = sql(
            "SELECT kid, algorithm, private_key, public_jwk, status, created_at, activated_at, retired_at \
                     FROM signing_keys ORDER BY created_at DESC, kid",
        );
        self.read().await?.conn().all(q).await
    }

    pub async fn insert_signing_key(&self, k: &SigningKeyRow) -> Result<(), StoreError> {
        let q = sql("INSERT INTO signing_keys \
                     (kid, algorithm, private_key, public_jwk, status, created_at, activated_at, retired_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(&k.kid)
        .bind(&k.algorithm)
        .bind(&k.private_key)
        .bind(&k.public_jwk)
        .bind(&k.status);
        self.read()
            .await?
            .conn()
            .execute(q.bind(k.created_at).bind(k.activated_at).bind(k.retired_at))
            .await?;
        Ok(())
    }

    /// Makes `kid` the signing key of its algorithm; the previously active one retires.
    /// False when there is no such key or it is retired.
    pub async fn activate_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        let status: Option<String> =
            c.optional_scalar(sql("SELECT status FROM signing_keys WHERE kid = $1").bind(kid)).await?;
        match status.as_deref() {
            Some("published") => {}
            Some("active") => return Ok(true),
            _ => return Ok(false),
        }
        // Keys of another algorithm sign other tokens (the provider's id tokens): they stay.
        let q = sql("UPDATE signing_keys SET status = 'retired', retired_at = $1 WHERE status = 'active' \
                     AND algorithm = (SELECT algorithm FROM signing_keys WHERE kid = $2)");
        c.execute(q.bind(now).bind(kid)).await?;
        let q = sql("UPDATE signing_keys SET status = 'active', activated_at = $1 WHERE kid = $2");
        c.execute(q.bind(now).bind(kid)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Makes `kid` the signing key of its algorithm only if that algorithm has none: the
    /// first key, which instances starting together may each generate. The loser's key
    /// stays published, harmless; every instance then signs with the winner's.
    pub async fn activate_first_signing_key(&self, kid: &str, now: Timestamp) -> Result<(), StoreError> {
        let q = sql("UPDATE signing_keys SET status = 'active', activated_at = $1 \
                     WHERE kid = $2 AND status = 'published' AND NOT EXISTS (SELECT 1 FROM signing_keys k \
                       WHERE k.status = 'active' AND k.algorithm = signing_keys.algorithm)");
        let mut tx = self.write().await?;
        let mut c = tx.conn();
        // SQLite's write transaction holds the database; PostgreSQL's snapshot would let
        // two instances each see no active key, so the table is locked against writers.
        if c.backend() == crate::store::db::Backend::Postgres {
            c.execute(sql("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")).await?;
        }
        c.execute(q.bind(now).bind(kid)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Retires a published or active key; false when there is no such key.
    pub async fn retire_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
        let q = sql("UPDATE signing_keys SET status = 'retired', retired_at = $1 \
                     WHERE kid = $2 AND status NOT IN ('retired', 'revoked')");
        Ok(self.read().await?.conn().execute(q.bind(now).bind(kid)).await? > 0)
    }

    /// Marks a key `revoked`: it verifies nothing from now on; false when there is no
    /// such key or it is revoked already.
    pub async fn revoke_signing_key(&self, kid: &str, now: Timestamp) -> Result<bool, StoreError> {
        let q = sql("UPDATE signing_keys SET status = 'revoked', retired_at = COALESCE(retired_at, $1) \
                     WHERE kid = $2 AND status <> 'revoked'");
        Ok(self.read().await?.conn().execute(q.bind(now).bind(kid)).await? > 0)
    }
}
