//! The shop's door: whether a pass opens an event's door now, from memory when it can.

use super::{Refusal, Secrets, Service, ServiceError};
use crate::domain::EventId;
use crate::passes::Claims;

impl Service {
    /// The gate's question: does `pass` open `event`'s door now? Answered from memory
    /// unless this process has never guarded the event (then one read of its
    /// revocations). A refusal says why ([`Refusal`]).
    pub async fn check_pass(
        &self,
        event: &EventId,
        pass: Option<&str>,
    ) -> Result<(), ServiceError> {
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
            return Err(ServiceError::PassRefused(Refusal::Revoked));
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
    ) -> Option<Result<(), ServiceError>> {
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
    ) -> Result<Option<String>, ServiceError> {
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
                match revocations.is_revoked(event, &pass.session, now) {
                    Some(true) => Err(ServiceError::PassRefused(Refusal::Revoked)),
                    Some(false) => Ok(None),
                    None => Ok(Some(pass.session.clone())),
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
fn presented(pass: Option<&str>) -> Result<&str, ServiceError> {
    pass.map(str::trim)
        .filter(|p| !p.is_empty())
        .ok_or(ServiceError::PassRefused(Refusal::NoPass))
}
