//! The shop's door: whether a pass opens an event's door now, from memory when it can, and
//! the renewal of a pass whose buyer keeps using the shop.

use super::visitors::pass_for;
use super::{Refusal, Secrets, Service, ServiceError};
use crate::config::FailMode;
use crate::domain::{EventId, SessionId, SessionView};
use crate::passes::Claims;

/// What memory tells of a pass at a door.
enum Decision {
    /// It opens the door.
    Opens,
    /// It would open it, but the event's revocations (and state) were never read here.
    Unknown(String),
    /// It opens the door, and is due for renewal (its buyer keeps using the shop): the
    /// session, and the end of the pass held (unix seconds).
    Renew(String, u64),
}

/// The gate's answer to a pass that opens the door: nothing more, or a renewed pass for
/// the buyer's cookie.
pub type Opened = Option<String>;

impl Service {
    /// The gate's question: does `pass` open `event`'s door now? Answered from memory
    /// unless this process has never guarded the event (then one read of its revocations
    /// and state) or the pass is due for renewal (then its slot is renewed, and the answer
    /// carries the new pass). A refusal says why ([`Refusal`]).
    pub async fn check_pass(
        &self,
        event: &EventId,
        pass: Option<&str>,
    ) -> Result<Opened, ServiceError> {
        if let Some(open) = self.fail_open() {
            return open.map(|()| None);
        }
        let pass = presented(pass)?;
        let secrets = self.secrets().await?;
        let now = self.now();
        let session = match self.decide(secrets, event.as_str(), pass, now)? {
            Decision::Opens => return Ok(None),
            Decision::Renew(session, held) => {
                return self.renew(secrets, event, &session, held).await
            }
            Decision::Unknown(session) => session,
        };
        // This process has not guarded the event yet: read its revocations once.
        let (mark, sessions) = self.inner.store.revoked(event).await?;
        let is_revoked = sessions.contains(&session);
        let suspended = mark.2;
        self.inner.revocations.load(event, mark, sessions, now);
        if suspended {
            return Err(ServiceError::PassRefused(Refusal::Suspended));
        }
        if is_revoked {
            return Err(ServiceError::PassRefused(Refusal::Revoked));
        }
        // Now watched: its renewal, if due, is the next check's.
        match self.decide(secrets, event.as_str(), pass, now)? {
            Decision::Renew(session, held) => self.renew(secrets, event, &session, held).await,
            _ => Ok(None),
        }
    }

    /// The shop's checkout: the buyer is done (paid, or left the checkout), and the session
    /// of `pass` ends, its slot going to the next person at once. The pass must be valid
    /// (signed by the room, not expired); any event's door.
    pub async fn checkout(&self, pass: Option<&str>) -> Result<SessionView, ServiceError> {
        let pass = presented(pass)?;
        let secrets = self.secrets().await?;
        let claims = secrets
            .keyring
            .verify(pass)
            .map_err(|e| ServiceError::PassRefused(Refusal::Invalid(e)))?;
        let sid = SessionId::parse(&claims.sub)
            .map_err(|e| ServiceError::PassRefused(Refusal::Invalid(e.message)))?;
        self.leave(sid).await
    }

    /// Renews the slot of a pass due for it, and gives the pass of the slot as it now
    /// stands (`None` when the slot could not be renewed: capped, or the sale over; the
    /// pass held still opens the door until it expires).
    async fn renew(
        &self,
        secrets: &Secrets,
        event: &EventId,
        session: &str,
        held_until: u64,
    ) -> Result<Opened, ServiceError> {
        let Ok(sid) = SessionId::parse(session) else {
            return Ok(None);
        };
        let Some(slot) = self.inner.store.renew(sid).await? else {
            // Not ACTIVE any more (it ended a moment ago): the next check refuses it.
            return Ok(None);
        };
        if slot.event_id != *event {
            return Ok(None);
        }
        // A pass that ends no later than the one held changes nothing for the buyer.
        Ok((slot.until_ms / 1_000 > held_until).then(|| {
            pass_for(
                &secrets.keyring,
                event,
                &sid,
                slot.since_ms,
                slot.until_ms,
                slot.length_ms,
            )
        }))
    }

    /// The gate's answer from memory alone, when memory can give it: `None` when the keys
    /// are not loaded yet, the event's revocations were never read here, or the pass is
    /// due for renewal (then ask [`Service::check_pass`]). Takes the event id unparsed:
    /// the caller checked its form.
    pub fn check_pass_from_memory(
        &self,
        event: &str,
        pass: Option<&str>,
    ) -> Option<Result<(), ServiceError>> {
        if let Some(open) = self.fail_open() {
            return Some(open);
        }
        let pass = match presented(pass) {
            Ok(pass) => pass,
            Err(no_pass) => return Some(Err(no_pass)),
        };
        let secrets = self.inner.secrets.get()?;
        match self.decide(secrets, event, pass, self.now()) {
            Ok(Decision::Opens) => Some(Ok(())),
            Ok(_) => None,
            Err(refusal) => Some(Err(refusal)),
        }
    }

    /// With `WAITING_ROOM_FAIL_MODE=open`, while Redis cannot be reached: every door opens
    /// (a shop that prefers overload to downtime). `None` otherwise: the usual checks.
    fn fail_open(&self) -> Option<Result<(), ServiceError>> {
        (self.inner.settings.fail_mode == FailMode::Open && self.inner.store.redis_away())
            .then_some(Ok(()))
    }

    /// Whether `pass` opens `event`'s door, as far as memory tells.
    fn decide(
        &self,
        secrets: &Secrets,
        event: &str,
        pass: &str,
        now: u64,
    ) -> Result<Decision, ServiceError> {
        let revocations = &self.inner.revocations;
        self.inner
            .passes
            .with(&secrets.keyring, pass, |pass| {
                if pass.event != event {
                    return Err(ServiceError::PassRefused(Refusal::WrongEvent));
                }
                if pass.expires.saturating_mul(1_000) <= now {
                    return Err(ServiceError::PassRefused(Refusal::Expired));
                }
                if revocations.is_suspended(event) == Some(true) {
                    return Err(ServiceError::PassRefused(Refusal::Suspended));
                }
                match revocations.is_revoked(event, &pass.session, now) {
                    Some(true) => Err(ServiceError::PassRefused(Refusal::Revoked)),
                    Some(false) if pass.renew_from.is_some_and(|at| at * 1_000 <= now) => {
                        Ok(Decision::Renew(pass.session.clone(), pass.expires))
                    }
                    Some(false) => Ok(Decision::Opens),
                    None => Ok(Decision::Unknown(pass.session.clone())),
                }
            })
            .map_err(|e| ServiceError::PassRefused(Refusal::Invalid(e)))?
    }

    /// The claims of a pass that opens `event` now, or why it does not.
    pub async fn verify_pass(
        &self,
        event: &EventId,
        pass: &str,
    ) -> Result<Result<Claims, String>, ServiceError> {
        match self.check_pass(event, Some(pass)).await {
            Ok(_) => {
                let secrets = self.secrets().await?;
                Ok(secrets.keyring.verify(pass))
            }
            Err(ServiceError::PassRefused(refusal)) => Ok(Err(refusal.to_string())),
            Err(e) => Err(e),
        }
    }
}

/// The pass a gate check was given, or the refusal for having none.
pub(super) fn presented(pass: Option<&str>) -> Result<&str, ServiceError> {
    pass.map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or(ServiceError::PassRefused(Refusal::NoPass))
}
