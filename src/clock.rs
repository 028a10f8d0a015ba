//! The process's wall clock, in the unit the room counts in.
//!
//! Admission order and expiry use Redis's clock (inside the scripts); this one is for
//! what a process decides on its own: pass expiry at the gate, the granter's timers,
//! estimates.

use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
