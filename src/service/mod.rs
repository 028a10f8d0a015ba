//! The waiting room's operations over the store, by who calls them: a visitor's place
//! ([`visitors`]: join, status, leave), what a join must bring ([`door`]: an enqueue
//! token's account, a solved challenge), the shop's door ([`gate`]: does a pass open it),
//! a place taken to another device ([`moves`]), the operators ([`operators`]: events, settings, messages, draws) and the room's keys
//! ([`secrets`]). The JSON routes, the gate, the console and the server functions are thin
//! layers over this; nothing here speaks HTTP: every failure is a [`ServiceError`], which
//! `crate::error` maps to a status and a code in one place.

mod door;
mod error;
mod gate;
mod moves;
mod operators;
mod secrets;
mod visitors;

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::config::{EventsMode, FailMode, SecretSource};
use crate::domain::ChallengeMode;
use crate::passes::{PassCache, Revocations};
use crate::store::Store;

pub use error::{Refusal, ServiceError};
pub use moves::{qr_svg, MoveOffer};
pub use operators::message_text;
pub use secrets::Secrets;
pub use visitors::{JoinOutcome, Proof};

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub session_ms: u64,
    /// The grace of events without their own (see [`crate::config::Config::grace_seconds`]).
    pub grace_ms: u64,
    /// Capacity of events without their own setting.
    pub default_capacity: u64,
    /// See [`crate::config::Config::max_poll_ms`].
    pub max_poll_ms: u64,
    /// See [`crate::config::Config::hidden_poll_ms`].
    pub hidden_poll_ms: u64,
    pub events: EventsMode,
    /// The join's challenge for events without their own setting.
    pub challenge: ChallengeMode,
    pub secrets: SecretSource,
    /// What the gate does while Redis cannot be reached.
    pub fail_mode: FailMode,
}

/// Shared handle to the waiting room; cheap to clone (one shared allocation).
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    settings: ServiceSettings,
    secrets: OnceCell<Secrets>,
    passes: PassCache,
    revocations: Arc<Revocations>,
    rules: door::Rules,
}

impl Service {
    pub fn new(store: Store, settings: ServiceSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                settings,
                secrets: OnceCell::new(),
                passes: PassCache::new(),
                revocations: Arc::default(),
                rules: door::Rules::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The poll pace of a page in a hidden tab.
    pub fn hidden_poll_ms(&self) -> u64 {
        self.inner.settings.hidden_poll_ms
    }

    /// The room's time (unix ms).
    pub fn now(&self) -> u64 {
        self.inner.store.clock().now_ms()
    }

    pub fn revocations(&self) -> Arc<Revocations> {
        self.inner.revocations.clone()
    }
}

/// Unix milliseconds as RFC 3339 (UTC, whole seconds unless there is a fraction).
pub fn rfc3339(ms: u64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()?;
    at.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// RFC 3339 as unix milliseconds; `None` unless well-formed and after 1970.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let at = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}
