//! Every setting, typed, from flags or environment variables (`vestibule --help`).
//!
//! The site itself (output name, site root, pkg dir) is Leptos configuration: `Leptos.toml`
//! when the binary runs on its own, `LEPTOS_*` variables under cargo-leptos.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::store::GrantParams;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Vestibule: a virtual waiting room for high-demand sales.
#[derive(Debug, Clone, Parser)]
#[command(name = "vestibule", version, about)]
pub struct Config {
    /// Redis to keep the waiting room in.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Address to listen on (overrides site-addr of Leptos.toml).
    #[arg(long, env = "LEPTOS_SITE_ADDR")]
    pub site_addr: Option<SocketAddr>,

    /// ACTIVE sessions allowed per event, unless the event has its own capacity.
    #[arg(long, env = "WAITING_ROOM_CAPACITY", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub capacity: u64,

    /// How long an ACTIVE session lasts before it expires and frees its slot.
    #[arg(long, env = "WAITING_ROOM_SESSION_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub session_seconds: u64,

    /// A WAITING session not polled for this long is skipped when its turn comes.
    #[arg(long, env = "WAITING_ROOM_ABANDON_SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub abandon_seconds: u64,

    /// How long ended sessions stay readable (and granted joins stay in the stream).
    #[arg(long, env = "WAITING_ROOM_RETENTION_SECONDS", default_value_t = 3_600,
          value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    pub retention_seconds: u64,

    /// Secret that signs admission tokens (HS256). Unset: a random one per start, and
    /// tokens do not survive a restart.
    #[arg(long, env = "WAITING_ROOM_TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: Option<String>,

    /// Longest pause of the granter between passes when nothing wakes it.
    #[arg(long, env = "WAITING_ROOM_GRANTER_TICK_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub granter_tick_ms: u64,

    /// Most joins one granter script handles per event and pass.
    #[arg(long, env = "WAITING_ROOM_GRANTER_BATCH", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub granter_batch: u64,

    /// Longest wait for Redis (connect or reply) before answering 503.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub redis_timeout_ms: u64,

    /// Bearer token for the admin routes (/api/admin/...). Unset: admin routes are off (404).
    #[arg(long, env = "WAITING_ROOM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    /// Joins allowed per second from one client address (0 = no limit).
    #[arg(long, env = "WAITING_ROOM_JOIN_RATE_PER_SECOND", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub join_rate_per_second: u32,

    /// Burst of joins allowed from one client address above the steady rate.
    #[arg(long, env = "WAITING_ROOM_JOIN_BURST", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub join_burst: u32,

    /// Longest time a request may take before it is answered 503.
    #[arg(long, env = "WAITING_ROOM_REQUEST_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub request_timeout_ms: u64,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// How stale a waiting session's recorded heartbeat may get before a poll rewrites it:
    /// a tenth of the abandonment period, between 100 ms and 5 s. Most polls then read
    /// only, and a session is still abandoned within 10 % of the configured period.
    pub fn heartbeat_ms(&self) -> u64 {
        (self.abandon_seconds * 100).clamp(100, 5_000)
    }

    pub fn grant_params(&self) -> GrantParams {
        GrantParams {
            default_capacity: self.capacity,
            session_ms: self.session_seconds * 1_000,
            abandon_ms: self.abandon_seconds * 1_000,
            batch: self.granter_batch,
            retention_ms: self.retention_seconds * 1_000,
        }
    }

    pub fn granter_tick(&self) -> Duration {
        Duration::from_millis(self.granter_tick_ms)
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::try_parse_from(["vestibule", "--redis-url", "redis://x"]).unwrap();
        assert_eq!(c.session_seconds, 300);
        assert_eq!(c.abandon_seconds, 120);
    }

    #[test]
    fn a_bad_value_names_the_setting() {
        let err = Config::try_parse_from(["vestibule", "--session-seconds", "soon"]).unwrap_err();
        assert!(err.to_string().contains("--session-seconds"), "{err}");
    }
}
