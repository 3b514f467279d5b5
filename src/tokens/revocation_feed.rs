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
use crate::store::{RevocationMark, RevocationRow, StoreError};

/// `typ` of a feed answer: never taken for a token (RFC 8725 §3.11).
pub const FEED_TYP: &str = "revocations+jwt";
/// Entries in one answer; `more` tells the poller to ask again at once.
const PAGE: i64 = 1000;
/// How stale this instance's idea of the feed's mark may be.
const MARK_MAX_AGE: Duration = Duration::from_millis(500);
/// How stale it may be while the store cannot be read (or another read is slow). Past
/// this the feed answers `503`, never `304`: a poller must not be told "nothing new" on
/// old knowledge, and its fail-closed clock must run.
const MARK_STALE_LIMIT: Duration = Duration::from_secs(2);
/// Answers read from the store at once; the others wait (briefly) or get `503`, so a
/// flood of made-up cursors cannot take the store's connections from everyone else.
const PAGE_READS: usize = 4;
/// How long an answer waits for its turn to read.
const PAGE_WAIT: Duration = Duration::from_secs(1);
/// Slack for clocks that disagree between the instance that issued a token and the one
/// that revoked it: an entry outlives the token it concerns by this much.
const CLOCK_SLACK: u64 = 60;
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
    /// Turns to read a page from the store (`PAGE_READS`).
    pages: tokio::sync::Semaphore,
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
        let horizon = config.access_token_lifetime.as_secs() + config.jwt_leeway.as_secs() + CLOCK_SLACK;
        Self {
            issuer: config.jwt_issuer.clone(),
            horizon: i64::try_from(horizon).unwrap_or(i64::MAX),
            mark: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
            pages: tokio::sync::Semaphore::new(PAGE_READS),
            signed: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds after a revocation that it still concerns a live token (with slack).
    pub(super) fn horizon(&self) -> i64 {
        self.horizon
    }

    /// Keeps `mark`, read from a query started at `asked`: its age counts from then, and
    /// a slower read never replaces a newer mark.
    fn remember(&self, mark: RevocationMark, asked: Instant) {
        let mut kept = locked(&self.mark);
        if kept.is_none_or(|(_, at)| at <= asked) {
            *kept = Some((mark, asked));
        }
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
    /// While the store cannot be read, the last one read, for two seconds; then an error.
    pub async fn revocation_feed_etag(&self) -> Result<String, TokenError> {
        let feed = &self.feed;
        let fresh = |seen: Option<(RevocationMark, Instant)>, age: Duration| {
            seen.filter(|(_, at)| at.elapsed() < age).map(|(mark, _)| mark)
        };
        let seen = *locked(&feed.mark);
        if let Some(mark) = fresh(seen, MARK_MAX_AGE) {
            return Ok(etag(mark));
        }
        let usable = fresh(seen, MARK_STALE_LIMIT);
        let _one_at_a_time = match (feed.reading.try_lock(), usable) {
            (Ok(guard), _) => guard,
            (Err(_), Some(mark)) => return Ok(etag(mark)),
            (Err(_), None) => feed.reading.lock().await,
        };
        // Read by another request while this one waited?
        if let Some(mark) = fresh(*locked(&feed.mark), MARK_MAX_AGE) {
            return Ok(etag(mark));
        }
        let asked = Instant::now();
        let read = tokio::time::timeout(MARK_STALE_LIMIT, self.store.revocation_mark()).await;
        match (read, usable) {
            (Ok(Ok(mark)), _) => {
                feed.remember(mark, asked);
                Ok(etag(mark))
            }
            (_, Some(mark)) => Ok(etag(mark)),
            (Ok(Err(e)), None) => Err(e.into()),
            (Err(_), None) => {
                Err(StoreError::Unavailable("the revocation feed's mark was not read in time".into()).into())
            }
        }
    }

    /// The entries after `since` that still concern a live token, signed; `None` when
    /// the store is busy with other answers (the caller answers `503`).
    pub async fn revocation_feed(&self, since: i64) -> Result<Option<FeedPage>, TokenError> {
        let feed = &self.feed;
        let now = self.clock.now();
        let cached = |mark: RevocationMark| {
            locked(&feed.signed)
                .get(&since)
                .filter(|(m, at, _)| *m == mark && *at == now)
                .map(|(_, _, p)| p.clone())
        };
        // The same question in the same second, the feed unchanged: the same answer.
        if let Some(page) =
            locked(&feed.mark).filter(|(_, at)| at.elapsed() < MARK_MAX_AGE).and_then(|(m, _)| cached(m))
        {
            return Ok(Some(page));
        }
        // A made-up cursor (beyond the newest entry) is answered from memory.
        if let Some((mark, _)) =
            locked(&feed.mark).filter(|(m, at)| at.elapsed() < MARK_MAX_AGE && since > m.newest)
        {
            return self.sign_page(&[], mark, now, since, 0, true).map(Some);
        }
        let Ok(Ok(_turn)) = tokio::time::timeout(PAGE_WAIT, feed.pages.acquire()).await else {
            return Ok(None);
        };
        let live_after = now.saturating_sub(feed.horizon);
        let asked = Instant::now();
        let (mark, rows) = self.store.revocations_since(since, live_after, PAGE).await?;
        feed.remember(mark, asked);
        // A cursor this store never gave (its database restored from a backup, say): the
        // poller starts again from the beginning rather than waiting for the sequence to
        // catch up with it and missing what is revoked meanwhile. The answer only says so
        // (an empty page, cursor 0, `more`), cheaply: made-up cursors cost no more reads.
        let restart = since > mark.newest;
        if let Some(page) = cached(mark) {
            return Ok(Some(page));
        }
        let more = restart || rows.len() as i64 == PAGE;
        // Entries become visible in the order of their numbers (see the store), so every
        // entry up to the mark's newest was read, or expired.
        let cursor = match rows.last() {
            _ if restart => 0,
            Some(last) if more => last.seq,
            last => since.max(mark.newest).max(last.map_or(0, |l| l.seq)),
        };
        let rows = if restart { &[][..] } else { &rows[..] };
        let page = self.sign_page(rows, mark, now, since, cursor, more)?;
        if !restart {
            let mut signed = locked(&feed.signed);
            if signed.len() >= SIGNED_KEPT {
                signed.clear();
            }
            signed.insert(since, (mark, now, page.clone()));
        }
        Ok(Some(page))
    }

    fn sign_page(
        &self,
        rows: &[RevocationRow],
        mark: RevocationMark,
        now: i64,
        since: i64,
        cursor: i64,
        more: bool,
    ) -> Result<FeedPage, TokenError> {
        let claims = claims(&self.feed, rows, now, since, cursor, more);
        let jws = self.provider_keys.sign(FEED_TYP, &claims).map_err(TokenError::Signing)?;
        Ok(FeedPage { jws, etag: (!more).then(|| etag(mark)) })
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

/// Security Event Tokens are signed as the feed is: with the published key.
impl crate::notify::webhooks::EventSigner for TokenService {
    fn can_sign(&self) -> bool {
        self.signs_with_published_key()
    }

    fn sign(&self, typ: &str, claims: &serde_json::Value) -> Result<String, String> {
        self.provider_keys.sign(typ, claims).map_err(|e| e.to_string())
    }
}
