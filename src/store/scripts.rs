//! The Lua scripts and their contracts with Rust.
//!
//! Each script's keys and arguments are named once, here ([`contract!`]): the Rust side
//! fills a struct with those fields, and the script is given the same names as locals
//! (`K.meta`, `A.now`), generated from the same list, before `lua/common.lua` and its
//! body. A script that takes a batch (joins, heartbeats, schedule updates) also names the
//! fields of each item (`item()` in common.lua reads the i-th one). Nothing between Rust
//! and Lua is matched by position by hand. Replies are name/value pairs, decoded by
//! [`Reply`]. The consumer group's name ([`super::keys::GROUP`]) is given as `GROUP`.
//!
//! Every script takes `now` first: empty for Redis's own clock (`TIME`, read once per
//! call, so every instance shares one clock), or the time a test set (see
//! [`crate::clock::Clock`]).

use std::collections::HashMap;

use redis::{FromRedisValue, Script, Value};

use super::keys::GROUP;
use super::StoreError;

const COMMON: &str = include_str!("lua/common.lua");

/// Declares a script's contract: a struct of its named keys and arguments, their names
/// in order (for the generated Lua locals), and the lists to call it with.
macro_rules! contract {
    (
        $(#[$doc:meta])*
        $name:ident {
            keys { $($k:ident),* $(,)? }
            args { $($a:ident),* $(,)? }
        }
    ) => {
        $(#[$doc])*
        pub struct $name<'a> {
            $(pub $k: &'a str,)*
            $(pub $a: String,)*
        }

        impl<'a> $name<'a> {
            pub const KEYS: &'static [&'static str] = &[$(stringify!($k)),*];
            pub const ARGS: &'static [&'static str] = &[$(stringify!($a)),*];

            /// The keys, in the contract's order.
            pub fn keys(&self) -> Vec<&'a str> {
                vec![$(self.$k),*]
            }

            /// The arguments, in the contract's order.
            pub fn args(&self) -> Vec<&str> {
                vec![$(self.$a.as_str()),*]
            }
        }
    };
}

contract! {
    /// `lua/status.lua`: a session read (and its heartbeat recorded).
    Status {
        keys { stream, meta, sessions, users, done, left, ranks, back, moved }
        args { now, q, tag, heartbeat_ms, event_number }
    }
}

contract! {
    /// `lua/offer.lua`: an offer to move a waiting place to another device.
    Offer {
        keys { stream, meta, sessions, offer }
        args { now, q, tag, token, offer_ms, event_number }
    }
}

contract! {
    /// `lua/move.lua`: a place taken to another device by its offer's token.
    Move {
        keys { stream, meta, sessions, users, left, ranks, back, offer, moved, movelog }
        args { now, q, token, tag, user, visitor_prefix, max_moves, event_number }
    }
}

contract! {
    /// `lua/leave.lua`: a session ended by its owner (or an operator).
    Leave {
        keys { stream, meta, sessions, users, active, left, done, revoked, ranks, leftlog, back }
        args { now, session_id, q, tag }
    }
}

contract! {
    /// `lua/grant.lua`: one granter pass over one event.
    Grant {
        keys { stream, meta, sessions, users, active, left, done, revoked, draws, series,
               orders, ranks, leftlog, back, moved, movelog }
        args { now, default_capacity, session_ms, abandon_ms, grace_ms, batch, retention_ms,
               seed, event_number, sample_ms, history_ms, unconfigured_retention_ms }
    }
}

/// `lua/join.lua`: a batch of joins; its keys are per event, its arguments per event and
/// per join after these (below).
pub struct Join {
    pub now: String,
    pub events: String,
    /// Capacity of events without their own (a standby admission counts against it).
    pub default_capacity: String,
    /// Session length of events without their own.
    pub session_ms: String,
}

impl Join {
    pub const KEYS: &'static [&'static str] = &[];
    pub const ARGS: &'static [&'static str] = &["now", "events", "default_capacity", "session_ms"];

    /// The fixed arguments, in the contract's order.
    pub fn args(&self) -> Vec<&str> {
        vec![
            self.now.as_str(),
            self.events.as_str(),
            self.default_capacity.as_str(),
            self.session_ms.as_str(),
        ]
    }
}

/// `lua/join.lua`: the keys of each event of a batch.
pub const JOIN_EVENT_KEYS: &[&str] = &[
    "stream", "meta", "sessions", "users", "left", "ranks", "active", "pow", "back",
];
/// `lua/join.lua`: the arguments of each event of a batch, after the fixed ones.
pub const JOIN_EVENT_ARGS: &[&str] = &["number", "id"];
/// `lua/join.lua`: the arguments of each join, after the events'.
pub const JOIN_ARGS: &[&str] = &[
    "event", "tag", "user", "bucket", "create", "deadline", "nonce", "nonce_ms",
];

contract! {
    /// `lua/renew.lua`: an ACTIVE session's slot extended while its buyer shops.
    Renew {
        keys { meta, sessions, active, revoked }
        args { now, session_id, q, tag, session_ms }
    }
}

contract! {
    /// `lua/snapshot.lua`: what a poll answered from memory needs of its event.
    Snapshot {
        keys { meta, leftlog, movelog }
        args { now, since, cap, moved_since }
    }
}

contract! {
    /// `lua/heartbeat.lua`: heartbeats of polls answered from memory; per item below.
    Heartbeat {
        keys { stream, meta, sessions }
        args { now, epoch }
    }
}

/// `lua/heartbeat.lua`: the arguments of each heartbeat, after the fixed ones.
pub const HEARTBEAT_ARGS: &[&str] = &["q", "tag", "age"];

contract! {
    /// `lua/register.lua`: an event's number, given once.
    Register {
        keys { events, closing, free }
        args { event, max_number, create }
    }
}

contract! {
    /// `lua/unregister.lua`: a deleted event's registry entry dropped.
    Unregister {
        keys { events, closing, free }
        args { event, marked_before }
    }
}

contract! {
    /// `lua/take_due.lua`: the events due, leased to one pass.
    TakeDue {
        keys { due }
        args { now, most, lease_ms }
    }
}

contract! {
    /// `lua/reschedule.lua`: each event's next time; per item below.
    Reschedule {
        keys { due }
        args { now }
    }
}

/// `lua/reschedule.lua`: the arguments of each update, after the fixed ones.
pub const RESCHEDULE_ARGS: &[&str] = &["event", "stamp", "at"];

contract! {
    /// `lua/place.lua`: a draw's order, written, made ready.
    Place {
        keys { meta, orders, ranks, draws }
        args { round, n, digest }
    }
}

/// The meta fields of an event's state, in the order a script reads them (HMGET): every
/// script's head carries them as `STATE_FIELDS` (see `prelude`).
pub const STATE_FIELDS: &[&str] = &[
    "head",
    "rate",
    "rate_ts",
    "target",
    "opens_at",
    "queueing",
    "draw_round",
    "draw_ready",
    "draw_lo",
    "draw_n",
    "draw_next",
    "message",
    "epoch",
    "state",
    "ends_at",
    "session_ms",
    "grace_ms",
    "back_n",
];

/// The generated head of a script: `GROUP`, then its keys and arguments as `K` and `A`,
/// and the names of its items (`items` are (Lua name, field names)) and `STATE_FIELDS`.
fn prelude(file: &str, keys: &[&str], args: &[&str], items: &[(&str, &[&str])]) -> String {
    let table = |source: &str, names: &[&str]| -> String {
        let fields: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, n)| format!("{n} = {source}[{}]", i + 1))
            .collect();
        format!("{{ {} }}", fields.join(", "))
    };
    let mut head = format!(
        "-- Generated from the contract of {file} (src/store/scripts.rs).\n\
         local GROUP = '{GROUP}'\n\
         local K = {}\nlocal A = {}\nlocal A_FIXED = {}\n",
        table("KEYS", keys),
        table("ARGV", args),
        args.len()
    );
    let mut items = items.to_vec();
    items.push(("STATE_FIELDS", STATE_FIELDS));
    for (name, fields) in &items {
        let quoted: Vec<String> = fields.iter().map(|f| format!("'{f}'")).collect();
        head.push_str(&format!("local {name} = {{ {} }}\n", quoted.join(", ")));
    }
    head
}

/// A script's source as the store sends it: the generated head, common.lua, the body.
fn source(
    file: &str,
    keys: &[&str],
    args: &[&str],
    items: &[(&str, &[&str])],
    body: &str,
) -> String {
    format!("{}{COMMON}\n{body}", prelude(file, keys, args, items))
}

/// Every script's file name and source, in the order of [`Scripts::all`].
pub fn sources() -> [(&'static str, String); 14] {
    [
        (
            "join.lua",
            source(
                "join.lua",
                Join::KEYS,
                Join::ARGS,
                &[
                    ("EVENT_KEYS", JOIN_EVENT_KEYS),
                    ("EVENT_ARGS", JOIN_EVENT_ARGS),
                    ("JOIN_ARGS", JOIN_ARGS),
                ],
                include_str!("lua/join.lua"),
            ),
        ),
        (
            "status.lua",
            source(
                "status.lua",
                Status::KEYS,
                Status::ARGS,
                &[],
                include_str!("lua/status.lua"),
            ),
        ),
        (
            "leave.lua",
            source(
                "leave.lua",
                Leave::KEYS,
                Leave::ARGS,
                &[],
                include_str!("lua/leave.lua"),
            ),
        ),
        (
            "grant.lua",
            source(
                "grant.lua",
                Grant::KEYS,
                Grant::ARGS,
                &[],
                include_str!("lua/grant.lua"),
            ),
        ),
        (
            "register.lua",
            source(
                "register.lua",
                Register::KEYS,
                Register::ARGS,
                &[],
                include_str!("lua/register.lua"),
            ),
        ),
        (
            "unregister.lua",
            source(
                "unregister.lua",
                Unregister::KEYS,
                Unregister::ARGS,
                &[],
                include_str!("lua/unregister.lua"),
            ),
        ),
        (
            "snapshot.lua",
            source(
                "snapshot.lua",
                Snapshot::KEYS,
                Snapshot::ARGS,
                &[],
                include_str!("lua/snapshot.lua"),
            ),
        ),
        (
            "heartbeat.lua",
            source(
                "heartbeat.lua",
                Heartbeat::KEYS,
                Heartbeat::ARGS,
                &[("BEAT_ARGS", HEARTBEAT_ARGS)],
                include_str!("lua/heartbeat.lua"),
            ),
        ),
        (
            "take_due.lua",
            source(
                "take_due.lua",
                TakeDue::KEYS,
                TakeDue::ARGS,
                &[],
                include_str!("lua/take_due.lua"),
            ),
        ),
        (
            "reschedule.lua",
            source(
                "reschedule.lua",
                Reschedule::KEYS,
                Reschedule::ARGS,
                &[("UPDATE_ARGS", RESCHEDULE_ARGS)],
                include_str!("lua/reschedule.lua"),
            ),
        ),
        (
            "place.lua",
            source(
                "place.lua",
                Place::KEYS,
                Place::ARGS,
                &[],
                include_str!("lua/place.lua"),
            ),
        ),
        (
            "renew.lua",
            source(
                "renew.lua",
                Renew::KEYS,
                Renew::ARGS,
                &[],
                include_str!("lua/renew.lua"),
            ),
        ),
        (
            "move.lua",
            source(
                "move.lua",
                Move::KEYS,
                Move::ARGS,
                &[],
                include_str!("lua/move.lua"),
            ),
        ),
        (
            "offer.lua",
            source(
                "offer.lua",
                Offer::KEYS,
                Offer::ARGS,
                &[],
                include_str!("lua/offer.lua"),
            ),
        ),
    ]
}

/// Every script the store runs. Built once; Redis caches them by SHA1.
pub struct Scripts {
    pub join: Script,
    pub status: Script,
    pub leave: Script,
    pub grant: Script,
    pub register: Script,
    pub unregister: Script,
    pub snapshot: Script,
    pub heartbeat: Script,
    pub take_due: Script,
    pub reschedule: Script,
    pub place: Script,
    pub renew: Script,
    pub moves: Script,
    pub offer: Script,
}

impl Scripts {
    pub fn new() -> Self {
        let [join, status, leave, grant, register, unregister, snapshot, heartbeat, take_due, reschedule, place, renew, moves, offer] =
            sources().map(|(_, code)| Script::new(&code));
        Self {
            join,
            status,
            leave,
            grant,
            register,
            unregister,
            snapshot,
            heartbeat,
            take_due,
            reschedule,
            place,
            renew,
            moves,
            offer,
        }
    }

    pub fn all(&self) -> [&Script; 14] {
        [
            &self.join,
            &self.status,
            &self.leave,
            &self.grant,
            &self.register,
            &self.unregister,
            &self.snapshot,
            &self.heartbeat,
            &self.take_due,
            &self.reschedule,
            &self.place,
            &self.renew,
            &self.moves,
            &self.offer,
        ]
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new()
    }
}

/// A reply's field `name` (`value`), or `None` when it is missing or nil.
pub fn opt_field<T: FromRedisValue>(
    value: Option<&Value>,
    name: &str,
) -> Result<Option<T>, StoreError> {
    match value {
        None | Some(Value::Nil) => Ok(None),
        Some(v) => redis::from_redis_value_ref(v)
            .map(Some)
            .map_err(|e| StoreError::Unexpected(format!("`{name}` of a reply: {e}"))),
    }
}

/// A script's reply of name/value pairs (`{'granted', 3, 'due', 1733…, …}`), read by name.
#[derive(Debug, Default)]
pub struct Reply(HashMap<String, Value>);

impl Reply {
    pub fn decode(value: Value) -> Result<Self, StoreError> {
        let Value::Array(items) = value else {
            return Err(StoreError::Unexpected(format!(
                "a script answered {value:?}, not name/value pairs"
            )));
        };
        let mut fields = HashMap::with_capacity(items.len() / 2);
        let mut items = items.into_iter();
        while let (Some(name), Some(value)) = (items.next(), items.next()) {
            let name = String::from_redis_value(name)
                .map_err(|_| StoreError::Unexpected("a reply's name is not text".into()))?;
            fields.insert(name, value);
        }
        Ok(Self(fields))
    }

    /// The field `name`, which must be there.
    pub fn get<T: FromRedisValue>(&self, name: &str) -> Result<T, StoreError> {
        self.0
            .get(name)
            .ok_or_else(|| StoreError::Unexpected(format!("a reply without `{name}`")))
            .and_then(|v| {
                redis::from_redis_value_ref(v)
                    .map_err(|e| StoreError::Unexpected(format!("`{name}` of a reply: {e}")))
            })
    }

    /// The field `name`, or `None` when it is missing (Lua drops nil and false values:
    /// those mean "none").
    pub fn opt<T: FromRedisValue>(&self, name: &str) -> Result<Option<T>, StoreError> {
        opt_field(self.0.get(name), name)
    }

    /// The raw value of `name`, if any.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_is_given_its_contracts_names() {
        let head = prelude(
            "x.lua",
            &["meta", "left"],
            &["now", "q"],
            &[("ITEM", &["a", "b"])],
        );
        assert!(
            head.contains("local K = { meta = KEYS[1], left = KEYS[2] }"),
            "{head}"
        );
        assert!(
            head.contains("local A = { now = ARGV[1], q = ARGV[2] }"),
            "{head}"
        );
        assert!(head.contains("local A_FIXED = 2"), "{head}");
        assert!(head.contains("local ITEM = { 'a', 'b' }"), "{head}");
        assert!(head.contains(&format!("local GROUP = '{GROUP}'")), "{head}");
    }

    #[test]
    fn a_contract_lists_its_keys_and_arguments_in_order() {
        let call = Status {
            stream: "x",
            meta: "m",
            sessions: "s",
            users: "u",
            done: "d",
            left: "l",
            ranks: "r",
            back: "b",
            moved: "v",
            now: String::new(),
            q: "7".into(),
            tag: "t".into(),
            heartbeat_ms: "100".into(),
            event_number: "000001".into(),
        };
        assert_eq!(call.keys(), ["x", "m", "s", "u", "d", "l", "r", "b", "v"]);
        assert_eq!(call.args(), ["", "7", "t", "100", "000001"]);
        assert_eq!(
            Status::KEYS,
            ["stream", "meta", "sessions", "users", "done", "left", "ranks", "back", "moved"]
        );
    }

    #[test]
    fn every_script_reads_only_the_names_its_contract_gives() {
        // `K.x` and `A.x` in a script's body must be names of its contract: a misspelt
        // name would be nil at run time.
        let scripts: [(&str, &[&str], &[&str]); 14] = [
            (include_str!("lua/join.lua"), Join::KEYS, Join::ARGS),
            (include_str!("lua/status.lua"), Status::KEYS, Status::ARGS),
            (include_str!("lua/leave.lua"), Leave::KEYS, Leave::ARGS),
            (include_str!("lua/grant.lua"), Grant::KEYS, Grant::ARGS),
            (
                include_str!("lua/register.lua"),
                Register::KEYS,
                Register::ARGS,
            ),
            (
                include_str!("lua/unregister.lua"),
                Unregister::KEYS,
                Unregister::ARGS,
            ),
            (
                include_str!("lua/snapshot.lua"),
                Snapshot::KEYS,
                Snapshot::ARGS,
            ),
            (
                include_str!("lua/heartbeat.lua"),
                Heartbeat::KEYS,
                Heartbeat::ARGS,
            ),
            (
                include_str!("lua/take_due.lua"),
                TakeDue::KEYS,
                TakeDue::ARGS,
            ),
            (
                include_str!("lua/reschedule.lua"),
                Reschedule::KEYS,
                Reschedule::ARGS,
            ),
            (include_str!("lua/place.lua"), Place::KEYS, Place::ARGS),
            (include_str!("lua/renew.lua"), Renew::KEYS, Renew::ARGS),
            (include_str!("lua/move.lua"), Move::KEYS, Move::ARGS),
            (include_str!("lua/offer.lua"), Offer::KEYS, Offer::ARGS),
        ];
        for (body, keys, args) in scripts {
            for (prefix, names) in [("K.", keys), ("A.", args)] {
                for (i, _) in body.match_indices(prefix) {
                    // Only whole references: not `XK.` nor a longer identifier.
                    if i > 0 && body.as_bytes()[i - 1].is_ascii_alphanumeric() {
                        continue;
                    }
                    let name: String = body[i + 2..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    assert!(
                        names.contains(&name.as_str()),
                        "{prefix}{name} in {body:.60}…"
                    );
                }
            }
            assert!(
                !body.contains("KEYS["),
                "a script indexes KEYS by hand: {body:.60}…"
            );
            assert!(
                !body.contains("ARGV["),
                "a script indexes ARGV by hand: {body:.60}…"
            );
        }
        // Nor does common.lua, which every script shares, but for `item()`.
        assert!(!COMMON.contains("KEYS["));
    }
}
