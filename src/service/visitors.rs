//! A visitor's place: join, find, status, leave, and the view its owner is given.

use super::{rfc3339, Service, ServiceError};
use crate::config::EventsMode;
use crate::domain::{
    refresh_after_ms, ClosedReason, EventId, Grace, LineMessage, SaleState, SessionId, SessionView,
    Status, UserId,
};
use crate::passes::Claims;
use crate::store::{JoinMode, JoinReply, SessionRecord};
use crate::telemetry::names;

/// Below this decayed admission count (about admissions in the last minute) the wait
/// cannot be estimated.
const MIN_ADMISSIONS_FOR_ESTIMATE: f64 = 0.5;
/// Time constant of the admission-rate decay, as in grant.lua.
const RATE_WINDOW_MS: f64 = 60_000.0;

/// What proves that a repeat join comes from the place's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The user id itself was proven (the page's signed visitor cookie).
    Visitor,
    /// A JSON caller: the session id of the place, if it sent one.
    Session(Option<SessionId>),
    /// A browser joining as a shop's account: the places its signed cookie says it holds
    /// (another browser of the same account holds none of them).
    Held(Vec<SessionId>),
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

impl Service {
    /// Joins the event's line, or finds the caller's live place there. A place is only
    /// disclosed to a caller that proves it owns it: else a repeat join is 409.
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
        proof: Proof,
    ) -> Result<JoinOutcome, ServiceError> {
        self.join_paying(event, user, proof, None).await
    }

    /// The same, paid for by a solved challenge whose nonce (see [`Service::check_payment`])
    /// is spent with the join, in the same step: [`ServiceError::SolutionSpent`] when it
    /// was spent before (nothing written).
    pub async fn join_paying(
        &self,
        event: &EventId,
        user: &UserId,
        proof: Proof,
        nonce: Option<&str>,
    ) -> Result<JoinOutcome, ServiceError> {
        let now = self.now();
        let mode = JoinMode::Create {
            register_event: self.inner.settings.events == EventsMode::Open,
        };
        let paid = nonce.map(|n| (n, crate::challenge::LIFETIME_MS));
        let (created, record) = match self.inner.store.join(event, user, mode, paid).await? {
            JoinReply::Created(record) => (true, record),
            JoinReply::Existing(record) => (false, record),
            JoinReply::UnknownEvent => return Err(ServiceError::UnknownEvent),
            JoinReply::Closed(reason) => return Err(ServiceError::EventClosed(reason)),
            JoinReply::Suspended => return Err(ServiceError::EventSuspended),
            JoinReply::TokenRequired => return Err(ServiceError::TokenRequired),
            JoinReply::Spent => return Err(ServiceError::SolutionSpent),
            JoinReply::NoPlace => return Err(ServiceError::Internal),
        };
        let outcome = if created { "created" } else { "existing" };
        metrics::counter!(names::JOINS, "outcome" => outcome).increment(1);
        if created && record.status == Status::Active {
            // Admitted at once (standby): a grant, as the granter's are.
            metrics::counter!(names::GRANTS).increment(1);
        }
        if created {
            return Ok(JoinOutcome::Created(self.view(record, now).await?));
        }
        let proven = match proof {
            Proof::Visitor => true,
            Proof::Session(sid) => sid == Some(record.session_id),
            Proof::Held(held) => held.contains(&record.session_id),
        };
        if !proven {
            return Err(ServiceError::AlreadyJoined);
        }
        Ok(JoinOutcome::Existing(self.view(record, now).await?))
    }

    /// The user's live place in the event's line, if any; writes nothing but the
    /// heartbeat. For callers that proved `user` (the page's visitor cookie).
    pub async fn find(
        &self,
        event: &EventId,
        user: &UserId,
    ) -> Result<Option<SessionView>, ServiceError> {
        let now = self.now();
        match self
            .inner
            .store
            .join(event, user, JoinMode::Peek, None)
            .await?
        {
            JoinReply::Existing(record) | JoinReply::Created(record) => {
                Ok(Some(self.view(record, now).await?))
            }
            JoinReply::NoPlace
            | JoinReply::Closed(_)
            | JoinReply::Suspended
            | JoinReply::TokenRequired
            | JoinReply::Spent => Ok(None),
            JoinReply::UnknownEvent => match self.inner.settings.events {
                EventsMode::Open => Ok(None),
                EventsMode::Registered => Err(ServiceError::UnknownEvent),
            },
        }
    }

    /// Standby (README, "Always on"): a new place for the user only if it is admitted at
    /// once (a free slot, nobody waiting, the sale open); `None` when the user would have
    /// to wait, or already has a place there (nothing is written). For a browser sent by the
    /// shop's door: with a pass it goes straight back, without a page to read.
    pub async fn enter(
        &self,
        event: &EventId,
        user: &UserId,
    ) -> Result<Option<SessionView>, ServiceError> {
        let now = self.now();
        match self
            .inner
            .store
            .join(event, user, JoinMode::IfAdmitted, None)
            .await?
        {
            JoinReply::Created(record) => {
                metrics::counter!(names::JOINS, "outcome" => "admitted at once").increment(1);
                metrics::counter!(names::GRANTS).increment(1);
                Ok(Some(self.view(record, now).await?))
            }
            // A place this browser already has is shown by its page (it may have come
            // back to give the slot back).
            _ => Ok(None),
        }
    }

    /// The sale of an event as a visitor's page shows it: why it takes nobody (if it is
    /// over), and whether it is suspended.
    pub async fn sale(
        &self,
        event: &EventId,
    ) -> Result<(Option<ClosedReason>, bool), ServiceError> {
        let (state, ends_at) = self.inner.store.sale(event).await?;
        Ok((
            ClosedReason::of(state, ends_at, self.now()),
            state == SaleState::Suspended,
        ))
    }

    /// The shop's brand on the event's pages (README, "The shop's brand"), if it has one:
    /// one read per page rendered (never per poll).
    pub async fn brand(
        &self,
        event: &EventId,
    ) -> Result<Option<crate::brand::Brand>, ServiceError> {
        Ok(self
            .inner
            .store
            .brand(event)
            .await?
            .and_then(|b| serde_json::from_str::<crate::brand::Brand>(&b).ok())
            .filter(|b| !b.is_empty()))
    }

    pub async fn status(&self, sid: SessionId) -> Result<SessionView, ServiceError> {
        let now = self.now();
        metrics::counter!(names::STATUS_POLLS).increment(1);
        let record = self
            .inner
            .store
            .status(sid)
            .await?
            .ok_or_else(|| ServiceError::SessionNotFound)?;
        self.view(record, now).await
    }

    pub async fn leave(&self, sid: SessionId) -> Result<SessionView, ServiceError> {
        let now = self.now();
        let left = self
            .inner
            .store
            .leave(sid)
            .await?
            .ok_or_else(|| ServiceError::SessionNotFound)?;
        if left.freed_slot {
            metrics::counter!(names::RELEASES).increment(1);
            let event = &left.record.event_id;
            self.inner.revocations.add(event, &sid.to_string());
        }
        self.view(left.record, now).await
    }

    /// A poll answered from this process's memory, or `None` when it needs Redis (see
    /// [`Store::status_from_memory`]); no await, for the server's fast lane.
    pub fn status_from_memory(&self, sid: &SessionId) -> Option<SessionView> {
        let record = self.inner.store.status_from_memory(sid)?;
        metrics::counter!(names::STATUS_POLLS).increment(1);
        Some(self.view_with(record, self.now(), None))
    }

    pub(super) async fn view(
        &self,
        r: SessionRecord,
        now: u64,
    ) -> Result<SessionView, ServiceError> {
        let access_token = if r.status == Status::Active {
            let secrets = self.secrets().await?;
            let length = r.session_ms.unwrap_or(self.inner.settings.session_ms);
            Some(pass_for(
                &secrets.keyring,
                &r.event_id,
                &r.session_id,
                r.since_ms,
                r.active_until_ms,
                length,
            ))
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
            message_translations: r
                .message
                .as_deref()
                .filter(|_| waiting)
                .and_then(|m| LineMessage::decode(m).translations()),
            message: r
                .message
                .as_deref()
                .filter(|_| waiting)
                .map(|m| LineMessage::decode(m).text),
            closed_reason: r.closed_reason,
            suspended: waiting && r.suspended,
            join_number: crate::store::ids::SessionKey::decode(&r.session_id).map(|k| k.seq),
            draw: r.draw,
            grace: waiting.then(|| Grace {
                seconds: if r.returned {
                    0
                } else {
                    r.grace_ms.unwrap_or(self.inner.settings.grace_ms) / 1_000
                },
                returned: r.returned,
            }),
        }
    }
}

/// The pass of an ACTIVE session admitted at `since_ms` whose slot ends at `until_ms`, in
/// an event whose sessions last `length_ms`: renewed by the gate from half that length
/// before its end.
pub(super) fn pass_for(
    keyring: &crate::passes::Keyring,
    event: &EventId,
    session: &SessionId,
    since_ms: u64,
    until_ms: u64,
    length_ms: u64,
) -> String {
    let sid = session.to_string();
    keyring.issue(&Claims {
        aud: event.to_string(),
        sub: sid.clone(),
        jti: sid,
        iat: since_ms / 1_000,
        exp: until_ms / 1_000,
        rnw: Some(until_ms.saturating_sub(length_ms / 2) / 1_000),
    })
}

/// The decayed admission count `count` recorded at `at_ms`, as of `now`: about the
/// admissions of the last minute.
pub(super) fn decayed(count: f64, at_ms: u64, now: u64) -> f64 {
    let elapsed = now.saturating_sub(at_ms) as f64;
    count * (-elapsed / RATE_WINDOW_MS).exp()
}

/// Seconds until the person at `position` is admitted at `per_minute` admissions a
/// minute; `None` when too few were admitted recently to tell.
pub(super) fn wait_seconds(position: u64, per_minute: f64) -> Option<u64> {
    (per_minute >= MIN_ADMISSIONS_FOR_ESTIMATE)
        .then(|| (position as f64 * RATE_WINDOW_MS / 1_000.0 / per_minute).ceil() as u64)
}
