//! The granter's step over Redis: one `lua/grant.lua` call per event (expire, admit,
//! purge, sample), over the events whose time has come in the schedule ([`DUE`]) or, in
//! the sweep, over every registered event; and the writing of a draw's order.

use std::collections::HashMap;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use redis::Value;

use super::ids::event_number_hex;
use super::keys::{CLOSING, DUE, EVENTS, FREE_NUMBERS};
use super::scripts::{self, Reply};
use super::{Store, StoreError, Writes, CONCURRENT_EVENTS};
use crate::domain::EventId;

/// Rules of a granter pass.
#[derive(Debug, Clone, Copy)]
pub struct GrantParams {
    /// Capacity of events without their own setting.
    pub default_capacity: u64,
    pub session_ms: u64,
    pub abandon_ms: u64,
    /// How long a session skipped for not polling may come back, for events without their
    /// own grace (0: none).
    pub grace_ms: u64,
    /// Most stream entries (and expiries, and purges) one script handles.
    pub batch: u64,
    /// How long final sessions and granted stream entries are kept.
    pub retention_ms: u64,
    /// How long after an event's keys were deleted its registry entry is dropped (if
    /// nothing numbered it again): longer than any request may take, so that a join that
    /// asked the registry just before has written its number by then.
    pub unregister_after_ms: u64,
}

/// A draw whose order is still to be written (by the process its pass handed it to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub round: u64,
    pub seed: String,
    /// Joins `lo + 1 ..= lo + n` are drawn.
    pub lo: u64,
    pub n: u64,
}

/// What one granter pass did for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantReport {
    pub event_id: EventId,
    pub granted: u64,
    pub expired: u64,
    pub abandoned: u64,
    /// The pass stopped at its batch size with work left: due again at once.
    pub more: bool,
    /// When the event next needs a pass (unix ms on Redis's clock); `None`: nothing is
    /// due until something wakes it.
    pub due_ms: Option<u64>,
    pub waiting: u64,
    pub active: u64,
    /// Nobody waiting or active and nothing left to purge: the event costs nothing more
    /// until a join wakes it.
    pub idle: bool,
    /// Idle, and no operator ever configured it: its keys were deleted (its registry
    /// entry stays).
    pub gone: bool,
    /// A draw whose order this process is to write.
    pub place: Option<Placement>,
}

/// What a pass over the schedule leaves for the next one.
#[derive(Debug, Clone, Default)]
pub struct PassOutcome {
    pub reports: Vec<GrantReport>,
    /// How long until the schedule's earliest time (zero: events are due now); `None`
    /// when the schedule is empty.
    pub next_in: Option<Duration>,
    /// How late the latest-due event taken started against its time.
    pub lag: Option<Duration>,
}

/// An event's next time in the schedule, as its pass leaves it: the stamp of the pass's
/// lease (`None` for the sweep, which took nothing) and when it is next due (`None`:
/// nothing is).
type Next = (EventId, Option<String>, Option<u64>);

/// How often a busy event an operator configured is sampled for the console (see
/// [`Store::history`]).
pub const SAMPLE_MS: u64 = 5_000;

/// How much of an event's samples is kept.
pub const HISTORY_MS: u64 = 3_600_000;

/// The longest an event nobody configured (made by its first join, in the open mode)
/// keeps its ended sessions and passed joins, whatever the retention: so what a made-up
/// event costs Redis lasts at most its sessions' time and this long.
pub const UNCONFIGURED_RETENTION_MS: u64 = 600_000;

/// Most events one pass takes from the schedule (a pass that takes this many is followed
/// by another at once).
const TAKE: usize = 1_000;

/// How long the events a pass takes are left to it by other processes' passes.
const LEASE_MS: u64 = 5_000;

/// Offsets per `SETRANGE` when a draw's order is written (4 bytes each).
const PLACE_CHUNK: usize = 65_536;

impl Store {
    /// Puts the event in the schedule, due at once (a score below 1: see [`DUE`]), and
    /// tells this process's granter.
    pub async fn wake(&self, event: &EventId) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(DUE)
            .arg(format!("0.{:09}", rand::random::<u32>() % 1_000_000_000))
            .arg(event.as_str());
        self.query::<()>(&pipe).await?;
        self.woken.notify_one();
        Ok(())
    }

    /// Brings the event's next time in the schedule forward to `at` (unix ms) if it has a
    /// later one (or none): the expiry of a slot taken at once by a join.
    pub(super) async fn schedule_by(&self, event: &EventId, at: u64) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(DUE)
            .arg("LT")
            .arg(at)
            .arg(event.as_str());
        self.query::<()>(&pipe).await
    }

    /// One granter pass over the events whose time has come: each leased, passed, and
    /// given its next time (or taken out) unless woken meanwhile.
    pub async fn grant_due(&self, params: &GrantParams) -> Result<PassOutcome, StoreError> {
        let call = scripts::TakeDue {
            due: DUE,
            now: self.clock.for_script(),
            most: TAKE.to_string(),
            lease_ms: LEASE_MS.to_string(),
        };
        let taken: Vec<Value> = self
            .script(
                &self.scripts.take_due,
                &call.keys(),
                &call.args(),
                Writes::Incidental,
            )
            .await?;
        let number = |v: &Value| redis::from_redis_value_ref::<i64>(v).unwrap_or(-1);
        let (now, oldest) = (
            taken.first().map(number).unwrap_or(0),
            taken.get(1).map(number).unwrap_or(-1),
        );
        let mut events = Vec::new();
        let mut stamps = HashMap::new();
        for pair in taken.get(2..).unwrap_or_default().chunks(2) {
            let (Ok(name), Ok(stamp)) = (
                redis::from_redis_value_ref::<String>(&pair[0]),
                redis::from_redis_value_ref::<String>(pair.get(1).unwrap_or(&Value::Nil)),
            ) else {
                continue;
            };
            match EventId::parse(&name) {
                Ok(event) => {
                    stamps.insert(event.clone(), stamp);
                    events.push(event);
                }
                // Nothing in the schedule is not an event: forget it.
                Err(_) => {
                    let mut pipe = redis::pipe();
                    pipe.cmd("ZREM").arg(DUE).arg(&name);
                    self.query::<()>(&pipe).await?;
                }
            }
        }
        let reports = self.grant(&events, params).await?;
        let mut updates = Vec::with_capacity(events.len());
        let mut passed = Vec::with_capacity(events.len());
        for (event, report) in events.iter().zip(reports) {
            let stamp = stamps.remove(event);
            match report {
                Some(r) => {
                    updates.push((event.clone(), stamp, r.due_ms));
                    passed.push(r);
                }
                // Not registered (its registry entry was dropped): nothing is due there.
                None if self.looked_up(event).await?.is_none() => {
                    updates.push((event.clone(), stamp, None))
                }
                // Its script failed (logged): the lease ends, and it is due again.
                None => {}
            }
        }
        let (applied, now_after, head) = self.reschedule(&updates).await?;
        let gone: std::collections::HashSet<&EventId> = passed
            .iter()
            .filter(|r| r.gone)
            .map(|r| &r.event_id)
            .collect();
        // Deleted, and not woken since: their registry entries may go after the grace.
        let ended: Vec<&EventId> = updates
            .iter()
            .zip(applied)
            .filter(|((event, _, _), applied)| *applied && gone.contains(event))
            .map(|((event, _, _), _)| event)
            .collect();
        self.mark_for_unregistering(&ended).await?;
        let next_in = if events.len() >= TAKE {
            Some(Duration::ZERO)
        } else {
            head.map(|at| Duration::from_millis(at.saturating_sub(now_after)))
        };
        let lag = (oldest >= 1 && now > oldest)
            .then(|| Duration::from_millis((now - oldest).unsigned_abs()));
        Ok(PassOutcome {
            reports: passed,
            next_in,
            lag,
        })
    }

    /// Sets each event's next time in the schedule, if it still holds the stamp its pass
    /// took (or, with no stamp, brings it forward only): `lua/reschedule.lua`. Returns
    /// which updates were made, Redis's time and the schedule's earliest time.
    async fn reschedule(
        &self,
        updates: &[Next],
    ) -> Result<(Vec<bool>, u64, Option<u64>), StoreError> {
        let mut applied = Vec::with_capacity(updates.len());
        let (mut now, mut head) = (0, None);
        // One call per chunk (at least one): a long list stays within Lua's limits.
        let chunks: Vec<&[Next]> = if updates.is_empty() {
            vec![&[]]
        } else {
            updates.chunks(1_000).collect()
        };
        for chunk in chunks {
            let fixed = scripts::Reschedule {
                due: DUE,
                now: self.clock.for_script(),
            };
            let mut args: Vec<String> = fixed.args().into_iter().map(String::from).collect();
            // RESCHEDULE_ARGS
            for (event, stamp, due) in chunk {
                args.push(event.to_string());
                args.push(stamp.clone().unwrap_or_default());
                args.push(due.map_or("-1".to_string(), |d| d.to_string()));
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let reply: Vec<i64> = self
                .script(
                    &self.scripts.reschedule,
                    &fixed.keys(),
                    &args,
                    Writes::Incidental,
                )
                .await?;
            now = reply.first().copied().unwrap_or(0).max(0) as u64;
            head = reply.get(1).and_then(|&h| u64::try_from(h).ok());
            applied.extend(reply.iter().skip(2).map(|&made| made == 1));
        }
        Ok((applied, now, head))
    }

    /// Marks events whose keys were deleted (one command): each one's registry entry is
    /// dropped by a sweep once the mark is [`GrantParams::unregister_after_ms`] old,
    /// unless a join or an operator numbered it again meanwhile (`lua/register.lua` takes
    /// the mark away).
    async fn mark_for_unregistering(&self, events: &[&EventId]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let mut pipe = redis::pipe();
        let cmd = pipe.cmd("ZADD").arg(CLOSING).arg("NX");
        for event in events {
            cmd.arg(now).arg(event.as_str());
        }
        self.query::<()>(&pipe).await
    }

    /// Drops the registry entries of every event marked long enough ago whose meta is
    /// still without a number, and gives their numbers back (`lua/unregister.lua`), a
    /// thousand marks at a time with their checks concurrent. Returns how many went.
    async fn unregister_closed(&self, params: &GrantParams) -> Result<usize, StoreError> {
        let before = self
            .clock
            .now_ms()
            .saturating_sub(params.unregister_after_ms);
        let mut dropped = 0;
        // Every mark read is taken away (its entry dropped, or kept because the event lives
        // again), so each page starts from the oldest mark left. At most a million a sweep.
        for _ in 0..1_000 {
            let mut pipe = redis::pipe();
            pipe.cmd("ZRANGEBYSCORE")
                .arg(CLOSING)
                .arg("-inf")
                .arg(before)
                .arg("LIMIT")
                .arg(0)
                .arg(1_000);
            let (marked,): (Vec<String>,) = self.query(&pipe).await?;
            let full = marked.len() == 1_000;
            let went: Vec<bool> = futures::stream::iter(marked)
                .map(|name| async move { self.unregister_one(&name, before).await })
                .buffer_unordered(CONCURRENT_EVENTS)
                .try_collect()
                .await?;
            dropped += went.into_iter().filter(|w| *w).count();
            if !full {
                break;
            }
        }
        Ok(dropped)
    }

    /// Drops one marked event's registry entry unless it was numbered again (see
    /// [`Store::unregister_closed`]); whether it went.
    async fn unregister_one(&self, name: &str, before: u64) -> Result<bool, StoreError> {
        let Ok(event) = EventId::parse(name) else {
            let mut pipe = redis::pipe();
            pipe.cmd("ZREM").arg(CLOSING).arg(name);
            self.query::<()>(&pipe).await?;
            return Ok(false);
        };
        let mut pipe = redis::pipe();
        pipe.cmd("HEXISTS")
            .arg(&self.event_keys(&event).meta)
            .arg("number");
        let (numbered,): (bool,) = self.query(&pipe).await?;
        if numbered {
            // It lives again: keep its entry.
            let mut pipe = redis::pipe();
            pipe.cmd("ZREM").arg(CLOSING).arg(event.as_str());
            self.query::<()>(&pipe).await?;
            return Ok(false);
        }
        let call = scripts::Unregister {
            events: EVENTS,
            closing: CLOSING,
            free: FREE_NUMBERS,
            event: event.to_string(),
            marked_before: before.to_string(),
        };
        let number: Option<u32> = self
            .script(
                &self.scripts.unregister,
                &call.keys(),
                &call.args(),
                Writes::Acknowledged,
            )
            .await?;
        if number.is_some() {
            if let Some(known) = self.by_event.get(&event) {
                self.forget(&known);
            }
        }
        Ok(number.is_some())
    }

    /// One granter pass over every registered event, idle or not; those with something
    /// due are brought forward in the schedule if it has them later (or not at all), and
    /// the registry entries of deleted events are dropped. The safety net under
    /// [`Store::grant_due`]: for a process that stopped between writing a join and
    /// waking its event, and for a schedule Redis lost. It costs one script per
    /// registered event (events nobody configured leave the registry once ended).
    pub async fn grant_all(&self, params: &GrantParams) -> Result<PassOutcome, StoreError> {
        let ids = self.event_ids().await?;
        let reports: Vec<GrantReport> = self
            .grant(&ids, params)
            .await?
            .into_iter()
            .flatten()
            .collect();
        let gone: Vec<&EventId> = reports
            .iter()
            .filter(|r| r.gone)
            .map(|r| &r.event_id)
            .collect();
        self.mark_for_unregistering(&gone).await?;
        let dropped = self.unregister_closed(params).await?;
        if dropped > 0 {
            tracing::info!(dropped, "registry entries of deleted events dropped");
        }
        let updates: Vec<Next> = reports
            .iter()
            .filter(|r| r.due_ms.is_some())
            .map(|r| (r.event_id.clone(), None, r.due_ms))
            .collect();
        let (_, now, head) = self.reschedule(&updates).await?;
        Ok(PassOutcome {
            reports,
            next_in: head.map(|at| Duration::from_millis(at.saturating_sub(now))),
            lag: None,
        })
    }

    /// One granter pass over these events: expire, admit, purge. Each event is its own
    /// script call (on a cluster, on its own primary), so a full event never holds up
    /// another. Redis away fails the pass; one event's failure (a bug, a key of the wrong
    /// type) is logged and its report is `None`, as is an unregistered event's.
    pub async fn grant(
        &self,
        events: &[EventId],
        params: &GrantParams,
    ) -> Result<Vec<Option<GrantReport>>, StoreError> {
        // Owned ids: a stream of borrowed ones trips the compiler's `Send` check.
        futures::stream::iter(events.to_vec())
            .map(|event| async move { self.grant_one(&event, params).await })
            .buffered(CONCURRENT_EVENTS)
            .try_collect()
            .await
    }

    async fn grant_one(
        &self,
        event: &EventId,
        params: &GrantParams,
    ) -> Result<Option<GrantReport>, StoreError> {
        let Some(known) = self.looked_up(event).await? else {
            return Ok(None);
        };
        let k = &known.keys;
        let call = scripts::Grant {
            stream: &k.stream,
            meta: &k.meta,
            sessions: &k.sessions,
            users: &k.users,
            active: &k.active,
            left: &k.left,
            done: &k.done,
            revoked: &k.revoked,
            draws: &k.draws,
            series: &k.series,
            orders: &k.orders,
            ranks: &k.ranks,
            leftlog: &k.leftlog,
            back: &k.back,
            moved: &k.moved,
            movelog: &k.movelog,
            now: self.clock.for_script(),
            default_capacity: params.default_capacity.to_string(),
            session_ms: params.session_ms.to_string(),
            abandon_ms: params.abandon_ms.to_string(),
            grace_ms: params.grace_ms.to_string(),
            batch: params.batch.to_string(),
            retention_ms: params.retention_ms.to_string(),
            // Used only if this pass makes a draw: unknown to anyone before that moment.
            seed: hex::encode(rand::random::<[u8; 32]>()),
            event_number: event_number_hex(known.number),
            sample_ms: SAMPLE_MS.to_string(),
            history_ms: HISTORY_MS.to_string(),
            unconfigured_retention_ms: UNCONFIGURED_RETENTION_MS.to_string(),
        };
        let report = match self
            .script::<Value>(
                &self.scripts.grant,
                &call.keys(),
                &call.args(),
                Writes::Acknowledged,
            )
            .await
            .and_then(|reply| report(event, reply))
        {
            Ok(report) => report,
            Err(StoreError::Unexpected(e)) => {
                tracing::error!(event = %event, error = %e, "granter script failed for one event");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        if report.granted + report.abandoned > 0 {
            self.polls.outdated(known.number);
        }
        if report.gone {
            // Its keys are gone: the next join numbers it again (no stale round trip).
            self.forget(&known);
        }
        Ok(Some(report))
    }

    /// Writes the order of a draw its pass handed to this process (src/draw.rs), then
    /// marks the draw ready (`lua/place.lua`). Whether it is ready.
    pub async fn place_draw(&self, event: &EventId, p: &Placement) -> Result<bool, StoreError> {
        let Some(known) = self.looked_up(event).await? else {
            return Ok(false);
        };
        let n = u32::try_from(p.n).map_err(|_| {
            StoreError::Unexpected(format!("a draw of {} people is too large to order", p.n))
        })?;
        let (seed, lo) = (p.seed.clone(), p.lo);
        let (order, ranks, digest) = tokio::task::spawn_blocking(move || {
            let order = crate::draw::shuffle(&seed, n);
            let ranks = crate::draw::ranks(&order);
            let digest = crate::draw::digest_of(lo, &order);
            (order, ranks, digest)
        })
        .await
        .map_err(|e| StoreError::Unexpected(format!("ordering a draw failed: {e}")))?;
        let k = &known.keys;
        let (orders, ranks_key) = (
            format!("{}{}", k.orders, p.round),
            format!("{}{}", k.ranks, p.round),
        );
        for (i, (o, r)) in order
            .chunks(PLACE_CHUNK)
            .zip(ranks.chunks(PLACE_CHUNK))
            .enumerate()
        {
            let offset = i * PLACE_CHUNK * 4;
            let bytes = |xs: &[u32]| xs.iter().flat_map(|x| x.to_be_bytes()).collect::<Vec<u8>>();
            let mut pipe = redis::pipe();
            pipe.cmd("SETRANGE")
                .arg(&orders)
                .arg(offset)
                .arg(bytes(o))
                .ignore()
                .cmd("SETRANGE")
                .arg(&ranks_key)
                .arg(offset)
                .arg(bytes(r))
                .ignore();
            self.query::<()>(&pipe).await?;
        }
        let call = scripts::Place {
            meta: &k.meta,
            orders: &k.orders,
            ranks: &k.ranks,
            draws: &k.draws,
            round: p.round.to_string(),
            n: p.n.to_string(),
            digest,
        };
        let ready: i64 = self
            .script(
                &self.scripts.place,
                &call.keys(),
                &call.args(),
                Writes::Acknowledged,
            )
            .await?;
        if ready == 1 {
            self.polls.outdated(known.number);
        }
        Ok(ready == 1)
    }
}

/// The grant script's name/value reply as a report.
fn report(event: &EventId, reply: Value) -> Result<GrantReport, StoreError> {
    let reply = Reply::decode(reply)?;
    let idle: i64 = reply.get("idle")?;
    let place = match reply.value("place") {
        Some(Value::Array(p)) if p.len() == 4 => {
            let bad = |_| StoreError::Unexpected("a malformed `place` in a grant reply".into());
            Some(Placement {
                round: redis::from_redis_value_ref(&p[0]).map_err(bad)?,
                seed: redis::from_redis_value_ref(&p[1]).map_err(bad)?,
                lo: redis::from_redis_value_ref(&p[2]).map_err(bad)?,
                n: redis::from_redis_value_ref(&p[3]).map_err(bad)?,
            })
        }
        Some(other) => {
            return Err(StoreError::Unexpected(format!(
                "a malformed `place` in a grant reply: {other:?}"
            )))
        }
        None => None,
    };
    let due: i64 = reply.get("due")?;
    Ok(GrantReport {
        event_id: event.clone(),
        granted: reply.get("granted")?,
        expired: reply.get("expired")?,
        abandoned: reply.get("abandoned")?,
        more: reply.get::<i64>("more")? == 1,
        due_ms: u64::try_from(due).ok(),
        waiting: reply.get::<i64>("waiting")?.max(0) as u64,
        active: reply.get("active")?,
        idle: idle >= 1,
        gone: idle == 2,
        place,
    })
}
