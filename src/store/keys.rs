//! Every Redis key Vestibule uses, in one place.
//!
//! All keys of one event share the hash tag `{eventId}`, so one event's keys live in one
//! Redis Cluster slot and its scripts stay single-slot. Event ids cannot contain braces
//! (see [`crate::domain::EventId::parse`]), so the tag is always the whole event id.
//! Only two keys are global: the set of known events and the session → event index.

use crate::domain::EventId;

/// Set of every event that ever had a join: what the granter walks each pass.
pub const EVENTS: &str = "wr:events";
/// Hash `sessionId → eventId`: finds a session's event from its id alone.
pub const SESSION_INDEX: &str = "wr:sids";
/// The consumer group that reads the join streams.
pub const GROUP: &str = "granter";
/// Stream name prefix, as the product names it: `waiting-room-joins:{E1}`.
pub const STREAM_PREFIX: &str = "waiting-room-joins";

/// The keys of one event.
#[derive(Debug, Clone)]
pub struct EventKeys {
    /// Stream of joins `{sessionId, eventId, userId}`, read by the group [`GROUP`].
    pub stream: String,
    /// Hash: `seq` (joins so far), `head` (joins the granter has passed), admission `rate`
    /// and `rate_ts`, and the per-event settings `capacity` and `paused`.
    pub meta: String,
    /// Hash `sessionId → "S|seq|seen|until|user"` (see `lua/common.lua`).
    pub sessions: String,
    /// Hash `userId → sessionId` of the user's live session, for idempotent joins.
    pub users: String,
    /// Sorted set `sessionId → until (ms)`: the ACTIVE sessions holding a slot.
    pub active: String,
    /// Sorted set `sessionId → seq`: left while waiting, not yet passed by the granter.
    pub left: String,
    /// Sorted set `sessionId → finished at (ms)`: final sessions awaiting purge.
    pub done: String,
}

impl EventKeys {
    pub fn new(event: &EventId) -> Self {
        let tag = format!("{{{event}}}");
        Self {
            stream: format!("{STREAM_PREFIX}:{tag}"),
            meta: format!("wr:{tag}:meta"),
            sessions: format!("wr:{tag}:sessions"),
            users: format!("wr:{tag}:users"),
            active: format!("wr:{tag}:active"),
            left: format!("wr:{tag}:left"),
            done: format!("wr:{tag}:done"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_key_carries_the_event_hash_tag() {
        let k = EventKeys::new(&EventId::parse("E1").unwrap());
        assert_eq!(k.stream, "waiting-room-joins:{E1}");
        for key in [&k.meta, &k.sessions, &k.users, &k.active, &k.left, &k.done] {
            assert!(key.contains("{E1}"), "{key}");
        }
    }
}
