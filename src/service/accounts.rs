//! Who may join an event (README, "Bots and accounts"): anyone, or with `entry: token`
//! only the shop's accounts, each vouched for by an enqueue token ([`crate::entry`]). The
//! operator sets the key; every join that carries a token is checked here with the key
//! this process read at most [`RULE_TTL_MS`] ago (one read per event and second, and only
//! for joins with a token).

use std::sync::Arc;

use super::{Service, ServiceError};
use crate::domain::{EventFigures, EventId, UserId};
use crate::entry::{EntryKey, EntryRule, RULE_TTL_MS};

/// Events whose keys a process remembers (the coldest are dropped first).
const REMEMBERED_RULES: usize = 10_000;

/// The entry rules this process read, per event, with when it read them.
pub(super) struct Rules {
    rules: quick_cache::sync::Cache<EventId, (u64, Option<Arc<EntryRule>>)>,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            rules: quick_cache::sync::Cache::new(REMEMBERED_RULES),
        }
    }
}

impl Service {
    /// The account an enqueue token vouches for in `event`'s line. Refused when the event
    /// takes no tokens (anyone may join it: join as yourself), or the token does not hold.
    pub async fn account(&self, event: &EventId, token: &str) -> Result<UserId, ServiceError> {
        let now = self.now();
        let rule = match self.inner.rules.rules.get(event) {
            Some((read_at, rule)) if now.saturating_sub(read_at) < RULE_TTL_MS => rule,
            _ => {
                let rule = self
                    .inner
                    .store
                    .entry_key(event)
                    .await?
                    .and_then(|stored| EntryKey::from_stored(&stored))
                    .and_then(|key| key.rule().ok())
                    .map(Arc::new);
                self.inner
                    .rules
                    .rules
                    .insert(event.clone(), (now, rule.clone()));
                rule
            }
        };
        let rule = rule.ok_or(ServiceError::NoTokens)?;
        rule.account(token, event.as_str(), now)
            .map_err(ServiceError::BadToken)
    }

    /// Who may join the event from now on, on every instance: with a key, only accounts
    /// vouched for by a token it verifies; `None`: anyone.
    pub async fn set_entry(
        &self,
        event: &EventId,
        key: Option<&EntryKey>,
    ) -> Result<EventFigures, ServiceError> {
        let stored = key.map(EntryKey::stored);
        self.inner.store.set_entry(event, stored.as_deref()).await?;
        self.inner.rules.rules.remove(event);
        self.event(event).await
    }
}
