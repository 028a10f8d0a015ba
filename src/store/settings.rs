//! An event as operators see it: its settings, its figures, its samples, its message
//! and its draws.

use futures::{StreamExt, TryStreamExt};

use super::{Store, StoreError, CONCURRENT_EVENTS, HISTORY_MS, SAMPLE_MS};
use crate::domain::{ChallengeMode, EventId, Queueing, SaleState, Sample, MAX_CHALLENGE_LEVEL};

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
    /// When the sale ends (unix ms): no joins after it, and the line is closed.
    pub ends_at_ms: Option<u64>,
    /// How long a session lasts (and is renewed to); `None` = the configured default.
    pub session_ms: Option<u64>,
    /// The longest a session may last with renewals, from its admission; `None` = no cap.
    pub session_cap_ms: Option<u64>,
    /// How long a visitor skipped for not polling may come back and get the turn back
    /// (0: no grace); `None` = the configured default.
    pub grace_ms: Option<u64>,
}

/// What a join to an event must bring: an enqueue token (its key, while `entry: token`),
/// a solved challenge; and the line's pressure the challenge's level follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorRule {
    pub entry_key: Option<String>,
    /// The event's own challenge setting; `None`: the room's default.
    pub challenge: Option<ChallengeMode>,
    /// With `always`, the lowest level (0: the pressure's).
    pub challenge_level: u8,
    /// Joins so far.
    pub joined: u64,
    /// Joins the granter has not reached yet (a draw's people included until it is).
    pub waiting: u64,
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
    /// `sha256:<hex>` of the order, once an instance has computed it (see
    /// [`crate::draw::digest`]).
    pub digest: Option<String>,
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
    /// The sale's state (set on its own: see [`Store::set_state`]).
    pub state: SaleState,
    /// With `entry: token`, the algorithm of its key (set on its own: see
    /// [`Store::set_entry`]); `None` while anyone may join.
    pub entry_alg: Option<String>,
    /// The event's own challenge setting; `None`: the room's default.
    pub challenge: Option<ChallengeMode>,
    /// With `always`, the lowest level (0: the pressure's).
    pub challenge_level: u8,
    /// The shop's brand, as stored (JSON: see `crate::brand`).
    pub brand: Option<String>,
}

impl Store {
    /// Registered events with their settings and counts, in id order: at most `limit` after
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
        self.operator_write(event, |pipe, meta| {
            if paused {
                pipe.hset(meta, "paused", "1").ignore();
            } else {
                pipe.hdel(meta, "paused").ignore();
            }
        })
        .await?;
        self.wake(event).await
    }

    /// Sets the sale's state (one write; the granter acts on it at its next pass, and at
    /// once here): `open` takes the mark away.
    pub async fn set_state(&self, event: &EventId, state: SaleState) -> Result<(), StoreError> {
        self.operator_write(event, |pipe, meta| {
            match state {
                SaleState::Open => pipe.hdel(meta, "state").ignore(),
                other => pipe.hset(meta, "state", other.as_str()).ignore(),
            };
        })
        .await?;
        self.wake(event).await
    }

    /// The sale's state and end (unix ms) as Redis holds them; open and none for an event
    /// never seen. Writes nothing.
    pub async fn sale(&self, event: &EventId) -> Result<(SaleState, Option<u64>), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET")
            .arg(&self.event_keys(event).meta)
            .arg("state")
            .arg("ends_at");
        let ((state, ends_at),): ((Option<String>, Option<u64>),) = self.query(&pipe).await?;
        Ok((
            state
                .as_deref()
                .and_then(SaleState::parse)
                .unwrap_or_default(),
            ends_at,
        ))
    }

    /// An operator's write to an event's meta, in one atomic step: the event is numbered
    /// by the registry first (see [`Store::registered_now`]) and marked `configured` (kept
    /// when idle: see `unconfigured` in grant.lua); this process's snapshot of it is read
    /// again by the next poll.
    async fn operator_write(
        &self,
        event: &EventId,
        fill: impl FnOnce(&mut redis::Pipeline, &str),
    ) -> Result<(), StoreError> {
        let known = self.registered_now(event).await?;
        let meta = &known.keys.meta;
        let mut pipe = redis::pipe();
        pipe.atomic().hset(meta, "configured", 1).ignore();
        fill(&mut pipe, meta);
        self.query::<()>(&pipe).await?;
        self.polls.outdated(known.number);
        Ok(())
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
                "state",
                "ends_at",
                "session_ms",
                "session_cap_ms",
                "entry",
                "entry_key",
                "challenge",
                "challenge_level",
                "brand",
                "grace_ms",
            ])
            .cmd("ZCARD")
            .arg(&k.active)
            .cmd("ZCARD")
            .arg(&k.back);
        let (fields, active, back): (Vec<redis::Value>, u64, u64) = self.query(&pipe).await?;
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
                ends_at_ms: number(15),
                session_ms: number(16),
                session_cap_ms: number(17),
                grace_ms: number(23),
            },
            joined: seq,
            waiting: seq.saturating_sub(head) + drawn.saturating_sub(reached) + back,
            active,
            admitted: number(10).unwrap_or(0),
            admissions: text(11).and_then(|r| r.parse().ok()).unwrap_or(0.0),
            admissions_at_ms: number(12).unwrap_or(0),
            message: text(13).filter(|m| !m.is_empty()),
            state: text(14)
                .as_deref()
                .and_then(SaleState::parse)
                .unwrap_or_default(),
            entry_alg: (text(18).as_deref() == Some("token"))
                .then(|| text(19).and_then(|k| k.split_once('\n').map(|(alg, _)| alg.to_owned())))
                .flatten(),
            challenge: text(20).as_deref().and_then(ChallengeMode::parse),
            challenge_level: number(21).map_or(0, |l| l.min(u64::from(MAX_CHALLENGE_LEVEL)) as u8),
            brand: text(22).filter(|b| !b.is_empty()),
        })
    }

    /// Sets who may join an event and at what cost: with a key, only holders of a token it
    /// verifies (the join script refuses everyone else from this write on, on every
    /// instance); `None`: anyone. One atomic write.
    pub async fn set_entry(
        &self,
        event: &EventId,
        key: Option<&str>,
        challenge: Option<ChallengeMode>,
        challenge_level: u8,
    ) -> Result<(), StoreError> {
        self.operator_write(event, |pipe, meta| {
            match key {
                Some(key) => pipe
                    .hset(meta, "entry", "token")
                    .ignore()
                    .hset(meta, "entry_key", key)
                    .ignore(),
                None => pipe.hdel(meta, &["entry", "entry_key"]).ignore(),
            };
            match challenge {
                None => pipe.hdel(meta, "challenge").ignore(),
                Some(mode) => pipe.hset(meta, "challenge", mode.as_str()).ignore(),
            };
            match challenge_level {
                0 => pipe.hdel(meta, "challenge_level").ignore(),
                level => pipe.hset(meta, "challenge_level", level).ignore(),
            };
        })
        .await
    }

    /// What a join to the event must bring, as Redis holds it now; writes nothing.
    pub async fn door_rule(&self, event: &EventId) -> Result<DoorRule, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HMGET").arg(&self.event_keys(event).meta).arg(&[
            "entry",
            "entry_key",
            "challenge",
            "seq",
            "head",
            "challenge_level",
        ]);
        type Fields = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<u64>,
            Option<u64>,
            Option<u64>,
        );
        let ((entry, key, challenge, seq, head, level),): (Fields,) = self.query(&pipe).await?;
        Ok(DoorRule {
            entry_key: key.filter(|_| entry.as_deref() == Some("token")),
            challenge: challenge.as_deref().and_then(ChallengeMode::parse),
            challenge_level: level.map_or(0, |l| l.min(u64::from(MAX_CHALLENGE_LEVEL)) as u8),
            joined: seq.unwrap_or(0),
            waiting: seq.unwrap_or(0).saturating_sub(head.unwrap_or(0)),
        })
    }

    /// Spends a solved challenge's nonce (`src/challenge.rs`): true the first time, false
    /// once spent. The mark lives `ttl_ms` (the challenge's life), in the event's slot.
    pub async fn spend_nonce(
        &self,
        event: &EventId,
        nonce: &str,
        ttl_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("SET")
            .arg(format!("{}{nonce}", self.event_keys(event).pow))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms.max(1));
        let (set,): (Option<String>,) = self.query(&pipe).await?;
        Ok(set.is_some())
    }

    /// Sets or (with `None`) clears the message the people waiting for an event see.
    pub async fn set_message(
        &self,
        event: &EventId,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        self.operator_write(event, |pipe, meta| {
            match message {
                Some(text) => pipe.hset(meta, "message", text).ignore(),
                None => pipe.hdel(meta, "message").ignore(),
            };
        })
        .await
    }

    /// Sets or (with `None`) clears the shop's brand on the event's pages (JSON: see
    /// `crate::brand`).
    pub async fn set_brand(&self, event: &EventId, brand: Option<&str>) -> Result<(), StoreError> {
        self.operator_write(event, |pipe, meta| {
            match brand {
                Some(brand) => pipe.hset(meta, "brand", brand).ignore(),
                None => pipe.hdel(meta, "brand").ignore(),
            };
        })
        .await
    }

    /// The shop's brand on the event's pages, as stored; `None` when it has none.
    pub async fn brand(&self, event: &EventId) -> Result<Option<String>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("HGET")
            .arg(&self.event_keys(event).meta)
            .arg("brand");
        let (brand,): (Option<String>,) = self.query(&pipe).await?;
        Ok(brand.filter(|b| !b.is_empty()))
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

    /// Claims a new event for an operator: true if nobody configured it before (it may
    /// have had joins), and from now on it counts as configured. One atomic step, so of two
    /// operators creating one id, one is told it exists.
    pub async fn claim_new_event(&self, event: &EventId) -> Result<bool, StoreError> {
        let known = self.registered_now(event).await?;
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HSETNX")
            .arg(&known.keys.meta)
            .arg("configured")
            .arg(1)
            .cmd("HMGET")
            .arg(&known.keys.meta)
            .arg(&[
                "capacity",
                "rate_per_min",
                "target",
                "paused",
                "opens_at",
                "queueing",
                "message",
            ]);
        let (claimed, set): (bool, Vec<Option<String>>) = self.query(&pipe).await?;
        // An event configured before the `configured` mark existed has settings of its own.
        Ok(claimed && set.iter().all(Option::is_none))
    }

    /// Replaces an event's settings (the event need not have had a join yet); with
    /// `keep_pause`, its pause stays as it is, in the same atomic write.
    pub async fn put_settings(
        &self,
        event: &EventId,
        settings: &EventSettings,
        keep_pause: bool,
    ) -> Result<(), StoreError> {
        self.operator_write(event, |pipe, meta| {
            let mut put = |field: &str, value: Option<String>| {
                match value {
                    Some(v) => pipe.hset(meta, field, v).ignore(),
                    None => pipe.hdel(meta, field).ignore(),
                };
            };
            put("capacity", settings.capacity.map(|c| c.to_string()));
            put("target", settings.target_url.clone());
            put(
                "rate_per_min",
                settings.rate_per_minute.map(|r| r.to_string()),
            );
            if !keep_pause {
                put("paused", settings.paused.then(|| "1".to_string()));
            }
            put("opens_at", settings.opens_at_ms.map(|at| at.to_string()));
            put("ends_at", settings.ends_at_ms.map(|at| at.to_string()));
            put("session_ms", settings.session_ms.map(|ms| ms.to_string()));
            put(
                "session_cap_ms",
                settings.session_cap_ms.map(|ms| ms.to_string()),
            );
            put("grace_ms", settings.grace_ms.map(|ms| ms.to_string()));
            put(
                "queueing",
                settings.queueing.map(|q| q.as_str().to_string()),
            );
        })
        .await?;
        // New settings may let people in (more capacity, an opening moved): a pass now.
        self.wake(event).await
    }

    /// The event's draw number `round`, if it was made.
    pub async fn draw(&self, event: &EventId, round: u64) -> Result<Option<Draw>, StoreError> {
        let mut pipe = redis::pipe();
        pipe.hget(&self.event_keys(event).draws, round)
            .hget(&self.event_keys(event).draws, format!("digest:{round}"));
        let (record, digest): (Option<String>, Option<String>) = self.query(&pipe).await?;
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
            digest,
        }))
    }
}
