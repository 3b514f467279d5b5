//! The revocation feed's entries. Sessions are recorded by a trigger (migration 0015) as
//! they end; a user's "not before" is recorded here, where every session of theirs ends.

use crate::store::db::{sql, Conn};
use crate::store::{RevocationMark, RevocationRow, Store, StoreError, Timestamp};

/// Every access token of the user issued before `at` is revoked (deactivation, a reset).
pub(super) async fn revoke_user_tokens(
    c: &mut Conn<'_>,
    user_id: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let q = sql("INSERT INTO revocations (kind, subject, at) VALUES ('user', $1, $2)");
    c.execute(q.bind(user_id).bind(at)).await?;
    Ok(())
}

/// The feed's mark: its newest entry and size. Entries become visible in the order of
/// their numbers on both stores (SQLite has one writer; on PostgreSQL the transactions
/// writing revocations take turns, see migration 0015), so a cursor never passes an entry
/// that is still to come.
const MARK_SQL: &str = "SELECT COALESCE(MAX(seq), 0), COUNT(*) FROM revocations";

/// A page of the feed: entries after cursor $1 still live after $2, at most $3.
pub(super) const FEED_PAGE: &str =
    "SELECT seq, kind, subject, at FROM revocations WHERE seq > $1 AND at > $2 ORDER BY seq LIMIT $3";

impl Store {
    /// The feed's mark, then up to `limit` entries after `since` that still concern a
    /// live token (`at > live_after`). Read in this order: whatever the mark counts, the
    /// entries include.
    pub async fn revocations_since(
        &self,
        since: i64,
        live_after: Timestamp,
        limit: i64,
    ) -> Result<(RevocationMark, Vec<RevocationRow>), StoreError> {
        let mut pooled = self.read().await?;
        let mut c = pooled.conn();
        let (newest, count): (i64, i64) = c.one(sql(MARK_SQL)).await?;
        let rows = c.all(sql(FEED_PAGE).bind(since).bind(live_after).bind(limit)).await?;
        Ok((RevocationMark { newest, count }, rows))
    }

    /// The feed's mark alone (what a conditional request is answered from).
    pub async fn revocation_mark(&self) -> Result<RevocationMark, StoreError> {
        let (newest, count): (i64, i64) = self.read().await?.conn().one(sql(MARK_SQL)).await?;
        Ok(RevocationMark { newest, count })
    }

    /// Drops entries no live token can concern any more; how many.
    pub async fn prune_revocations(&self, live_after: Timestamp) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let pruned =
            tx.conn().execute(sql("DELETE FROM revocations WHERE at <= $1").bind(live_after)).await?;
        tx.commit().await?;
        Ok(pruned)
    }
}
