//! The Lua scripts, each (but the four over global keys) with `lua/common.lua` prepended,
//! and before it the names the Rust side owns: `GROUP`, the consumer group
//! ([`super::keys::GROUP`]).

use redis::Script;

use super::keys::GROUP;

const COMMON: &str = include_str!("lua/common.lua");

fn with_common(body: &str) -> Script {
    Script::new(&format!("local GROUP = '{GROUP}'\n{COMMON}\n{body}"))
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
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            join: with_common(include_str!("lua/join.lua")),
            status: with_common(include_str!("lua/status.lua")),
            leave: with_common(include_str!("lua/leave.lua")),
            grant: with_common(include_str!("lua/grant.lua")),
            register: Script::new(include_str!("lua/register.lua")),
            unregister: Script::new(include_str!("lua/unregister.lua")),
            snapshot: with_common(include_str!("lua/snapshot.lua")),
            heartbeat: with_common(include_str!("lua/heartbeat.lua")),
            take_due: Script::new(include_str!("lua/take_due.lua")),
            reschedule: Script::new(include_str!("lua/reschedule.lua")),
            place: with_common(include_str!("lua/place.lua")),
        }
    }

    pub fn all(&self) -> [&Script; 11] {
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
        ]
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new()
    }
}
