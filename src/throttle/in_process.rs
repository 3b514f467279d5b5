//! In-process sliding-window logs: the throttle's counters without Redis, and its
//! fall-back while Redis is unreachable.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::Window;

/// Sliding-window logs in this process: per key, the times of its events with their ids.
#[derive(Default)]
pub(super) struct LocalWindows {
    events: Mutex<HashMap<String, VecDeque<(i64, String)>>>,
}

/// Past this many keys, stale ones are swept out on the next write.
const LOCAL_SWEEP_AT: usize = 10_000;

impl LocalWindows {
    /// The wait (ms) before one more event fits in every window; 0 when it fits now.
    fn wait(events: &mut HashMap<String, VecDeque<(i64, String)>>, windows: &[Window], now: i64) -> i64 {
        windows
            .iter()
            .map(|w| match events.get_mut(&w.key) {
                Some(log) => {
                    while log.front().is_some_and(|(t, _)| *t <= now - w.window_ms) {
                        log.pop_front();
                    }
                    if log.len() >= w.limit as usize {
                        // Wait until enough old events leave for one more to fit.
                        let idx = log.len() - w.limit as usize;
                        log.get(idx).map_or(0, |(t, _)| t + w.window_ms - now)
                    } else {
                        0
                    }
                }
                None => 0,
            })
            .max()
            .unwrap_or(0)
    }

    /// Checks and counts under one lock: see `Throttle::take`.
    pub(super) fn take(&self, windows: &[Window], now: i64, member: &str) -> i64 {
        let Ok(mut events) = self.events.lock() else { return 0 };
        let wait = Self::wait(&mut events, windows, now);
        if wait > 0 {
            return wait;
        }
        if events.len() >= LOCAL_SWEEP_AT {
            let longest = windows.iter().map(|w| w.window_ms).max().unwrap_or(0);
            events.retain(|_, log| log.back().is_some_and(|(t, _)| *t > now - longest.max(3_600_000)));
        }
        for w in windows {
            let log = events.entry(w.key.clone()).or_default();
            log.push_back((now, member.to_string()));
            // Never more than the limit plus one is needed to answer.
            while log.len() > w.limit as usize + 1 {
                log.pop_front();
            }
        }
        0
    }

    /// Events of `key` in its window.
    pub(super) fn count(&self, key: &str, window_ms: i64, now: i64) -> u32 {
        let Ok(events) = self.events.lock() else { return 0 };
        events.get(key).map_or(0, |log| log.iter().filter(|(t, _)| *t > now - window_ms).count() as u32)
    }

    /// Forgets `key` and every key that starts with `prefix`.
    pub(super) fn clear(&self, key: &str, prefix: &str) {
        let Ok(mut events) = self.events.lock() else { return };
        events.retain(|k, _| k != key && !k.starts_with(prefix));
    }

    /// Clears `reset` and takes `member` back out of `keys`.
    pub(super) fn release(&self, reset: &str, keys: &[String], member: &str) {
        let Ok(mut events) = self.events.lock() else { return };
        events.remove(reset);
        for key in keys {
            if let Some(log) = events.get_mut(key) {
                log.retain(|(_, m)| m != member);
            }
        }
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
        for (i, t) in [0, 100, 200].into_iter().enumerate() {
            assert_eq!(local.take(&win, t, &i.to_string()), 0);
        }
        // Full: the oldest (t=0) leaves at t=1000; a refused attempt counts nowhere.
        assert_eq!(local.take(&win, 300, "x"), 700);
        assert_eq!(local.take(&win, 999, "x"), 1);
        assert_eq!(local.take(&win, 1000, "y"), 0);
        local.release("k", &[], "");
        assert_eq!(local.take(&win, 300, "z"), 0);
    }

    #[test]
    fn a_released_attempt_leaves_its_window() {
        let local = LocalWindows::default();
        let win = [w(1, 1000)];
        assert_eq!(local.take(&win, 0, "a"), 0);
        assert!(local.take(&win, 1, "b") > 0);
        local.release("other", &["k".to_string()], "a");
        assert_eq!(local.take(&win, 2, "c"), 0);
    }
}
