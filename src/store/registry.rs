//! The registry of events: each event's number (part of every session id) and its keys,
//! as Redis holds them and as this process remembers them. The numbers live in `wr:events`
//! (see `lua/register.lua`); a number found stale is forgotten and asked for again.

use std::sync::Arc;

use super::ids::{event_number_hex, SessionKey, MAX_EVENT_NUMBER};
use super::keys::{EventKeys, CLOSING, EVENTS, FREE_NUMBERS};
use super::scripts;
use super::{Store, StoreError, Writes};
use crate::domain::{EventId, SessionId};

/// Event numbers this process remembers (a number never changes its event, so the cache
/// is never stale).
pub(super) const EVENT_CACHE: usize = 100_000;

/// A registered event, as this process remembers it.
#[derive(Debug)]
pub(super) struct Registered {
    pub(super) event: EventId,
    pub(super) number: u32,
    /// Its keys, built once instead of on every request.
    pub(super) keys: Arc<EventKeys>,
}

impl Store {
    /// The event's number and keys; an event never seen before is registered when
    /// `register`, else `None`.
    pub(super) async fn known(
        &self,
        event: &EventId,
        register: bool,
    ) -> Result<Option<Arc<Registered>>, StoreError> {
        if let Some(known) = self.by_event.get(event) {
            return Ok(Some(known));
        }
        self.ask_registry(event, register).await
    }

    /// The event's number and keys, as the registry has them; writes nothing (so a pass
    /// over an event whose keys were deleted does not bring its meta back).
    pub(super) async fn looked_up(
        &self,
        event: &EventId,
    ) -> Result<Option<Arc<Registered>>, StoreError> {
        if let Some(known) = self.by_event.get(event) {
            return Ok(Some(known));
        }
        let mut pipe = redis::pipe();
        pipe.hget(EVENTS, event.as_str());
        let (number,): (Option<u32>,) = self.query(&pipe).await?;
        Ok(number.map(|n| self.remember(event.clone(), n)))
    }

    /// For an operator's write: the event's number from the registry itself (registering
    /// it if new), written into its meta, whatever this process remembers. So an event
    /// whose keys were deleted is numbered again before its settings are written, and its
    /// registry entry is not dropped under it.
    pub(super) async fn registered_now(
        &self,
        event: &EventId,
    ) -> Result<Arc<Registered>, StoreError> {
        match self.ask_registry(event, true).await? {
            Some(known) => Ok(known),
            None => Err(StoreError::Unexpected("an event was not registered".into())),
        }
    }

    /// Asks the registry (`lua/register.lua`, which also takes the event off the list of
    /// entries to drop) and writes the number into the event's meta.
    async fn ask_registry(
        &self,
        event: &EventId,
        create: bool,
    ) -> Result<Option<Arc<Registered>>, StoreError> {
        let call = scripts::Register {
            events: EVENTS,
            closing: CLOSING,
            free: FREE_NUMBERS,
            event: event.to_string(),
            max_number: MAX_EVENT_NUMBER.to_string(),
            create: if create { "1" } else { "0" }.to_string(),
        };
        let number: Option<u32> = self
            .script(
                &self.scripts.register,
                &call.keys(),
                &call.args(),
                Writes::Acknowledged,
            )
            .await?;
        match number {
            Some(n) => Ok(Some(self.mark_number(event.clone(), n).await?)),
            None => Ok(None),
        }
    }

    /// The event's keys: the remembered ones, else built (no Redis call).
    pub(super) fn event_keys(&self, event: &EventId) -> Arc<EventKeys> {
        self.by_event
            .get(event)
            .map(|known| known.keys.clone())
            .unwrap_or_else(|| Arc::new(EventKeys::new(event)))
    }

    /// The parts of a session id and its event; `None` when no event has its number
    /// (an id this store did not mint).
    pub(super) async fn locate(
        &self,
        sid: &SessionId,
    ) -> Result<Option<(SessionKey, Arc<Registered>)>, StoreError> {
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
        // Remembered only: a poll of an old id must not bring back a deleted meta (the
        // scripts then answer STALEEVENT, and the session is unknown).
        Ok(Some((key, self.remember(event, key.event_number))))
    }

    /// Writes the event's number into its meta (which every session script checks: see
    /// `stale_number` in common.lua), and its epoch if it has none, and remembers it. Only
    /// after asking the registry (see [`Store::ask_registry`]).
    async fn mark_number(
        &self,
        event: EventId,
        number: u32,
    ) -> Result<Arc<Registered>, StoreError> {
        let keys = EventKeys::new(&event);
        let mut pipe = redis::pipe();
        pipe.hset(&keys.meta, "number", event_number_hex(number))
            // A meta without an epoch was made anew (or predates epochs): give it one, so
            // that no process's memory of the sessions before holds for it (`polls`).
            .cmd("HSETNX")
            .arg(&keys.meta)
            .arg("epoch")
            .arg(format!("{:016x}", rand::random::<u64>()));
        self.query::<()>(&pipe).await?;
        Ok(self.remember(event, number))
    }

    /// Drops a mapping found stale.
    pub(super) fn forget(&self, known: &Registered) {
        self.by_event.remove(&known.event);
        self.by_number.remove(&known.number);
        self.polls.outdated(known.number);
    }

    pub(super) fn remember(&self, event: EventId, number: u32) -> Arc<Registered> {
        let known = Arc::new(Registered {
            keys: Arc::new(EventKeys::new(&event)),
            event: event.clone(),
            number,
        });
        self.by_event.insert(event, known.clone());
        self.by_number.insert(number, known.clone());
        self.polls.outdated(number);
        known
    }

    /// Every registered event, sorted.
    pub(super) async fn event_ids(&self) -> Result<Vec<EventId>, StoreError> {
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
}
