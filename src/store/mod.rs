//! The Redis store: the only code that talks to Redis.
//!
//! Every state change is one Lua script over the keys of one event (see [`keys`]), so each
//! step is atomic and the layout fits Redis Cluster. A join, a status read and a leave are
//! one round trip each: a session id carries its event's number and its join number (see
//! [`ids`]), and each process remembers the (few) event numbers it has seen.

mod connection;
pub mod ids;
pub mod keys;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use redis::{FromRedisValue, Pipeline, RedisError, Script};

pub use connection::Target;
use connection::{Conn, Connector};

use crate::domain::{EventId, Queueing, SessionId, Status, UserId};
use ids::{event_number_hex, random_tag, tag_text, SessionKey, MAX_EVENT_NUMBER};
use keys::{EventKeys, EVENTS, LIVE};
use scripts::Scripts;

/// What can go wrong talking to Redis.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis did not answer (down, unreachable, timed out).
    #[error("redis is unavailable: {0}")]
    Unavailable(RedisError),
    /// Redis answered with an error or with something the code did not expect: a bug.
    #[error("unexpected redis reply: {0}")]
    Unexpected(String),
    /// The event's number this process used is not the event's any more (Redis lost data
    /// and the event was numbered again): the mapping is refreshed and the call made again
    /// by the store itself; it reaches callers only if that happens twice in a row.
    #[error("stale event number")]
    StaleEvent,
    /// Every event number (24 bits) is taken: no new event can be registered.
    #[error("every event number is taken")]
    EventsFull,
    /// A write was made but fewer replicas than asked for confirmed it in time (see
    /// [`Durability`]); it may be lost in a failover, so it is not acknowledged.
    #[error("a write reached {acked} of {wanted} replicas in time")]
    Unreplicated { acked: i64, wanted: u32 },
}

impl From<RedisError> for StoreError {
    fn from(e: RedisError) -> Self {
        match error_code(&e).as_deref() {
            Some("STALEEVENT") => return StoreError::StaleEvent,
            Some("EVENTSFULL") => return StoreError::EventsFull,
            _ => {}
        }
        // Redis starting (LOADING its AOF), busy, or a cluster/replica in transition (a
        // redirection inside a pipeline, which the cluster client does not follow), out
        // of memory (maxmemory reached under `noeviction`) or read-only (a demoted primary
        // after a failover): all pass or are an operator's to fix, and the client is asked
        // to retry; none is a bug of the request.
        let transient = matches!(
            error_code(&e).as_deref(),
            Some(
                "LOADING"
                    | "BUSY"
                    | "MASTERDOWN"
                    | "TRYAGAIN"
                    | "CLUSTERDOWN"
                    | "OOM"
                    | "READONLY"
                    | "NOREPLICAS"
                    | "MOVED"
                    | "ASK"
            )
        );
        // The cluster client has no connection to the slot's node (a failover in progress).
        let no_node = e.kind() == redis::ErrorKind::ClusterConnectionNotFound;
        if transient
            || no_node
            || e.is_io_error()
            || e.is_timeout()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
        {
            StoreError::Unavailable(e)
        } else {
            StoreError::Unexpected(e.to_string())
        }
    }
}

/// The error code Redis answered (`OOM`, `READONLY`, …), also when the error came back
/// from within a pipeline: redis-rs names the code of a pipeline's failure only when it is
/// one it knows.
fn error_code(e: &RedisError) -> Option<String> {
    e.code().map(str::to_owned).or_else(|| {
        let items = e.clone().into_server_errors()?;
        items.first().map(|(_, error)| error.code().to_owned())
    })
}

/// A session as stored, with what the view needs to derive position and estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub session_id: SessionId,
    pub event_id: EventId,
    pub user_id: UserId,
    pub status: Status,
    /// 1 = next in line; 0 unless WAITING.
    pub position: u64,
    /// End of the active period (unix ms); 0 while waiting.
    pub active_until_ms: u64,
    /// Exponentially decayed count of admissions (time constant one minute) …
    pub admissions: f64,
    /// … as of this time (unix ms).
    pub admissions_at_ms: u64,
    /// The event's shop URL, when one is set.
    pub target_url: Option<String>,
    /// Waiting for the event's opening (no position yet if the event draws).
    pub pre_queue: bool,
    /// The event's opening (unix ms), when one is set.
    pub opens_at_ms: Option<u64>,
    /// The operator's words to the people waiting, when there are some.
    pub message: Option<String>,
}

/// What a join may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMode {
    /// Make a place, unless the user has a live one. `register_event`: an event never seen
    /// before is registered by this join (else it is [`JoinReply::UnknownEvent`]).
    Create { register_event: bool },
    /// Only look up the user's live place; writes nothing.
    Peek,
}

/// The outcome of a join.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinReply {
    /// A new place in line.
    Created(SessionRecord),
    /// The user's live session for the event, unchanged (but for its heartbeat).
    Existing(SessionRecord),
    /// [`JoinMode::Peek`] and the user has no live session.
    NoPlace,
    /// The event is not registered, and the join may not register it.
    UnknownEvent,
}

/// The outcome of a leave.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    /// True when an ACTIVE session gave its slot back (the granter should run).
    pub freed_slot: bool,
    pub record: SessionRecord,
}

/// Rules of a granter pass.
#[derive(Debug, Clone, Copy)]
pub struct GrantParams {
    /// Capacity of events without their own setting.
    pub default_capacity: u64,
    pub session_ms: u64,
    pub abandon_ms: u64,
    /// Most stream entries (and expiries, and purges) one script handles.
    pub batch: u64,
    /// How long final sessions and granted stream entries are kept.
    pub retention_ms: u64,
}

/// What one granter pass did for one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantReport {
    pub event_id: EventId,
    pub granted: u64,
    pub expired: u64,
    pub abandoned: u64,
    /// The pass stopped at its batch size with slots still free: run again at once.
    pub more: bool,
    /// When a pass is next due without a wake-up (unix ms): the earliest end of an
    /// active session, or the roll-over of a rate-limited event's window.
    pub next_expiry_ms: Option<u64>,
    pub waiting: u64,
    pub active: u64,
    /// Nobody waiting or active and nothing left to purge: the event costs nothing more
    /// until a join wakes it.
    pub idle: bool,
}

/// Per-event settings, kept in the event's meta hash so every instance obeys them at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSettings {
    /// Most ACTIVE sessions; `None` = the configured default.
    pub capacity: Option<u64>,
    /// The shop the line leads to (an absolute http(s) URL); admitted visitors are sent
    /// there, and a `return` URL is accepted only on its origin.
    pub target_url: Option<String>,
    /// Most new ACTIVE sessions per minute; `None` = no limit.
    pub rate_per_minute: Option<u64>,
    /// No admissions while paused; joins and positions go on.
    pub paused: bool,
    /// The opening (unix ms): joins before it wait in the pre-queue.
    pub opens_at_ms: Option<u64>,
    /// `None` = the default: draw at the opening if there is one, else FIFO.
    pub queueing: Option<Queueing>,
}

/// One draw, as recorded when it was made (README, "A fair start").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draw {
    /// 1 for the first draw of the event.
    pub round: u64,
    /// 64 hex digits, drawn by the instance that made the draw, at that moment.
    pub seed: String,
    /// Joins `lo + 1 ..= lo + n` were drawn.
    pub lo: u64,
    pub n: u64,
    /// When (unix ms, Redis's clock).
    pub at_ms: u64,
}

/// An event's settings and counts.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOverview {
    pub event_id: EventId,
    pub settings: EventSettings,
    /// Joins so far.
    pub joined: u64,
    /// Joins the granter has not reached yet.
    pub waiting: u64,
    pub active: u64,
    /// Everyone admitted so far.
    pub admitted: u64,
    /// Exponentially decayed count of admissions (time constant one minute) …
    pub admissions: f64,
    /// … as of this time (unix ms).
    pub admissions_at_ms: u64,
    /// The operator's words to the people waiting.
    pub message: Option<String>,
}

/// One sample of an event's line, as the granter recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When (unix ms, Redis's clock: the sample's stream id).
    pub at_ms: u64,
    pub waiting: u64,
    pub active: u64,
    /// The capacity in force then.
    pub capacity: u64,
    /// Everyone admitted up to then.
    pub admitted: u64,
}

/// `{status, position, until, user, rate, rateTs, target, preQueue, opensAt, message}` as
/// returned by `view()` in common.lua.
type ViewRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
);

/// Event numbers this process remembers (a number never changes its event, so the cache
/// is never stale).
const EVENT_CACHE: usize = 100_000;

/// A registered event, as this process remembers it.
#[derive(Debug)]
struct Known {
    event: EventId,
    number: u32,
    /// Its keys, built once instead of on every request.
    keys: Arc<EventKeys>,
}

/// How many replicas must confirm a write before it is acknowledged (Redis `WAIT`).
///
/// Redis replicates asynchronously: a primary that fails right after a write may take it
/// with it. With `replicas > 0`, every join, leave and granter pass is followed by
/// `WAIT replicas timeout_ms` on the same primary, and a write that too few replicas
/// confirmed is answered 503 (it may or may not survive a failover; a retry is safe).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Durability {
    pub replicas: u32,
    pub timeout_ms: u64,
}

/// Whether a script call changes what was acknowledged to someone (and so waits for
/// replicas under [`Durability`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    Acknowledged,
    Incidental,
}

/// Most events a granter pass or an overview handles at once (each is one call; they
/// share the connection, so the calls are pipelined on the wire).
const CONCURRENT_EVENTS: usize = 64;

/// How often a busy event's line is sampled for the console (see [`Store::history`]).
pub const SAMPLE_MS: u64 = 5_000;
/// How much of an event's samples is kept.
pub const HISTORY_MS: u64 = 3_600_000;

/// Handle to Redis; cheap to clone (one multiplexed connection, reconnected on failure).
#[derive(Clone)]
pub struct Store {
    conn: Connector,
    durability: Durability,
    scripts: Arc<Scripts>,
    by_event: Arc<quick_cache::sync::Cache<EventId, Arc<Known>>>,
    by_number: Arc<quick_cache::sync::Cache<u32, Arc<Known>>>,
}

impl Store {
    /// Connects lazily: the server starts even while Redis is away, and every command
    /// fails fast (`response_timeout`) until it is back.
    pub fn connect(
        target: &Target,
        response_timeout: Duration,
        durability: Durability,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            conn: Connector::open(target, response_timeout)?,
            durability,
            scripts: Arc::new(Scripts::new()),
            by_event: Arc::new(quick_cache::sync::Cache::new(EVENT_CACHE)),
            by_number: Arc::new(quick_cache::sync::Cache::new(EVENT_CACHE)),
        })
    }

    /// Redis answers (on a cluster: every primary answers).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.get().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Adds a join to the event's line, or returns the user's live session there.
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
        mode: JoinMode,
    ) -> Result<JoinReply, StoreError> {
        let register = matches!(
            mode,
            JoinMode::Create {
                register_event: true
            }
        );
        let (create, writes) = match mode {
            JoinMode::Peek => ("0", Writes::Incidental),
            JoinMode::Create { .. } => ("1", Writes::Acknowledged),
        };
        let tag = tag_text(random_tag());
        let mut refreshed = false;
        let reply: Option<(i64, String, ViewRow, i64)> = loop {
            let Some(known) = self.known(event, register).await? else {
                return Ok(JoinReply::UnknownEvent);
            };
            let k = &known.keys;
            let result = self
                .script(
                    &self.scripts.join,
                    &[&k.stream, &k.meta, &k.sessions, &k.users, &k.left],
                    &[
                        &event_number_hex(known.number),
                        &tag,
                        event.as_str(),
                        user.as_str(),
                        create,
                    ],
                    writes,
                )
                .await;
            match result {
                Err(StoreError::StaleEvent) if !refreshed => {
                    // Redis lost the event (or this process's number for it): ask the
                    // registry again, which numbers it anew if needed.
                    refreshed = true;
                    self.forget(&known);
                }
                other => break other?,
            }
        };
        let Some((created, id, row, wake)) = reply else {
            return Ok(JoinReply::NoPlace);
        };
        if wake == 1 {
            // Before the join is acknowledged: a join is never left in an event no pass
            // goes over.
            self.mark_live(event).await?;
        }
        let session_id = SessionId::parse(&id).map_err(|e| StoreError::Unexpected(e.message))?;
        let record = record(session_id, event.clone(), row)?;
        Ok(if created == 1 {
            JoinReply::Created(record)
        } else {
            JoinReply::Existing(record)
        })
    }

    /// Reads a session (and records the heartbeat of a waiting one when the recorded one
    /// is `heartbeat_ms` old or more); `None` if unknown.
    pub async fn status(
        &self,
        sid: SessionId,
        heartbeat_ms: u64,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let heartbeat = heartbeat_ms.to_string();
        let reply: Option<(Option<ViewRow>, EventId)> = self
            .session_script(
                &sid,
                &self.scripts.status,
                |k| vec![&k.meta, &k.sessions, &k.left],
                |key| {
                    vec![
                        key.seq.to_string(),
                        key.tag_text(),
                        heartbeat.clone(),
                        event_number_hex(key.event_number),
                    ]
                },
                Writes::Incidental,
            )
            .await?;
        match reply {
            Some((Some(row), event)) => Ok(Some(record(sid, event, row)?)),
            _ => Ok(None),
        }
    }

    /// Ends a session: leaves the line or gives the slot back. `None` if unknown.
    pub async fn leave(&self, sid: SessionId) -> Result<Option<Left>, StoreError> {
        let reply: Option<(Option<(i64, ViewRow)>, EventId)> = self
            .session_script(
                &sid,
                &self.scripts.leave,
                |k| {
                    vec![
                        &k.meta,
                        &k.sessions,
                        &k.users,
                        &k.active,
                        &k.left,
                        &k.done,
                        &k.revoked,
                    ]
                },
                |key| vec![sid.to_string(), key.seq.to_string(), key.tag_text()],
                Writes::Acknowledged,
            )
            .await?;
        match reply {
            Some((Some((freed, row)), event)) => Ok(Some(Left {
                freed_slot: freed == 1,
                record: record(sid, event, row)?,
            })),
            _ => Ok(None),
        }
    }

    /// Runs a script on the keys of a session's event, found from the session id; `None`
    /// when no event has the id's number. A mapping found stale (`STALEEVENT`) is
    /// forgotten and the call made once more with the registry's.
    async fn session_script<T: FromRedisValue>(
        &self,
        sid: &SessionId,
        script: &Script,
        keys: impl Fn(&EventKeys) -> Vec<&String>,
        args: impl Fn(&SessionKey) -> Vec<String>,
        writes: Writes,
    ) -> Result<Option<(T, EventId)>, StoreError> {
        let mut refreshed = false;
        loop {
            let Some((key, known)) = self.locate(sid).await? else {
                return Ok(None);
            };
            let keys: Vec<&str> = keys(&known.keys).into_iter().map(String::as_str).collect();
            let args = args(&key);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match self.script(script, &keys, &args, writes).await {
                Err(StoreError::StaleEvent) if !refreshed => {
                    refreshed = true;
                    self.forget(&known);
                }
                other => return Ok(Some((other?, known.event.clone()))),
            }
        }
    }

    /// One granter pass over the events with work; those found idle are taken out of them
    /// (unless woken meanwhile).
    pub async fn grant_live(&self, params: &GrantParams) -> Result<Vec<GrantReport>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZRANGE")
            .arg(LIVE)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES");
        let (live,): (Vec<(String, String)>,) = self.query(&pipe).await?;
        let stamps: std::collections::HashMap<EventId, String> = live
            .into_iter()
            .filter_map(|(e, stamp)| Some((EventId::parse(&e).ok()?, stamp)))
            .collect();
        let mut ids: Vec<EventId> = stamps.keys().cloned().collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let reports = self.grant(&ids, params).await?;
        for r in reports.iter().filter(|r| r.idle) {
            let _: i64 = self
                .script(
                    &self.scripts.retire,
                    &[LIVE],
                    &[r.event_id.as_str(), &stamps[&r.event_id]],
                    Writes::Incidental,
                )
                .await?;
        }
        Ok(reports)
    }

    /// One granter pass over every registered event, idle or not; those with work are
    /// added to the events with work. The safety net under [`Store::grant_live`]: for a
    /// process that stopped between writing a join and marking its event, and for events
    /// from before the live set existed. It costs one script per event ever registered.
    pub async fn grant_all(&self, params: &GrantParams) -> Result<Vec<GrantReport>, StoreError> {
        let ids = self.event_ids().await?;
        let reports = self.grant(&ids, params).await?;
        for r in reports.iter().filter(|r| !r.idle) {
            let mut pipe = redis::pipe();
            pipe.cmd("ZADD")
                .arg(LIVE)
                .arg("NX")
                .arg(stamp())
                .arg(r.event_id.as_str());
            self.query::<()>(&pipe).await?;
        }
        Ok(reports)
    }

    /// Adds the event to the events with work, with a fresh stamp (so that a pass that
    /// found it idle before does not take it out).
    async fn mark_live(&self, event: &EventId) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD").arg(LIVE).arg(stamp()).arg(event.as_str());
        self.query::<()>(&pipe).await
    }

    /// Every registered event, sorted.
    async fn event_ids(&self) -> Result<Vec<EventId>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HKEYS").arg(EVENTS);
        let (fields,): (Vec<String>,) = self.query(&pipe).await?;
        let mut ids: Vec<EventId> = fields
            .iter()
            .filter(|f| !f.starts_with('#'))
            .filter_map(|e| EventId::parse(e).ok())
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(ids)
    }

    /// One granter pass over these events: expire, admit, purge. Each event is its own
    /// script call (on a cluster, on its own primary), so a full event never holds up
    /// another. Redis away fails the pass; one event's failure (a bug, a key of the wrong
    /// type) is logged and skipped.
    pub async fn grant(
        &self,
        events: &[EventId],
        params: &GrantParams,
    ) -> Result<Vec<GrantReport>, StoreError> {
        let args = [
            params.default_capacity.to_string(),
            params.session_ms.to_string(),
            params.abandon_ms.to_string(),
            params.batch.to_string(),
            params.retention_ms.to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let sampling = &[SAMPLE_MS.to_string(), HISTORY_MS.to_string()];
        let args = &args;
        // Owned ids: a stream of borrowed ones trips the compiler's `Send` check.
        let reports: Vec<Option<GrantReport>> = futures::stream::iter(events.to_vec())
            .map(|event| async move { self.grant_one(&event, args, sampling).await })
            .buffered(CONCURRENT_EVENTS)
            .try_collect()
            .await?;
        Ok(reports.into_iter().flatten().collect())
    }

    async fn grant_one(
        &self,
        event: &EventId,
        args: &[&str],
        sampling: &[String; 2],
    ) -> Result<Option<GrantReport>, StoreError> {
        type Row = (u64, u64, u64, u64, i64, i64, u64, u64);
        let Some(known) = self.known(event, false).await? else {
            return Ok(None);
        };
        let k = &known.keys;
        // Used only if this pass makes a draw: unknown to anyone before that moment.
        let seed = hex(&rand::random::<[u8; 32]>());
        let number = event_number_hex(known.number);
        let args: Vec<&str> = args
            .iter()
            .copied()
            .chain([seed.as_str(), &number, &sampling[0], &sampling[1]])
            .collect();
        let row: Row = match self
            .script(
                &self.scripts.grant,
                &[
                    &k.stream,
                    &k.meta,
                    &k.sessions,
                    &k.users,
                    &k.active,
                    &k.left,
                    &k.done,
                    &k.revoked,
                    &k.draws,
                    &k.series,
                ],
                &args,
                Writes::Acknowledged,
            )
            .await
        {
            Ok(row) => row,
            Err(StoreError::Unexpected(e)) => {
                tracing::error!(event = %event, error = %e, "granter script failed for one event");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let (granted, expired, abandoned, more, next, waiting, active, idle) = row;
        Ok(Some(GrantReport {
            event_id: event.clone(),
            granted,
            expired,
            abandoned,
            more: more == 1,
            next_expiry_ms: u64::try_from(next).ok(),
            waiting: u64::try_from(waiting).unwrap_or(0),
            active,
            idle: idle == 1,
        }))
    }

    /// Known events with their settings and counts, in id order: at most `limit` after
    /// `after`, and whether more follow.
    pub async fn events(
        &self,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<(Vec<EventOverview>, bool), StoreError> {
        let ids = self.event_ids().await?;
        let start = after.map_or(0, |a| ids.partition_point(|id| id.as_str() <= a.as_str()));
        let end = (start + limit).min(ids.len());
        Ok((self.overviews(&ids[start..end]).await?, end < ids.len()))
    }

    /// Pauses or resumes an event's admissions with one write (the event need not have
    /// had a join yet).
    pub async fn set_paused(&self, event: &EventId, paused: bool) -> Result<(), StoreError> {
        let known = self.registered(event).await?;
        let mut pipe = redis::pipe();
        if paused {
            pipe.hset(&known.keys.meta, "paused", "1");
        } else {
            pipe.hdel(&known.keys.meta, "paused");
        }
        self.query::<()>(&pipe).await
    }

    /// One event's settings and counts (defaults and zeros for an event never seen).
    pub async fn event(&self, event: &EventId) -> Result<EventOverview, StoreError> {
        let mut overviews = self.overviews(std::slice::from_ref(event)).await?;
        overviews
            .pop()
            .ok_or_else(|| StoreError::Unexpected("no overview for an event".into()))
    }

    async fn overviews(&self, ids: &[EventId]) -> Result<Vec<EventOverview>, StoreError> {
        futures::stream::iter(ids.to_vec())
            .map(|event| async move { self.overview(&event).await })
            .buffered(CONCURRENT_EVENTS)
            .try_collect()
            .await
    }

    async fn overview(&self, event: &EventId) -> Result<EventOverview, StoreError> {
        let k = self.event_keys(event);
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET")
            .arg(&k.meta)
            .arg(&[
                "seq",
                "head",
                "capacity",
                "rate_per_min",
                "paused",
                "target",
                "opens_at",
                "queueing",
                "draw_n",
                "draw_next",
                "admitted",
                "rate",
                "rate_ts",
                "message",
            ])
            .cmd("ZCARD")
            .arg(&k.active);
        let (fields, active): (Vec<redis::Value>, u64) = self.query(&pipe).await?;
        let field = |i: usize| fields.get(i).unwrap_or(&redis::Value::Nil);
        let number = |i: usize| {
            redis::from_redis_value_ref::<Option<u64>>(field(i))
                .ok()
                .flatten()
        };
        let text = |i: usize| {
            redis::from_redis_value_ref::<Option<String>>(field(i))
                .ok()
                .flatten()
        };
        let (seq, head) = (number(0).unwrap_or(0), number(1).unwrap_or(0));
        let (drawn, reached) = (number(8).unwrap_or(0), number(9).unwrap_or(0));
        Ok(EventOverview {
            event_id: event.clone(),
            settings: EventSettings {
                capacity: number(2),
                target_url: text(5),
                rate_per_minute: number(3),
                paused: text(4).as_deref() == Some("1"),
                opens_at_ms: number(6),
                queueing: text(7).as_deref().and_then(Queueing::parse),
            },
            joined: seq,
            waiting: seq.saturating_sub(head) + drawn.saturating_sub(reached),
            active,
            admitted: number(10).unwrap_or(0),
            admissions: text(11).and_then(|r| r.parse().ok()).unwrap_or(0.0),
            admissions_at_ms: number(12).unwrap_or(0),
            message: text(13).filter(|m| !m.is_empty()),
        })
    }

    /// Sets or (with `None`) clears the message the people waiting for an event see.
    pub async fn set_message(
        &self,
        event: &EventId,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        let known = self.registered(event).await?;
        let mut pipe = redis::pipe();
        match message {
            Some(text) => pipe.hset(&known.keys.meta, "message", text),
            None => pipe.hdel(&known.keys.meta, "message"),
        };
        self.query::<()>(&pipe).await
    }

    /// The samples of an event's line recorded since `since_ms` (unix ms), oldest first
    /// (at most an hour of them: see [`HISTORY_MS`]).
    pub async fn history(&self, event: &EventId, since_ms: u64) -> Result<Vec<Sample>, StoreError> {
        type Entry = (String, Vec<(String, u64)>);
        let k = self.event_keys(event);
        let mut pipe = redis::pipe();
        pipe.cmd("XRANGE")
            .arg(&k.series)
            .arg(since_ms)
            .arg("+")
            .arg("COUNT")
            .arg(2 * HISTORY_MS / SAMPLE_MS);
        let (entries,): (Vec<Entry>,) = self.query(&pipe).await?;
        Ok(entries
            .into_iter()
            .filter_map(|(id, fields)| {
                let at_ms = id.split('-').next()?.parse().ok()?;
                let field = |name: &str| {
                    fields
                        .iter()
                        .find(|(f, _)| f == name)
                        .map_or(0, |(_, v)| *v)
                };
                Some(Sample {
                    at_ms,
                    waiting: field("w"),
                    active: field("a"),
                    capacity: field("c"),
                    admitted: field("g"),
                })
            })
            .collect())
    }

    /// Replaces an event's settings (the event need not have had a join yet).
    pub async fn put_settings(
        &self,
        event: &EventId,
        settings: &EventSettings,
    ) -> Result<(), StoreError> {
        let known = self.registered(event).await?;
        self.mark_live(event).await?;
        let k = &known.keys;
        let mut pipe = redis::pipe();
        pipe.atomic();
        match settings.capacity {
            Some(c) => pipe.hset(&k.meta, "capacity", c).ignore(),
            None => pipe.hdel(&k.meta, "capacity").ignore(),
        };
        match &settings.target_url {
            Some(url) => pipe.hset(&k.meta, "target", url).ignore(),
            None => pipe.hdel(&k.meta, "target").ignore(),
        };
        match settings.rate_per_minute {
            Some(r) => pipe.hset(&k.meta, "rate_per_min", r).ignore(),
            None => pipe.hdel(&k.meta, "rate_per_min").ignore(),
        };
        if settings.paused {
            pipe.hset(&k.meta, "paused", "1").ignore();
        } else {
            pipe.hdel(&k.meta, "paused").ignore();
        }
        match settings.opens_at_ms {
            Some(at) => pipe.hset(&k.meta, "opens_at", at).ignore(),
            None => pipe.hdel(&k.meta, "opens_at").ignore(),
        };
        match settings.queueing {
            Some(q) => pipe.hset(&k.meta, "queueing", q.as_str()).ignore(),
            None => pipe.hdel(&k.meta, "queueing").ignore(),
        };
        self.query::<()>(&pipe).await
    }

    /// The event's number and keys; an event never seen before is registered when
    /// `register`, else `None`.
    async fn known(
        &self,
        event: &EventId,
        register: bool,
    ) -> Result<Option<Arc<Known>>, StoreError> {
        if let Some(known) = self.by_event.get(event) {
            return Ok(Some(known));
        }
        if register {
            return self.registered(event).await.map(Some);
        }
        let mut pipe = redis::pipe();
        pipe.hget(EVENTS, event.as_str());
        let (number,): (Option<u32>,) = self.query(&pipe).await?;
        match number {
            Some(n) => Ok(Some(self.mark_number(event.clone(), n, false).await?)),
            None => Ok(None),
        }
    }

    /// The event's number and keys, registering the event on its first use.
    async fn registered(&self, event: &EventId) -> Result<Arc<Known>, StoreError> {
        if let Some(known) = self.by_event.get(event) {
            return Ok(known);
        }
        let number: u32 = self
            .script(
                &self.scripts.register,
                &[EVENTS],
                &[event.as_str(), &MAX_EVENT_NUMBER.to_string()],
                Writes::Acknowledged,
            )
            .await?;
        self.mark_number(event.clone(), number, true).await
    }

    /// The event's draw number `round`, if it was made.
    pub async fn draw(&self, event: &EventId, round: u64) -> Result<Option<Draw>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.hget(&self.event_keys(event).draws, round);
        let (record,): (Option<String>,) = self.query(&pipe).await?;
        let Some(record) = record else {
            return Ok(None);
        };
        let bad = || StoreError::Unexpected(format!("malformed draw record {record:?}"));
        let mut parts = record.split('|');
        let mut next = || parts.next().ok_or_else(bad);
        let seed = next()?.to_string();
        let mut number = || next()?.parse::<u64>().map_err(|_| bad());
        Ok(Some(Draw {
            round,
            seed,
            lo: number()?,
            n: number()?,
            at_ms: number()?,
        }))
    }

    /// How many passes each event has revoked so far (the counter the leave script keeps).
    pub async fn revocation_counts(&self, events: &[EventId]) -> Result<Vec<u64>, StoreError> {
        futures::stream::iter(events.to_vec())
            .map(|event| async move {
                let mut pipe = redis::pipe();
                pipe.hget(&self.event_keys(&event).meta, "revoked");
                let (count,): (Option<u64>,) = self.query(&pipe).await?;
                Ok(count.unwrap_or_default())
            })
            .buffered(CONCURRENT_EVENTS)
            .try_collect()
            .await
    }

    /// The event's revocation counter and the sessions whose passes it revoked and that
    /// have not expired yet, read together.
    pub async fn revoked(&self, event: &EventId) -> Result<(u64, Vec<String>), StoreError> {
        let k = self.event_keys(event);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hget(&k.meta, "revoked")
            .cmd("ZRANGE")
            .arg(&k.revoked)
            .arg(0)
            .arg(-1);
        let (count, sids): (Option<u64>, Vec<String>) = self.query(&pipe).await?;
        Ok((count.unwrap_or_default(), sids))
    }

    /// The secret stored at `key`, which is `fresh` if nobody stored one before: every
    /// instance ends up with the same value.
    pub async fn shared_secret(&self, key: &str, fresh: &str) -> Result<String, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(key)
            .arg(fresh)
            .arg("NX")
            .ignore()
            .get(key);
        let (secret,): (String,) = self.query(&pipe).await?;
        Ok(secret)
    }

    /// The event's keys: the remembered ones, else built (no Redis call).
    fn event_keys(&self, event: &EventId) -> Arc<EventKeys> {
        self.by_event
            .get(event)
            .map(|known| known.keys.clone())
            .unwrap_or_else(|| Arc::new(EventKeys::new(event)))
    }

    /// The parts of a session id and its event; `None` when no event has its number
    /// (an id this store did not mint).
    async fn locate(
        &self,
        sid: &SessionId,
    ) -> Result<Option<(SessionKey, Arc<Known>)>, StoreError> {
        let Some(key) = SessionKey::decode(sid) else {
            return Ok(None);
        };
        if let Some(known) = self.by_number.get(&key.event_number) {
            return Ok(Some((key, known)));
        }
        let mut pipe = redis::pipe();
        pipe.hget(EVENTS, format!("#{}", key.event_number));
        let (name,): (Option<String>,) = self.query(&pipe).await?;
        let Some(name) = name else {
            return Ok(None);
        };
        let event = EventId::parse(&name).map_err(|e| StoreError::Unexpected(e.message))?;
        let known = self.mark_number(event, key.event_number, false).await?;
        Ok(Some((key, known)))
    }

    /// Writes the event's number into its meta (which every session script checks: see
    /// `stale_number` in common.lua) and remembers it. `registered`: the registry has just
    /// given this number, which wins; else (read from the registry) only where the meta
    /// has none yet (an event from before the check, or whose meta was lost).
    async fn mark_number(
        &self,
        event: EventId,
        number: u32,
        registered: bool,
    ) -> Result<Arc<Known>, StoreError> {
        let keys = EventKeys::new(&event);
        let mut pipe = redis::pipe();
        pipe.cmd(if registered { "HSET" } else { "HSETNX" })
            .arg(&keys.meta)
            .arg("number")
            .arg(event_number_hex(number));
        self.query::<()>(&pipe).await?;
        Ok(self.remember(event, number))
    }

    /// Drops a mapping found stale.
    fn forget(&self, known: &Known) {
        self.by_event.remove(&known.event);
        self.by_number.remove(&known.number);
    }

    fn remember(&self, event: EventId, number: u32) -> Arc<Known> {
        let known = Arc::new(Known {
            keys: Arc::new(EventKeys::new(&event)),
            event: event.clone(),
            number,
        });
        self.by_event.insert(event, known.clone());
        self.by_number.insert(number, known.clone());
        known
    }

    /// Runs one script (one command, so that a cluster follows `MOVED` for it); for
    /// [`Writes::Acknowledged`] under [`Durability`], followed by `WAIT` on the same server.
    async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&str],
        writes: Writes,
    ) -> Result<T, StoreError> {
        let mut cmd = redis::cmd("EVALSHA");
        cmd.arg(script.get_hash())
            .arg(keys.len())
            .arg(keys)
            .arg(args);
        let mut conn = self.conn.get().await?;
        let reply: T = self.run(&mut conn, &cmd).await?;
        let wait = self.durability;
        if writes == Writes::Acknowledged && wait.replicas > 0 {
            let key = keys.first().copied().unwrap_or_default();
            // Any failure of WAIT (the node away, or no longer the primary in a failover)
            // means the write is not known to be on a replica: not acknowledged.
            let acked = match conn
                .wait_for_replicas(key, wait.replicas, wait.timeout_ms)
                .await
            {
                Ok(acked) => acked,
                Err(e) => {
                    tracing::debug!(error = %e, "WAIT failed");
                    0
                }
            };
            if acked < i64::from(wait.replicas) {
                return Err(StoreError::Unreplicated {
                    acked,
                    wanted: wait.replicas,
                });
            }
        }
        Ok(reply)
    }

    /// Runs a pipeline of commands on one event's keys (or on global keys), as [`run`].
    ///
    /// [`run`]: Store::run
    async fn query<T: FromRedisValue>(&self, pipe: &Pipeline) -> Result<T, StoreError> {
        let mut conn = self.conn.get().await?;
        self.run(&mut conn, pipe).await
    }

    /// Runs a command or a pipeline, once more in two cases:
    /// - Redis has lost the scripts (a restart, `SCRIPT FLUSH`, a replica promoted on a
    ///   cluster): they are loaded first (on a cluster, on every primary). NOSCRIPT means
    ///   the script did not run.
    /// - The connection broke (Redis restarted, a network blip): the connection
    ///   reconnects. The command may or may not have run, and every command here is safe to
    ///   repeat: a join is idempotent per (event, user), a status read, a leave and a
    ///   granter pass can all run twice.
    async fn run<T: FromRedisValue>(
        &self,
        conn: &mut Conn,
        request: &(impl Request + ?Sized),
    ) -> Result<T, StoreError> {
        let (mut reloaded, mut reconnected) = (false, false);
        loop {
            match request.send(conn).await {
                Err(e) if error_code(&e).as_deref() == Some("NOSCRIPT") && !reloaded => {
                    reloaded = true;
                    for script in self.scripts.all() {
                        script.prepare_invoke().load_async(conn).await?;
                    }
                }
                Err(e) if (e.is_connection_dropped() || e.is_io_error()) && !reconnected => {
                    reconnected = true;
                    tracing::debug!(error = %e, "redis connection broke; retrying once");
                }
                other => return Ok(other?),
            }
        }
    }
}

/// A command or a pipeline.
trait Request: Sync {
    async fn send<T: FromRedisValue>(&self, conn: &mut Conn) -> redis::RedisResult<T>;
}

impl Request for redis::Cmd {
    async fn send<T: FromRedisValue>(&self, conn: &mut Conn) -> redis::RedisResult<T> {
        self.query_async(conn).await
    }
}

impl Request for Pipeline {
    async fn send<T: FromRedisValue>(&self, conn: &mut Conn) -> redis::RedisResult<T> {
        self.query_async(conn).await
    }
}

/// A wake's stamp: the time (ms) and a random fraction, so that two wakes in one
/// millisecond differ (a score keeps about three decimals at today's times).
fn stamp() -> String {
    format!(
        "{}.{:03}",
        crate::clock::now_ms(),
        rand::random::<u16>() % 1_000
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn record(
    session_id: SessionId,
    event_id: EventId,
    (st, pos, until, user, rate, rate_ts, target, pre_queue, opens_at, message): ViewRow,
) -> Result<SessionRecord, StoreError> {
    let status = match st.as_str() {
        "W" => Status::Waiting,
        "A" => Status::Active,
        "E" => Status::Expired,
        "L" => Status::Left,
        "B" => Status::Abandoned,
        other => return Err(StoreError::Unexpected(format!("unknown status {other:?}"))),
    };
    Ok(SessionRecord {
        session_id,
        event_id,
        user_id: UserId::parse(&user).map_err(|e| StoreError::Unexpected(e.message))?,
        status,
        position: u64::try_from(pos).unwrap_or(0),
        active_until_ms: u64::try_from(until).unwrap_or(0),
        admissions: rate.parse().unwrap_or(0.0),
        admissions_at_ms: rate_ts.parse().unwrap_or(0),
        target_url: (!target.is_empty()).then_some(target),
        pre_queue: pre_queue == 1,
        opens_at_ms: u64::try_from(opens_at).ok().filter(|&at| at > 0),
        message: (!message.is_empty()).then_some(message),
    })
}
