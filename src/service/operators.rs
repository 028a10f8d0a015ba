//! What operators do: the events and their figures, settings, pause, the message to the
//! people waiting, the shop's brand, the history of a line, and the published draws.

use super::visitors::{decayed, wait_seconds};
use super::{rfc3339, Service, ServiceError};
use crate::brand::Brand;
use crate::domain::{
    ClosedReason, Entry, ErrorCode, EventFigures, EventHistory, EventId, InvalidInput, LineMessage,
    Queueing, SaleState, MAX_MESSAGE_CHARS,
};
use crate::store::{Draw, EventOverview, EventSettings, HISTORY_MS, SAMPLE_MS};

impl Service {
    /// A page of events, in id order: at most `limit` after `after`, and whether more
    /// follow.
    pub async fn events(
        &self,
        after: Option<&EventId>,
        limit: usize,
    ) -> Result<(Vec<EventFigures>, bool), ServiceError> {
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
    ) -> Result<EventFigures, ServiceError> {
        self.inner.store.set_paused(event, paused).await?;
        self.event(event).await
    }

    /// One event's settings and figures (defaults and zeros for an unknown event).
    pub async fn event(&self, event: &EventId) -> Result<EventFigures, ServiceError> {
        let overview = self.inner.store.event(event).await?;
        Ok(self.figures(overview, self.now()))
    }

    /// An event's figures now and the samples of its line over the last `minutes`
    /// (at most an hour).
    pub async fn history(
        &self,
        event: &EventId,
        minutes: u64,
    ) -> Result<EventHistory, ServiceError> {
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
    /// see on their page and in their status, with its `translations` (language tag,
    /// text): each into a language the page speaks (`crate::lang`), once.
    pub async fn set_message(
        &self,
        event: &EventId,
        message: Option<&str>,
        translations: &[(String, String)],
    ) -> Result<EventFigures, ServiceError> {
        let message = match message {
            Some(text) => {
                let mut line = LineMessage {
                    text: message_text(text)?,
                    ..LineMessage::default()
                };
                for (tag, text) in translations {
                    let lang = crate::lang::Lang::parse(tag).ok_or_else(|| {
                        invalid_message(format!(
                            "translations: {tag:?} is not a language the page speaks ({})",
                            crate::lang::Lang::ALL.map(|l| l.code()).join(", ")
                        ))
                    })?;
                    let text = message_text(text).map_err(|_| {
                        invalid_message(format!(
                            "translations: {tag:?} is 1 to {MAX_MESSAGE_CHARS} characters of text on one line"
                        ))
                    })?;
                    if line
                        .translations
                        .insert(lang.code().to_string(), text)
                        .is_some()
                    {
                        return Err(invalid_message(format!(
                            "translations: {tag:?} is given twice"
                        )));
                    }
                }
                Some(line.encode())
            }
            None => None,
        };
        self.inner
            .store
            .set_message(event, message.as_deref())
            .await?;
        self.event(event).await
    }

    /// Sets (or with `None` or an empty brand, removes) the shop's brand on the event's
    /// pages; the brand was checked by [`Brand::parse`].
    pub async fn set_brand(
        &self,
        event: &EventId,
        brand: Option<&Brand>,
    ) -> Result<EventFigures, ServiceError> {
        let stored = brand
            .filter(|b| !b.is_empty())
            .map(|b| serde_json::to_string(b).unwrap_or_default());
        self.inner.store.set_brand(event, stored.as_deref()).await?;
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
            message_translations: e
                .message
                .as_deref()
                .and_then(|m| LineMessage::decode(m).translations()),
            message: e.message.as_deref().map(|m| LineMessage::decode(m).text),
            state: e.state,
            ends_at: settings.ends_at_ms.and_then(rfc3339),
            closed_reason: ClosedReason::of(e.state, settings.ends_at_ms, now),
            session_seconds: settings.session_ms.map(|ms| ms / 1_000),
            session_seconds_in_force: settings
                .session_ms
                .unwrap_or(self.inner.settings.session_ms)
                / 1_000,
            max_session_seconds: settings.session_cap_ms.map(|ms| ms / 1_000),
            grace_seconds: settings.grace_ms.map(|ms| ms / 1_000),
            grace_seconds_in_force: settings.grace_ms.unwrap_or(self.inner.settings.grace_ms)
                / 1_000,
            entry: if e.entry_alg.is_some() {
                Entry::Token
            } else {
                Entry::Open
            },
            entry_key_alg: e.entry_alg,
            challenge: e.challenge.unwrap_or(self.inner.settings.challenge),
            challenge_level: e.challenge_level,
            brand: e
                .brand
                .as_deref()
                .and_then(|b| serde_json::from_str::<Brand>(b).ok())
                .filter(|b| !b.is_empty())
                .map(|b| b.figures()),
        }
    }

    /// Sets the sale's state (README, "A sale that has a state"); every instance obeys it
    /// at its next pass, this one at once.
    pub async fn set_state(
        &self,
        event: &EventId,
        state: SaleState,
    ) -> Result<EventFigures, ServiceError> {
        self.inner.store.set_state(event, state).await?;
        // This process's door knows at once (the others at their next revocation read).
        if self
            .inner
            .revocations
            .is_suspended(event.as_str())
            .is_some()
        {
            let (mark, sessions) = self.inner.store.revoked(event).await?;
            self.inner
                .revocations
                .load(event, mark, sessions, self.now());
        }
        self.event(event).await
    }

    /// The event's draw number `round` as published, with the digest of its order; `None`
    /// until it is made and its order written (the granter records the digest as it
    /// writes the order: from then on every position of the draw is its place in it).
    pub async fn draw(
        &self,
        event: &EventId,
        round: u64,
    ) -> Result<Option<(Draw, String)>, ServiceError> {
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
    ) -> Result<EventFigures, ServiceError> {
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
    ) -> Result<EventFigures, ServiceError> {
        if !self.inner.store.claim_new_event(event).await? {
            return Err(ServiceError::EventExists);
        }
        self.put_settings(event, settings, false).await
    }
}

fn invalid_message(message: String) -> ServiceError {
    ServiceError::Invalid(InvalidInput {
        code: ErrorCode::InvalidMessage,
        message,
    })
}

/// A message for the people waiting: trimmed, 1 to [`MAX_MESSAGE_CHARS`] characters, no
/// control characters.
pub fn message_text(raw: &str) -> Result<String, ServiceError> {
    let text = raw.trim();
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_MESSAGE_CHARS || text.chars().any(char::is_control) {
        return Err(ServiceError::Invalid(InvalidInput {
            code: ErrorCode::InvalidMessage,
            message: format!(
                "a message is 1 to {MAX_MESSAGE_CHARS} characters of text on one line"
            ),
        }));
    }
    Ok(text.to_string())
}
