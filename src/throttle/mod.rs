//! Throttling (API.md "Throttling"): sliding-window counters of failed logins and of
//! registrations, kept in process or, with `AUTHENTICON_REDIS_URL`, in Redis so that
//! every instance sees the same counts.
//!
//! Why not a GCRA crate such as `governor`: these limits count *failures* only, are
//! reset by a success, and must report when the oldest failure leaves the window
//! (`Retry-After`). A sliding-window log does exactly that; in Redis it is a sorted set
//! per key, updated atomically by a short Lua script.

mod in_process;
mod in_redis;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use in_process::LocalWindows;
use in_redis::RedisWindows;

use tracing::{info, warn};

use crate::config::ThrottleLimits;

/// One counter: its key, its limit, its window.
#[derive(Debug, Clone)]
pub struct Window {
    pub(super) key: String,
    pub(super) limit: u32,
    pub(super) window_ms: i64,
}

/// The counters one login attempt touches.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    user_and_address: Window,
    others: [Window; 2],
}

impl LoginKeys {
    fn all(&self) -> [Window; 3] {
        [self.user_and_address.clone(), self.others[0].clone(), self.others[1].clone()]
    }
}

/// A second-factor attempt holding its place (see `Throttle::begin_second_factor`).
#[derive(Debug)]
pub struct SecondFactorAttempt {
    by_address: String,
    by_login: String,
    member: String,
}

/// Why a second-factor attempt was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SecondFactorRefused {
    /// Too many from this address: wait this many seconds.
    Address(u64),
    /// This login took its wrong codes: it must start again.
    Login,
}

/// A login attempt that holds its place in every counter: it counts as a failure until
/// `Throttle::login_succeeded` takes it back, so attempts in flight are counted too.
#[derive(Debug)]
pub struct LoginAttempt {
    keys: LoginKeys,
    member: String,
}

/// Redis could not be reached or answered wrongly; at start-up, a URL it cannot use.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct RedisError(String);
pub struct Throttle {
    limits: ThrottleLimits,
    local: LocalWindows,
    redis: Option<RedisWindows>,
    /// Set while Redis is unreachable, so the fall-back is logged once, not per request.
    redis_down: AtomicBool,
}

fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos().div_euclid(1_000_000) as i64
}

fn window_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Throttle {
    /// In-process counters, or Redis ones when `redis_url` is given. Never connects here:
    /// Redis may come up after the service.
    pub fn new(
        limits: ThrottleLimits,
        redis_url: Option<&str>,
        key_prefix: &str,
    ) -> Result<Self, RedisError> {
        let redis = match redis_url {
            Some(url) => Some(RedisWindows::new(url, key_prefix)?),
            None => None,
        };
        Ok(Self { limits, local: LocalWindows::default(), redis, redis_down: AtomicBool::new(false) })
    }

    pub fn login_keys(&self, username_key: &str, address: &str) -> LoginKeys {
        let w = window_ms(self.limits.login_window);
        let address = address_key(address);
        let window =
            |kind: &str, id: String, limit: u32| Window { key: format!("{kind}:{id}"), limit, window_ms: w };
        LoginKeys {
            user_and_address: window(
                "login-ua",
                format!("{username_key}\u{0}{address}"),
                self.limits.login_per_user_and_address,
            ),
            others: [
                window("login-u", username_key.to_string(), self.limits.login_per_user),
                window("login-a", address, self.limits.login_per_address),
            ],
        }
    }

    /// Takes a place in every login counter before the password is checked, or says how
    /// many seconds to wait. SECURITY: the check and the count are one step (one lock,
    /// one Redis script), so a burst of parallel guesses gets no more checks than the
    /// limit; and since a refused attempt counts nowhere, one address can add at most
    /// its own per-username-and-address budget to the per-username count.
    pub async fn begin_login(&self, keys: &LoginKeys) -> Result<LoginAttempt, u64> {
        let member = self.take(&keys.all()).await?;
        Ok(LoginAttempt { keys: keys.clone(), member })
    }

    /// The password was right: the attempt was no failure. It leaves the wider counters,
    /// and the per-username-and-address count starts again (the wider counts keep slowing
    /// distributed guessing).
    pub async fn login_succeeded(&self, attempt: LoginAttempt) {
        let reset = attempt.keys.user_and_address.key.clone();
        let keys: Vec<String> = attempt.keys.others.iter().map(|w| w.key.clone()).collect();
        if let Some(redis) = &self.redis {
            if self.redis_result(redis.release(&reset, &keys, &attempt.member).await).is_some() {
                return;
            }
        }
        self.local.release(&reset, &keys, &attempt.member);
    }

    /// Failed logins of a username (from any address) in the login window, and whether
    /// that count stops further attempts.
    pub async fn login_failures(&self, username_key: &str) -> (u32, bool) {
        let key = format!("login-u:{username_key}");
        let w = window_ms(self.limits.login_window);
        let now = now_ms();
        let count = match &self.redis {
            Some(redis) => match self.redis_result(redis.count(&key, w, now).await) {
                Some(n) => n,
                None => self.local.count(&key, w, now),
            },
            None => self.local.count(&key, w, now),
        };
        let limit = self.limits.login_per_user;
        (count, limit > 0 && count >= limit)
    }

    /// Forgets every failed login of a username: the per-username count and its counts
    /// per username and address (an administrator lifting a lockout). The per-address
    /// counts stay: they are about the addresses, not the account.
    pub async fn clear_login(&self, username_key: &str) {
        let (key, prefix) = (format!("login-u:{username_key}"), format!("login-ua:{username_key}\u{0}"));
        if let Some(redis) = &self.redis {
            self.redis_result(redis.clear(&key, &prefix).await);
        }
        // Both: attempts counted here while Redis was away would lock on after it returned.
        self.local.clear(&key, &prefix);
    }

    /// Counts a passwordless passkey login started from `address`; `Some(seconds)` when
    /// over the limit. Each start stores a challenge, so an unthrottled stream of them
    /// would be writes for free.
    pub async fn passkey_login(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("passkey-a:{}", address_key(address)),
            limit: self.limits.passkey_logins_per_address,
            window_ms: window_ms(self.limits.login_window),
        }];
        self.take(&all).await.err()
    }

    /// Counts an authorization request from `address`; `Some(seconds)` when over the
    /// limit. Each one is stored until answered or expired.
    pub async fn authorization(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("authorize-a:{}", address_key(address)),
            limit: self.limits.authorizations_per_address,
            window_ms: window_ms(self.limits.login_window),
        }];
        self.take(&all).await.err()
    }

    /// Counts a wrong client secret from `address`; `Some(seconds)` when over the login
    /// limit per address. SECURITY: counted per address only, and only after a failure:
    /// a client's id is public, so a count per client would let anyone lock it out, and a
    /// right secret is never refused (a secret is 256 random bits: nothing to guess).
    pub async fn client_secret_failed(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("client-a:{}", address_key(address)),
            limit: self.limits.login_per_address,
            window_ms: window_ms(self.limits.login_window),
        }];
        self.take(&all).await.err()
    }

    /// Counts a personal access token from `address` that names no usable token (well
    /// formed, so it cost a query); `Some(seconds)` when over the login limit per address.
    /// Only failures count: a script using its token is never slowed.
    pub async fn personal_token_failed(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("pat-a:{}", address_key(address)),
            limit: self.limits.login_per_address,
            window_ms: window_ms(self.limits.login_window),
        }];
        self.take(&all).await.err()
    }

    /// Counts a registration attempt from `address`; `Some(seconds)` when over the limit.
    pub async fn registration(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("register-a:{}", address_key(address)),
            limit: self.limits.registrations_per_address,
            window_ms: window_ms(self.limits.registration_window),
        }];
        self.take(&all).await.err()
    }

    /// Counts a password-reset request; `Some(seconds)` when over a limit. The email is
    /// counted as typed (lower-cased), known or not, so the answer says nothing of it.
    pub async fn password_reset(&self, address: &str, email: &str) -> Option<u64> {
        let window_ms = window_ms(self.limits.password_reset_window);
        let all = [
            Window {
                key: format!("reset-a:{}", address_key(address)),
                limit: self.limits.password_reset_per_address,
                window_ms,
            },
            Window {
                key: format!("reset-e:{}", email.to_lowercase()),
                limit: self.limits.password_reset_per_email,
                window_ms,
            },
        ];
        self.take(&all).await.err()
    }

    /// Takes a place for a second-factor attempt, before the proof is checked: per
    /// address over all accounts (the login limit per address), and, when given, per
    /// login (the `mfa_token`'s id, with its number of tries).
    pub async fn begin_second_factor(
        &self,
        address: &str,
        login: Option<(&str, u32)>,
    ) -> Result<SecondFactorAttempt, SecondFactorRefused> {
        let window_ms = window_ms(self.limits.login_window);
        let by_address = Window {
            key: format!("mfa-a:{}", address_key(address)),
            limit: self.limits.login_per_address,
            window_ms,
        };
        let member =
            self.take(std::slice::from_ref(&by_address)).await.map_err(SecondFactorRefused::Address)?;
        let by_login = match login {
            Some((id, tries)) => {
                let w = Window { key: format!("mfa-t:{id}"), limit: tries, window_ms };
                if self.take(std::slice::from_ref(&w)).await.is_err() {
                    return Err(SecondFactorRefused::Login);
                }
                w.key
            }
            None => String::new(),
        };
        Ok(SecondFactorAttempt { by_address: by_address.key, by_login, member })
    }

    /// The proof was right: the attempt leaves the per-address count.
    pub async fn second_factor_succeeded(&self, attempt: SecondFactorAttempt) {
        let keys = [attempt.by_address];
        if let Some(redis) = &self.redis {
            if self.redis_result(redis.release(&attempt.by_login, &keys, &attempt.member).await).is_some() {
                return;
            }
        }
        self.local.release(&attempt.by_login, &keys, &attempt.member);
    }

    /// Atomically: when every window has room, counts one event in each and returns its
    /// member id; otherwise counts nothing and returns the wait in whole seconds.
    async fn take(&self, windows: &[Window]) -> Result<String, u64> {
        let member = format!("{}", uuid::Uuid::new_v4().simple());
        let active: Vec<Window> = windows.iter().filter(|w| w.limit > 0).cloned().collect();
        if active.is_empty() {
            return Ok(member);
        }
        let now = now_ms();
        let wait_ms = match &self.redis {
            Some(redis) => match self.redis_result(redis.take(&active, now, &member).await) {
                Some(ms) => ms,
                None => self.local.take(&active, now, &member),
            },
            None => self.local.take(&active, now, &member),
        };
        // Whole seconds, rounded up: waiting the advertised time always suffices.
        if wait_ms > 0 {
            Err((wait_ms as u64).div_ceil(1000).max(1))
        } else {
            Ok(member)
        }
    }

    /// Notes Redis going away and coming back, once each.
    fn redis_result<T>(&self, r: Result<T, RedisError>) -> Option<T> {
        match r {
            Ok(v) => {
                if self.redis_down.swap(false, Ordering::Relaxed) {
                    info!("Redis reachable again: rate limits are shared across instances again");
                }
                Some(v)
            }
            Err(e) => {
                if !self.redis_down.swap(true, Ordering::Relaxed) {
                    warn!(error = %e, "Redis unreachable: rate limits fall back to in-process counters");
                }
                None
            }
        }
    }
}

/// The key of a client address in the per-address counters. SECURITY: an IPv6 client
/// usually holds a whole /64 (and can pick any address in it), so it is counted as one.
pub fn address_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        _ => address.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        assert_eq!(address_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(address_key("2001:db8:1:2:ffff:1:2:3"), address_key("2001:db8:1:2::9"));
        assert_ne!(address_key("2001:db8:1:3::1"), address_key("2001:db8:1:2::1"));
        assert_eq!(address_key("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(address_key("192.0.2.1"), "192.0.2.1");
        assert_eq!(address_key(""), "");
    }

    #[tokio::test]
    async fn retry_after_rounds_up_to_whole_seconds() {
        let t = Throttle::new(
            ThrottleLimits { login_per_user_and_address: 1, ..ThrottleLimits::default() },
            None,
            "x",
        )
        .unwrap();
        let keys = t.login_keys("alice", "10.0.0.1");
        let attempt = t.begin_login(&keys).await.unwrap();
        let wait = t.begin_login(&keys).await.unwrap_err();
        assert!((899..=900).contains(&wait), "{wait}");
        // Another address for the same user is not held back by this counter.
        assert!(t.begin_login(&t.login_keys("alice", "10.0.0.2")).await.is_ok());
        t.login_succeeded(attempt).await;
        assert!(t.begin_login(&keys).await.is_ok());
    }

    #[tokio::test]
    async fn parallel_attempts_get_no_more_checks_than_the_limit() {
        let t = std::sync::Arc::new(Throttle::new(ThrottleLimits::default(), None, "x").unwrap());
        let keys = t.login_keys("alice", "10.0.0.1");
        let tasks: Vec<_> = (0..200)
            .map(|_| {
                let (t, keys) = (std::sync::Arc::clone(&t), keys.clone());
                tokio::spawn(async move { t.begin_login(&keys).await.is_ok() })
            })
            .collect();
        let mut admitted = 0;
        for task in tasks {
            admitted += usize::from(task.await.unwrap());
        }
        assert_eq!(admitted, 5);
    }
}
