//! Polls of waiting sessions answered from this process's memory (README, "Polls from
//! memory").
//!
//! A waiting session's answer is its join number set against what its event's waiting
//! sessions all share: the granter's head, those ahead who left, the admission rate and
//! the event's settings (`view()` in `lua/common.lua`). So each process keeps:
//! - per polled event, a [`Snapshot`] of that shared part, read by one script
//!   (`lua/snapshot.lua`) when a poll finds it [`REFRESH`] old;
//! - the sessions it has seen, by id, as Redis confirmed them (a join made here, or a
//!   poll that read Redis): their event, join number, tag and user. An id it has not seen
//!   (a made-up one included) reads Redis as before, so memory only holds real sessions.
//!
//! A poll of a seen session still waiting behind the head is then a map lookup and the
//! arithmetic of `view()`. Anything else reads Redis: a session at or past the head (it
//! may be admitted), in a draw, known to have left, or whose event's epoch changed (Redis
//! lost the event). The heartbeats of polls answered here are written in batches
//! (`lua/heartbeat.lua`, one call per event per flush), with the age of each poll.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::ids::{tag_text, SessionKey};
use super::registry::Known;
use super::session::SessionRecord;
use super::{Store, StoreError, Writes};
use crate::clock::now_ms;
use crate::domain::{Queueing, SessionId, Status, UserId};

/// A snapshot older than this is read again by the next poll of its event.
pub const REFRESH: Duration = Duration::from_millis(100);
/// While one poll reads a snapshot again, the others answer from the old one if it is
/// younger than this; else (Redis slow or away) they read Redis themselves.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Sessions remembered per process (about 150 bytes each); the least used go first.
pub const SESSIONS: usize = 400_000;
/// Events whose snapshots are kept.
const EVENTS: usize = 10_000;
/// Leaves read per snapshot call (a process that has missed more reads them in pages).
const LEAVES_PER_CALL: usize = 10_000;
/// Pages of leaves one snapshot read goes through; past them (a million leaves at once)
/// the snapshot is incomplete and polls of the event read Redis until the next read
/// catches up.
const LEAVE_PAGES: usize = 100;
/// Heartbeats per script call.
const BEATS_PER_CALL: usize = 2_000;

/// A session this process has seen in Redis, still waiting then.
struct Seen {
    known: Arc<Known>,
    key: SessionKey,
    user: UserId,
    /// The event's epoch when Redis last answered for this session.
    epoch: Arc<str>,
    /// When (unix ms) the next poll should write the heartbeat.
    beat_due: AtomicU64,
}

/// What an event's waiting sessions share, as of `read_at`.
struct Snapshot {
    read_at: Instant,
    epoch: String,
    head: u64,
    rate: f64,
    rate_at_ms: u64,
    target: Option<String>,
    opens_at_ms: Option<u64>,
    queueing: Option<Queueing>,
    draw_round: u64,
    draw_lo: u64,
    draw_n: u64,
    draw_next: u64,
    message: Option<String>,
    /// Join numbers of those ahead of the head who left, ascending.
    left: Arc<Vec<u64>>,
    /// The event's count of leaves (`left_n`) that `left` is up to date with.
    left_n: u64,
    /// False when more leaves happened than one read takes (see [`LEAVE_PAGES`]).
    left_complete: bool,
}

#[derive(Default)]
struct Lane {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    reading: AtomicBool,
}

impl Lane {
    /// The snapshot held, and its age.
    fn current(&self) -> Option<(Arc<Snapshot>, Duration)> {
        let snapshot = self
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let age = snapshot.read_at.elapsed();
        Some((snapshot, age))
    }
}

/// Heartbeats waiting for the next flush, per event.
struct Beats {
    known: Arc<Known>,
    epoch: Arc<str>,
    /// join number → (tag, time of the poll in unix ms)
    polls: HashMap<u64, (u64, u64)>,
}

pub(super) struct Polls {
    sessions: quick_cache::sync::Cache<SessionId, Arc<Seen>>,
    events: quick_cache::sync::Cache<u32, Arc<Lane>>,
    /// Per event number and epoch: heartbeats of one epoch are written under it only.
    beats: Mutex<HashMap<(u32, Arc<str>), Beats>>,
}

impl Polls {
    pub(super) fn new() -> Self {
        Self {
            sessions: quick_cache::sync::Cache::new(SESSIONS),
            events: quick_cache::sync::Cache::new(EVENTS),
            beats: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers a session Redis just answered for (forgets it unless still waiting).
    /// `beat_due`: when its next poll should write the heartbeat.
    pub(super) fn saw(
        &self,
        record: &SessionRecord,
        known: Arc<Known>,
        epoch: &str,
        beat_due: u64,
    ) {
        let key = SessionKey::decode(&record.session_id);
        match key {
            Some(key) if record.status == Status::Waiting && !epoch.is_empty() => {
                let seen = Seen {
                    known,
                    key,
                    user: record.user_id.clone(),
                    epoch: Arc::from(epoch),
                    beat_due: AtomicU64::new(beat_due),
                };
                self.sessions.insert(record.session_id, Arc::new(seen));
            }
            _ => self.forget(&record.session_id),
        }
    }

    pub(super) fn forget(&self, sid: &SessionId) {
        self.sessions.remove(sid);
    }

    /// The snapshot held for event `number` is out of date: this process changed what it
    /// holds (a pass that admitted someone, a leave, new settings), or has just learnt
    /// the event's number anew (Redis lost data). The next poll reads it again, so one
    /// instance's own changes show at once; other instances' within [`REFRESH`].
    pub(super) fn outdated(&self, number: u32) {
        self.events.remove(&number);
    }
}

impl Store {
    /// The answer to a poll from memory if the event's snapshot is younger than
    /// [`REFRESH`]; `None`: ask [`Store::status`] (which reads the snapshot again, or
    /// Redis). No await: the server's fast lane answers with it before routing.
    pub fn status_from_memory(&self, sid: &SessionId) -> Option<SessionRecord> {
        let seen = self.polls.sessions.get(sid)?;
        let lane = self.polls.events.get(&seen.known.number)?;
        let (snapshot, age) = lane.current()?;
        if age >= REFRESH {
            return None;
        }
        self.answer_and_beat(sid, &seen, &snapshot)
    }

    /// The answer to a poll from memory, reading the event's snapshot again if it is
    /// [`REFRESH`] old; `None` when it needs Redis.
    pub(super) async fn poll_from_memory(&self, sid: &SessionId) -> Option<SessionRecord> {
        let seen = self.polls.sessions.get(sid)?;
        let snapshot = self.snapshot(&seen.known).await?;
        self.answer_and_beat(sid, &seen, &snapshot)
    }

    /// The answer, and the heartbeat queued when due.
    fn answer_and_beat(
        &self,
        sid: &SessionId,
        seen: &Seen,
        snapshot: &Snapshot,
    ) -> Option<SessionRecord> {
        let now = now_ms();
        let record = answer(*sid, seen, snapshot, now)?;
        if now >= seen.beat_due.load(Ordering::Relaxed) {
            seen.beat_due
                .store(now + self.heartbeat_ms, Ordering::Relaxed);
            let mut beats = self.polls.beats.lock().unwrap_or_else(|e| e.into_inner());
            beats
                .entry((seen.known.number, seen.epoch.clone()))
                .or_insert_with(|| Beats {
                    known: seen.known.clone(),
                    epoch: seen.epoch.clone(),
                    polls: HashMap::new(),
                })
                .polls
                .insert(seen.key.seq, (seen.key.tag, now));
        }
        Some(record)
    }

    /// The event's snapshot: the one in memory while younger than [`REFRESH`], else read
    /// again by this poll (one poll at a time per event; the others use the old one while
    /// it is younger than [`MAX_AGE`]). `None`: Redis must answer.
    async fn snapshot(&self, known: &Arc<Known>) -> Option<Arc<Snapshot>> {
        let lane = match self.polls.events.get(&known.number) {
            Some(lane) => lane,
            None => {
                let lane = Arc::new(Lane::default());
                self.polls.events.insert(known.number, lane.clone());
                lane
            }
        };
        let current = lane.current();
        if let Some((snapshot, age)) = &current {
            if *age < REFRESH {
                return Some(snapshot.clone());
            }
        }
        if lane
            .reading
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return current
                .filter(|(_, age)| *age < MAX_AGE)
                .map(|(snapshot, _)| snapshot);
        }
        // Cleared however this ends, a dropped request included.
        let _reading = Reading(&lane.reading);
        let previous = current.map(|(snapshot, _)| snapshot);
        match self.read_snapshot(known, previous.as_deref()).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *lane.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
                Some(fresh)
            }
            Err(e) => {
                tracing::debug!(error = %e, "snapshot read failed; polls read Redis");
                *lane.snapshot.write().unwrap_or_else(|e| e.into_inner()) = None;
                None
            }
        }
    }

    /// Reads the event's snapshot; of those who left, only the leaves since `previous`
    /// (of the same epoch) are read, the others kept from it. Wakes the event if it lost a
    /// wake (see `lua/snapshot.lua`).
    async fn read_snapshot(
        &self,
        known: &Known,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, StoreError> {
        let previous = previous.filter(|p| p.left_complete);
        let mut since = previous.map_or(0, |p| p.left_n);
        let mut reply = self.snapshot_call(known, since).await?;
        let epoch = reply.fields.get(12).cloned().flatten().unwrap_or_default();
        let mut gone: Vec<u64> = match previous {
            Some(p) if p.epoch == epoch && reply.left_n >= since => p.left.to_vec(),
            Some(_) => {
                // Another epoch (Redis lost the event): everything anew.
                since = 0;
                reply = self.snapshot_call(known, 0).await?;
                Vec::new()
            }
            None => Vec::new(),
        };
        let (fields, wake) = (std::mem::take(&mut reply.fields), reply.wake);
        let mut complete = false;
        for page in 0..LEAVE_PAGES {
            if page > 0 {
                reply = self.snapshot_call(known, since).await?;
            }
            let full = reply.leaves.len() >= LEAVES_PER_CALL;
            if let Some(&(_, count)) = reply.leaves.last() {
                since = count;
            }
            gone.extend(reply.leaves.iter().map(|&(q, _)| q));
            if !full {
                since = since.max(reply.left_n);
                complete = true;
                break;
            }
        }
        let text = |i: usize| fields.get(i).cloned().flatten().filter(|s| !s.is_empty());
        let number = |i: usize| text(i).and_then(|s| s.parse::<u64>().ok());
        let head = number(0).unwrap_or(0);
        // Those the granter passed are no longer ahead of anyone.
        gone.retain(|&q| q > head);
        gone.sort_unstable();
        gone.dedup();
        if wake {
            if let Err(e) = self.wake(&known.event).await {
                tracing::debug!(error = %e, "cannot wake an event that lost its wake");
            }
        }
        Ok(Snapshot {
            read_at: Instant::now(),
            head,
            rate: text(1).and_then(|s| s.parse().ok()).unwrap_or(0.0),
            rate_at_ms: number(2).unwrap_or(0),
            target: text(3),
            opens_at_ms: number(4),
            queueing: text(5).as_deref().and_then(Queueing::parse),
            draw_round: number(6).unwrap_or(0),
            draw_lo: number(8).unwrap_or(0),
            draw_n: number(9).unwrap_or(0),
            draw_next: number(10).unwrap_or(0),
            message: text(11),
            epoch: text(12).unwrap_or_default(),
            left: Arc::new(gone),
            left_n: since,
            left_complete: complete,
        })
    }

    /// Writes the heartbeats gathered since the last flush: one script call per event
    /// (per [`BEATS_PER_CALL`]). A failed call is logged and dropped: the next poll of
    /// each session after [`crate::config::Config::heartbeat_ms`] writes it again.
    pub async fn flush_heartbeats(&self) {
        let beats =
            std::mem::take(&mut *self.polls.beats.lock().unwrap_or_else(|e| e.into_inner()));
        let now = now_ms();
        for (_, beats) in beats {
            let k = &beats.known.keys;
            let polls: Vec<(u64, (u64, u64))> = beats.polls.into_iter().collect();
            for chunk in polls.chunks(BEATS_PER_CALL) {
                let mut args = Vec::with_capacity(1 + chunk.len() * 3);
                args.push(beats.epoch.to_string());
                for (q, (tag, at)) in chunk {
                    args.push(q.to_string());
                    args.push(tag_text(*tag));
                    args.push(now.saturating_sub(*at).to_string());
                }
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let written: Result<i64, StoreError> = self
                    .script(
                        &self.scripts.heartbeat,
                        &[&k.meta, &k.sessions],
                        &args,
                        Writes::Incidental,
                    )
                    .await;
                if let Err(e) = written {
                    tracing::debug!(error = %e, event = %beats.known.event, "heartbeats not written");
                }
            }
        }
    }

    /// Writes the gathered heartbeats every `every`, and once more when `shutdown` ends it.
    pub async fn write_heartbeats(self, every: Duration, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => self.flush_heartbeats().await,
                _ = shutdown.cancelled() => break,
            }
        }
        self.flush_heartbeats().await;
    }
}

/// `lua/snapshot.lua`'s reply as Redis gives it: {fields, left_n, leaves, wake}.
type SnapshotRow = (Vec<Option<String>>, u64, Vec<(u64, u64)>, i64);

/// One `lua/snapshot.lua` reply.
struct SnapshotReply {
    /// The meta's fields, as `VIEW_FIELDS` in common.lua.
    fields: Vec<Option<String>>,
    /// The event's count of leaves.
    left_n: u64,
    /// `(join number, its leave's count)` of the leaves read, in the order they happened.
    leaves: Vec<(u64, u64)>,
    /// The event lost a wake: wake it.
    wake: bool,
}

impl Store {
    async fn snapshot_call(&self, known: &Known, since: u64) -> Result<SnapshotReply, StoreError> {
        let k = &known.keys;
        let (fields, left_n, leaves, wake): SnapshotRow = self
            .script(
                &self.scripts.snapshot,
                &[&k.meta, &k.leftlog],
                &[&since.to_string(), &LEAVES_PER_CALL.to_string()],
                Writes::Incidental,
            )
            .await?;
        Ok(SnapshotReply {
            fields,
            left_n,
            leaves,
            wake: wake == 1,
        })
    }
}

/// Clears the flag of the poll reading a snapshot.
struct Reading<'a>(&'a AtomicBool);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// `view()` of common.lua for a session still waiting behind the head; `None` when the
/// session needs Redis to answer.
fn answer(sid: SessionId, seen: &Seen, s: &Snapshot, now: u64) -> Option<SessionRecord> {
    let q = seen.key.seq;
    if !s.left_complete {
        return None;
    }
    let left = &s.left;
    let in_draw = q > s.draw_lo && q <= s.draw_lo + s.draw_n;
    if *seen.epoch != *s.epoch || q <= s.head || in_draw || left.binary_search(&q).is_ok() {
        return None;
    }
    let drawn = Queueing::in_force(s.queueing, s.opens_at_ms) == Queueing::DrawAtOpen;
    let (position, pre_queue) = if drawn && s.draw_round == 0 && s.opens_at_ms.is_some() {
        // Not drawn yet: no place until the opening.
        (0, true)
    } else {
        let gone = left.partition_point(|&x| x < q) as u64;
        let position = s.draw_n.saturating_sub(s.draw_next) + (q - s.head) - gone;
        (position, s.opens_at_ms.is_some_and(|at| now < at))
    };
    Some(SessionRecord {
        session_id: sid,
        event_id: seen.known.event.clone(),
        user_id: seen.user.clone(),
        status: Status::Waiting,
        position,
        active_until_ms: 0,
        admissions: s.rate,
        admissions_at_ms: s.rate_at_ms,
        target_url: s.target.clone(),
        pre_queue,
        opens_at_ms: s.opens_at_ms,
        message: s.message.clone(),
    })
}
