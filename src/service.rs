//! The waiting room's operations (join, status, leave, check a pass) over the store.
//!
//! The JSON routes, the gate and the server functions are thin layers over this.

use std::sync::Arc;

use axum::http::StatusCode;
use tokio::sync::OnceCell;

use secrecy::ExposeSecret;

use crate::config::{EventsMode, SecretSource};
use crate::domain::ErrorCode;
use crate::domain::{
    refresh_after_ms, EventFigures, EventHistory, EventId, Queueing, SessionId, SessionView,
    Status, UserId, MAX_MESSAGE_CHARS,
};
use crate::error::AppError;
use crate::passes::{Claims, Keyring, PassCache, Revocations};
use crate::store::keys::{COOKIE_KEY, SIGNING_KEY};
use crate::store::{
    Draw, EventOverview, EventSettings, JoinMode, JoinReply, SessionRecord, Store, HISTORY_MS,
    SAMPLE_MS,
};
use crate::telemetry::names;
use crate::visitor::Cookies;

/// Below this decayed admission count (about admissions in the last minute) the wait
/// cannot be estimated.
const MIN_ADMISSIONS_FOR_ESTIMATE: f64 = 0.5;
/// Time constant of the admission-rate decay, as in grant.lua.
const RATE_WINDOW_MS: f64 = 60_000.0;

/// The room's keys, loaded once per process.
pub struct Secrets {
    pub keyring: Keyring,
    pub cookies: Cookies,
}

/// What proves that a repeat join comes from the place's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The user id itself was proven (the page's signed visitor cookie).
    Visitor,
    /// A JSON caller: the session id of the place, if it sent one.
    Session(Option<SessionId>),
}

/// The outcome of a join.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinOutcome {
    /// A new place in line.
    Created(SessionView),
    /// The caller's existing live place.
    Existing(SessionView),
}

impl JoinOutcome {
    pub fn view(&self) -> &SessionView {
        match self {
            JoinOutcome::Created(v) | JoinOutcome::Existing(v) => v,
        }
    }
}

/// Settings of the service.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    pub session_ms: u64,
    /// Capacity of events without their own setting.
    pub default_capacity: u64,
    /// See [`crate::config::Config::max_poll_ms`].
    pub max_poll_ms: u64,
    pub events: EventsMode,
    pub secrets: SecretSource,
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
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The room's time (unix ms).
    pub fn now(&self) -> u64 {
        self.inner.store.clock().now_ms()
    }

    pub fn revocations(&self) -> Arc<Revocations> {
        self.inner.revocations.clone()
    }

    /// The keys: from the configured files, else from Redis (made there by whichever
    /// instance asked first). Loaded on first use, so the server starts while Redis is
    /// away; until they load, what needs them answers 503.
    pub async fn secrets(&self) -> Result<&Secrets, AppError> {
        self.inner
            .secrets
            .get_or_try_init(|| async {
                let source = &self.inner.settings.secrets;
                let store = &self.inner.store;
                let signing = match &source.signing_key {
                    Some(pem) => pem.expose_secret().to_owned(),
                    None => {
                        store
                            .shared_secret(SIGNING_KEY, &Keyring::generate_pem())
                            .await?
                    }
                };
                let cookie_secret = match &source.cookie_secret {
                    Some(secret) => secret.expose_secret().as_bytes().to_vec(),
                    None => {
                        let fresh = format!(
                            "{:032x}{:032x}",
                            rand::random::<u128>(),
                            rand::random::<u128>()
                        );
                        store.shared_secret(COOKIE_KEY, &fresh).await?.into_bytes()
                    }
                };
                let keyring = Keyring::new(&signing, &source.retired_keys).map_err(|e| {
                    tracing::error!(error = %e, "the pass signing key is unusable");
                    AppError::internal()
                })?;
                Ok::<_, AppError>(Secrets {
                    keyring,
                    cookies: Cookies::new(&cookie_secret, source.cookie_domain.clone()),
                })
            })
            .await
    }

    /// Joins the event's line, or finds the caller's live place there. A place is only
    /// disclosed to a caller that proves it owns it: else a repeat join is 409.
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
        proof: Proof,
    ) -> Result<JoinOutcome, AppError> {
        let now = self.now();
        let mode = JoinMode::Create {
            register_event: self.inner.settings.events == EventsMode::Open,
        };
        let (created, record) = match self.inner.store.join(event, user, mode).await? {
            JoinReply::Created(record) => (true, record),
            JoinReply::Existing(record) => (false, record),
            JoinReply::UnknownEvent => return Err(AppError::unknown_event()),
            JoinReply::NoPlace => return Err(AppError::internal()),
        };
        let outcome = if created { "created" } else { "existing" };
        metrics::counter!(names::JOINS, "outcome" => outcome).increment(1);
        if created {
            return Ok(JoinOutcome::Created(self.view(record, now).await?));
        }
        let proven = match proof {
            Proof::Visitor => true,
            Proof::Session(sid) => sid == Some(record.session_id),
        };
        if !proven {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::AlreadyJoined,
                "this user already has a place in this line; send its sessionId with the \
                 join to resume it, or poll it with the id you were given",
            ));
        }
        Ok(JoinOutcome::Existing(self.view(record, now).await?))
    }

    /// The user's live place in the event's line, if any; writes nothing but the
    /// heartbeat. For callers that proved `user` (the page's visitor cookie).
    pub async fn find(
        &self,
        event: &EventId,
        user: &UserId,
    ) -> Result<Option<SessionView>, AppError> {
        let now = self.now();
        match self.inner.store.join(event, user, JoinMode::Peek).await? {
            JoinReply::Existing(record) | JoinReply::Created(record) => {
                Ok(Some(self.view(record, now).await?))
            }
            JoinReply::NoPlace => Ok(None),
            JoinReply::UnknownEvent => match self.inner.settings.events {
                EventsMode::Open => Ok(None),
                EventsMode::Registered => Err(AppError::unknown_event()),
            },
        }
    }

    pub async fn status(&self, sid: SessionId) -> Result<SessionView, AppError> {
        let now = self.now();
        metrics::counter!(names::STATUS_POLLS).increment(1);
        let record = self
            .inner
            .store
            .status(sid)
            .await?
            .ok_or_else(AppError::session_not_found)?;
        self.view(record, now).await
    }

    pub async fn leave(&self, sid: SessionId) -> Result<SessionView, AppError> {
        let now = self.now();
        let left = self
            .inner
            .store
            .leave(sid)
            .await?
            .ok_or_else(AppError::session_not_found)?;
        if left.freed_slot {
            metrics::counter!(names::RELEASES).increment(1);
            let event = &left.record.event_id;
            self.inner.revocations.add(event, &sid.to_string());
        }
        self.view(left.record, now).await
    }

    /// The gate's question: does `pass` open `event`'s door now? Answered from memory
    /// unless this process has never guarded the event (then one read of its
    /// revocations). Refusals are 401 with the reason's code.
    pub async fn check_pass(&self, event: &EventId, pass: Option<&str>) -> Result<(), AppError> {
        let pass = presented(pass)?;
        let secrets = self.secrets().await?;
        let now = self.now();
        let Some(session) = self.decide(secrets, event.as_str(), pass, now)? else {
            return Ok(());
        };
        // This process has not guarded the event yet: read its revocations once.
        let (mark, sessions) = self.inner.store.revoked(event).await?;
        let is_revoked = sessions.contains(&session);
        self.inner.revocations.load(event, mark, sessions, now);
        if is_revoked {
            return Err(revoked());
        }
        Ok(())
    }

    /// The gate's answer from memory alone, when memory can give it: `None` when the keys
    /// are not loaded yet or the event's revocations were never read here (then ask
    /// [`Service::check_pass`]). Takes the event id unparsed: the caller checked its form.
    pub fn check_pass_from_memory(
        &self,
        event: &str,
        pass: Option<&str>,
    ) -> Option<Result<(), AppError>> {
        let pass = match presented(pass) {
            Ok(pass) => pass,
            Err(no_pass) => return Some(Err(no_pass)),
        };
        let secrets = self.inner.secrets.get()?;
        match self.decide(secrets, event, pass, self.now()) {
            Ok(None) => Some(Ok(())),
            Ok(Some(_)) => None,
            Err(refusal) => Some(Err(refusal)),
        }
    }

    /// Whether `pass` opens `event`'s door, as far as memory tells: `Ok(None)` opens,
    /// `Ok(Some(session))` needs the event's revocations read first.
    fn decide(
        &self,
        secrets: &Secrets,
        event: &str,
        pass: &str,
        now: u64,
    ) -> Result<Option<String>, AppError> {
        let revocations = &self.inner.revocations;
        self.inner
            .passes
            .with(&secrets.keyring, pass, |pass| {
                if pass.event != event {
                    return Err(refused(
                        ErrorCode::WrongEvent,
                        "this pass is for another event",
                    ));
                }
                if pass.expires.saturating_mul(1_000) <= now {
                    return Err(refused(ErrorCode::PassExpired, "this pass has expired"));
                }
                match revocations.is_revoked(event, &pass.session, now) {
                    Some(true) => Err(revoked()),
                    Some(false) => Ok(None),
                    None => Ok(Some(pass.session.clone())),
                }
            })
            .map_err(|e| {
                refused(
                    ErrorCode::InvalidPass,
                    &format!("the pass is not valid: {e}"),
                )
            })?
    }

    /// The claims of a pass that opens `event` now, or why it does not.
    pub async fn verify_pass(
        &self,
        event: &EventId,
        pass: &str,
    ) -> Result<Result<Claims, String>, AppError> {
        match self.check_pass(event, Some(pass)).await {
            Ok(_) => {
                let secrets = self.secrets().await?;
                Ok(secrets.keyring.verify(pass))
            }
            Err(e) if e.status == StatusCode::UNAUTHORIZED => Ok(Err(e.message)),
            Err(e) => Err(e),
        }
    }

    /// A page of events, in id order: at most `limit` after `after`, and whether more
    /// follow.
    pub async fn events(
        &self,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<(Vec<EventFigures>, bool), AppError> {
        let (events, more) = self.inner.store.events(after, limit).await?;
        let now = self.now();
        Ok((
            events.into_iter().map(|e| self.figures(e, now)).collect(),
            more,
        ))
    }

    /// Pauses or resumes admissions (one atomic write: a concurrent settings change is
    /// never lost).
    pub async fn set_paused(
        &self,
        event: &EventId,
        paused: bool,
    ) -> Result<EventFigures, AppError> {
        self.inner.store.set_paused(event, paused).await?;
        self.event(event).await
    }

    /// One event's settings and figures (defaults and zeros for an unknown event).
    pub async fn event(&self, event: &EventId) -> Result<EventFigures, AppError> {
        let overview = self.inner.store.event(event).await?;
        Ok(self.figures(overview, self.now()))
    }

    /// An event's figures now and the samples of its line over the last `minutes`
    /// (at most an hour).
    pub async fn history(&self, event: &EventId, minutes: u64) -> Result<EventHistory, AppError> {
        let figures = self.event(event).await?;
        let now = self.now();
        let since = now.saturating_sub((minutes * 60_000).min(HISTORY_MS));
        let samples = self.inner.store.history(event, since).await?;
        Ok(EventHistory {
            figures,
            sample_seconds: SAMPLE_MS / 1_000,
            now_ms: now,
            samples,
        })
    }

    /// Posts (or with `None`, takes down) the message the people waiting for an event
    /// see on their page and in their status.
    pub async fn set_message(
        &self,
        event: &EventId,
        message: Option<&str>,
    ) -> Result<EventFigures, AppError> {
        let message = message.map(message_text).transpose()?;
        self.inner
            .store
            .set_message(event, message.as_deref())
            .await?;
        self.event(event).await
    }

    fn figures(&self, e: EventOverview, now: u64) -> EventFigures {
        let per_minute = decayed(e.admissions, e.admissions_at_ms, now);
        let settings = e.settings;
        EventFigures {
            capacity_in_force: settings
                .capacity
                .unwrap_or(self.inner.settings.default_capacity),
            queueing: Queueing::in_force(settings.queueing, settings.opens_at_ms),
            opens_at: settings.opens_at_ms.and_then(rfc3339),
            event_id: e.event_id,
            target_url: settings.target_url,
            capacity: settings.capacity,
            rate_per_minute: settings.rate_per_minute,
            paused: settings.paused,
            joined: e.joined,
            waiting: e.waiting,
            active: e.active,
            admitted: e.admitted,
            admitted_per_minute: (per_minute * 10.0).round() / 10.0,
            last_wait_seconds: (e.waiting > 0)
                .then(|| wait_seconds(e.waiting, per_minute))
                .flatten(),
            message: e.message,
        }
    }

    /// The event's draw number `round` as published, with the digest of its order; `None`
    /// until it is made and its order written (the granter records the digest as it
    /// writes the order: from then on every position of the draw is its place in it).
    pub async fn draw(
        &self,
        event: &EventId,
        round: u64,
    ) -> Result<Option<(Draw, String)>, AppError> {
        let Some(draw) = self.inner.store.draw(event, round).await? else {
            return Ok(None);
        };
        Ok(draw.digest.clone().map(|digest| (draw, digest)))
    }

    /// Replaces an event's settings (creating the event); takes effect on every instance
    /// at its next pass, and at once here (raising capacity admits the next people
    /// immediately).
    /// With `keep_pause`, all but the pause, which stays as it is (the console's settings
    /// form: a pause another operator makes meanwhile is not undone).
    pub async fn put_settings(
        &self,
        event: &EventId,
        settings: &EventSettings,
        keep_pause: bool,
    ) -> Result<EventFigures, AppError> {
        self.inner
            .store
            .put_settings(event, settings, keep_pause)
            .await?;
        self.event(event).await
    }

    /// Creates an event with these settings; an event an operator configured before is
    /// left as it is (409 `event_exists`).
    pub async fn create_event(
        &self,
        event: &EventId,
        settings: &EventSettings,
    ) -> Result<EventFigures, AppError> {
        if !self.inner.store.claim_new_event(event).await? {
            return Err(AppError::new(
                StatusCode::CONFLICT,
                ErrorCode::EventExists,
                "an event with this id exists: change it on its page",
            ));
        }
        self.put_settings(event, settings, false).await
    }

    /// A poll answered from this process's memory, or `None` when it needs Redis (see
    /// [`Store::status_from_memory`]); no await, for the server's fast lane.
    pub fn status_from_memory(&self, sid: &SessionId) -> Option<SessionView> {
        let record = self.inner.store.status_from_memory(sid)?;
        metrics::counter!(names::STATUS_POLLS).increment(1);
        Some(self.view_with(record, self.now(), None))
    }

    async fn view(&self, r: SessionRecord, now: u64) -> Result<SessionView, AppError> {
        let access_token = if r.status == Status::Active {
            let sid = r.session_id.to_string();
            let secrets = self.secrets().await?;
            Some(
                secrets.keyring.issue(&Claims {
                    aud: r.event_id.to_string(),
                    sub: sid.clone(),
                    jti: sid,
                    iat: r
                        .active_until_ms
                        .saturating_sub(self.inner.settings.session_ms)
                        / 1_000,
                    exp: r.active_until_ms / 1_000,
                }),
            )
        } else {
            None
        };
        Ok(self.view_with(r, now, access_token))
    }

    /// What the owner of a session is told, with its pass (ACTIVE only).
    fn view_with(&self, r: SessionRecord, now: u64, access_token: Option<String>) -> SessionView {
        let waiting = r.status == Status::Waiting;
        let active = r.status == Status::Active;
        // Before a draw there is no place yet (position 0 from the store).
        let position = (waiting && !(r.pre_queue && r.position == 0)).then_some(r.position.max(1));
        let opens_in_ms = r
            .opens_at_ms
            .filter(|_| waiting && r.pre_queue)
            .map(|at| at.saturating_sub(now));
        let recent = decayed(r.admissions, r.admissions_at_ms, now);
        let estimate = position.and_then(|p| wait_seconds(p, recent));
        let known = recent >= MIN_ADMISSIONS_FOR_ESTIMATE;
        SessionView {
            session_id: r.session_id,
            event_id: r.event_id,
            user_id: r.user_id,
            status: r.status,
            position,
            pre_queue: waiting && r.pre_queue,
            opens_at: r
                .opens_at_ms
                .filter(|_| waiting && r.pre_queue)
                .and_then(rfc3339),
            opens_in_seconds: opens_in_ms.map(|ms| ms.div_ceil(1_000)),
            estimated_wait_seconds: estimate,
            wait_time_known: !waiting || known,
            refresh_after_ms: match opens_in_ms {
                // In the pre-queue: at the opening (within a second of it), at least
                // every 10 s (the heartbeat).
                Some(ms) => ms.clamp(1_000, 10_000).min(self.inner.settings.max_poll_ms),
                None if waiting => {
                    refresh_after_ms(r.status, position).min(self.inner.settings.max_poll_ms)
                }
                None => refresh_after_ms(r.status, position),
            },
            active_until_ms: active.then_some(r.active_until_ms),
            access_token,
            target_url: if active { r.target_url } else { None },
            message: if waiting { r.message } else { None },
        }
    }
}

/// The decayed admission count `count` recorded at `at_ms`, as of `now`: about the
/// admissions of the last minute.
fn decayed(count: f64, at_ms: u64, now: u64) -> f64 {
    let elapsed = now.saturating_sub(at_ms) as f64;
    count * (-elapsed / RATE_WINDOW_MS).exp()
}

/// Seconds until the person at `position` is admitted at `per_minute` admissions a
/// minute; `None` when too few were admitted recently to tell.
fn wait_seconds(position: u64, per_minute: f64) -> Option<u64> {
    (per_minute >= MIN_ADMISSIONS_FOR_ESTIMATE)
        .then(|| (position as f64 * RATE_WINDOW_MS / 1_000.0 / per_minute).ceil() as u64)
}

/// A message for the people waiting: trimmed, 1 to [`MAX_MESSAGE_CHARS`] characters, no
/// control characters.
pub fn message_text(raw: &str) -> Result<String, AppError> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_MESSAGE_CHARS || text.chars().any(char::is_control) {
        return Err(AppError::bad_request(
            ErrorCode::InvalidMessage,
            format!("a message is 1 to {MAX_MESSAGE_CHARS} characters of text on one line"),
        ));
    }
    Ok(text.to_string())
}

/// The pass a gate check was given, or the refusal for having none.
fn presented(pass: Option<&str>) -> Result<&str, AppError> {
    pass.map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            refused(
                ErrorCode::NoPass,
                "no pass: send the vestibule_pass cookie or Authorization: Bearer <pass>",
            )
        })
}

fn revoked() -> AppError {
    refused(
        ErrorCode::PassRevoked,
        "this pass's session has ended (left or revoked)",
    )
}

fn refused(code: ErrorCode, message: &str) -> AppError {
    AppError::new(StatusCode::UNAUTHORIZED, code, message)
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
