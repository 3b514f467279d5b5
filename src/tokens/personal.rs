//! Personal access tokens on protected routes: their format (a prefix and a checksum, so
//! secret scanners find leaked ones and a mistyped one costs no query), their check
//! against the store through the per-instance cache, and the record of their use,
//! written in batches rather than once per request.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tracing::warn;

use super::access::{AccessError, LOOKUP_TIMEOUT};
use super::service::TokenService;
use crate::crypto::sha256_hex;
use crate::domain::{ClientInfo, Timestamp};
use crate::store::{AuditMeta, PersonalTokenRow, StoreError, TokenUse, UserWithRoles};
use crate::throttle::address_key;

/// What every personal access token starts with.
pub const PREFIX: &str = "atn_";
/// Random characters after the prefix: 32 of 62 kinds, about 190 bits.
const SECRET_CHARS: usize = 32;
/// CRC-32 (ISO-HDLC, as zlib's) of the random part, in base 62, zero-padded.
const CHECKSUM_CHARS: usize = 6;
/// The whole token's length.
pub const TOKEN_CHARS: usize = PREFIX.len() + SECRET_CHARS + CHECKSUM_CHARS;
/// How much of a token lists show: the prefix and four random characters.
const SHOWN_CHARS: usize = PREFIX.len() + 4;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// New addresses remembered per token and batch: a token used from more is audited for
/// the first ones; the rest wait for a later batch.
const NEW_ADDRESSES_PER_BATCH: usize = 16;
/// Past this many (token, address) pairs known to be recorded, the memory starts over.
const KNOWN_ADDRESSES_MAX: usize = 100_000;

fn checksum(secret: &str) -> String {
    let mut n = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(secret.as_bytes());
    let mut out = [b'0'; CHECKSUM_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A new token: `atn_`, 32 random base-62 characters, and their 6-character checksum.
pub fn generate() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    // Uniform over 0-9A-Za-z, from the thread's CSPRNG (seeded by the OS).
    let secret = Alphanumeric.sample_string(&mut rand::rng(), SECRET_CHARS);
    let sum = checksum(&secret);
    format!("{PREFIX}{secret}{sum}")
}

/// Whether `token` has the shape of one of ours and its checksum holds.
pub fn well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(PREFIX) else { return false };
    if rest.len() != SECRET_CHARS + CHECKSUM_CHARS || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (secret, sum) = rest.split_at(SECRET_CHARS);
    checksum(secret) == sum
}

/// What lists show of a token (`atn_` and four characters).
pub fn shown_prefix(token: &str) -> String {
    token.chars().take(SHOWN_CHARS).collect()
}

/// Whether a bearer credential is meant to be a personal access token.
pub fn looks_personal(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// The caller behind a valid personal access token.
pub struct PersonalCaller {
    pub user: Arc<UserWithRoles>,
    pub token: Arc<PersonalTokenRow>,
}

/// Addresses refused personal access token lookups, and until when (Unix seconds, on
/// the system clock: the throttle's windows run in real time).
#[derive(Default)]
pub(super) struct FailedLookups {
    blocked: Mutex<HashMap<String, i64>>,
}

/// Past this many blocked addresses the memory starts over (the shared counters stay).
const BLOCKED_MAX: usize = 10_000;

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl FailedLookups {
    /// Seconds left for a blocked address; `None` when it may look up.
    fn blocked(&self, address: &str) -> Option<u64> {
        let blocked = self.blocked.lock().ok()?;
        let left = blocked.get(address)? - unix_now();
        (left > 0).then(|| u64::try_from(left).unwrap_or(1))
    }

    fn block(&self, address: &str, seconds: u64) {
        // No address (an embedding without a peer address): no bucket shared by all.
        if address.is_empty() {
            return;
        }
        let Ok(mut blocked) = self.blocked.lock() else { return };
        if blocked.len() >= BLOCKED_MAX {
            let now = unix_now();
            blocked.retain(|_, until| *until > now);
            if blocked.len() >= BLOCKED_MAX {
                blocked.clear();
            }
        }
        blocked.insert(
            address.to_string(),
            unix_now().saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX)),
        );
    }
}

/// Uses seen since the last batch, and which addresses each token is known to have
/// been used from (so the first use from a new one is audited once).
#[derive(Default)]
pub(super) struct UsageLog {
    inner: Mutex<Usage>,
}

#[derive(Default)]
struct Usage {
    pending: HashMap<String, Pending>,
    /// (token id, address) pairs recorded in the store.
    known: HashSet<(String, String)>,
}

struct Pending {
    token: Arc<PersonalTokenRow>,
    at: Timestamp,
    ip: String,
    /// Addresses not known to be recorded yet: the client of their first use, and when.
    new_addresses: Vec<(ClientInfo, Timestamp)>,
}

impl Pending {
    fn add_address(&mut self, client: &ClientInfo, at: Timestamp) {
        if self.new_addresses.len() < NEW_ADDRESSES_PER_BATCH
            && !self.new_addresses.iter().any(|(c, _)| c.ip == client.ip)
        {
            self.new_addresses.push((client.clone(), at));
        }
    }
}

impl UsageLog {
    fn note(&self, token: &Arc<PersonalTokenRow>, client: &ClientInfo, at: Timestamp) {
        let Ok(mut usage) = self.inner.lock() else { return };
        let usage = &mut *usage;
        let known = usage.known.contains(&(token.id.clone(), client.ip.clone()));
        let pending = usage.pending.entry(token.id.clone()).or_insert_with(|| Pending {
            token: Arc::clone(token),
            at,
            ip: client.ip.clone(),
            new_addresses: Vec::new(),
        });
        if at >= pending.at {
            pending.at = at;
            if pending.ip != client.ip {
                pending.ip.clone_from(&client.ip);
            }
        }
        if !known {
            pending.add_address(client, at);
        }
    }

    fn take(&self) -> Vec<Pending> {
        self.inner.lock().map(|mut u| u.pending.drain().map(|(_, p)| p).collect()).unwrap_or_default()
    }

    /// The last use of a token not written yet.
    fn pending(&self, id: &str) -> Option<(Timestamp, String)> {
        let usage = self.inner.lock().ok()?;
        usage.pending.get(id).map(|p| (p.at, p.ip.clone()))
    }

    /// A batch that could not be written goes back, merged with what came since.
    fn put_back(&self, batch: Vec<Pending>) {
        let Ok(mut usage) = self.inner.lock() else { return };
        for p in batch {
            match usage.pending.get_mut(&p.token.id) {
                Some(newer) => {
                    for (client, at) in &p.new_addresses {
                        newer.add_address(client, *at);
                    }
                }
                None => {
                    usage.pending.insert(p.token.id.clone(), p);
                }
            }
        }
    }

    fn remember(&self, id: &str, ip: &str) {
        let Ok(mut usage) = self.inner.lock() else { return };
        if usage.known.len() >= KNOWN_ADDRESSES_MAX {
            usage.known.clear();
        }
        usage.known.insert((id.to_string(), ip.to_string()));
    }
}

impl TokenService {
    /// A protected route's check of a personal access token: its shape and checksum
    /// (no query for a mistyped or made-up one), then the stored token (revoked or
    /// expired: refused), then its user (inactive: refused). Tokens and users come from
    /// the short-lived cache; a revocation or deactivation on this instance drops them.
    pub async fn authenticate_personal(
        &self,
        token: &str,
        client: &ClientInfo,
    ) -> Result<PersonalCaller, AccessError> {
        if !well_formed(token) {
            return Err(AccessError::NotValid);
        }
        let stored = self.personal_token(&sha256_hex(token), &client.ip).await?;
        let now = self.clock.now();
        if !stored.is_usable(now) || self.past_max_lifetime(&stored, now) {
            return Err(AccessError::NotValid);
        }
        // Without the store, a token cannot be checked: refused (503), never trusted.
        let user = self
            .user_for_token(&stored.user_id)
            .await?
            .ok_or_else(|| StoreError::Unavailable("personal access token lookup".into()))?;
        if !user.user.is_active {
            return Err(AccessError::UserInactive);
        }
        self.usage.note(&stored, client, now);
        Ok(PersonalCaller { user, token: stored })
    }

    /// A maximum lifetime configured after a token was made still bounds it: a token made
    /// while none was set, or for longer, ends when the maximum says.
    fn past_max_lifetime(&self, token: &PersonalTokenRow, now: Timestamp) -> bool {
        self.personal_max_lifetime.is_some_and(|max| now >= token.created_at.saturating_add(max))
    }

    /// The stored token, from the cache when fresh. Without a prompt answer from the
    /// store it is refused (503).
    ///
    /// SECURITY: anyone can compute the checksum, so a made-up token can cost a query; an
    /// address whose made-up tokens pass the login limit per address is refused (`429`)
    /// before the query until the window lets it in again (remembered here, so a refused
    /// request costs neither the store nor Redis).
    async fn personal_token(&self, digest: &str, ip: &str) -> Result<Arc<PersonalTokenRow>, AccessError> {
        if let Some(token) = self.cache.personal_token(digest) {
            return Ok(token);
        }
        // Counted as the throttle counts addresses (an IPv6 client by its /64).
        let address = address_key(ip);
        if let Some(wait) = self.failed_lookups.blocked(&address) {
            return Err(AccessError::Throttled(wait));
        }
        let unavailable = |why: &str| AccessError::Store(StoreError::Unavailable(why.into()));
        if self.store_is_down() {
            return Err(unavailable("store down"));
        }
        let seen = self.cache.epoch();
        let token =
            match tokio::time::timeout(LOOKUP_TIMEOUT, self.store.personal_token_by_digest(digest)).await {
                Ok(Ok(Some(token))) => token,
                Ok(Ok(None)) => {
                    if let Some(wait) = self.throttle.personal_token_failed(ip).await {
                        self.failed_lookups.block(&address, wait);
                        return Err(AccessError::Throttled(wait));
                    }
                    return Err(AccessError::NotValid);
                }
                // SECURITY: not noted as the store being down: that would let access tokens
                // pass on their signature alone, and made-up tokens are anyone's to send.
                Ok(Err(StoreError::Unavailable(reason))) => return Err(unavailable(&reason)),
                Ok(Err(e)) => return Err(e.into()),
                Err(_) => return Err(unavailable("personal access token lookup timed out")),
            };
        let token = Arc::new(token);
        self.cache.put_personal_token(&token, seen);
        Ok(token)
    }

    /// When a token was last used, and from where, if this instance saw a use it has not
    /// written yet (lists show it without waiting for the batch).
    pub fn unwritten_personal_token_use(&self, token_id: &str) -> Option<(Timestamp, String)> {
        self.usage.pending(token_id)
    }

    /// Drops a user's cached tokens after one of them was revoked here.
    pub fn forget_personal_tokens(&self, user_id: &str) {
        self.cache.invalidate(user_id);
    }

    /// Writes the uses seen since the last batch: each token's last use and address,
    /// and (audited as `personal_token_used`) every address it was first used from. On a
    /// store fault the batch is kept for the next attempt.
    pub async fn flush_personal_token_uses(&self) -> Result<(), StoreError> {
        let batch = self.usage.take();
        if batch.is_empty() {
            return Ok(());
        }
        let uses: Vec<TokenUse> = batch
            .iter()
            .map(|p| TokenUse { token_id: p.token.id.clone(), at: p.at, ip: p.ip.clone() })
            .collect();
        if let Err(e) = self.store.record_personal_token_uses(&uses).await {
            self.usage.put_back(batch);
            return Err(e);
        }
        let mut failed = None;
        let mut retry = Vec::new();
        for mut p in batch {
            let mut left = Vec::new();
            for (client, at) in std::mem::take(&mut p.new_addresses) {
                let audit = AuditMeta::client(client.clone());
                match self.store.note_personal_token_address(&p.token, &client.ip, at, &audit).await {
                    Ok(_) => self.usage.remember(&p.token.id, &client.ip),
                    // The token is gone (its user deleted): nothing to record.
                    Err(StoreError::Conflict { .. }) => {}
                    Err(e) => {
                        left.push((client, at));
                        failed = Some(e);
                    }
                }
            }
            if !left.is_empty() {
                p.new_addresses = left;
                retry.push(p);
            }
        }
        if let Some(e) = failed {
            warn!(error = %e, "could not record the addresses personal access tokens were used from; retrying later");
            self.usage.put_back(retry);
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_a_checksum_that_catches_any_change() {
        let token = generate();
        assert_eq!(token.len(), TOKEN_CHARS);
        assert!(token.starts_with(PREFIX));
        assert!(well_formed(&token));
        assert_ne!(generate(), token);
        // Every single-character change is caught (CRC-32 detects all of them).
        for i in PREFIX.len()..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let changed = String::from_utf8(bytes).unwrap_or_default();
            assert!(!well_formed(&changed), "{changed}");
        }
        assert!(!well_formed(&token[..token.len() - 1]));
        assert!(!well_formed(&format!("{token}0")));
        assert!(!well_formed(&token.replacen(PREFIX, "atx_", 1)));
        assert_eq!(shown_prefix(&token), &token[..8]);
    }

    #[test]
    fn the_checksum_is_crc32_in_base62() {
        // CRC-32 of "123456789" is 0xCBF43926 = 3421780262, which is "3jZRME" in base 62
        // with the digits first (0-9, A-Z, a-z): zlib.crc32 and any base-62 encoder agree.
        assert_eq!(checksum("123456789"), "3jZRME");
    }
}
