//! The short-lived cache of users and their sessions behind protected routes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::store::{PersonalTokenRow, UserWithRoles};

/// Users as protected routes saw them a moment ago, so a busy route does not read the
/// same row thousands of times a second. Every change this instance makes drops the
/// entries it affects at once; changes made elsewhere (another instance, the command
/// line) are seen within `ttl`. A zero `ttl` turns the cache off.
pub struct UserCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, (Instant, Arc<UserWithRoles>)>>,
    /// Per user, per session id: whether the session stood when it was read. Kept by
    /// user so that every change that drops a user's entry drops their sessions too.
    sessions: RwLock<HashMap<String, SessionsOfUser>>,
    /// Personal access tokens by digest, as stored when read. A user's are dropped with
    /// the user's entry, so a revocation on this instance ends the token at once.
    personal: RwLock<HashMap<String, (Instant, Arc<PersonalTokenRow>)>>,
    /// Moves on at every invalidation. A lookup remembers it before asking the store and
    /// caches its answer only if it has not moved: an answer read just before a
    /// revocation committed must not be put back after the revocation dropped it.
    epoch: AtomicU64,
}

/// Per session id: when it was read, and whether it stood.
type SessionsOfUser = HashMap<String, (Instant, bool)>;

/// Past this many entries the cache starts over rather than grow without bound.
const USER_CACHE_MAX: usize = 100_000;

impl UserCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
            sessions: RwLock::new(HashMap::new()),
            personal: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
        }
    }

    /// To pass to `put` / `put_session` after the store lookup it precedes.
    pub(super) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    pub(super) fn session(&self, user_id: &str, session_id: &str) -> Option<bool> {
        let sessions = self.sessions.read().ok()?;
        let (at, live) = sessions.get(user_id)?.get(session_id)?;
        (at.elapsed() < self.ttl).then_some(*live)
    }

    pub(super) fn put_session(&self, user_id: &str, session_id: &str, live: bool, seen: u64) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut sessions) = self.sessions.write() {
            if self.epoch() != seen {
                return;
            }
            if sessions.len() >= USER_CACHE_MAX {
                sessions.clear();
            }
            let of_user = sessions.entry(user_id.to_string()).or_default();
            // A user with many sessions read in one cache lifetime: start their set over.
            if of_user.len() >= 64 {
                of_user.retain(|_, (at, _)| at.elapsed() < self.ttl);
            }
            of_user.insert(session_id.to_string(), (Instant::now(), live));
        }
    }

    /// Shared, not copied: the busiest routes read the user on every request.
    pub(super) fn get(&self, id: &str) -> Option<Arc<UserWithRoles>> {
        let entries = self.entries.read().ok()?;
        let (at, user) = entries.get(id)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(user))
    }

    pub(super) fn put(&self, user: &Arc<UserWithRoles>, seen: u64) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.write() {
            if self.epoch() != seen {
                return;
            }
            if entries.len() >= USER_CACHE_MAX {
                entries.clear();
            }
            entries.insert(user.user.id.clone(), (Instant::now(), Arc::clone(user)));
        }
    }

    pub(super) fn personal_token(&self, digest: &str) -> Option<Arc<PersonalTokenRow>> {
        let personal = self.personal.read().ok()?;
        let (at, token) = personal.get(digest)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(token))
    }

    pub(super) fn put_personal_token(&self, token: &Arc<PersonalTokenRow>, seen: u64) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut personal) = self.personal.write() {
            if self.epoch() != seen {
                return;
            }
            if personal.len() >= USER_CACHE_MAX {
                personal.clear();
            }
            // Kept small (what was used within the lifetime), since an invalidation
            // walks it; pruned each time it reaches a power of two, so rarely.
            if personal.len() >= 1024 && personal.len().is_power_of_two() {
                personal.retain(|_, (at, _)| at.elapsed() < self.ttl);
            }
            personal.insert(token.digest.clone(), (Instant::now(), Arc::clone(token)));
        }
    }

    /// After a change to the user, to any of their sessions or to any of their personal
    /// access tokens (a revocation).
    pub fn invalidate(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
        if let Ok(mut sessions) = self.sessions.write() {
            sessions.remove(id);
        }
        if let Ok(mut personal) = self.personal.write() {
            personal.retain(|_, (_, token)| token.user_id != id);
        }
    }

    /// After a change to a role, which any number of users may hold.
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_that_raced_an_invalidation_is_not_cached() {
        let cache = UserCache::new(Duration::from_secs(60));
        let seen = cache.epoch();
        // The revocation commits and drops the entries while the lookup is in flight…
        cache.invalidate("u1");
        // …so the lookup's (stale) "live" is not put back.
        cache.put_session("u1", "s1", true, seen);
        assert_eq!(cache.session("u1", "s1"), None);
        let seen = cache.epoch();
        cache.put_session("u1", "s1", false, seen);
        assert_eq!(cache.session("u1", "s1"), Some(false));
    }
}
