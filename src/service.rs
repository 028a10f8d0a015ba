//! The waiting room's operations (join, status, leave, verify a token) over the store.
//!
//! The JSON routes and the server functions are thin layers over this.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::domain::{refresh_after_ms, EventId, SessionId, SessionView, Status, UserId};
use crate::error::AppError;
use crate::granter::Wake;
use crate::store::{EventOverview, EventSettings, SessionRecord, Store};
use crate::telemetry::names;
use crate::token::{Claims, Tokens};

/// Below this decayed admission count (about admissions in the last minute) the wait
/// cannot be estimated.
const MIN_ADMISSIONS_FOR_ESTIMATE: f64 = 0.5;
/// Time constant of the admission-rate decay, as in grant.lua.
const RATE_WINDOW_MS: f64 = 60_000.0;

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Shared handle to the waiting room; cheap to clone (one shared allocation).
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    tokens: Tokens,
    session_ms: u64,
    /// See [`crate::config::Config::heartbeat_ms`].
    heartbeat_ms: u64,
    /// Wakes the granter of this process (a join to admit, a slot given back).
    granter: Arc<Wake>,
}

impl Service {
    pub fn new(store: Store, tokens: Tokens, session_ms: u64, heartbeat_ms: u64) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                tokens,
                session_ms,
                heartbeat_ms,
                granter: Arc::default(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn granter_wake(&self) -> Arc<Wake> {
        self.inner.granter.clone()
    }

    /// Joins the event's line. `true` when a new place was made; `false` when the user
    /// already had a live session there, which is returned instead.
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
    ) -> Result<(bool, SessionView), AppError> {
        let now = now_ms();
        let joined = self.inner.store.join(event, user).await?;
        let outcome = if joined.created {
            "created"
        } else {
            "existing"
        };
        metrics::counter!(names::JOINS, "outcome" => outcome).increment(1);
        if joined.created {
            self.inner.granter.event(event);
        }
        Ok((joined.created, self.view(joined.record, now)))
    }

    pub async fn status(&self, sid: SessionId) -> Result<SessionView, AppError> {
        let now = now_ms();
        metrics::counter!(names::STATUS_POLLS).increment(1);
        let record = self
            .inner
            .store
            .status(sid, self.inner.heartbeat_ms)
            .await?;
        record
            .map(|r| self.view(r, now))
            .ok_or_else(AppError::session_not_found)
    }

    pub async fn leave(&self, sid: SessionId) -> Result<SessionView, AppError> {
        let now = now_ms();
        let left = self
            .inner
            .store
            .leave(sid)
            .await?
            .ok_or_else(AppError::session_not_found)?;
        if left.freed_slot {
            metrics::counter!(names::RELEASES).increment(1);
            self.inner.granter.event(&left.record.event_id);
        }
        Ok(self.view(left.record, now))
    }

    /// Every event with its settings and counts.
    pub async fn events(&self) -> Result<Vec<EventOverview>, AppError> {
        Ok(self.inner.store.events().await?)
    }

    /// One event's settings and counts (defaults and zeros for an unknown event).
    pub async fn event(&self, event: &EventId) -> Result<EventOverview, AppError> {
        Ok(self.inner.store.event(event).await?)
    }

    /// Replaces an event's settings; takes effect on every instance at its next pass, and
    /// at once here (raising capacity admits the next people immediately).
    pub async fn put_settings(
        &self,
        event: &EventId,
        settings: &EventSettings,
    ) -> Result<EventOverview, AppError> {
        self.inner.store.put_settings(event, settings).await?;
        self.inner.granter.event(event);
        self.event(event).await
    }

    pub fn verify_token(&self, token: &str) -> Result<Claims, String> {
        self.inner.tokens.verify(token)
    }

    fn view(&self, r: SessionRecord, now: u64) -> SessionView {
        let waiting = r.status == Status::Waiting;
        let position = waiting.then_some(r.position.max(1));
        let elapsed = now.saturating_sub(r.admissions_at_ms) as f64;
        let recent = r.admissions * (-elapsed / RATE_WINDOW_MS).exp();
        let known = recent >= MIN_ADMISSIONS_FOR_ESTIMATE;
        let estimate = position
            .filter(|_| known)
            .map(|p| (p as f64 * RATE_WINDOW_MS / 1_000.0 / recent).ceil() as u64);
        let access_token = (r.status == Status::Active).then(|| {
            self.inner.tokens.issue(&Claims {
                sub: r.session_id.to_string(),
                evt: r.event_id.to_string(),
                usr: r.user_id.to_string(),
                iat: r.active_until_ms.saturating_sub(self.inner.session_ms) / 1_000,
                exp: r.active_until_ms / 1_000,
            })
        });
        SessionView {
            session_id: r.session_id,
            event_id: r.event_id,
            user_id: r.user_id,
            status: r.status,
            position,
            estimated_wait_seconds: estimate,
            wait_time_known: !waiting || known,
            refresh_after_ms: refresh_after_ms(r.status, position),
            active_until_ms: (r.status == Status::Active).then_some(r.active_until_ms),
            access_token,
        }
    }
}
