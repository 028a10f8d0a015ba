//! The granter's step over Redis: one `lua/grant.lua` call per event (expire, admit,
//! purge, sample), over the events with work, the woken ones or all of them.

use futures::{StreamExt, TryStreamExt};

use super::ids::event_number_hex;
use super::keys::{CLOSING, EVENTS, FREE_NUMBERS, LIVE};
use super::{hex, stamp, Store, StoreError, Writes, CONCURRENT_EVENTS};
use crate::domain::EventId;

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
    /// How long after an event's keys were deleted its registry entry is dropped (if
    /// nothing numbered it again): longer than any request may take, so that a join that
    /// asked the registry just before has written its number by then.
    pub unregister_after_ms: u64,
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
    /// Idle, and no operator ever configured it: its keys were deleted (its registry
    /// entry stays).
    pub gone: bool,
}

/// How often a busy event's line is sampled for the console (see [`Store::history`]).
pub const SAMPLE_MS: u64 = 5_000;

/// How much of an event's samples is kept.
pub const HISTORY_MS: u64 = 3_600_000;

impl Store {
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
            let retired: i64 = self
                .script(
                    &self.scripts.retire,
                    &[LIVE],
                    &[r.event_id.as_str(), &stamps[&r.event_id]],
                    Writes::Incidental,
                )
                .await?;
            if retired == 1 && r.gone {
                self.mark_for_unregistering(&r.event_id).await?;
            }
        }
        Ok(reports)
    }

    /// Marks an event whose keys were deleted: its registry entry is dropped by a sweep
    /// once the mark is [`GrantParams::unregister_after_ms`] old, unless a join or an
    /// operator numbered it again meanwhile (`lua/register.lua` takes the mark away).
    async fn mark_for_unregistering(&self, event: &EventId) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD")
            .arg(CLOSING)
            .arg("NX")
            .arg(crate::clock::now_ms())
            .arg(event.as_str());
        self.query::<()>(&pipe).await
    }

    /// Drops the registry entries of the events marked long enough ago whose meta is still
    /// without a number, and gives their numbers back (`lua/unregister.lua`); at most a
    /// thousand a sweep. Returns how many went.
    async fn unregister_closed(&self, params: &GrantParams) -> Result<usize, StoreError> {
        let before = crate::clock::now_ms().saturating_sub(params.unregister_after_ms);
        let mut pipe = redis::pipe();
        pipe.cmd("ZRANGEBYSCORE")
            .arg(CLOSING)
            .arg("-inf")
            .arg(before)
            .arg("LIMIT")
            .arg(0)
            .arg(1_000);
        let (marked,): (Vec<String>,) = self.query(&pipe).await?;
        let mut dropped = 0;
        for name in marked {
            let Ok(event) = EventId::parse(&name) else {
                continue;
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
                continue;
            }
            let number: Option<u32> = self
                .script(
                    &self.scripts.unregister,
                    &[EVENTS, CLOSING, FREE_NUMBERS],
                    &[event.as_str(), &before.to_string()],
                    Writes::Acknowledged,
                )
                .await?;
            if number.is_some() {
                if let Some(known) = self.by_event.get(&event) {
                    self.forget(&known);
                }
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    /// One granter pass over every registered event, idle or not; those with work are
    /// added to the events with work. The safety net under [`Store::grant_live`]: for a
    /// process that stopped between writing a join and marking its event, and for events
    /// from before the live set existed. It costs one script per event ever registered.
    pub async fn grant_all(&self, params: &GrantParams) -> Result<Vec<GrantReport>, StoreError> {
        let ids = self.event_ids().await?;
        let reports = self.grant(&ids, params).await?;
        for r in reports.iter().filter(|r| r.gone) {
            self.mark_for_unregistering(&r.event_id).await?;
        }
        let dropped = self.unregister_closed(params).await?;
        if dropped > 0 {
            tracing::info!(dropped, "registry entries of deleted events dropped");
        }
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
    pub(super) async fn mark_live(&self, event: &EventId) -> Result<(), StoreError> {
        let mut pipe = redis::pipe();
        pipe.cmd("ZADD").arg(LIVE).arg(stamp()).arg(event.as_str());
        self.query::<()>(&pipe).await
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
        let Some(known) = self.looked_up(event).await? else {
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
        if granted + abandoned > 0 {
            self.polls.outdated(known.number);
        }
        if idle == 2 {
            // Its keys are gone: the next join numbers it again (no stale round trip).
            self.forget(&known);
        }
        Ok(Some(GrantReport {
            event_id: event.clone(),
            granted,
            expired,
            abandoned,
            more: more == 1,
            next_expiry_ms: u64::try_from(next).ok(),
            waiting: u64::try_from(waiting).unwrap_or(0),
            active,
            idle: idle >= 1,
            gone: idle == 2,
        }))
    }
}
