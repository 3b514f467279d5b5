//! The revocation feed (`/.well-known/revocations`): what services verifying access tokens
//! offline must refuse, as a signed delta after a cursor. Services poll it every few
//! seconds, so the answer to "anything new?" comes from memory: the feed's mark (its newest
//! entry and size) is read from the store at most every half second per instance, and the
//! `ETag` names it. The format is in `docs/revocation-feed.md`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::service::TokenService;
use super::TokenError;
use crate::config::Config;
use crate::store::{RevocationMark, RevocationRow};

/// `typ` of a feed answer: never taken for a token (RFC 8725 §3.11).
pub const FEED_TYP: &str = "revocations+jwt";
/// Entries in one answer; `more` tells the poller to ask again at once.
const PAGE: i64 = 1000;
/// How stale this instance's idea of the feed's mark may be.
const MARK_MAX_AGE: Duration = Duration::from_millis(500);
/// Signed answers kept (one per cursor asked about); cleared when full.
const SIGNED_KEPT: usize = 256;

/// One answer of the feed.
pub struct FeedPage {
    /// The compact JWS.
    pub jws: String,
    /// Names the feed as this answer saw it; `None` while `more` pages follow (a poller
    /// must not be told "nothing new" half-way).
    pub etag: Option<String>,
}

#[derive(Serialize)]
struct FeedClaims<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    iat: i64,
    since: i64,
    cursor: i64,
    more: bool,
    sessions: Vec<SessionEntry<'a>>,
    users: Vec<UserEntry<'a>>,
}

#[derive(Serialize)]
struct SessionEntry<'a> {
    sid: &'a str,
    until: i64,
}

#[derive(Serialize)]
struct UserEntry<'a> {
    user_id: &'a str,
    not_before: i64,
    until: i64,
}

/// What one instance keeps to answer polls cheaply.
pub(super) struct RevocationFeed {
    issuer: Option<String>,
    /// Seconds an entry concerns a live token: the access-token lifetime and leeway.
    horizon: i64,
    mark: Mutex<Option<(RevocationMark, Instant)>>,
    /// One read of the mark at a time; the others answer from the one they have.
    reading: tokio::sync::Mutex<()>,
    /// Signed answers by cursor, handed out again to pollers asking the same question
    /// within the same second (of the service's clock) while the feed is unchanged.
    signed: Mutex<HashMap<i64, (RevocationMark, i64, FeedPage)>>,
}

impl Clone for FeedPage {
    fn clone(&self) -> Self {
        Self { jws: self.jws.clone(), etag: self.etag.clone() }
    }
}

fn etag(mark: RevocationMark) -> String {
    format!("\"{}-{}\"", mark.newest, mark.count)
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl RevocationFeed {
    pub(super) fn new(config: &Config) -> Self {
        let horizon = config.access_token_lifetime.as_secs() + config.jwt_leeway.as_secs() + 5;
        Self {
            issuer: config.jwt_issuer.clone(),
            horizon: i64::try_from(horizon).unwrap_or(i64::MAX),
            mark: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            signed: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds after a revocation that it still concerns a live token.
    pub(super) fn horizon(&self) -> i64 {
        self.horizon
    }

    fn remember(&self, mark: RevocationMark) {
        *locked(&self.mark) = Some((mark, Instant::now()));
    }
}

impl TokenService {
    /// Whether documents others verify against the JWKS (the feed, Security Event
    /// Tokens) can be signed: with a key pair of the service's own, or the identity
    /// provider's (an HMAC service without clients publishes no key).
    pub fn signs_with_published_key(&self) -> bool {
        self.provider_keys.can_sign_access()
    }

    /// The feed's current `ETag`, from memory when read less than half a second ago.
    /// While the store cannot be read, the last one read: nothing can be revoked then.
    pub async fn revocation_feed_etag(&self) -> Result<String, TokenError> {
        let feed = &self.feed;
        let seen = *locked(&feed.mark);
        if let Some((mark, at)) = seen {
            if at.elapsed() < MARK_MAX_AGE {
                return Ok(etag(mark));
            }
        }
        let _one_at_a_time = match (feed.reading.try_lock(), seen) {
            (Ok(guard), _) => guard,
            (Err(_), Some((mark, _))) => return Ok(etag(mark)),
            (Err(_), None) => feed.reading.lock().await,
        };
        match self.store.revocation_mark().await {
            Ok(mark) => {
                feed.remember(mark);
                Ok(etag(mark))
            }
            Err(e) => match seen {
                Some((mark, _)) => {
                    tracing::warn!(error = %e, "could not read the revocation feed's mark; answering from the last one");
                    Ok(etag(mark))
                }
                None => Err(e.into()),
            },
        }
    }

    /// The entries after `since` that still concern a live token, signed.
    pub async fn revocation_feed(&self, since: i64) -> Result<FeedPage, TokenError> {
        let feed = &self.feed;
        let now = self.clock.now();
        let live_after = now.saturating_sub(feed.horizon);
        let (mark, settled, mut rows) = self.store.revocations_since(since, live_after, PAGE).await?;
        // A cursor this store never gave (its database restored from a backup, say): the
        // poller starts again from the beginning rather than waiting for the sequence to
        // catch up with it, and missing what is revoked meanwhile.
        let restart = since > mark.newest;
        if restart {
            rows = self.store.revocations_since(0, live_after, PAGE).await?.2;
        }
        feed.remember(mark);
        if let Some((_, _, page)) =
            locked(&feed.signed).get(&since).filter(|(m, signed_at, _)| *m == mark && *signed_at == now)
        {
            return Ok(page.clone());
        }
        let more = rows.len() as i64 == PAGE;
        // A full page moves the cursor past it, whatever it holds. Otherwise the cursor
        // stops at the newest entry that cannot be overtaken by one committing late (see
        // `Store::revocations_since`): newer ones are sent again next time, harmlessly.
        let cursor = match rows.last() {
            Some(last) if more => last.seq,
            _ if restart => settled,
            _ => since.max(settled),
        };
        let claims = claims(feed, &rows, now, since, cursor, more);
        let jws = self.provider_keys.sign(FEED_TYP, &claims).map_err(TokenError::Signing)?;
        let page = FeedPage { jws, etag: (!more).then(|| etag(mark)) };
        let mut signed = locked(&feed.signed);
        if signed.len() >= SIGNED_KEPT {
            signed.clear();
        }
        signed.insert(since, (mark, now, page.clone()));
        Ok(page)
    }

    /// Drops entries no live token can concern any more (run periodically).
    pub async fn prune_revocation_feed(&self) -> Result<u64, TokenError> {
        let live_after = self.clock.now().saturating_sub(self.feed.horizon());
        Ok(self.store.prune_revocations(live_after).await?)
    }
}

fn claims<'a>(
    feed: &'a RevocationFeed,
    rows: &'a [RevocationRow],
    now: i64,
    since: i64,
    cursor: i64,
    more: bool,
) -> FeedClaims<'a> {
    let until = |at: i64| at.saturating_add(feed.horizon);
    let sessions = rows
        .iter()
        .filter(|r| r.kind == "session")
        .map(|r| SessionEntry { sid: &r.subject, until: until(r.at) })
        .collect();
    let users = rows
        .iter()
        .filter(|r| r.kind == "user")
        .map(|r| UserEntry { user_id: &r.subject, not_before: r.at, until: until(r.at) })
        .collect();
    FeedClaims { iss: feed.issuer.as_deref(), iat: now, since, cursor, more, sessions, users }
}
