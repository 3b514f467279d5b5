//! Sliding-window logs in Redis, shared by every instance: each check-and-count is one
//! Lua script, so no other attempt runs between the check and the count.

use std::time::Duration;

use super::{RedisError, Window};

/// Sliding-window logs in Redis: one sorted set per key, scored by time in ms.
pub(super) struct RedisWindows {
    conn: redis::aio::ConnectionManager,
    prefix: String,
    take: redis::Script,
    release: redis::Script,
}

/// KEYS: the counters; ARGV: now, a unique member, then (limit, window) per key.
/// Returns the longest wait in ms; when it is 0 the member was added to every key.
/// One script, so no other attempt runs between the check and the count.
const TAKE_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i + 1])
  local window = tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i + 1])
  local window = tonumber(ARGV[2 * i + 2])
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 2))
  redis.call('PEXPIRE', key, window)
end
return 0
";

/// KEYS[1]: the counter to clear; the others: counters to take ARGV[1] out of.
const RELEASE_SCRIPT: &str = r"
redis.call('DEL', KEYS[1])
for i = 2, #KEYS do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return 1
";

impl RedisWindows {
    pub(super) fn new(url: &str, prefix: &str) -> Result<Self, RedisError> {
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
            take: redis::Script::new(TAKE_SCRIPT),
            release: redis::Script::new(RELEASE_SCRIPT),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:throttle:{key}", self.prefix)
    }

    pub(super) async fn take(&self, windows: &[Window], now: i64, member: &str) -> Result<i64, RedisError> {
        let mut call = self.take.prepare_invoke();
        call.arg(now).arg(member);
        for w in windows {
            call.key(self.key(&w.key)).arg(w.limit).arg(w.window_ms);
        }
        let mut conn = self.conn.clone();
        call.invoke_async(&mut conn).await.map_err(|e| RedisError(e.to_string()))
    }

    /// Events of `key` in its window.
    pub(super) async fn count(&self, key: &str, window_ms: i64, now: i64) -> Result<u32, RedisError> {
        let mut conn = self.conn.clone();
        let n: i64 = redis::cmd("ZCOUNT")
            .arg(self.key(key))
            .arg(format!("({}", now - window_ms))
            .arg("+inf")
            .query_async(&mut conn)
            .await
            .map_err(|e| RedisError(e.to_string()))?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Deletes `key` and every key that starts with `prefix` (found with SCAN, a batch at a
    /// time, so a large keyspace does not block Redis).
    pub(super) async fn clear(&self, key: &str, prefix: &str) -> Result<(), RedisError> {
        let mut conn = self.conn.clone();
        let fail = |e: redis::RedisError| RedisError(e.to_string());
        let _: i64 = redis::cmd("DEL").arg(self.key(key)).query_async(&mut conn).await.map_err(fail)?;
        let pattern = format!("{}*", self.key(prefix));
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut conn)
                .await
                .map_err(fail)?;
            if !keys.is_empty() {
                let _: i64 = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await.map_err(fail)?;
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    pub(super) async fn release(&self, reset: &str, keys: &[String], member: &str) -> Result<(), RedisError> {
        let mut call = self.release.prepare_invoke();
        call.key(self.key(reset)).arg(member);
        for key in keys {
            call.key(self.key(key));
        }
        let mut conn = self.conn.clone();
        let _: i64 = call.invoke_async(&mut conn).await.map_err(|e| RedisError(e.to_string()))?;
        Ok(())
    }
}
