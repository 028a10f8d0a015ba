//! The Lua scripts, each (but the three over global keys) with `lua/common.lua` prepended,
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
    pub retire: Script,
    pub unregister: Script,
    pub snapshot: Script,
    pub heartbeat: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            join: with_common(include_str!("lua/join.lua")),
            status: with_common(include_str!("lua/status.lua")),
            leave: with_common(include_str!("lua/leave.lua")),
            grant: with_common(include_str!("lua/grant.lua")),
            register: Script::new(include_str!("lua/register.lua")),
            retire: Script::new(include_str!("lua/retire.lua")),
            unregister: Script::new(include_str!("lua/unregister.lua")),
            snapshot: with_common(include_str!("lua/snapshot.lua")),
            heartbeat: with_common(include_str!("lua/heartbeat.lua")),
        }
    }

    pub fn all(&self) -> [&Script; 9] {
        [
            &self.join,
            &self.status,
            &self.leave,
            &self.grant,
            &self.register,
            &self.retire,
            &self.unregister,
            &self.snapshot,
            &self.heartbeat,
        ]
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new()
    }
}
