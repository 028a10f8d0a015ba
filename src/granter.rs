//! The granter: one background task per server process that admits people.
//!
//! A pass runs the grant script once per event (see `store/lua/grant.lua`): expire, admit
//! while there is capacity, ack. A join, a freed slot or a settings change in this process
//! wakes it for that event alone; a full pass over the events with work (`wr:live`) runs
//! when the earliest active session is due to expire and at least every tick (joins made
//! through other instances). Idle events cost nothing: they are in no pass until a join
//! wakes them. A sweep over every registered event runs at start and every few minutes, as
//! a safety net. Any number of granters may run on one Redis: the scripts are atomic, so
//! they never admit beyond capacity or out of order.
//!
//! [`pass`] is one step; [`run`] is the loop that decides when to take it. With
//! `--granter-mode manual` no loop runs and whoever holds the [`Granter`] steps it (the
//! tests of the rules do, so they need not wait for the loop).

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::now_ms;
use crate::domain::EventId;
use crate::store::{GrantParams, GrantReport, Store, StoreError};
use crate::telemetry::names;

/// Longest back-off while Redis is away.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a full pass sweeps every registered event instead of those with work.
const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// Most events given their own `vestibule_waiting` / `vestibule_active` series per pass
/// (the busiest); a series not updated for ten seconds is dropped from `/metrics`.
pub const MAX_EVENT_SERIES: usize = 1_000;

/// What wakes the granter early: the events that need a pass now.
#[derive(Debug, Default)]
pub struct Wake {
    events: Mutex<HashSet<EventId>>,
    notify: Notify,
    /// Events whose last pass left people waiting: no free slot (or paused, rate-limited,
    /// not open yet). A join there cannot be admitted before something else changes, and
    /// each such change wakes the granter itself (a leave or revocation, new settings) or
    /// is the time of the next pass (an expiry, the rate window, the opening).
    blocked: Mutex<HashSet<EventId>>,
}

impl Wake {
    /// Asks for a pass over `event` as soon as possible.
    pub fn wake_for(&self, event: &EventId) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if !events.contains(event) {
            events.insert(event.clone());
        }
        drop(events);
        self.notify.notify_one();
    }

    /// A join was made: a pass is due only if it may be admitted at once, that is unless
    /// the event's last pass left people waiting (under load, most joins wake nothing).
    pub fn joined(&self, event: &EventId) {
        let blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if !blocked.contains(event) {
            drop(blocked);
            self.wake_for(event);
        }
    }

    /// Notes which events' passes left people waiting.
    fn settled(&self, reports: &[GrantReport]) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        for r in reports {
            if r.waiting > 0 && !r.more {
                if !blocked.contains(&r.event_id) {
                    blocked.insert(r.event_id.clone());
                }
            } else {
                blocked.remove(&r.event_id);
            }
        }
    }

    fn take(&self) -> Vec<EventId> {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.drain().collect()
    }
}

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

/// What one pass goes over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// These events (woken by a join, a freed slot or a settings change here).
    Events(Vec<EventId>),
    /// The events with work (`wr:live`).
    Live,
    /// Every registered event: the sweep.
    All,
}

/// One granter pass over `scope`: expire, admit, purge and sample each event; its
/// metrics recorded.
pub async fn pass(
    store: &Store,
    params: &GrantParams,
    scope: &Scope,
) -> Result<Vec<GrantReport>, StoreError> {
    let started = Instant::now();
    let result = match scope {
        Scope::Events(events) => store.grant(events, params).await,
        Scope::Live => store.grant_live(params).await,
        Scope::All => store.grant_all(params).await,
    };
    metrics::histogram!(names::GRANTER_PASS).record(started.elapsed().as_secs_f64());
    if let Ok(reports) = &result {
        record_pass(reports);
    }
    result
}

/// The granter of a process, for stepping it by hand (`--granter-mode manual`).
#[derive(Clone)]
pub struct Granter {
    pub store: Store,
    pub params: GrantParams,
    pub health: Health,
}

impl Granter {
    /// One pass over every registered event, as the loop's sweep.
    pub async fn pass(&self) -> Result<Vec<GrantReport>, StoreError> {
        let reports = pass(&self.store, &self.params, &Scope::All).await?;
        self.health.record(now_ms());
        Ok(reports)
    }
}

/// Runs passes until `shutdown`; a pass in progress always completes.
pub async fn run(granter: Granter, wake: Arc<Wake>, tick: Duration, shutdown: CancellationToken) {
    let Granter {
        store,
        params,
        health,
    } = granter;
    // When the next full pass is due, and the next sweep.
    let mut due = Instant::now();
    let mut sweep_due = Instant::now();
    let mut failures: u32 = 0;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = wake.notify.notified() => {}
            _ = tokio::time::sleep_until(due) => {}
        }
        let started = Instant::now();
        let full = started >= due;
        let woken = wake.take();
        if !full && woken.is_empty() {
            continue;
        }
        if full {
            // How late the full pass starts against when it was due.
            let lag = started.saturating_duration_since(due);
            metrics::gauge!(names::GRANTER_LAG).set(lag.as_secs_f64());
        }
        let now = now_ms();
        let span = tracing::debug_span!("granter_pass", full, events = woken.len());
        let sweep = full && started >= sweep_due;
        let scope = if sweep {
            Scope::All
        } else if full {
            Scope::Live
        } else {
            Scope::Events(woken)
        };
        match pass(&store, &params, &scope).instrument(span).await {
            Ok(reports) => {
                failures = 0;
                health.record(now);
                wake.settled(&reports);
                if sweep {
                    sweep_due = started + SWEEP_EVERY;
                }
                // An event whose batch ran out goes again at once.
                for r in reports.iter().filter(|r| r.more) {
                    wake.wake_for(&r.event_id);
                }
                let next = started + next_delay(&reports, tick, now);
                due = if full { next } else { due.min(next) };
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, failures, "granter pass failed; backing off");
                due = started + tick.saturating_mul(1 << failures.min(6)).min(MAX_BACKOFF);
            }
        }
    }
    tracing::info!("granter stopped");
}

fn record_pass(reports: &[GrantReport]) {
    // Series for the busiest events with work only: /metrics stays bounded whatever the
    // number of events, and an event's series go ten seconds after it goes idle.
    let mut busy: Vec<&GrantReport> = reports.iter().filter(|r| !r.idle).collect();
    if busy.len() > MAX_EVENT_SERIES {
        busy.sort_by_key(|r| std::cmp::Reverse(r.waiting + r.active));
        busy.truncate(MAX_EVENT_SERIES);
    }
    for r in busy {
        let event = r.event_id.to_string();
        metrics::gauge!(names::WAITING, "event" => event.clone()).set(r.waiting as f64);
        metrics::gauge!(names::ACTIVE, "event" => event).set(r.active as f64);
    }
    for r in reports {
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

/// At the next expiry (or rate window) of these events, or at the latest a tick.
fn next_delay(reports: &[GrantReport], tick: Duration, now: u64) -> Duration {
    reports
        .iter()
        .filter_map(|r| r.next_expiry_ms)
        .map(|at| Duration::from_millis(at.saturating_sub(now) + 1))
        .fold(tick, Duration::min)
}
