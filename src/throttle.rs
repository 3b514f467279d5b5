//! Throttling (API.md "Throttling"): sliding-window counters of failed logins and of
//! registrations, kept in process or, with `AUTHENTICON_REDIS_URL`, in Redis so that
//! every instance sees the same counts.
//!
//! Why not a GCRA crate such as `governor`: these limits count *failures* only, are
//! reset by a success, and must report when the oldest failure leaves the window
//! (`Retry-After`). A sliding-window log does exactly that; in Redis it is a sorted set
//! per key, updated atomically by a short Lua script.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tracing::{info, warn};

/// Limits; a limit of 0 is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleLimits {
    pub login_per_user_and_address: u32,
    pub login_per_user: u32,
    pub login_per_address: u32,
    pub login_window: Duration,
    pub registrations_per_address: u32,
    pub registration_window: Duration,
    /// Password-reset requests, counted whether or not the address has an account.
    pub password_reset_per_address: u32,
    pub password_reset_per_email: u32,
    pub password_reset_window: Duration,
    /// Passwordless passkey logins started (each stores a challenge), per address, in
    /// the login window.
    pub passkey_logins_per_address: u32,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        Self {
            login_per_user_and_address: 5,
            login_per_user: 20,
            login_per_address: 100,
            login_window: Duration::from_secs(15 * 60),
            registrations_per_address: 1000,
            registration_window: Duration::from_secs(3600),
            password_reset_per_address: 20,
            password_reset_per_email: 5,
            password_reset_window: Duration::from_secs(3600),
            passkey_logins_per_address: 1000,
        }
    }
}

/// One counter: its key, its limit, its window.
#[derive(Debug, Clone)]
pub struct Window {
    key: String,
    limit: u32,
    window_ms: i64,
}

/// The counters one login attempt touches.
#[derive(Debug, Clone)]
pub struct LoginKeys {
    user_and_address: Window,
    others: [Window; 2],
}

#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
struct RedisError(String);

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
    pub fn new(limits: ThrottleLimits, redis_url: Option<&str>, key_prefix: &str) -> Result<Self, String> {
        let redis = match redis_url {
            Some(url) => Some(RedisWindows::new(url, key_prefix).map_err(|e| e.0)?),
            None => None,
        };
        Ok(Self { limits, local: LocalWindows::default(), redis, redis_down: AtomicBool::new(false) })
    }

    pub fn login_keys(&self, username_key: &str, address: &str) -> LoginKeys {
        let w = window_ms(self.limits.login_window);
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
                window("login-a", address.to_string(), self.limits.login_per_address),
            ],
        }
    }

    /// `Some(seconds)` when a login for these keys must wait that long.
    pub async fn check_login(&self, keys: &LoginKeys) -> Option<u64> {
        let all: Vec<Window> =
            std::iter::once(keys.user_and_address.clone()).chain(keys.others.clone()).collect();
        self.retry_after(&all).await
    }

    pub async fn login_failed(&self, keys: &LoginKeys) {
        let all: Vec<Window> =
            std::iter::once(keys.user_and_address.clone()).chain(keys.others.clone()).collect();
        self.record(&all).await;
    }

    /// A success clears the per-username-and-address count only: the wider counts keep
    /// slowing distributed guessing.
    pub async fn login_succeeded(&self, keys: &LoginKeys) {
        let key = keys.user_and_address.key.clone();
        if let Some(redis) = &self.redis {
            if self.redis_result(redis.reset(&key).await).is_some() {
                return;
            }
        }
        self.local.reset(&key);
    }

    /// Counts a registration attempt from `address`; `Some(seconds)` when over the limit.
    /// Counts a passwordless passkey login started from `address`; `Some(seconds)` when
    /// over the limit. Each start stores a challenge, so an unthrottled stream of them
    /// would be writes for free.
    pub async fn passkey_login(&self, address: &str) -> Option<u64> {
        let all = [Window {
            key: format!("passkey-a:{address}"),
            limit: self.limits.passkey_logins_per_address,
            window_ms: window_ms(self.limits.login_window),
        }];
        if let Some(wait) = self.retry_after(&all).await {
            return Some(wait);
        }
        self.record(&all).await;
        None
    }

    pub async fn registration(&self, address: &str) -> Option<u64> {
        let w = Window {
            key: format!("register-a:{address}"),
            limit: self.limits.registrations_per_address,
            window_ms: window_ms(self.limits.registration_window),
        };
        let all = [w];
        if let Some(wait) = self.retry_after(&all).await {
            return Some(wait);
        }
        self.record(&all).await;
        None
    }

    /// Counts a password-reset request; `Some(seconds)` when over a limit. The email is
    /// counted as typed (lower-cased), known or not, so the answer says nothing of it.
    pub async fn password_reset(&self, address: &str, email: &str) -> Option<u64> {
        let window_ms = window_ms(self.limits.password_reset_window);
        let all = [
            Window {
                key: format!("reset-a:{address}"),
                limit: self.limits.password_reset_per_address,
                window_ms,
            },
            Window {
                key: format!("reset-e:{}", email.to_lowercase()),
                limit: self.limits.password_reset_per_email,
                window_ms,
            },
        ];
        if let Some(wait) = self.retry_after(&all).await {
            return Some(wait);
        }
        self.record(&all).await;
        None
    }

    async fn retry_after(&self, windows: &[Window]) -> Option<u64> {
        let active: Vec<Window> = windows.iter().filter(|w| w.limit > 0).cloned().collect();
        if active.is_empty() {
            return None;
        }
        let now = now_ms();
        let wait_ms = match &self.redis {
            Some(redis) => match self.redis_result(redis.retry_after(&active, now).await) {
                Some(ms) => ms,
                None => self.local.retry_after(&active, now),
            },
            None => self.local.retry_after(&active, now),
        };
        // Whole seconds, rounded up: waiting the advertised time always suffices.
        (wait_ms > 0).then(|| (wait_ms as u64).div_ceil(1000).max(1))
    }

    async fn record(&self, windows: &[Window]) {
        let active: Vec<Window> = windows.iter().filter(|w| w.limit > 0).cloned().collect();
        if active.is_empty() {
            return;
        }
        let now = now_ms();
        if let Some(redis) = &self.redis {
            if self.redis_result(redis.record(&active, now).await).is_some() {
                return;
            }
        }
        self.local.record(&active, now);
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

/// Sliding-window logs in this process.
#[derive(Default)]
struct LocalWindows {
    events: Mutex<HashMap<String, VecDeque<i64>>>,
}

/// Past this many keys, stale ones are swept out on the next write.
const LOCAL_SWEEP_AT: usize = 10_000;

impl LocalWindows {
    fn retry_after(&self, windows: &[Window], now: i64) -> i64 {
        let Ok(mut events) = self.events.lock() else { return 0 };
        windows
            .iter()
            .map(|w| match events.get_mut(&w.key) {
                Some(log) => {
                    while log.front().is_some_and(|t| *t <= now - w.window_ms) {
                        log.pop_front();
                    }
                    if log.len() >= w.limit as usize {
                        // Wait until enough old events leave for one more to fit.
                        let idx = log.len() - w.limit as usize;
                        log.get(idx).map_or(0, |t| t + w.window_ms - now)
                    } else {
                        0
                    }
                }
                None => 0,
            })
            .max()
            .unwrap_or(0)
    }

    fn record(&self, windows: &[Window], now: i64) {
        let Ok(mut events) = self.events.lock() else { return };
        if events.len() >= LOCAL_SWEEP_AT {
            let longest = windows.iter().map(|w| w.window_ms).max().unwrap_or(0);
            events.retain(|_, log| log.back().is_some_and(|t| *t > now - longest.max(3_600_000)));
        }
        for w in windows {
            let log = events.entry(w.key.clone()).or_default();
            log.push_back(now);
            // Never more than the limit plus one is needed to answer.
            while log.len() > w.limit as usize + 1 {
                log.pop_front();
            }
        }
    }

    fn reset(&self, key: &str) {
        if let Ok(mut events) = self.events.lock() {
            events.remove(key);
        }
    }
}

/// Sliding-window logs in Redis: one sorted set per key, scored by time in ms.
struct RedisWindows {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    check: redis::Script,
    add: redis::Script,
}

/// KEYS: the counters; ARGV: now, then (limit, window) per key. Returns the longest wait
/// in ms (0: allowed).
const CHECK_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
return wait
";

/// KEYS: the counters; ARGV: now, a unique member, then (limit, window) per key.
const ADD_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i + 1])
  local window = tonumber(ARGV[2 * i + 2])
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 2))
  redis.call('PEXPIRE', key, window)
end
return 1
";

impl RedisWindows {
    fn new(url: &str, prefix: &str) -> Result<Self, RedisError> {
        let client = redis::Client::open(url).map_err(|e| RedisError(e.to_string()))?;
        // Fail fast while Redis is down (the in-process counters take over), and let the
        // manager reconnect in the background when it is back.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(250)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = redis::aio::ConnectionManager::new_lazy_with_config(client, config)
            .map_err(|e| RedisError(e.to_string()))?;
        Ok(Self {
            conn,
            prefix: prefix.to_string(),
            check: redis::Script::new(CHECK_SCRIPT),
            add: redis::Script::new(ADD_SCRIPT),
        })
    }

    fn key(&self, w: &Window) -> String {
        format!("{}:throttle:{}", self.prefix, w.key)
    }

    async fn retry_after(&self, windows: &[Window], now: i64) -> Result<i64, RedisError> {
        let mut call = self.check.prepare_invoke();
        call.arg(now);
        for w in windows {
            call.key(self.key(w)).arg(w.limit).arg(w.window_ms);
        }
        let mut conn = self.conn.clone();
        call.invoke_async(&mut conn).await.map_err(|e| RedisError(e.to_string()))
    }

    async fn record(&self, windows: &[Window], now: i64) -> Result<(), RedisError> {
        let mut call = self.add.prepare_invoke();
        call.arg(now).arg(format!("{now}-{}", uuid::Uuid::new_v4().simple()));
        for w in windows {
            call.key(self.key(w)).arg(w.limit).arg(w.window_ms);
        }
        let mut conn = self.conn.clone();
        let _: i64 = call.invoke_async(&mut conn).await.map_err(|e| RedisError(e.to_string()))?;
        Ok(())
    }

    async fn reset(&self, key: &str) -> Result<(), RedisError> {
        let mut conn = self.conn.clone();
        let _: i64 = redis::cmd("DEL")
            .arg(format!("{}:throttle:{key}", self.prefix))
            .query_async(&mut conn)
            .await
            .map_err(|e| RedisError(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(limit: u32, window_ms: i64) -> Window {
        Window { key: "k".into(), limit, window_ms }
    }

    #[test]
    fn local_window_counts_recent_events_only() {
        let local = LocalWindows::default();
        let win = [w(3, 1000)];
        for t in [0, 100, 200] {
            assert_eq!(local.retry_after(&win, t), 0);
            local.record(&win, t);
        }
        // Full: the oldest (t=0) leaves at t=1000.
        assert_eq!(local.retry_after(&win, 300), 700);
        assert_eq!(local.retry_after(&win, 999), 1);
        assert_eq!(local.retry_after(&win, 1000), 0);
        local.reset("k");
        assert_eq!(local.retry_after(&win, 300), 0);
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
        assert_eq!(t.check_login(&keys).await, None);
        t.login_failed(&keys).await;
        let wait = t.check_login(&keys).await.unwrap();
        assert!((899..=900).contains(&wait), "{wait}");
        // Another address for the same user is not held back by this counter.
        assert_eq!(t.check_login(&t.login_keys("alice", "10.0.0.2")).await, None);
        t.login_succeeded(&keys).await;
        assert_eq!(t.check_login(&keys).await, None);
    }
}
