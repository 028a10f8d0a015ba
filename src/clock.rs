//! The room's clock, in the unit the room counts in (unix milliseconds).
//!
//! Admission order and expiry use one clock for every instance: the scripts read Redis's
//! `TIME` once per call, unless the caller gives them the time. A process's own decisions
//! (pass expiry at the gate, estimates, a join's deadline) read [`Clock::now_ms`].
//!
//! [`Clock::System`] is production: the system clock here, Redis's in the scripts.
//! [`Clock::Manual`] (`--clock manual`, for tests) is a time that only moves when told
//! ([`Clock::advance`]), given to every script as its `now`: the tests of expiry,
//! retention, abandonment and openings move it instead of sleeping.
//!
//! [`Clock::monotonic_ms`] measures ages inside this process (how old a poll snapshot
//! is): a monotonic clock in production, the manual time in tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Unix time in milliseconds, from the system clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Where the room's time comes from.
#[derive(Debug, Clone, Default)]
pub enum Clock {
    /// The system clock here, Redis's `TIME` in the scripts.
    #[default]
    System,
    /// A time that moves only when told, shared by this process and its scripts.
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// A manual clock that starts at the system's time now.
    pub fn manual() -> Self {
        Clock::Manual(Arc::new(AtomicU64::new(now_ms())))
    }

    pub fn now_ms(&self) -> u64 {
        match self {
            Clock::System => now_ms(),
            Clock::Manual(at) => at.load(Ordering::SeqCst),
        }
    }

    /// Milliseconds on a clock that never goes back, for ages within this process: since
    /// the process first asked (system), or the manual time (so a test moves ages too).
    pub fn monotonic_ms(&self) -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        match self {
            Clock::System => START.get_or_init(Instant::now).elapsed().as_millis() as u64,
            Clock::Manual(at) => at.load(Ordering::SeqCst),
        }
    }

    /// What a script is given as its `now`: empty for Redis's own clock.
    pub fn for_script(&self) -> String {
        match self {
            Clock::System => String::new(),
            Clock::Manual(at) => at.load(Ordering::SeqCst).to_string(),
        }
    }

    /// Moves a manual clock on (a system clock moves by itself: nothing happens).
    pub fn advance(&self, by: Duration) {
        if let Clock::Manual(at) = self {
            at.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_is_given_to_scripts() {
        let clock = Clock::manual();
        let start = clock.now_ms();
        assert_eq!(clock.for_script(), start.to_string());
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(clock.now_ms(), start + 1_500);
        let shared = clock.clone();
        shared.advance(Duration::from_secs(1));
        assert_eq!(clock.now_ms(), start + 2_500, "clones share one time");
        assert_eq!(Clock::System.for_script(), "", "scripts read Redis's TIME");
        let mark = clock.monotonic_ms();
        clock.advance(Duration::from_millis(100));
        assert_eq!(
            clock.monotonic_ms() - mark,
            100,
            "ages move with a manual clock"
        );
        let (a, b) = (Clock::System.monotonic_ms(), Clock::System.monotonic_ms());
        assert!(b >= a, "the system's never goes back");
    }
}
