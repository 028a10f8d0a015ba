//! Every Redis key Vestibule uses, in one place.
//!
//! All keys of one event share the hash tag `{eventId}`, so one event's keys live in one
//! Redis Cluster slot and its scripts stay single-slot. Event ids cannot contain braces
//! (see [`crate::domain::EventId::parse`]), so the tag is always the whole event id.
//! The global keys: the registry of events ([`EVENTS`], with [`CLOSING`] and
//! [`FREE_NUMBERS`] in its slot), the granter's schedule ([`DUE`]: the events that need a
//! pass, and when) and the two shared secrets ([`SIGNING_KEY`], [`COOKIE_KEY`]), each read
//! once per process.
//!
//! Sessions and users live in small hashes ("buckets") rather than one big hash per
//! event: Redis keeps a hash of at most 128 short fields as a compact listpack, which
//! costs a fraction of a big hash table per field. The scripts name a bucket by appending
//! its number to the prefixes below (see `lua/common.lua`).

use crate::domain::EventId;

/// Hash of the known events: `eventId → number`, `#number → eventId` and `#` (the last
/// number given). The number is part of every session id (see [`super::ids`]), which is
/// how a session's event is found from its id alone.
pub const EVENTS: &str = "wr:events";
/// Sorted set `eventId → when it was marked (ms)`: events whose keys were deleted (nobody
/// configured them and they went idle), whose registry entry is dropped once the mark is
/// old enough (see `lua/unregister.lua`). In the slot of [`EVENTS`] (its hash tag is that
/// key's name), so the registry's scripts stay single-slot.
pub const CLOSING: &str = "{wr:events}:closing";
/// Set of the event numbers given back by dropped events, given again first.
pub const FREE_NUMBERS: &str = "{wr:events}:free";
/// The granter's schedule: sorted set `eventId → when it next needs a pass (unix ms)`.
/// A pass goes over the events whose time has come and nothing else, so an event costs
/// nothing between the moments something is due for it (an expiry, a purge, a rate
/// window, the opening, a sample). A wake (a join that can be admitted, a slot given
/// back, new settings) gives an event a score below 1, due at once; a pass leases the
/// events it takes (`lua/take_due.lua`) and then sets each one's next time, or takes it
/// out, only if nobody woke it meanwhile (`lua/reschedule.lua`).
pub const DUE: &str = "wr:due";
/// The Ed25519 key (PKCS#8 PEM) that signs passes when no key file is configured: made
/// by the first instance to start (`SET NX`), read by every other one.
pub const SIGNING_KEY: &str = "wr:secret:signing-key";
/// The key (hex) that signs visitor cookies when no secret file is configured, likewise.
pub const COOKIE_KEY: &str = "wr:secret:cookie-key";
/// The consumer group that reads the join streams (the scripts get it as `GROUP`).
pub const GROUP: &str = "granter";
/// Stream name prefix, as the product names it: `waiting-room-joins:{E1}`.
pub const STREAM_PREFIX: &str = "waiting-room-joins";

/// The user bucket of `user`: its suffix to [`EventKeys::users`], the first 3 hex digits
/// of SHA-1(`user`), as `user_bucket` in `lua/common.lua` names it. A join hands it to
/// its script, so that Redis, which one event's joins cannot share with another machine,
/// spends no SHA-1 per join (BENCHMARKS.md, "The join script counted again").
pub fn user_bucket(user: &str) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(user.as_bytes());
    format!("{:02x}{:x}", digest[0], digest[1] >> 4)
}

/// The keys of one event.
#[derive(Debug, Clone)]
pub struct EventKeys {
    /// Stream of joins `{sessionId, eventId, userId}`, read by the group [`GROUP`].
    pub stream: String,
    /// Hash: `seq` (joins so far), `head` (joins the granter has passed), admission `rate`
    /// and `rate_ts`, `revoked` (see below), the per-event settings `capacity`,
    /// `rate_per_min`, `paused`, `target` (the shop's URL), `opens_at` (unix ms),
    /// `queueing` and `grace_ms` (how long a skipped visitor may come back), `back_n` (how
    /// many came back and wait in [`EventKeys::back`]), and the current draw: `draw_round`, `draw_seed`, `draw_lo`, `draw_n`
    /// (joins `lo+1..lo+n` are drawn), `draw_next` (how many of them were reached),
    /// `draw_ready` (the round whose order is written: [`EventKeys::orders`]) and
    /// `placing_until` (who writes it holds it until then); `admitted` (everyone admitted
    /// so far), `sampled_at` (the last sample of [`EventKeys::series`]), `message` (the
    /// operator's words to the people waiting), `number` (its registry number), `epoch`
    /// (random, new whenever the meta is made anew: see `store/polls.rs`), `configured`
    /// (an operator wrote to it: kept when idle; an event nobody configured loses every key
    /// once idle, see `grant.lua`), `due` (when it next needs a pass, as the schedule [`DUE`]
    /// has it; absent when nothing is due), `blocked` (people wait whom no pass can admit
    /// before something changes: a join there needs no pass) and `left_n` (leaves counted
    /// in [`EventKeys::leftlog`]).
    pub meta: String,
    /// Prefix of the session buckets `…:s:<seq / 64>`: field `<seq % 64>` holds the
    /// record `"S|seen|until|tag"`, field `u<seq % 64>` the user id.
    pub sessions: String,
    /// Prefix of the user buckets `…:u:<first 3 hex digits of SHA-1(userId)>`:
    /// `userId → seq` of the user's live session, for idempotent joins.
    pub users: String,
    /// Sorted set `sessionId → until (ms)`: the ACTIVE sessions holding a slot.
    pub active: String,
    /// Sorted set `seq → seq`: left while waiting, not yet passed by the granter (nor in a
    /// draw, whose people are skipped by their records when reached).
    pub left: String,
    /// Sorted set `seq → the leave's count` (the meta's `left_n`): the same people, by when
    /// they left, so that a process reads only the leaves since its last read
    /// (`lua/snapshot.lua`).
    pub leftlog: String,
    /// Sorted set `seq → finished at (ms)`: final sessions awaiting purge.
    pub done: String,
    /// Sorted set `seq → when it came back (ms)`: sessions skipped for not polling that
    /// came back within their grace (README, "Your turn, in the background"), admitted at
    /// the next free slots, ahead of the line, in the order they came back.
    pub back: String,
    /// Sorted set `sessionId → end of its pass (ms)`: ACTIVE sessions that ended early
    /// (left or revoked) while their pass is still unexpired. The gate refuses them; the
    /// meta field `revoked` counts additions, so a reader knows when to read the set again.
    pub revoked: String,
    /// Hash `round → "seed|lo|n|at"`: every draw made (README, "A fair start"), for audit;
    /// and `digest:<round>` → the digest of its order, once computed.
    pub draws: String,
    /// Stream of samples `{w: waiting, a: active, c: capacity, g: admitted so far}`, one
    /// every few seconds while the event has work, an hour of them kept: the console's
    /// charts (README, "The operator's console").
    pub series: String,
    /// Prefix of a draw's order, `…:order:<round>`: the offsets drawn at ranks 0, 1, …, as
    /// 4-byte big-endian numbers; written by the granter (src/draw.rs), deleted once the
    /// draw is used up.
    pub orders: String,
    /// Prefix of a draw's ranks, `…:rank:<round>`: the rank of offsets 0, 1, …, likewise.
    pub ranks: String,
    /// Prefix of the offers to move a place to another device (README, "Take your place
    /// with you"), `…:move:<seq>` → `"token|tag|expires"`: the one live offer of session
    /// `seq`, made by its page for the tag it had then, used once, ending after
    /// [`super::MOVE_OFFER_MS`] (`expires`, unix ms).
    pub moves: String,
    /// Hash of the places moved: `<seq>` → the tags it had before (space-separated, the
    /// one its stream entry carries first), and `<old tag>` → `"seq|user"` (who held it
    /// then). The granter admits a moved place by its stream entry's tag; a poll with an
    /// old tag is answered MOVED. Purged with the session.
    pub moved: String,
    /// Sorted set `seq → seq`: the moved places the granter has not passed yet, so that
    /// polls answered from a process's memory read Redis for them (`lua/snapshot.lua`;
    /// the meta's `moved_n` counts the moves).
    pub movelog: String,
    /// Prefix of the spent challenges, `…:pow:<nonce>`: a solved challenge's nonce, kept
    /// until the challenge expires (`src/challenge.rs`), so that a solution is accepted once.
    pub pow: String,
}

impl EventKeys {
    pub fn new(event: &EventId) -> Self {
        let tag = format!("{{{event}}}");
        Self {
            stream: format!("{STREAM_PREFIX}:{tag}"),
            meta: format!("wr:{tag}:meta"),
            sessions: format!("wr:{tag}:s:"),
            users: format!("wr:{tag}:u:"),
            active: format!("wr:{tag}:active"),
            left: format!("wr:{tag}:left"),
            leftlog: format!("wr:{tag}:leftlog"),
            done: format!("wr:{tag}:done"),
            back: format!("wr:{tag}:back"),
            revoked: format!("wr:{tag}:revoked"),
            draws: format!("wr:{tag}:draws"),
            series: format!("wr:{tag}:series"),
            orders: format!("wr:{tag}:order:"),
            ranks: format!("wr:{tag}:rank:"),
            pow: format!("wr:{tag}:pow:"),
            moves: format!("wr:{tag}:move:"),
            moved: format!("wr:{tag}:moved"),
            movelog: format!("wr:{tag}:movelog"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_keys_share_one_cluster_slot() {
        let slot = |key: &str| redis::cluster_routing::Slot::for_key(key);
        assert_eq!(slot(CLOSING), slot(EVENTS));
        assert_eq!(slot(FREE_NUMBERS), slot(EVENTS));
    }

    #[test]
    fn a_user_bucket_is_the_first_three_hex_digits_of_the_sha1_of_the_user() {
        // SHA-1("abc") = a9993e36…, SHA-1("") = da39a3ee…, SHA-1("U1") = 24b302f5…
        assert_eq!(user_bucket("abc"), "a99");
        assert_eq!(user_bucket(""), "da3");
        assert_eq!(user_bucket("U1"), "24b");
    }

    #[test]
    fn every_event_key_carries_the_event_hash_tag() {
        let k = EventKeys::new(&EventId::parse("E1").unwrap());
        assert_eq!(k.stream, "waiting-room-joins:{E1}");
        for key in [
            &k.meta,
            &k.sessions,
            &k.users,
            &k.active,
            &k.left,
            &k.leftlog,
            &k.done,
            &k.back,
            &k.revoked,
            &k.draws,
            &k.series,
            &k.orders,
            &k.ranks,
            &k.pow,
            &k.moves,
            &k.moved,
            &k.movelog,
        ] {
            assert!(key.contains("{E1}"), "{key}");
        }
    }
}
