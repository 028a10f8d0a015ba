//! Joins written in batches: the joins that arrive together are written by one script
//! call (`lua/join.lua`), in the order they arrived.
//!
//! A join is queued in its lane and a writer is started if fewer than [`WRITERS`] are at
//! work: at low load a join is written at once, alone, with no added wait; under load the
//! joins that arrive while the writers' calls are in flight go together in the next call
//! (at most [`BATCH`]). A join is answered only once its call returned (and, under
//! [`super::Durability`], once replicas confirmed it): nothing unwritten is acknowledged.
//! And nothing is written that its caller was told failed: each call carries a deadline
//! on Redis's clock, a little before this process gives up on it, and a stalled Redis
//! that runs it later writes nothing (`LATE`), so a retry makes the place anew.
//! On one Redis every event shares one lane (a call may write joins of several events);
//! on a cluster each event has its own, so that every call stays within one slot. Lanes
//! hold nothing once their queue is empty.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::Value;
use tokio::sync::oneshot;

use super::registry::Registered;
use super::scripts::{self, JOIN_ARGS, JOIN_EVENT_ARGS, JOIN_EVENT_KEYS};
use super::view::EventState;
use super::{Store, StoreError, Writes};
use crate::domain::{EventId, UserId};

/// Script calls in flight per lane. One: the joins that arrive during a call go together in
/// the next, and Redis runs one script at a time anyway. A call's fixed cost (reading each
/// event's meta, the script's own set-up) is then shared by more joins: under 64
/// connections of joins, a call carried ~8 joins with four writers and ~25 with one, and
/// joins went faster (BENCHMARKS.md, "Join writers").
const WRITERS: usize = 1;
/// Most joins per call.
const BATCH: usize = 64;

/// A join the script answered with a place: its row, and its event's state as the call
/// left it (decoded once per event and call, shared by the call's joins of that event).
pub(super) struct Joined {
    /// The session's part of its place, `created`, `sid`, `due` (see join.lua), as the
    /// script wrote it (read by the caller).
    pub(super) row: Value,
    pub(super) state: Arc<EventState>,
    /// The script's time.
    pub(super) now: u64,
}

/// A new place in line: all the script answers for it is its join number (join.lua); the
/// rest is the asker's own (user, tag, event) or its event's, shared by the call.
pub(super) struct Waiting {
    /// Its join number.
    pub(super) q: u64,
    /// Those who left ahead of it.
    pub(super) gone: u64,
    pub(super) state: Arc<EventState>,
    /// The script's time: the session's `seen`.
    pub(super) now: u64,
}

/// A place a join made or found.
pub(super) enum Placed {
    /// A new place in line.
    Waiting(Waiting),
    /// Any other place: found, or admitted at once.
    Row(Joined),
}

/// A call's reply (join.lua): Redis's time, each event's state and tail, each join's reply.
type CallReply = (i64, Vec<Value>, Vec<u64>, Vec<Value>);

/// What became of one join of a batch.
pub(super) enum Written {
    /// A place, made or found.
    Place(Placed),
    /// Only looking up, and the user has no live place.
    NoPlace,
    /// The event's meta does not carry the number used: nothing written.
    Stale,
    /// Run after its deadline: nothing written.
    Late,
    /// The sale is over (the reason: sold_out, closed, ended): nothing written.
    Closed(String),
    /// The sale is suspended: nothing written.
    Suspended,
    /// The event takes only accounts with an enqueue token, and the user is not one:
    /// nothing written.
    TokenRequired,
    /// The solved challenge that paid for the join was spent before: nothing written.
    Spent,
}

/// What a join may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Create {
    /// A place, unless the user has a live one.
    Place,
    /// Only look up the user's live place.
    Not,
    /// A place only if it is admitted at once (standby); else nothing.
    IfAdmitted,
}

impl Create {
    /// The script's word for it (JOIN_ARGS `create`).
    fn word(self) -> &'static str {
        match self {
            Create::Place => "1",
            Create::Not => "0",
            Create::IfAdmitted => "s",
        }
    }
}

/// One join to write.
pub(super) struct Ask {
    /// When the join was asked for (this process's clock): its deadline counts from here.
    queued_at_ms: u64,
    pub(super) known: Arc<Registered>,
    pub(super) tag: String,
    pub(super) user: UserId,
    /// What the join may do: make a place, only look one up, or make one only if it is
    /// admitted at once (standby).
    pub(super) create: Create,
    /// The nonce of the solved challenge that pays for it, spent with it, and how long it
    /// is kept once spent (ms).
    pub(super) nonce: Option<(String, u64)>,
}

impl Ask {
    /// A join asked for at `queued_at_ms` (the room's clock).
    pub(super) fn new(
        known: Arc<Registered>,
        tag: String,
        user: UserId,
        create: Create,
        nonce: Option<(String, u64)>,
        queued_at_ms: u64,
    ) -> Self {
        Self {
            known,
            tag,
            user,
            create,
            nonce,
            queued_at_ms,
        }
    }
}

/// A join waiting for its call.
struct Pending {
    ask: Ask,
    reply: oneshot::Sender<Result<Written, StoreError>>,
}

#[derive(Default)]
struct Lane {
    queue: Vec<Pending>,
    writers: usize,
}

/// The lanes of joins waiting to be written: `None` is the single Redis's only lane.
#[derive(Default)]
pub(super) struct Joins {
    lanes: Mutex<HashMap<Option<EventId>, Lane>>,
}

impl Store {
    /// Queues a join and waits until it is written.
    pub(super) async fn write_join(&self, ask: Ask) -> Result<Written, StoreError> {
        let lane = self.conn.is_cluster().then(|| ask.known.event.clone());
        let (reply, rx) = oneshot::channel();
        let pending = Pending { ask, reply };
        let start = {
            let mut lanes = self.joins.lanes.lock().unwrap_or_else(|e| e.into_inner());
            let queue = lanes.entry(lane.clone()).or_default();
            queue.queue.push(pending);
            let start = queue.writers < WRITERS;
            if start {
                queue.writers += 1;
            }
            start
        };
        if start {
            // A task of its own: a request that goes away does not strand the others.
            tokio::spawn(self.clone().write_lane(lane));
        }
        rx.await
            .map_err(|_| StoreError::Unexpected("a join's writer ended without an answer".into()))?
    }

    /// Writes the lane's queue, a batch at a time, until it is empty. When Redis did not
    /// answer a call, the joins that queued meanwhile are answered with that at once,
    /// unwritten (their callers retry): each would otherwise wait out a call of its own
    /// behind it, and a join answers within its budget.
    async fn write_lane(self, lane: Option<EventId>) {
        let mut away: Option<StoreError> = None;
        loop {
            let batch: Vec<Pending> = {
                let mut lanes = self.joins.lanes.lock().unwrap_or_else(|e| e.into_inner());
                let Some(queue) = lanes.get_mut(&lane) else {
                    return;
                };
                if queue.queue.is_empty() {
                    queue.writers -= 1;
                    if queue.writers == 0 {
                        lanes.remove(&lane);
                    }
                    return;
                }
                let n = if away.is_some() {
                    queue.queue.len()
                } else {
                    queue.queue.len().min(BATCH)
                };
                queue.queue.drain(..n).collect()
            };
            if let Some(e) = away.take() {
                for p in batch {
                    let _ = p.reply.send(Err(e.clone()));
                }
                continue;
            }
            away = self.write_batch(batch).await;
        }
    }

    /// One script call for the batch; every join is answered. Returns the error when Redis
    /// did not answer the call.
    async fn write_batch(&self, batch: Vec<Pending>) -> Option<StoreError> {
        // The batch's events, in order of first appearance: one entry per (event, number),
        // whichever copy of the mapping each join holds (the script counts each entry's
        // joins from the one `seq` it read).
        let mut events: Vec<&Arc<Registered>> = Vec::new();
        let mut index: Vec<usize> = Vec::with_capacity(batch.len());
        for p in &batch {
            let same = |k: &&Arc<Registered>| {
                k.event == p.ask.known.event && k.number == p.ask.known.number
            };
            let i = match events.iter().position(same) {
                Some(i) => i,
                None => {
                    events.push(&p.ask.known);
                    events.len() - 1
                }
            };
            index.push(i);
        }
        // The contract (scripts::Join): the fixed arguments, then per event its keys and
        // arguments, then per join its arguments, each list in the contract's order.
        let fixed = scripts::Join {
            now: self.clock.for_script(),
            events: events.len().to_string(),
            default_capacity: self.event_defaults.capacity.to_string(),
            session_ms: self.event_defaults.session_ms.to_string(),
        };
        let mut keys: Vec<&str> = Vec::with_capacity(events.len() * JOIN_EVENT_KEYS.len());
        // Borrowed where the join already holds the text: a call's arguments are copied
        // into its command once, so each join allocates only its numbers' text.
        let mut args: Vec<Cow<'_, str>> = fixed
            .args()
            .into_iter()
            .map(|a| Cow::Owned(a.to_owned()))
            .collect();
        for known in &events {
            let k = &known.keys;
            // JOIN_EVENT_KEYS
            keys.extend(
                [
                    &k.stream,
                    &k.meta,
                    &k.sessions,
                    &k.users,
                    &k.left,
                    &k.ranks,
                    &k.active,
                    &k.pow,
                    &k.back,
                ]
                .map(String::as_str),
            );
            // JOIN_EVENT_ARGS
            args.push(Cow::Owned(super::ids::event_number_hex(known.number)));
            args.push(Cow::Borrowed(known.event.as_str()));
        }
        // JOIN_ARGS
        for (p, i) in batch.iter().zip(&index) {
            args.push(Cow::Owned((i + 1).to_string()));
            args.push(Cow::Borrowed(&p.ask.tag));
            args.push(Cow::Borrowed(p.ask.user.as_str()));
            args.push(Cow::Owned(super::keys::user_bucket(p.ask.user.as_str())));
            args.push(Cow::Borrowed(p.ask.create.word()));
            args.push(if p.ask.create != Create::Not {
                Cow::Owned(self.join_deadline(p.ask.queued_at_ms).to_string())
            } else {
                Cow::Borrowed("0")
            });
            match &p.ask.nonce {
                Some((nonce, kept_ms)) => {
                    args.push(Cow::Borrowed(nonce));
                    args.push(Cow::Owned((*kept_ms).max(1).to_string()));
                }
                None => {
                    args.push(Cow::Borrowed(""));
                    args.push(Cow::Borrowed("1"));
                }
            }
        }
        let writes = if batch.iter().any(|p| p.ask.create != Create::Not) {
            Writes::Acknowledged
        } else {
            Writes::Incidental
        };
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let reply: Result<CallReply, StoreError> =
            self.script(&self.scripts.join, &keys, &args, writes).await;
        debug_assert_eq!(keys.len(), events.len() * JOIN_EVENT_KEYS.len());
        debug_assert_eq!(
            args.len(),
            scripts::Join::ARGS.len()
                + events.len() * JOIN_EVENT_ARGS.len()
                + batch.len() * JOIN_ARGS.len()
        );
        let mut woke = vec![false; events.len()];
        let away = match &reply {
            Err(e @ StoreError::Unavailable(_)) => Some(e.clone()),
            _ => None,
        };
        let replies = match reply {
            Ok((redis_now, states, tails, replies))
                if replies.len() == batch.len()
                    && states.len() == events.len()
                    && tails.len() == 2 * states.len() =>
            {
                self.saw_redis_clock(redis_now);
                let now = u64::try_from(redis_now).unwrap_or_default();
                let states: Vec<Result<Arc<EventState>, StoreError>> = states
                    .into_iter()
                    .map(|state| match state {
                        Value::Array(fields) => Ok(Arc::new(EventState::from_fields(&fields)?)),
                        other => Err(StoreError::Unexpected(format!(
                            "a join's event state {other:?}"
                        ))),
                    })
                    .collect();
                for (i, woken) in woke.iter_mut().enumerate() {
                    *woken = tails.get(2 * i + 1) == Some(&1);
                }
                replies
                    .into_iter()
                    .zip(&index)
                    .map(|(row, &i)| written(row, i, &states, &tails, now))
                    .collect::<Vec<Result<Written, StoreError>>>()
            }
            Ok((_, _, _, replies)) => {
                let e = StoreError::Unexpected(format!(
                    "{} replies to {} joins",
                    replies.len(),
                    batch.len()
                ));
                batch.iter().map(|_| Err(e.clone())).collect()
            }
            Err(e) => batch.iter().map(|_| Err(e.clone())).collect(),
        };
        // An event where a join may be admitted at once goes into the granter's schedule.
        // The join stands whatever happens here (it is written, and answered so): a wake
        // lost is made again by the event's next join or poll (see join.lua), at the
        // latest by the sweep.
        for (i, known) in events.iter().enumerate() {
            if woke[i] {
                if let Err(e) = self.wake(&known.event).await {
                    tracing::warn!(event = %known.event, error = %e, "a join's wake was not written");
                }
            }
            // Admitted at once: the event is due at the earliest end of those slots.
            let due = replies
                .iter()
                .zip(&index)
                .filter(|(_, j)| **j == i)
                .filter_map(|(r, _)| match r {
                    Ok(Written::Place(Placed::Row(joined))) => admitted_until(&joined.row),
                    _ => None,
                })
                .min();
            if let Some(at) = due {
                if let Err(e) = self.schedule_by(&known.event, at).await {
                    tracing::warn!(event = %known.event, error = %e, "an expiry was not scheduled");
                }
            }
        }
        for (p, r) in batch.into_iter().zip(replies) {
            // The asker may have gone away; its join stands all the same.
            let _ = p.reply.send(r);
        }
        away
    }

    /// The deadline on Redis's clock of a join asked for at `queued_at_ms`: a little
    /// before this process stops waiting for it (`join_budget_ms` from then).
    fn join_deadline(&self, queued_at_ms: u64) -> u64 {
        let offset = self
            .clock_offset_ms
            .load(std::sync::atomic::Ordering::Relaxed);
        queued_at_ms
            .saturating_add_signed(offset)
            .saturating_add(self.join_budget_ms)
    }

    /// Notes Redis's clock, as a reply that has just arrived gives it.
    fn saw_redis_clock(&self, redis_now: i64) {
        let offset = redis_now - self.clock.now_ms() as i64;
        self.clock_offset_ms
            .store(offset, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A join's reply: a place (with its event's state, from `states`, and for a new waiting
/// one its event's `gone`, from `tails`) or why there is none. `i`: the join's event's
/// index in the call (and so in `states`: the script numbers the call's events as it
/// first meets them, as the batch does).
fn written(
    v: Value,
    i: usize,
    states: &[Result<Arc<EventState>, StoreError>],
    tails: &[u64],
    now: u64,
) -> Result<Written, StoreError> {
    let text = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
    let state_of = |e: usize| match states.get(e) {
        Some(Ok(state)) => Ok(state.clone()),
        Some(Err(e)) => Err(e.clone()),
        None => Err(StoreError::Unexpected(format!("no state {e} for a join"))),
    };
    match v {
        Value::Int(q) => Ok(Written::Place(Placed::Waiting(Waiting {
            q: u64::try_from(q)
                .map_err(|_| StoreError::Unexpected(format!("a join numbered {q}")))?,
            gone: tails.get(2 * i).copied().unwrap_or_default(),
            state: state_of(i)?,
            now,
        }))),
        Value::Nil => Ok(Written::NoPlace),
        Value::BulkString(s) if s == b"STALE" => Ok(Written::Stale),
        Value::SimpleString(s) if s == "STALE" => Ok(Written::Stale),
        Value::BulkString(s) if s == b"LATE" => Ok(Written::Late),
        Value::SimpleString(s) if s == "LATE" => Ok(Written::Late),
        Value::BulkString(s) if s == b"SUSPENDED" => Ok(Written::Suspended),
        Value::BulkString(s) if s == b"TOKEN" => Ok(Written::TokenRequired),
        Value::BulkString(s) if s == b"SPENT" => Ok(Written::Spent),
        Value::BulkString(s) if s.starts_with(b"CLOSED:") => {
            Ok(Written::Closed(text(&s[b"CLOSED:".len()..])))
        }
        Value::BulkString(s) => Err(StoreError::Unexpected(text(&s))),
        Value::Array(items) => {
            let row = Value::Array(items);
            let e = int_field(&row, b"ev")
                .and_then(|e| usize::try_from(e).ok()?.checked_sub(1))
                .ok_or_else(|| StoreError::Unexpected("a join's row without `ev`".into()))?;
            Ok(Written::Place(Placed::Row(Joined {
                row,
                state: state_of(e)?,
                now,
            })))
        }
        other => Err(StoreError::Unexpected(format!("a join answered {other:?}"))),
    }
}

/// The integer field `name` of a row of name/value pairs.
fn int_field(row: &Value, name: &[u8]) -> Option<i64> {
    let Value::Array(items) = row else {
        return None;
    };
    items.chunks(2).find_map(|pair| match pair {
        [Value::BulkString(n), Value::Int(v)] if n == name => Some(*v),
        _ => None,
    })
}

/// The end of the slot of a join admitted at once (`due`: see join.lua).
fn admitted_until(row: &Value) -> Option<u64> {
    int_field(row, b"due").and_then(|at| u64::try_from(at).ok())
}
