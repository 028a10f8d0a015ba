//! The Lua scripts, each (but the event registry's) with `lua/common.lua` prepended.

use redis::Script;

const COMMON: &str = include_str!("lua/common.lua");

fn with_common(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

/// Every script the store runs. Built once; Redis caches them by SHA1.
pub struct Scripts {
    pub join: Script,
    pub status: Script,
    pub leave: Script,
    pub grant: Script,
    pub register: Script,
}

impl Scripts {
    pub fn new() -> Self {
        Self {
            join: with_common(include_str!("lua/join.lua")),
            status: with_common(include_str!("lua/status.lua")),
            leave: with_common(include_str!("lua/leave.lua")),
            grant: with_common(include_str!("lua/grant.lua")),
            register: Script::new(include_str!("lua/register.lua")),
        }
    }

    pub fn all(&self) -> [&Script; 5] {
        [
            &self.join,
            &self.status,
            &self.leave,
            &self.grant,
            &self.register,
        ]
    }
}

impl Default for Scripts {
    fn default() -> Self {
        Self::new()
    }
}
