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
//! may be admitted), in a draw, known to have left or whose place moved to another device
//! (its old id is answered MOVED), or whose event's epoch changed (Redis lost the event). The heartbeats of polls answered here are written in batches
//! (`lua/heartbeat.lua`, one call per event per flush), with the age of each poll.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::ids::{tag_text, SessionKey};
use super::registry::Registered;
use super::scripts::{self, Reply, HEARTBEAT_ARGS};
use super::session::SessionRecord;
use super::view::{self, Ahead, EventState};
use super::{Store, StoreError, Writes};
use crate::domain::{SessionId, Status, UserId};

/// A snapshot older than this is read again by the next poll of its event.
pub const REFRESH: Duration = Duration::from_millis(100);
/// While one poll reads a snapshot again, the others answer from the old one if it is
/// younger than this; else (Redis slow or away) they read Redis themselves.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Sessions remembered per process (about 150 bytes each); the least used go first.
pub const SESSIONS: usize = 400_000;
/// Events whose snapshots are kept.
const EVENTS: usize = 10_000;
/// Leaves (and moves) read per snapshot call (a process that has missed more reads them in
/// pages).
const LEAVES_PER_CALL: usize = 10_000;
/// Pages of leaves one snapshot read goes through; past them (a million leaves at once)
/// the snapshot is incomplete and polls of the event read Redis until the next read
/// catches up.
const LEAVE_PAGES: usize = 100;
/// Heartbeats per script call.
const BEATS_PER_CALL: usize = 2_000;

/// A session this process has seen in Redis, still waiting then.
struct Seen {
    known: Arc<Registered>,
    key: SessionKey,
    user: UserId,
    /// The event's epoch when Redis last answered for this session.
    epoch: Arc<str>,
    /// When (unix ms) the next poll should write the heartbeat.
    beat_due: AtomicU64,
}

/// What an event's waiting sessions share, as of `read_at`.
struct Snapshot {
    /// When it was read, on [`crate::clock::Clock::monotonic_ms`].
    read_at: u64,
    state: EventState,
    /// Join numbers of those ahead of the head who left, ascending.
    left: Arc<Vec<u64>>,
    /// The event's count of leaves (`left_n`) that `left` is up to date with.
    left_n: u64,
    /// Join numbers of the places ahead of the head that moved to another device,
    /// ascending.
    moved: Arc<Vec<u64>>,
    /// The event's count of moves (`moved_n`) that `moved` is up to date with.
    moved_n: u64,
    /// False when more leaves or moves happened than one read takes (see
    /// [`LEAVE_PAGES`]).
    complete: bool,
}

/// What this process holds of one polled event: its snapshot, and whether a poll is
/// reading it again.
#[derive(Default)]
struct Memory {
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    reading: AtomicBool,
}

impl Memory {
    /// The snapshot held, and its age at `now` ([`crate::clock::Clock::monotonic_ms`]).
    fn current(&self, now: u64) -> Option<(Arc<Snapshot>, Duration)> {
        let snapshot = self
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let age = Duration::from_millis(now.saturating_sub(snapshot.read_at));
        Some((snapshot, age))
    }
}

/// Heartbeats waiting for the next flush, per event.
struct Beats {
    known: Arc<Registered>,
    epoch: Arc<str>,
    /// join number → (tag, time of the poll in unix ms)
    polls: HashMap<u64, (u64, u64)>,
}

pub(super) struct Polls {
    sessions: quick_cache::sync::Cache<SessionId, Arc<Seen>>,
    events: quick_cache::sync::Cache<u32, Arc<Memory>>,
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
        known: Arc<Registered>,
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
    /// Redis). No await: the server's fast memory answers with it before routing.
    pub fn status_from_memory(&self, sid: &SessionId) -> Option<SessionRecord> {
        let seen = self.polls.sessions.get(sid)?;
        let memory = self.polls.events.get(&seen.known.number)?;
        let (snapshot, age) = memory.current(self.clock.monotonic_ms())?;
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
        let now = self.clock.now_ms();
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
    async fn snapshot(&self, known: &Arc<Registered>) -> Option<Arc<Snapshot>> {
        let memory = match self.polls.events.get(&known.number) {
            Some(memory) => memory,
            None => {
                let memory = Arc::new(Memory::default());
                self.polls.events.insert(known.number, memory.clone());
                memory
            }
        };
        let current = memory.current(self.clock.monotonic_ms());
        if let Some((snapshot, age)) = &current {
            if *age < REFRESH {
                return Some(snapshot.clone());
            }
        }
        if memory
            .reading
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return current
                .filter(|(_, age)| *age < MAX_AGE)
                .map(|(snapshot, _)| snapshot);
        }
        // Cleared however this ends, a dropped request included.
        let _reading = Reading(&memory.reading);
        let previous = current.map(|(snapshot, _)| snapshot);
        match self.read_snapshot(known, previous.as_deref()).await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *memory.snapshot.write().unwrap_or_else(|e| e.into_inner()) = Some(fresh.clone());
                Some(fresh)
            }
            Err(e) => {
                tracing::debug!(error = %e, "snapshot read failed; polls read Redis");
                *memory.snapshot.write().unwrap_or_else(|e| e.into_inner()) = None;
                None
            }
        }
    }

    /// Reads the event's snapshot; of those who left, only the leaves since `previous`
    /// (of the same epoch) are read, the others kept from it. Wakes the event if it lost a
    /// wake (see `lua/snapshot.lua`).
    async fn read_snapshot(
        &self,
        known: &Registered,
        previous: Option<&Snapshot>,
    ) -> Result<Snapshot, StoreError> {
        let previous = previous.filter(|p| p.complete);
        let (mut since, mut moved_since) = previous.map_or((0, 0), |p| (p.left_n, p.moved_n));
        let mut reply = self.snapshot_call(known, since, moved_since).await?;
        let (mut gone, mut moved): (Vec<u64>, Vec<u64>) = match previous {
            Some(p)
                if p.state.epoch == reply.state.epoch
                    && reply.left_n >= since
                    && reply.moved_n >= moved_since =>
            {
                (p.left.to_vec(), p.moved.to_vec())
            }
            Some(_) => {
                // Another epoch (Redis lost the event): everything anew.
                (since, moved_since) = (0, 0);
                reply = self.snapshot_call(known, 0, 0).await?;
                Default::default()
            }
            None => Default::default(),
        };
        let (state, wake) = (std::mem::take(&mut reply.state), reply.wake);
        let mut complete = false;
        for page in 0..LEAVE_PAGES {
            if page > 0 {
                reply = self.snapshot_call(known, since, moved_since).await?;
            }
            let mut full = false;
            for (log, seen, count_now, into) in [
                (&reply.leaves, &mut since, reply.left_n, &mut gone),
                (&reply.moves, &mut moved_since, reply.moved_n, &mut moved),
            ] {
                if let Some(&(_, count)) = log.last() {
                    *seen = count;
                }
                into.extend(log.iter().map(|&(q, _)| q));
                if log.len() >= LEAVES_PER_CALL {
                    full = true;
                } else {
                    *seen = (*seen).max(count_now);
                }
            }
            if !full {
                complete = true;
                break;
            }
        }
        // Those the granter passed are no longer ahead of anyone.
        for list in [&mut gone, &mut moved] {
            list.retain(|&q| q > state.head);
            list.sort_unstable();
            list.dedup();
        }
        if wake {
            if let Err(e) = self.wake(&known.event).await {
                tracing::debug!(error = %e, "cannot wake an event that lost its wake");
            }
        }
        Ok(Snapshot {
            read_at: self.clock.monotonic_ms(),
            state,
            left: Arc::new(gone),
            left_n: since,
            moved: Arc::new(moved),
            moved_n: moved_since,
            complete,
        })
    }

    /// Writes the heartbeats gathered since the last flush: one script call per event
    /// (per [`BEATS_PER_CALL`]). A failed call is logged and dropped: the next poll of
    /// each session after [`crate::config::Config::heartbeat_ms`] writes it again.
    pub async fn flush_heartbeats(&self) {
        let beats =
            std::mem::take(&mut *self.polls.beats.lock().unwrap_or_else(|e| e.into_inner()));
        let now = self.clock.now_ms();
        for (_, beats) in beats {
            let k = &beats.known.keys;
            let polls: Vec<(u64, (u64, u64))> = beats.polls.into_iter().collect();
            for chunk in polls.chunks(BEATS_PER_CALL) {
                let fixed = scripts::Heartbeat {
                    stream: &k.stream,
                    meta: &k.meta,
                    sessions: &k.sessions,
                    now: self.clock.for_script(),
                    epoch: beats.epoch.to_string(),
                };
                let mut args: Vec<String> = fixed.args().into_iter().map(String::from).collect();
                // HEARTBEAT_ARGS
                for (q, (tag, at)) in chunk {
                    args.push(q.to_string());
                    args.push(tag_text(*tag));
                    args.push(now.saturating_sub(*at).to_string());
                }
                debug_assert_eq!(args.len(), 2 + chunk.len() * HEARTBEAT_ARGS.len());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let written: Result<i64, StoreError> = self
                    .script(
                        &self.scripts.heartbeat,
                        &fixed.keys(),
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

/// One `lua/snapshot.lua` reply.
struct SnapshotReply {
    state: EventState,
    /// The event's count of leaves.
    left_n: u64,
    /// `(join number, its leave's count)` of the leaves read, in the order they happened.
    leaves: Vec<(u64, u64)>,
    /// The event lost a wake: wake it.
    wake: bool,
    /// The event's count of moves.
    moved_n: u64,
    /// `(join number, its move's count)` of the moves read, in the order they happened.
    moves: Vec<(u64, u64)>,
}

impl Store {
    async fn snapshot_call(
        &self,
        known: &Registered,
        since: u64,
        moved_since: u64,
    ) -> Result<SnapshotReply, StoreError> {
        let k = &known.keys;
        let call = scripts::Snapshot {
            meta: &k.meta,
            leftlog: &k.leftlog,
            movelog: &k.movelog,
            now: self.clock.for_script(),
            since: since.to_string(),
            cap: LEAVES_PER_CALL.to_string(),
            moved_since: moved_since.to_string(),
        };
        let reply = Reply::decode(
            self.script(
                &self.scripts.snapshot,
                &call.keys(),
                &call.args(),
                Writes::Incidental,
            )
            .await?,
        )?;
        Ok(SnapshotReply {
            state: EventState::decode(&reply)?,
            left_n: reply.get("left_n")?,
            leaves: reply.get("leaves")?,
            wake: reply.get::<i64>("wake")? == 1,
            moved_n: reply.opt("moved_n")?.unwrap_or(0),
            moves: reply.opt("moves")?.unwrap_or_default(),
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

/// The answer to a poll of a session still waiting behind the head, from memory (the
/// same computation as a poll that reads Redis: [`view::place`]); `None` when the session
/// needs Redis to answer.
fn answer(sid: SessionId, seen: &Seen, s: &Snapshot, now: u64) -> Option<SessionRecord> {
    let q = seen.key.seq;
    let state = &s.state;
    if !s.complete
        || *seen.epoch != *state.epoch
        || q <= state.head
        || state.in_draw(q)
        || s.left.binary_search(&q).is_ok()
        || s.moved.binary_search(&q).is_ok()
    {
        return None;
    }
    let ahead = Ahead {
        gone: s.left.partition_point(|&x| x < q) as u64,
        rank: None,
        back: None,
    };
    let place = view::place("W", q, 0, state, ahead, now).ok()?;
    // A sale that closed reads Redis: the granter is closing its line.
    if place.status != Status::Waiting {
        return None;
    }
    Some(SessionRecord::new(
        sid,
        seen.known.event.clone(),
        seen.user.clone(),
        place,
        (0, 0),
        state,
    ))
}
