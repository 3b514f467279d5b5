//! Access tokens this thread has already verified, with their claims.
//!
//! A client sends the same access token with every call for its whole lifetime, and the
//! signature check and claims parsing were a sixth of the protected route's CPU time.
//! A token whose exact bytes passed every check once passes the signature, algorithm,
//! `kid`, shape, issuer and audience checks again, so its claims are taken from here;
//! the checks that depend on the time are made again at every use by the codec, and
//! whether its session and user still stand is asked at every use by the caller.
//!
//! SECURITY: only tokens that passed every check are put here, keyed by their whole text
//! (compared in full and in constant time, not by hash); putting in a different key ring
//! forgets every entry, including those a verification still running with the old ring
//! would add. Bounded: a fixed number of slots per thread, a newcomer replaces whatever
//! was in its slot. The tokens held are access tokens, short-lived, that the same
//! process held anyway while serving them.

use std::cell::RefCell;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use super::claims::Claims;
use crate::crypto::constant_time_eq;

/// Slots per thread: a worker serving a few hundred clients at once still mostly hits.
const SLOTS: usize = 256;

/// One codec's view of the per-thread caches.
pub struct VerifiedTokens {
    /// Which codec the entries belong to (tests run several in one thread).
    codec: u64,
    /// Bumped when a new key ring is put in; entries of an older one are ignored.
    generation: AtomicU64,
}

static NEXT_CODEC: AtomicU64 = AtomicU64::new(1);

struct Slot {
    token: Box<str>,
    claims: Claims,
}

struct Cache {
    /// The codec and generation the slots belong to.
    owner: (u64, u64),
    hasher: RandomState,
    slots: Vec<Option<Slot>>,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache {
        owner: (0, 0),
        hasher: RandomState::new(),
        slots: Vec::new(),
    });
}

impl Cache {
    fn index(&self, token: &str) -> usize {
        // The signature's tail: a MAC or signature, different for every token.
        let tail = &token.as_bytes()[token.len().saturating_sub(16)..];
        (self.hasher.hash_one(tail) as usize) % SLOTS
    }
}

impl VerifiedTokens {
    pub fn new() -> Self {
        Self { codec: NEXT_CODEC.fetch_add(1, Ordering::Relaxed), generation: AtomicU64::new(0) }
    }

    /// The generation to pass to `put` for a verification starting now.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets every entry, on every thread (after a new key ring is in place).
    pub fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The claims of `token` if this thread verified exactly this token under the
    /// current key ring.
    pub fn get(&self, token: &str) -> Option<Claims> {
        let owner = (self.codec, self.generation());
        CACHE.with_borrow(|cache| {
            if cache.owner != owner {
                return None;
            }
            let slot = cache.slots.get(cache.index(token))?.as_ref()?;
            // In constant time: how far a guess matches says nothing of the token held.
            constant_time_eq(&slot.token, token).then(|| slot.claims.clone())
        })
    }

    /// Remembers a token that passed every check in a verification that started at
    /// `generation`; nothing if the key ring changed since.
    pub fn put(&self, token: &str, claims: &Claims, generation: u64) {
        let owner = (self.codec, generation);
        if self.generation() != generation {
            return;
        }
        CACHE.with_borrow_mut(|cache| {
            if cache.owner != owner {
                cache.owner = owner;
                cache.slots.clear();
                cache.slots.resize_with(SLOTS, || None);
            }
            let index = cache.index(token);
            cache.slots[index] = Some(Slot { token: token.into(), claims: claims.clone() });
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tokens::TokenType;

    fn claims(sub: &str) -> Claims {
        Claims::example(TokenType::Access, 100, sub)
    }

    #[test]
    fn only_the_exact_token_of_the_current_ring_and_codec_is_found() {
        let cache = VerifiedTokens::new();
        let other_codec = VerifiedTokens::new();
        let g = cache.generation();
        cache.put("a.b.signature-one", &claims("one"), g);
        assert_eq!(cache.get("a.b.signature-one").unwrap().sub, "one");
        // Same tail, other text: compared in full.
        assert!(cache.get("x.b.signature-one").is_none());
        assert!(other_codec.get("a.b.signature-one").is_none());
        // Another thread has a cache of its own.
        std::thread::scope(|s| {
            s.spawn(|| assert!(cache.get("a.b.signature-one").is_none()));
        });
        cache.forget_all();
        assert!(cache.get("a.b.signature-one").is_none());
        cache.put("a.b.signature-two", &claims("two"), cache.generation());
        assert_eq!(cache.get("a.b.signature-two").unwrap().sub, "two");
        // A verification that began before the new ring adds nothing, and takes nothing
        // away from what was verified since.
        cache.put("a.b.signature-three", &claims("three"), g);
        assert!(cache.get("a.b.signature-three").is_none());
        assert_eq!(cache.get("a.b.signature-two").unwrap().sub, "two");
    }

    #[test]
    fn a_newcomer_takes_the_place_of_another_and_each_keeps_its_own_claims() {
        let cache = VerifiedTokens::new();
        let tokens: Vec<String> = (0..SLOTS * 4).map(|i| format!("a.b.sig-{i:08}")).collect();
        for (i, token) in tokens.iter().enumerate() {
            cache.put(token, &claims(&i.to_string()), cache.generation());
        }
        let found: Vec<usize> = (0..tokens.len()).filter(|&i| cache.get(&tokens[i]).is_some()).collect();
        assert!(found.len() <= SLOTS, "{} of {} tokens held", found.len(), tokens.len());
        assert!(found.contains(&(tokens.len() - 1)), "the latest is held");
        for i in found {
            assert_eq!(cache.get(&tokens[i]).unwrap().sub, i.to_string());
        }
    }
}
