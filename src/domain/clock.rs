//! Time as the services see it. Every service reads the clock it was given, so tests
//! move time forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Unix seconds: every time the service keeps.
pub type Timestamp = i64;

/// The time now. `Send + Sync`: one clock serves every request.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        OffsetDateTime::now_utc().unix_timestamp()
    }
}

/// The system's clock moved forward by a settable amount: time still flows (timestamps
/// order as they happen), and a test jumps over a lifetime with `advance` instead of
/// waiting it out.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset: AtomicI64,
}

impl ShiftedClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock `secs` seconds ahead.
    pub fn advance(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> Timestamp {
        SystemClock.now().saturating_add(self.offset.load(Ordering::SeqCst))
    }
}

/// RFC 3339, as every JSON body writes times; empty for a time out of range.
pub fn rfc3339(t: Timestamp) -> String {
    OffsetDateTime::from_unix_timestamp(t).ok().and_then(|dt| dt.format(&Rfc3339).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_moves_ahead_and_keeps_flowing() {
        let clock = ShiftedClock::new();
        let before = SystemClock.now();
        clock.advance(3600);
        let now = clock.now();
        assert!(now >= before + 3600 && now <= SystemClock.now() + 3600, "{now} {before}");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }
}
