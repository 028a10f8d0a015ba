//! The Redis store: the only code that talks to Redis.
//!
//! Every state change is one Lua script over the keys of one event (see [`keys`]), so each
//! step is atomic and the layout fits Redis Cluster. A join, a status read and a leave are
//! one round trip each: a session id carries its event's number and its join number (see
//! [`ids`]), and each process remembers the (few) event numbers it has seen.
//!
//! This file holds the connection and the way every call runs (retries, `WAIT`); each
//! kind of operation has its file: [`session`] (join, status, leave), [`grant`] (the
//! granter's step), [`settings`] (an event as operators see it), [`registry`] (event
//! numbers) and [`error`].

mod connection;
mod error;
mod grant;
pub mod ids;
mod joins;
pub mod keys;
mod moves;
mod polls;
mod registry;
pub mod scripts;
mod session;
mod settings;
mod view;

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use redis::{FromRedisValue, Pipeline, Script};

pub use connection::Target;
use connection::{Conn, Connector};
use error::error_code;
pub use error::StoreError;
pub use grant::{
    GrantParams, GrantReport, PassOutcome, Placement, HISTORY_MS, SAMPLE_MS,
    UNCONFIGURED_RETENTION_MS,
};
pub use moves::{MoveRefusal, MoveReply, MAX_MOVES, MOVE_OFFER_MS};
pub use polls::{REFRESH as SNAPSHOT_REFRESH, SESSIONS as REMEMBERED_SESSIONS};
use registry::{Registered, EVENT_CACHE};
pub use session::{JoinMode, JoinReply, Left, Renewal, SessionRecord};
pub use settings::{DoorRule, Draw, EventOverview, EventSettings};

use crate::clock::Clock;
use crate::domain::EventId;
use scripts::Scripts;

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

/// When Redis last answered, and when it last could not be reached (unix ms, the system's
/// clock).
#[derive(Debug, Default)]
struct Reach {
    answered_ms: std::sync::atomic::AtomicU64,
    failed_ms: std::sync::atomic::AtomicU64,
}

impl Reach {
    fn note<T>(&self, result: &Result<T, StoreError>) {
        use std::sync::atomic::Ordering::Relaxed;
        match result {
            Err(StoreError::Unavailable(_)) => {
                self.failed_ms.store(crate::clock::now_ms(), Relaxed)
            }
            Err(_) => {}
            Ok(_) => self.answered_ms.store(crate::clock::now_ms(), Relaxed),
        }
    }

    fn away(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let (answered, failed) = (self.answered_ms.load(Relaxed), self.failed_ms.load(Relaxed));
        failed > answered && crate::clock::now_ms().saturating_sub(answered) > 1_000
    }
}

/// The settings of events that have none of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventDefaults {
    pub capacity: u64,
    pub session_ms: u64,
}

impl Default for EventDefaults {
    fn default() -> Self {
        Self {
            capacity: 100,
            session_ms: 300_000,
        }
    }
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

/// Handle to Redis; cheap to clone (one multiplexed connection, reconnected on failure).
#[derive(Clone)]
pub struct Store {
    conn: Connector,
    durability: Durability,
    scripts: Arc<Scripts>,
    by_event: Arc<quick_cache::sync::Cache<EventId, Arc<Registered>>>,
    by_number: Arc<quick_cache::sync::Cache<u32, Arc<Registered>>>,
    polls: Arc<polls::Polls>,
    joins: Arc<joins::Joins>,
    /// How stale a waiting session's recorded heartbeat may get before a poll rewrites it.
    heartbeat_ms: u64,
    /// Told whenever this process puts an event in the granter's schedule (see
    /// [`Store::wake`]): its granter loop waits on it.
    woken: Arc<tokio::sync::Notify>,
    /// Redis's clock less this process's (ms), as the last join reply showed it: a join's
    /// deadline is given to Redis on Redis's clock.
    clock_offset_ms: Arc<std::sync::atomic::AtomicI64>,
    /// The room's time (see [`Clock`]): given to every script as its `now`.
    clock: Clock,
    /// When Redis last answered, and last failed to.
    reach: Arc<Reach>,
    /// The capacity and session length of events without their own (a join admitted at
    /// once counts against them).
    event_defaults: EventDefaults,
    /// How long after a join call is sent Redis may still write it: the shorter of the
    /// response timeout and the request deadline, less a margin for the clocks' offset,
    /// so that a call this process gave up on (and answered 503) is never written later.
    join_budget_ms: u64,
}

impl Store {
    /// Connects lazily: the server starts even while Redis is away, and every command
    /// fails fast (`response_timeout`) until it is back.
    pub fn connect(
        target: &Target,
        response_timeout: Duration,
        durability: Durability,
        heartbeat_ms: u64,
        clock: Clock,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            conn: Connector::open(target, response_timeout)?,
            durability,
            scripts: Arc::new(Scripts::new()),
            by_event: Arc::new(quick_cache::sync::Cache::new(EVENT_CACHE)),
            by_number: Arc::new(quick_cache::sync::Cache::new(EVENT_CACHE)),
            polls: Arc::new(polls::Polls::new()),
            joins: Arc::default(),
            heartbeat_ms,
            woken: Arc::default(),
            clock_offset_ms: Arc::default(),
            clock,
            reach: Arc::default(),
            event_defaults: EventDefaults::default(),
            join_budget_ms: (response_timeout.as_millis() as u64)
                .saturating_sub(250)
                .max(100),
        })
    }

    /// The capacity and session length of events without their own.
    pub fn with_event_defaults(mut self, defaults: EventDefaults) -> Self {
        self.event_defaults = defaults;
        self
    }

    /// Joins are answered failed after `deadline` at the latest (the request deadline):
    /// none is written later (see [`Store::join_budget_ms`]).
    pub fn with_request_deadline(mut self, deadline: Duration) -> Self {
        let budget = (deadline.as_millis() as u64).saturating_sub(250).max(100);
        self.join_budget_ms = self.join_budget_ms.min(budget);
        self
    }

    /// The room's time.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Notified whenever this process puts an event in the granter's schedule.
    pub fn woken(&self) -> Arc<tokio::sync::Notify> {
        self.woken.clone()
    }

    /// Redis answers (on a cluster: every primary answers).
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.get().await?;
        redis::cmd("PING").query_async::<()>(&mut conn).await?;
        Ok(())
    }

    /// Each event's revocation mark: the epoch of its meta (new whenever the event starts
    /// anew), how many passes it has revoked in it (the counter the leave script keeps),
    /// and whether its sale is suspended.
    pub async fn revocation_counts(
        &self,
        events: &[EventId],
    ) -> Result<Vec<(String, u64, bool)>, StoreError> {
        futures::stream::iter(events.to_vec())
            .map(|event| async move {
                let mut pipe = redis::pipe();
                pipe.cmd("HMGET")
                    .arg(&self.event_keys(&event).meta)
                    .arg("epoch")
                    .arg("revoked")
                    .arg("state");
                type Read = ((Option<String>, Option<u64>, Option<String>),);
                let ((epoch, count, state),): Read = self.query(&pipe).await?;
                Ok((
                    epoch.unwrap_or_default(),
                    count.unwrap_or_default(),
                    state.as_deref() == Some("suspended"),
                ))
            })
            .buffered(CONCURRENT_EVENTS)
            .try_collect()
            .await
    }

    /// The event's revocation mark (see [`Store::revocation_counts`]) and the sessions
    /// whose passes it revoked and that have not expired yet, read together.
    pub async fn revoked(
        &self,
        event: &EventId,
    ) -> Result<((String, u64, bool), Vec<String>), StoreError> {
        let k = self.event_keys(event);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HMGET")
            .arg(&k.meta)
            .arg("epoch")
            .arg("revoked")
            .arg("state")
            .cmd("ZRANGE")
            .arg(&k.revoked)
            .arg(0)
            .arg(-1);
        type Read = ((Option<String>, Option<u64>, Option<String>), Vec<String>);
        let ((epoch, count, state), sids): Read = self.query(&pipe).await?;
        Ok((
            (
                epoch.unwrap_or_default(),
                count.unwrap_or_default(),
                state.as_deref() == Some("suspended"),
            ),
            sids,
        ))
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

    /// Runs one script (one command, so that a cluster follows `MOVED` for it); for
    /// [`Writes::Acknowledged`] under [`Durability`], followed by `WAIT` on the same server.
    async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &[&str],
        args: &[&str],
        writes: Writes,
    ) -> Result<T, StoreError> {
        let result = self.script_call(script, keys, args, writes).await;
        self.reach.note(&result);
        result
    }

    async fn script_call<T: FromRedisValue>(
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
        let result = async {
            let mut conn = self.conn.get().await?;
            self.run(&mut conn, pipe).await
        }
        .await;
        self.reach.note(&result);
        result
    }

    /// Redis cannot be reached: its last answer is older than its last failure to answer
    /// by more than a second (the granter asks it every tick, so this follows at once).
    pub fn redis_away(&self) -> bool {
        self.reach.away()
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
