//! The granter: one background task per server process that admits people.
//!
//! A pass runs the grant script once per event (see `store/lua/grant.lua`): expire, admit
//! while there is capacity, ack, purge. It goes over the events whose time has come in the
//! schedule (`wr:due`, see `store::keys::DUE`) and nothing else: each script reports when
//! its event next needs a pass (its next expiry, purge, rate window, opening, sample), so
//! an event costs nothing in between, however many sessions it holds. A join that may be
//! admitted, a slot given back or new settings put the event in the schedule at once and
//! wake this process's loop; other processes find it there at their next look (at least
//! every tick). A sweep over every registered event runs at start and every few minutes,
//! as a safety net. Any number of granters may run on one Redis: the scripts are atomic,
//! so they never admit beyond capacity or out of order, and a pass leases the events it
//! takes so that others leave them alone meanwhile.
//!
//! [`pass`] is one step; [`run`] is the loop that decides when to take it. With
//! `--granter-mode manual` no loop runs and whoever holds the [`Granter`] steps it (the
//! tests of the rules do, so they need not wait for the loop).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::clock::now_ms;
use crate::store::{GrantParams, GrantReport, PassOutcome, Store, StoreError};
use crate::telemetry::names;

/// Longest back-off while Redis is away.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often a full pass sweeps every registered event instead of those due.
const SWEEP_EVERY: Duration = Duration::from_secs(300);
/// Most events given their own `vestibule_waiting` / `vestibule_active` series per pass
/// (the busiest); a series not updated for ten seconds is dropped from `/metrics`.
pub const MAX_EVENT_SERIES: usize = 1_000;

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
    /// The events whose time has come in the schedule.
    Due,
    /// Every registered event: the sweep.
    All,
}

/// One granter pass over `scope`: expire, admit, purge and sample each event, write the
/// order of any draw it made (and admit from it at once); its metrics recorded.
pub async fn pass(
    store: &Store,
    params: &GrantParams,
    scope: &Scope,
) -> Result<PassOutcome, StoreError> {
    let started = Instant::now();
    let mut outcome = match scope {
        Scope::Due => store.grant_due(params).await?,
        Scope::All => store.grant_all(params).await?,
    };
    let placed = place_draws(store, &outcome.reports).await;
    if !placed.is_empty() {
        // The people of the new draws, admitted in this same pass.
        let again: Vec<GrantReport> = store
            .grant(&placed, params)
            .await?
            .into_iter()
            .flatten()
            .collect();
        for r in again {
            if let Some(old) = outcome
                .reports
                .iter_mut()
                .find(|o| o.event_id == r.event_id)
            {
                let (granted, expired, abandoned) = (old.granted, old.expired, old.abandoned);
                *old = GrantReport {
                    granted: granted + r.granted,
                    expired: expired + r.expired,
                    abandoned: abandoned + r.abandoned,
                    ..r
                };
            }
        }
        for event in &placed {
            // Its next time, as the second grant saw it: due again at once.
            if let Err(e) = store.wake(event).await {
                tracing::debug!(error = %e, "cannot wake an event after its draw");
            }
        }
        outcome.next_in = Some(Duration::ZERO);
    }
    metrics::histogram!(names::GRANTER_PASS).record(started.elapsed().as_secs_f64());
    record_pass(&outcome.reports);
    Ok(outcome)
}

/// Writes the orders of the draws these reports hand to this process; the events whose
/// draw is ready now. A failure is logged: the draw is handed out again after its lease.
async fn place_draws(store: &Store, reports: &[GrantReport]) -> Vec<crate::domain::EventId> {
    let mut placed = Vec::new();
    for r in reports {
        let Some(place) = &r.place else { continue };
        match store.place_draw(&r.event_id, place).await {
            Ok(true) => placed.push(r.event_id.clone()),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(event = %r.event_id, error = %e, "a draw's order was not written")
            }
        }
    }
    placed
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
        let outcome = pass(&self.store, &self.params, &Scope::All).await?;
        self.health.record(now_ms());
        Ok(outcome.reports)
    }

    /// One pass over the events due now, as the loop's usual one.
    pub async fn pass_due(&self) -> Result<PassOutcome, StoreError> {
        let outcome = pass(&self.store, &self.params, &Scope::Due).await?;
        self.health.record(now_ms());
        Ok(outcome)
    }
}

/// When the loop takes its next pass, and which: the loop's decisions, apart from its
/// waiting, so that they have tests of their own.
#[derive(Debug, Clone)]
struct Cadence {
    tick: Duration,
    /// When the next pass is due (earlier when woken).
    due: Instant,
    /// When the next pass is a sweep.
    sweep_due: Instant,
    /// Passes failed in a row (Redis away).
    failures: u32,
}

impl Cadence {
    /// A sweep first, at once.
    fn new(now: Instant, tick: Duration) -> Self {
        Self {
            tick,
            due: now,
            sweep_due: now,
            failures: 0,
        }
    }

    /// The pass to take at `now`: the sweep when it is due, else the events due.
    fn scope(&self, now: Instant) -> Scope {
        if now >= self.sweep_due {
            Scope::All
        } else {
            Scope::Due
        }
    }

    /// A pass that began at `started` succeeded; the schedule's next time is `next_in`
    /// from then (zero: events are due now; `None`: the schedule is empty). The next pass
    /// comes then, and at the latest a tick later (events woken through other processes
    /// are found at the next look).
    fn passed(&mut self, started: Instant, scope: &Scope, next_in: Option<Duration>) {
        self.failures = 0;
        if *scope == Scope::All {
            self.sweep_due = started + SWEEP_EVERY;
        }
        self.due = started + next_in.map_or(self.tick, |next| next.min(self.tick));
    }

    /// A pass failed: the next one after a back-off that doubles, up to [`MAX_BACKOFF`].
    fn failed(&mut self, started: Instant) {
        self.failures = self.failures.saturating_add(1);
        self.due = started
            + self
                .tick
                .saturating_mul(1 << self.failures.min(6))
                .min(MAX_BACKOFF);
    }
}

/// Runs passes until `shutdown`; a pass in progress always completes.
pub async fn run(granter: Granter, tick: Duration, shutdown: CancellationToken) {
    let Granter {
        store,
        params,
        health,
    } = granter;
    // Told when this process puts an event in the schedule (a join, a leave, settings).
    let woken = store.woken();
    let mut cadence = Cadence::new(Instant::now(), tick);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = woken.notified() => {}
            _ = tokio::time::sleep_until(cadence.due) => {}
        }
        let started = Instant::now();
        let scope = cadence.scope(started);
        let span = tracing::debug_span!("granter_pass", sweep = scope == Scope::All);
        match pass(&store, &params, &scope).instrument(span).await {
            Ok(outcome) => {
                health.record(now_ms());
                if let Some(lag) = outcome.lag {
                    metrics::gauge!(names::GRANTER_LAG).set(lag.as_secs_f64());
                }
                cadence.passed(started, &scope, outcome.next_in);
            }
            Err(e) => {
                cadence.failed(started);
                let failures = cadence.failures;
                tracing::warn!(error = %e, failures, "granter pass failed; backing off");
            }
        }
    }
    tracing::info!("granter stopped");
}

fn record_pass(reports: &[GrantReport]) {
    // Series for the busiest events with work only: /metrics stays bounded whatever the
    // number of events, and an event's series go ten seconds after it was last passed.
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

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: Duration = Duration::from_millis(200);

    #[test]
    fn the_first_pass_is_a_sweep_and_the_next_sweep_is_minutes_later() {
        let t0 = Instant::now();
        let mut c = Cadence::new(t0, TICK);
        assert_eq!(c.scope(t0), Scope::All);
        c.passed(t0, &Scope::All, None);
        assert_eq!(c.scope(t0 + TICK), Scope::Due);
        assert_eq!(c.scope(t0 + SWEEP_EVERY), Scope::All);
        // A pass over the due events does not move the sweep.
        c.passed(t0 + TICK, &Scope::Due, None);
        assert_eq!(c.scope(t0 + SWEEP_EVERY), Scope::All);
    }

    #[test]
    fn the_next_pass_comes_at_the_schedules_next_time_and_at_least_every_tick() {
        let t0 = Instant::now();
        let mut c = Cadence::new(t0, TICK);
        c.passed(t0, &Scope::Due, Some(Duration::from_millis(30)));
        assert_eq!(c.due, t0 + Duration::from_millis(30), "the next expiry");
        c.passed(t0, &Scope::Due, Some(Duration::from_secs(300)));
        assert_eq!(
            c.due,
            t0 + TICK,
            "a far expiry: a look every tick meanwhile"
        );
        c.passed(t0, &Scope::Due, None);
        assert_eq!(c.due, t0 + TICK, "nothing scheduled: a look every tick");
        c.passed(t0, &Scope::Due, Some(Duration::ZERO));
        assert_eq!(c.due, t0, "events due now (a batch ran out): at once");
    }

    #[test]
    fn failures_back_off_doubling_up_to_five_seconds_and_a_success_resets() {
        let t0 = Instant::now();
        let mut c = Cadence::new(t0, TICK);
        let mut waits = Vec::new();
        for _ in 0..8 {
            c.failed(t0);
            waits.push(c.due - t0);
        }
        assert_eq!(waits[0], TICK * 2);
        assert_eq!(waits[1], TICK * 4);
        assert_eq!(waits[4], MAX_BACKOFF, "capped");
        assert!(waits.iter().all(|w| *w <= MAX_BACKOFF));
        c.passed(t0, &Scope::Due, None);
        c.failed(t0);
        assert_eq!(c.due - t0, TICK * 2, "counted anew after a success");
    }
}
