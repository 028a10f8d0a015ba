//! Every setting, typed, from flags or environment variables (`vestibule --help`).
//!
//! The site itself (output name, site root, pkg dir) is Leptos configuration: `Leptos.toml`
//! when the binary runs on its own, `LEPTOS_*` variables under cargo-leptos.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

use crate::domain::ChallengeMode;
use crate::store::{Durability, GrantParams, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GranterMode {
    /// The granter loop runs in this process.
    Auto,
    /// No loop: passes are stepped by hand (tests).
    Manual,
}

/// Where the room's time comes from (see [`crate::clock::Clock`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClockMode {
    /// The system's clock, and Redis's in the scripts.
    System,
    /// A time that moves only when the process's holder moves it (tests).
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the room's secrets come from: files named in the configuration, else Redis
/// (made once by the first instance, shared by all).
#[derive(Debug, Clone, Default)]
pub struct SecretSource {
    /// The Ed25519 private key that signs passes (PKCS#8 PEM).
    pub signing_key: Option<SecretString>,
    /// Earlier keys (PEM) whose passes are still accepted and published.
    pub retired_keys: Vec<SecretString>,
    /// The secret that signs visitor cookies.
    pub cookie_secret: Option<SecretString>,
    /// `Domain` of the pass cookie.
    pub cookie_domain: Option<String>,
}

fn parse_challenge(raw: &str) -> Result<ChallengeMode, String> {
    ChallengeMode::parse(raw).ok_or_else(|| "one of off, auto, always".to_string())
}

/// Which events take joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventsMode {
    /// Any well-formed event id; the first join creates the event.
    Open,
    /// Only events created by an operator (`PUT /api/admin/events/{id}`).
    Registered,
}

/// What the shop's door does when Redis cannot be reached (README, "A sale that has a
/// state").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailMode {
    /// The door stays shut for those without a pass (passes this process knows still
    /// open it).
    Closed,
    /// Everyone is let through: a shop that prefers overload to downtime.
    Open,
}

/// Vestibule: a virtual waiting room for high-demand sales.
#[derive(Debug, Clone, Parser)]
#[command(name = "vestibule", version, about)]
pub struct Config {
    /// Redis to keep the waiting room in.
    #[arg(long, env = "REDIS_URL", default_value = "redis://127.0.0.1:6379")]
    pub redis_url: String,

    /// Seed nodes of a Redis Cluster (comma-separated `redis://host:port`). Set: the room
    /// runs on that cluster and `REDIS_URL` is not used.
    #[arg(long, env = "REDIS_CLUSTER_URLS", value_delimiter = ',')]
    pub redis_cluster_urls: Vec<String>,

    /// Replicas that must confirm each join, leave and granter pass before it is
    /// acknowledged (Redis `WAIT`). 0: acknowledged once the primary has it (a failover
    /// may lose the last writes; see the README).
    #[arg(long, env = "WAITING_ROOM_REDIS_WAIT_REPLICAS", default_value_t = 0,
          value_parser = clap::value_parser!(u32).range(0..=16))]
    pub redis_wait_replicas: u32,

    /// How long a write waits for those replicas before it is answered 503.
    #[arg(long, env = "WAITING_ROOM_REDIS_WAIT_TIMEOUT_MS", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub redis_wait_timeout_ms: u64,

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

    /// How long a visitor skipped for not polling may come back and get the turn back
    /// (admitted at the next free slot, ahead of the line, once), unless the event has its
    /// own; 0: no grace.
    #[arg(long, env = "WAITING_ROOM_GRACE_SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub grace_seconds: u64,

    /// How long ended sessions stay readable (and granted joins stay in the stream).
    #[arg(long, env = "WAITING_ROOM_RETENTION_SECONDS", default_value_t = 3_600,
          value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    pub retention_seconds: u64,

    /// File with the Ed25519 private key (PKCS#8 PEM) that signs passes. Unset: the first
    /// instance makes one and keeps it in Redis, where every instance reads it.
    #[arg(long, env = "WAITING_ROOM_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// Files (comma-separated) with earlier signing keys (private or public PEM): their
    /// passes still open the gate, and they stay in the JWKS. For key rotation.
    #[arg(long, env = "WAITING_ROOM_RETIRED_KEY_FILES", value_delimiter = ',')]
    pub retired_key_files: Vec<PathBuf>,

    /// File with the secret that signs visitor cookies. Unset: made once and kept in Redis.
    #[arg(long, env = "WAITING_ROOM_COOKIE_SECRET_FILE")]
    pub cookie_secret_file: Option<PathBuf>,

    /// Domain of the pass cookie (e.g. `.shop.example`), so that the shop's host receives
    /// it. Unset: the room's own host only.
    #[arg(long, env = "WAITING_ROOM_COOKIE_DOMAIN")]
    pub cookie_domain: Option<String>,

    /// Which events take joins: `open` (any well-formed event id; the first join creates
    /// the event) or `registered` (only events an operator created; others are 404).
    #[arg(long, env = "WAITING_ROOM_EVENTS", value_enum, default_value_t = EventsMode::Open)]
    pub events: EventsMode,

    /// The proof-of-work at the join for events without their own setting (README, "Bots
    /// and accounts"): `off`, `auto` (only when the line is long or joins come fast) or
    /// `always`.
    #[arg(long, env = "WAITING_ROOM_CHALLENGE", default_value = "auto",
          value_parser = parse_challenge)]
    pub challenge: ChallengeMode,

    /// What the shop's door (the gate) does while Redis cannot be reached: `closed` keeps
    /// it shut for those without a pass, `open` lets everyone through.
    #[arg(long, env = "WAITING_ROOM_FAIL_MODE", value_enum, default_value_t = FailMode::Closed)]
    pub fail_mode: FailMode,

    /// Longest pause of the granter between passes when nothing wakes it.
    #[arg(long, env = "WAITING_ROOM_GRANTER_TICK_MS", default_value_t = 200,
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub granter_tick_ms: u64,

    /// `manual`: no granter loop runs; passes are taken by whoever holds the granter
    /// (the tests of the rules). Never for a real room.
    #[arg(long, env = "WAITING_ROOM_GRANTER_MODE", value_enum, default_value_t = GranterMode::Auto, hide = true)]
    pub granter_mode: GranterMode,

    /// `manual`: the room's time moves only when the process's holder moves it (the tests
    /// of expiry, retention and openings). Never for a real room.
    #[arg(long, env = "WAITING_ROOM_CLOCK", value_enum, default_value_t = ClockMode::System, hide = true)]
    pub clock: ClockMode,

    /// Most joins one granter script handles per event and pass.
    #[arg(long, env = "WAITING_ROOM_GRANTER_BATCH", default_value_t = 1_000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub granter_batch: u64,

    /// Longest wait for Redis (connect or reply) before answering 503.
    #[arg(long, env = "REDIS_TIMEOUT_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub redis_timeout_ms: u64,

    /// Bearer token for the admin routes (/api/admin/...). Unset: admin routes are off (404).
    #[arg(long, env = "WAITING_ROOM_ADMIN_TOKEN", hide_env_values = true, value_parser = secret)]
    pub admin_token: Option<SecretString>,

    /// File holding the admin token (instead of the flag, which `ps` shows).
    #[arg(
        long,
        env = "WAITING_ROOM_ADMIN_TOKEN_FILE",
        conflicts_with = "admin_token"
    )]
    pub admin_token_file: Option<PathBuf>,

    /// Proxies (CIDRs, comma-separated) whose `X-Forwarded-For` / `Forwarded` headers name
    /// the client: from those peers the client is the right-most address not in this
    /// list. Unset: the TCP peer is the client.
    #[arg(long, env = "WAITING_ROOM_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// Bearer token for `GET /metrics`. Unset: /metrics is open (serve it on a private
    /// network only).
    #[arg(long, env = "WAITING_ROOM_METRICS_TOKEN", hide_env_values = true, value_parser = secret)]
    pub metrics_token: Option<SecretString>,

    /// File holding the metrics token.
    #[arg(
        long,
        env = "WAITING_ROOM_METRICS_TOKEN_FILE",
        conflicts_with = "metrics_token"
    )]
    pub metrics_token_file: Option<PathBuf>,

    /// Longest time a client may take to send a request's headers (slow clients holding
    /// connections open are cut off).
    #[arg(long, env = "WAITING_ROOM_HEADER_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub header_timeout_ms: u64,

    /// An HTTP/2 connection with no request in flight for this long is closed (HTTP/1
    /// connections idle between requests close after the header timeout).
    #[arg(long, env = "WAITING_ROOM_IDLE_TIMEOUT_MS", default_value_t = 60_000,
          value_parser = clap::value_parser!(u64).range(1_000..=3_600_000))]
    pub idle_timeout_ms: u64,

    /// Most connections open at once (fewer if the process may not open that many files:
    /// three quarters of its file limit); past it, new ones wait to be accepted.
    #[arg(long, env = "WAITING_ROOM_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(16..=1_000_000))]
    pub max_connections: u64,

    /// Joins allowed per second from one client address (0 = no limit).
    #[arg(long, env = "WAITING_ROOM_JOIN_RATE_PER_SECOND", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub join_rate_per_second: u32,

    /// Burst of joins allowed from one client address above the steady rate. The default
    /// lets the seed's scenario through (100 joins at once from one client); the defences
    /// against bots are per event (README, "Bots and accounts").
    #[arg(long, env = "WAITING_ROOM_JOIN_BURST", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub join_burst: u32,

    /// Longest time a request may take before it is answered 503.
    #[arg(long, env = "WAITING_ROOM_REQUEST_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub request_timeout_ms: u64,

    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Print a Redis script's source as the store sends it (`join.lua`, …) and exit: for
    /// `bench.sh`, which runs a script alone with redis-benchmark.
    #[arg(long, hide = true, value_name = "FILE")]
    pub print_script: Option<String>,

    /// Measure what checking a join's challenge costs (CPU µs per check and per challenge
    /// made, over N rounds) and exit: for `bench.sh`.
    #[arg(long, hide = true, value_name = "N")]
    pub measure_challenge: Option<u32>,
}

impl Config {
    /// The secrets named by files, read now (a missing or unreadable file stops the
    /// start with its path named).
    pub fn secret_source(&self) -> Result<SecretSource, String> {
        let retired_keys = self
            .retired_key_files
            .iter()
            .map(|p| read_secret(p).map(SecretString::from))
            .collect::<Result<_, _>>()?;
        Ok(SecretSource {
            signing_key: self
                .signing_key_file
                .as_deref()
                .map(|p| read_secret(p).map(SecretString::from))
                .transpose()?,
            retired_keys,
            cookie_secret: self
                .cookie_secret_file
                .as_deref()
                .map(|p| read_secret(p).map(SecretString::from))
                .transpose()?,
            cookie_domain: self.cookie_domain.clone().filter(|d| !d.is_empty()),
        })
    }

    /// The admin token, from the flag or its file; `None` (admin off) when empty or only
    /// white space.
    pub fn admin_token(&self) -> Result<Option<SecretString>, String> {
        token(&self.admin_token, &self.admin_token_file)
    }

    /// The metrics token, likewise; `None`: /metrics is open.
    pub fn metrics_token(&self) -> Result<Option<SecretString>, String> {
        token(&self.metrics_token, &self.metrics_token_file)
    }

    /// The longest poll interval handed to a waiting visitor: a third of the abandonment
    /// period (at most 10 s), so that someone who polls as told is never abandoned.
    pub fn max_poll_ms(&self) -> u64 {
        (self.abandon_seconds * 1_000 / 3).clamp(100, 10_000)
    }

    /// The poll pace of a visitor's page in a hidden tab (the page slows down to it): a
    /// quarter of the abandonment period, at most 30 s and never faster than
    /// [`Self::max_poll_ms`], so that a hidden tab whose timers the browser delays up to
    /// twice over is still not abandoned.
    pub fn hidden_poll_ms(&self) -> u64 {
        (self.abandon_seconds * 1_000 / 4).clamp(self.max_poll_ms(), 30_000)
    }

    /// How stale a waiting session's recorded heartbeat may get before a poll rewrites it:
    /// a tenth of the abandonment period, at least 100 ms. Most polls then only read, and a
    /// session is still abandoned within 10 % of the configured period.
    pub fn heartbeat_ms(&self) -> u64 {
        (self.abandon_seconds * 100).max(100)
    }

    /// How often the heartbeats of polls answered from memory are written: a quarter of
    /// [`Config::heartbeat_ms`], between 25 ms and 1 s. Each carries its poll's age, so
    /// the delay does not age a session.
    pub fn heartbeat_flush(&self) -> std::time::Duration {
        std::time::Duration::from_millis((self.heartbeat_ms() / 4).clamp(25, 1_000))
    }

    pub fn grant_params(&self) -> GrantParams {
        GrantParams {
            default_capacity: self.capacity,
            session_ms: self.session_seconds * 1_000,
            abandon_ms: self.abandon_seconds * 1_000,
            grace_ms: self.grace_seconds * 1_000,
            batch: self.granter_batch,
            retention_ms: self.retention_seconds * 1_000,
            // Longer than two request deadlines (see GrantParams); events whose entries go
            // are events nobody configured, which keep nothing longer than this either.
            unregister_after_ms: (self.retention_seconds * 1_000)
                .min(crate::store::UNCONFIGURED_RETENTION_MS)
                .max(self.request_timeout_ms.saturating_mul(2)),
        }
    }

    /// The room's clock, as [`Config::clock`] says.
    pub fn room_clock(&self) -> crate::clock::Clock {
        match self.clock {
            ClockMode::System => crate::clock::Clock::System,
            ClockMode::Manual => crate::clock::Clock::manual(),
        }
    }

    pub fn granter_tick(&self) -> Duration {
        Duration::from_millis(self.granter_tick_ms)
    }

    /// The single Redis, or the cluster when seed nodes are named.
    pub fn redis_target(&self) -> Target {
        if self.redis_cluster_urls.is_empty() {
            Target::Single(self.redis_url.clone())
        } else {
            Target::Cluster(self.redis_cluster_urls.clone())
        }
    }

    pub fn durability(&self) -> Durability {
        Durability {
            replicas: self.redis_wait_replicas,
            timeout_ms: self.redis_wait_timeout_ms,
        }
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }
}

fn token(
    flag: &Option<SecretString>,
    file: &Option<PathBuf>,
) -> Result<Option<SecretString>, String> {
    let token = match file {
        Some(path) => Some(SecretString::from(read_secret(path)?)),
        None => flag.clone(),
    };
    Ok(token
        .filter(|t| !t.expose_secret().trim().is_empty())
        .map(|t| SecretString::from(t.expose_secret().trim())))
}

/// A secret given on the command line or in the environment: held so that it never shows
/// in a `Debug` print of the settings (or anywhere else).
fn secret(raw: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(raw))
}

/// A secret from a file, without surrounding white space.
fn read_secret(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::try_parse_from(["vestibule", "--redis-url", "redis://x"]).unwrap();
        assert_eq!(c.session_seconds, 300);
        assert_eq!(c.abandon_seconds, 120);
        assert_eq!(c.grace_seconds, 300);
    }

    #[test]
    fn tokens_never_show_in_a_debug_print() {
        let c = Config::try_parse_from([
            "vestibule",
            "--admin-token",
            " the-admin-token ",
            "--metrics-token",
            "the-metrics-token",
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("the-admin-token"), "{printed}");
        assert!(!printed.contains("the-metrics-token"), "{printed}");
        let admin = c.admin_token().unwrap().unwrap();
        assert_eq!(admin.expose_secret(), "the-admin-token", "trimmed");
        let blank = Config::try_parse_from(["vestibule", "--admin-token", "  "]).unwrap();
        assert!(
            blank.admin_token().unwrap().is_none(),
            "white space is no token"
        );
    }

    #[test]
    fn a_bad_value_names_the_setting() {
        let err = Config::try_parse_from(["vestibule", "--session-seconds", "soon"]).unwrap_err();
        assert!(err.to_string().contains("--session-seconds"), "{err}");
    }
}
