//! One visitor's place: join, status and leave, each one script (`lua/join.lua`,
//! `lua/status.lua`, `lua/leave.lua`) over its event's keys.

use std::sync::Arc;

use redis::{FromRedisValue, Script};

use super::ids::{event_number_hex, random_tag, tag_text, SessionKey};
use super::joins::{Ask, Written};
use super::keys::EventKeys;
use super::registry::Known;
use super::{Store, StoreError, Writes};
use crate::domain::{EventId, SessionId, Status, UserId};

/// A session as stored, with what the view needs to derive position and estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub session_id: SessionId,
    pub event_id: EventId,
    pub user_id: UserId,
    pub status: Status,
    /// 1 = next in line; 0 unless WAITING.
    pub position: u64,
    /// End of the active period (unix ms); 0 while waiting.
    pub active_until_ms: u64,
    /// Exponentially decayed count of admissions (time constant one minute) …
    pub admissions: f64,
    /// … as of this time (unix ms).
    pub admissions_at_ms: u64,
    /// The event's shop URL, when one is set.
    pub target_url: Option<String>,
    /// Waiting for the event's opening (no position yet if the event draws).
    pub pre_queue: bool,
    /// The event's opening (unix ms), when one is set.
    pub opens_at_ms: Option<u64>,
    /// The operator's words to the people waiting, when there are some.
    pub message: Option<String>,
}

/// What a join may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMode {
    /// Make a place, unless the user has a live one. `register_event`: an event never seen
    /// before is registered by this join (else it is [`JoinReply::UnknownEvent`]).
    Create { register_event: bool },
    /// Only look up the user's live place; writes nothing.
    Peek,
}

/// The outcome of a join.
#[derive(Debug, Clone, PartialEq)]
pub enum JoinReply {
    /// A new place in line.
    Created(SessionRecord),
    /// The user's live session for the event, unchanged (but for its heartbeat).
    Existing(SessionRecord),
    /// [`JoinMode::Peek`] and the user has no live session.
    NoPlace,
    /// The event is not registered, and the join may not register it.
    UnknownEvent,
}

/// The outcome of a leave.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    /// True when an ACTIVE session gave its slot back (the granter should run).
    pub freed_slot: bool,
    pub record: SessionRecord,
}

/// `{status, position, until, user, rate, rateTs, target, preQueue, opensAt, message,
/// epoch}` as returned by `view()` in common.lua.
type ViewRow = (
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    String,
);

/// `{freedSlot, view}` as returned by `lua/leave.lua`.
type LeaveRow = (i64, ViewRow);

/// The record, and the event's epoch (see [`super::polls`]).
fn record(
    session_id: SessionId,
    event_id: EventId,
    (st, pos, until, user, rate, rate_ts, target, pre_queue, opens_at, message, epoch): ViewRow,
) -> Result<(SessionRecord, String), StoreError> {
    let status = match st.as_str() {
        "W" => Status::Waiting,
        "A" => Status::Active,
        "E" => Status::Expired,
        "L" => Status::Left,
        "B" => Status::Abandoned,
        other => return Err(StoreError::Unexpected(format!("unknown status {other:?}"))),
    };
    let record = SessionRecord {
        session_id,
        event_id,
        user_id: UserId::parse(&user).map_err(|e| StoreError::Unexpected(e.message))?,
        status,
        position: u64::try_from(pos).unwrap_or(0),
        active_until_ms: u64::try_from(until).unwrap_or(0),
        admissions: rate.parse().unwrap_or(0.0),
        admissions_at_ms: rate_ts.parse().unwrap_or(0),
        target_url: (!target.is_empty()).then_some(target),
        pre_queue: pre_queue == 1,
        opens_at_ms: u64::try_from(opens_at).ok().filter(|&at| at > 0),
        message: (!message.is_empty()).then_some(message),
    };
    Ok((record, epoch))
}

impl Store {
    /// Adds a join to the event's line, or returns the user's live session there.
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
        mode: JoinMode,
    ) -> Result<JoinReply, StoreError> {
        let register = matches!(
            mode,
            JoinMode::Create {
                register_event: true
            }
        );
        let tag = tag_text(random_tag());
        let peek = mode == JoinMode::Peek;
        let mut refreshed = false;
        let (row, known) = loop {
            // A look-up writes nothing: not even the registry's mark or the event's number
            // (an ended event stays ended, and its entry may still be dropped).
            let known = if peek {
                self.looked_up(event).await?
            } else {
                self.known(event, register).await?
            };
            let Some(known) = known else {
                return Ok(JoinReply::UnknownEvent);
            };
            let ask = Ask::new(
                known.clone(),
                tag.clone(),
                user.clone(),
                matches!(mode, JoinMode::Create { .. }),
            );
            match self.write_join(ask).await? {
                // The event's keys are gone (it ended): no live place can be there.
                Written::Stale if peek => return Ok(JoinReply::NoPlace),
                Written::Stale if !refreshed => {
                    // Redis lost the event (or this process's number for it): ask the
                    // registry again, which numbers it anew if needed.
                    refreshed = true;
                    self.forget(&known);
                }
                Written::Stale => return Err(StoreError::StaleEvent),
                Written::NoPlace => return Ok(JoinReply::NoPlace),
                Written::Late => return Err(StoreError::Late),
                Written::Row(row) => break (row, known),
            }
        };
        // The batch's writer put the event in the schedule, if the join may be admitted.
        let (created, id, row, _wake): (i64, String, ViewRow, i64) =
            FromRedisValue::from_redis_value(row)
                .map_err(|e| StoreError::Unexpected(e.to_string()))?;
        let session_id = SessionId::parse(&id).map_err(|e| StoreError::Unexpected(e.message))?;
        let (record, epoch) = record(session_id, event.clone(), row)?;
        // The script has just written a waiting session's heartbeat.
        let beat_due = crate::clock::now_ms() + self.heartbeat_ms;
        self.polls.saw(&record, known, &epoch, beat_due);
        Ok(if created == 1 {
            JoinReply::Created(record)
        } else {
            JoinReply::Existing(record)
        })
    }

    /// Reads a session (and records the heartbeat of a waiting one when the recorded one
    /// is the store's heartbeat period old or more); `None` if unknown. A waiting session
    /// this process has seen is answered from memory (see [`super::polls`]).
    pub async fn status(&self, sid: SessionId) -> Result<Option<SessionRecord>, StoreError> {
        if let Some(record) = self.poll_from_memory(&sid).await {
            return Ok(Some(record));
        }
        let heartbeat = self.heartbeat_ms.to_string();
        let reply: Option<(Option<ViewRow>, Arc<Known>)> = self
            .session_script(
                &sid,
                &self.scripts.status,
                |k| vec![&k.meta, &k.sessions, &k.left, &k.ranks],
                |key| {
                    vec![
                        key.seq.to_string(),
                        key.tag_text(),
                        heartbeat.clone(),
                        event_number_hex(key.event_number),
                    ]
                },
                Writes::Incidental,
            )
            .await?;
        match reply {
            Some((Some(row), known)) => {
                let (record, epoch) = record(sid, known.event.clone(), row)?;
                // The script wrote the heartbeat unless it was younger than the period.
                self.polls
                    .saw(&record, known, &epoch, crate::clock::now_ms());
                Ok(Some(record))
            }
            _ => {
                self.polls.forget(&sid);
                Ok(None)
            }
        }
    }

    /// Ends a session: leaves the line or gives the slot back. `None` if unknown.
    pub async fn leave(&self, sid: SessionId) -> Result<Option<Left>, StoreError> {
        self.polls.forget(&sid);
        let reply: Option<(Option<LeaveRow>, Arc<Known>)> = self
            .session_script(
                &sid,
                &self.scripts.leave,
                |k| {
                    vec![
                        &k.meta,
                        &k.sessions,
                        &k.users,
                        &k.active,
                        &k.left,
                        &k.done,
                        &k.revoked,
                        &k.ranks,
                        &k.leftlog,
                    ]
                },
                |key| vec![sid.to_string(), key.seq.to_string(), key.tag_text()],
                Writes::Acknowledged,
            )
            .await?;
        match reply {
            Some((Some((freed, row)), known)) => {
                self.polls.outdated(known.number);
                if freed == 1 {
                    // The slot goes to the next person at once. The leave stands if this
                    // fails: the event's next expiry, join or poll finds it due.
                    if let Err(e) = self.wake(&known.event).await {
                        tracing::warn!(event = %known.event, error = %e, "a leave's wake was not written");
                    }
                }
                Ok(Some(Left {
                    freed_slot: freed == 1,
                    record: record(sid, known.event.clone(), row)?.0,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Runs a script on the keys of a session's event, found from the session id; `None`
    /// when no event has the id's number. A mapping found stale (`STALEEVENT`) is
    /// forgotten and the call made once more with the registry's.
    async fn session_script<T: FromRedisValue>(
        &self,
        sid: &SessionId,
        script: &Script,
        keys: impl Fn(&EventKeys) -> Vec<&String>,
        args: impl Fn(&SessionKey) -> Vec<String>,
        writes: Writes,
    ) -> Result<Option<(T, Arc<Known>)>, StoreError> {
        let mut refreshed = false;
        loop {
            let Some((key, known)) = self.locate(sid).await? else {
                return Ok(None);
            };
            let keys: Vec<&str> = keys(&known.keys).into_iter().map(String::as_str).collect();
            let args = args(&key);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match self.script(script, &keys, &args, writes).await {
                Err(StoreError::StaleEvent) if !refreshed => {
                    refreshed = true;
                    self.forget(&known);
                }
                // The registry's number is not in the event's meta either: the event's
                // keys were deleted (or lost), and no session can be there.
                Err(StoreError::StaleEvent) => return Ok(None),
                other => return Ok(Some((other?, known))),
            }
        }
    }
}
