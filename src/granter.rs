//! The granter: one background task per server process that admits people.
//!
//! Each pass runs the grant script once per event (see `store/lua/grant.lua`): expire,
//! admit while there is capacity, ack. It runs when woken (a join or a freed slot in this
//! process), when the earliest active session is due to expire, and at least every tick
//! (joins made through other instances). Any number of granters may run on one Redis:
//! the scripts are atomic, so they never admit beyond capacity or out of order.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::service::now_ms;
use crate::store::{GrantParams, GrantReport, Store};
use crate::telemetry::names;

/// Longest back-off while Redis is away.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// When the granter last completed a pass, for readiness checks.
#[derive(Clone, Debug)]
pub struct Health {
    last_pass_ms: Arc<AtomicU64>,
    stale_after_ms: u64,
}

impl Health {
    /// A pass older than `stale_after` means the granter is stuck or Redis is away.
    pub fn new(stale_after: Duration) -> Self {
        Self {
            last_pass_ms: Arc::default(),
            stale_after_ms: stale_after.as_millis() as u64,
        }
    }

    pub fn is_recent(&self, now_ms: u64) -> bool {
        let last = self.last_pass_ms.load(Ordering::Relaxed);
        last > 0 && now_ms.saturating_sub(last) <= self.stale_after_ms
    }

    fn record(&self, now_ms: u64) {
        self.last_pass_ms.store(now_ms, Ordering::Relaxed);
    }
}

/// Runs passes until `shutdown`; a pass in progress always completes.
pub async fn run(
    store: Store,
    params: GrantParams,
    wake: Arc<Notify>,
    tick: Duration,
    health: Health,
    shutdown: CancellationToken,
) {
    let mut delay = Duration::ZERO;
    let mut failures: u32 = 0;
    loop {
        let due = tokio::time::Instant::now() + delay;
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notified() => {}
            _ = tokio::time::sleep_until(due) => {}
        }
        // How late the pass starts against when it was due (0 when woken early).
        let lag = tokio::time::Instant::now().saturating_duration_since(due);
        metrics::gauge!(names::GRANTER_LAG).set(lag.as_secs_f64());
        let now = now_ms();
        let started = std::time::Instant::now();
        let result = store.grant_all(&params).await;
        metrics::histogram!(names::GRANTER_PASS).record(started.elapsed().as_secs_f64());
        delay = match result {
            Ok(reports) => {
                failures = 0;
                health.record(now);
                record_pass(&reports);
                next_delay(&reports, tick, now)
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "granter pass failed; backing off");
                tick.saturating_mul(1 << failures.min(6)).min(MAX_BACKOFF)
            }
        };
    }
    tracing::info!("granter stopped");
}

fn record_pass(reports: &[GrantReport]) {
    for r in reports {
        let event = r.event_id.to_string();
        metrics::gauge!(names::WAITING, "event" => event.clone()).set(r.waiting as f64);
        metrics::gauge!(names::ACTIVE, "event" => event).set(r.active as f64);
        if r.granted + r.expired + r.abandoned == 0 {
            continue;
        }
        metrics::counter!(names::GRANTS).increment(r.granted);
        metrics::counter!(names::EXPIRIES).increment(r.expired);
        metrics::counter!(names::ABANDONMENTS).increment(r.abandoned);
        tracing::debug!(
            event = %r.event_id, granted = r.granted, expired = r.expired,
            abandoned = r.abandoned, waiting = r.waiting, active = r.active, "granter pass"
        );
    }
}

/// Again at once when a batch ran out; else at the next expiry, or at the latest a tick.
fn next_delay(reports: &[GrantReport], tick: Duration, now: u64) -> Duration {
    if reports.iter().any(|r| r.more) {
        return Duration::ZERO;
    }
    reports
        .iter()
        .filter_map(|r| r.next_expiry_ms)
        .map(|at| Duration::from_millis(at.saturating_sub(now) + 1))
        .fold(tick, Duration::min)
}
