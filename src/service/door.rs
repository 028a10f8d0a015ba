//! What a join must bring (README, "Bots and accounts"): with `entry: token`, the shop's
//! enqueue token for one of its accounts ([`crate::entry`]); with a challenge in force, a
//! solved proof-of-work ([`crate::challenge`]) whose level follows the line's pressure.
//! Each process reads an event's rule at most every [`RULE_TTL_MS`] (one HMGET), for JSON
//! joins, the page's join form and standby; the join script itself enforces `entry: token`
//! on every join, so a switch holds at once.

use std::sync::Arc;

use super::{Service, ServiceError};
use crate::challenge::{self, ChallengeRefusal, LIFETIME_MS};
use crate::domain::{
    ChallengeMode, ErrorCode, EventFigures, EventId, InvalidInput, JoinLock, UserId,
};
use crate::entry::jwks::{self, KeySet};
use crate::entry::{EntryKey, EntryRule, RULE_TTL_MS};

/// Events whose rules a process remembers (the coldest are dropped first).
const REMEMBERED_RULES: usize = 10_000;

/// An event's rule as this process read it.
#[derive(Clone)]
struct Rule {
    read_at_ms: u64,
    entry: Option<Arc<EntryRule>>,
    challenge: ChallengeMode,
    challenge_level: u8,
    joined: u64,
    waiting: u64,
    /// Joins a second, from this read and the one before.
    joins_per_s: f64,
}

/// The rules this process read, per event, and the shops' key sets it fetched, per URL.
pub(super) struct Rules {
    rules: quick_cache::sync::Cache<EventId, Rule>,
    key_sets: quick_cache::sync::Cache<String, Arc<KeySet>>,
    /// Fetches JWKS (no redirects: a key set is where the operator said it is).
    http: reqwest::Client,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            rules: quick_cache::sync::Cache::new(REMEMBERED_RULES),
            key_sets: quick_cache::sync::Cache::new(jwks::KEY_SETS),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(jwks::TIMEOUT)
                .build()
                .unwrap_or_default(),
        }
    }
}

impl Service {
    async fn rule(&self, event: &EventId) -> Result<Rule, ServiceError> {
        let now = self.now();
        let before = self.inner.rules.rules.get(event);
        if let Some(rule) = &before {
            if now.saturating_sub(rule.read_at_ms) < RULE_TTL_MS {
                return Ok(rule.clone());
            }
        }
        let read = self.inner.store.door_rule(event).await?;
        let joins_per_s = match &before {
            Some(b) if now > b.read_at_ms => {
                read.joined.saturating_sub(b.joined) as f64 * 1_000.0 / (now - b.read_at_ms) as f64
            }
            _ => 0.0,
        };
        let rule = Rule {
            read_at_ms: now,
            entry: read
                .entry_key
                .as_deref()
                .and_then(EntryKey::from_stored)
                .and_then(|key| key.rule().ok())
                .map(Arc::new),
            challenge: read.challenge.unwrap_or(self.inner.settings.challenge),
            challenge_level: read.challenge_level,
            joined: read.joined,
            waiting: read.waiting,
            joins_per_s,
        };
        self.inner.rules.rules.insert(event.clone(), rule.clone());
        Ok(rule)
    }

    /// The level of the challenge a join to `event` must solve now (0: none).
    pub async fn challenge_level(&self, event: &EventId) -> Result<u8, ServiceError> {
        let rule = self.rule(event).await?;
        Ok(challenge::level(
            rule.challenge,
            rule.challenge_level,
            rule.waiting,
            rule.joins_per_s,
        ))
    }

    /// The account an enqueue token vouches for in `event`'s line. Refused when the event
    /// takes no tokens (anyone may join it: join as yourself), or the token does not hold.
    pub async fn account(&self, event: &EventId, token: &str) -> Result<UserId, ServiceError> {
        let rule = self.rule(event).await?;
        let entry = rule.entry.ok_or(ServiceError::NoTokens)?;
        let Some(url) = entry.jwks_url() else {
            return entry
                .account(token, event.as_str(), self.now())
                .map_err(ServiceError::BadToken);
        };
        let (kid, alg) = EntryRule::header(token).map_err(ServiceError::BadToken)?;
        let keys = self
            .inner
            .rules
            .key_sets
            .get_or_insert_with(url, || {
                Ok::<_, std::convert::Infallible>(Arc::new(KeySet::new(url)))
            })
            .unwrap_or_else(|never| match never {});
        let (key, alg) = keys
            .key(&self.inner.rules.http, kid.as_deref(), alg, self.now())
            .await
            .map_err(ServiceError::BadToken)?;
        entry
            .account_with(&key, alg, token, event.as_str(), self.now())
            .map_err(ServiceError::BadToken)
    }

    /// Whether a JSON join of `who` to `event` may go on: `Ok(None)` when no challenge is
    /// in force, `Ok(Some(nonce))` when `solution` solves one made for it (the nonce is to
    /// be spent with the join: [`Service::join_paying`]). Else the refusal and a fresh
    /// challenge (the `Vestibule-Challenge` header).
    pub async fn check_payment(
        &self,
        event: &EventId,
        who: &str,
        solution: Option<&str>,
    ) -> Result<Option<String>, (ChallengeRefusal, String)> {
        // Without the rule (Redis away) the join itself fails the same way: let it.
        let Ok(level) = self.challenge_level(event).await else {
            return Ok(None);
        };
        if level == 0 {
            return Ok(None);
        }
        let Ok(secrets) = self.secrets().await else {
            return Ok(None);
        };
        let now = self.now();
        let fresh = || secrets.challenger.issue(event.as_str(), who, level, now);
        let Some(solution) = solution else {
            return Err((ChallengeRefusal::Missing, fresh()));
        };
        let solved = secrets
            .challenger
            .check(solution, event.as_str(), who, now)
            .map_err(|refusal| (refusal, fresh()))?;
        Ok(Some(solved.nonce))
    }

    /// A fresh challenge for `who` in `event` at the level in force (for a join whose
    /// solution was spent); `None` while joins cost nothing.
    pub async fn fresh_challenge(&self, event: &EventId, who: &str) -> Option<String> {
        let level = self.challenge_level(event).await.ok().filter(|l| *l > 0)?;
        let secrets = self.secrets().await.ok()?;
        Some(
            secrets
                .challenger
                .issue(event.as_str(), who, level, self.now()),
        )
    }

    /// [`Service::check_payment`], and the nonce spent now (for a join that does not
    /// spend it itself: the page's form).
    async fn pay(
        &self,
        event: &EventId,
        who: &str,
        solution: Option<&str>,
    ) -> Result<(), (ChallengeRefusal, String)> {
        let Some(nonce) = self.check_payment(event, who, solution).await? else {
            return Ok(());
        };
        match self
            .inner
            .store
            .spend_nonce(event, &nonce, LIFETIME_MS)
            .await
        {
            Ok(true) | Err(_) => Ok(()),
            Ok(false) => Err((ChallengeRefusal::Spent, String::new())),
        }
    }

    /// What the page's join form must bring (README, "Bots and accounts"), when a challenge
    /// is in force: its time-lock (the one `given`, from the page's refresh, while it
    /// holds, else a new one) and a challenge for the browser `who()` names (solved by the
    /// page's island instead of waiting); `None` while joins cost nothing.
    pub async fn join_lock(
        &self,
        event: &EventId,
        given: Option<&str>,
        who: impl FnOnce() -> String,
    ) -> Result<Option<JoinLock>, ServiceError> {
        let level = self.challenge_level(event).await?;
        if level == 0 {
            return Ok(None);
        }
        let secrets = self.secrets().await?;
        let now = self.now();
        let challenge = secrets
            .challenger
            .issue_to_page(event.as_str(), &who(), level, now);
        if let Some(lock) = given {
            if let Ok(held) = secrets.challenger.check_lock(lock, event.as_str(), now) {
                return Ok(Some(JoinLock {
                    lock: lock.to_owned(),
                    wait_seconds: held.opens_in_ms.div_ceil(1_000),
                    challenge,
                }));
            }
        }
        Ok(Some(JoinLock {
            lock: secrets.challenger.lock(event.as_str(), level, now),
            wait_seconds: challenge::TIME_LOCK_S[usize::from(level)],
            challenge,
        }))
    }

    /// Whether the page's join may go on: `Ok` when joins cost nothing; else when
    /// `solution` solves the challenge the page made for `who` (the browser's visitor), or
    /// `lock` (the join form's time-lock) is open, for this event, and not used before
    /// (either is spent now).
    pub async fn unlock(
        &self,
        event: &EventId,
        lock: Option<&str>,
        solution: Option<&str>,
        who: &str,
    ) -> Result<(), ServiceError> {
        if self.challenge_level(event).await? == 0 {
            return Ok(());
        }
        if let Some(solution) = solution {
            return self
                .pay(event, who, Some(solution))
                .await
                .map_err(|_| ServiceError::Locked(None));
        }
        let secrets = self.secrets().await?;
        let lock = lock.ok_or(ServiceError::Locked(None))?;
        let held = secrets
            .challenger
            .check_lock(lock, event.as_str(), self.now())
            .map_err(|_| ServiceError::Locked(None))?;
        if held.opens_in_ms > 0 {
            return Err(ServiceError::Locked(Some(held.opens_in_ms.div_ceil(1_000))));
        }
        if !self
            .inner
            .store
            .spend_nonce(event, &held.nonce, LIFETIME_MS)
            .await?
        {
            return Err(ServiceError::Locked(None));
        }
        Ok(())
    }

    /// Who may join the event from now on, on every instance (with a key, only accounts
    /// vouched for by a token it verifies; `None`: anyone), whether a join must solve a
    /// challenge first (`None`: the room's default), and with `always` its lowest level
    /// (0: the pressure's).
    pub async fn set_entry(
        &self,
        event: &EventId,
        key: Option<&EntryKey>,
        challenge: Option<ChallengeMode>,
        challenge_level: u8,
    ) -> Result<EventFigures, ServiceError> {
        // A JWKS URL must give keys now: an operator's typo is said at once, not at the
        // opening.
        if let Some(EntryKey::Jwks(url)) = key {
            jwks::probe(&self.inner.rules.http, url)
                .await
                .map_err(|message| {
                    ServiceError::Invalid(InvalidInput {
                        code: ErrorCode::InvalidEntry,
                        message,
                    })
                })?;
        }
        let stored = key.map(EntryKey::stored);
        self.inner
            .store
            .set_entry(event, stored.as_deref(), challenge, challenge_level)
            .await?;
        self.inner.rules.rules.remove(event);
        self.event(event).await
    }
}
