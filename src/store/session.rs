//! One visitor's place: join, status and leave, each one script (`lua/join.lua`,
//! `lua/status.lua`, `lua/leave.lua`) over its event's keys.

use std::sync::Arc;

use redis::{Script, Value};

use super::ids::{event_number_hex, random_tag, tag_text, SessionKey};
use super::joins::{Ask, Create, Placed, Waiting, Written};
use super::keys::EventKeys;
use super::registry::Registered;
use super::scripts::{self, Reply};
use super::view::{self, Ahead, EventState, Place};
use super::{Store, StoreError, Writes};
use crate::domain::{ClosedReason, DrawnPlace, EventId, SessionId, Status, UserId};

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
    /// Why the sale is over, when it closed this session.
    pub closed_reason: Option<ClosedReason>,
    /// Waiting while the sale is suspended.
    pub suspended: bool,
    /// When an ACTIVE session was admitted (unix ms; its pass's `iat`).
    pub since_ms: u64,
    /// The event's own session length (ms), if it has one.
    pub session_ms: Option<u64>,
    /// The current draw it is one of.
    pub draw: Option<DrawnPlace>,
    /// Skipped for not polling, it came back within its grace (see [`Place::returned`]).
    pub returned: bool,
    /// The event's own grace (ms), if it has one.
    pub grace_ms: Option<u64>,
}

/// What a join may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMode {
    /// Make a place, unless the user has a live one. `register_event`: an event never seen
    /// before is registered by this join (else it is [`JoinReply::UnknownEvent`]).
    Create { register_event: bool },
    /// Make a place only if it is admitted at once (standby: README, "Always on"), else
    /// write nothing; the user's live place is found as by [`JoinMode::Peek`]. Never
    /// registers an event: an event never seen is [`JoinReply::UnknownEvent`].
    IfAdmitted,
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
    /// [`JoinMode::Peek`] and the user has no live session (or [`JoinMode::IfAdmitted`]
    /// and no standby).
    NoPlace,
    /// The event is not registered, and the join may not register it.
    UnknownEvent,
    /// The sale is over: no new place.
    Closed(ClosedReason),
    /// The sale is suspended: no new place.
    Suspended,
    /// The event takes only accounts vouched for by an enqueue token: no new place.
    TokenRequired,
    /// The solved challenge that paid for it was spent before: no new place.
    Spent,
}

/// An ACTIVE session's slot after a renewal (see [`Store::renew`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub event_id: EventId,
    /// The end of its slot (unix ms).
    pub until_ms: u64,
    /// Its admission (unix ms).
    pub since_ms: u64,
    /// The event's session length (ms).
    pub length_ms: u64,
}

/// The outcome of a leave.
#[derive(Debug, Clone, PartialEq)]
pub struct Left {
    /// True when an ACTIVE session gave its slot back (the granter should run).
    pub freed_slot: bool,
    pub record: SessionRecord,
}

impl SessionRecord {
    /// The record of a session whose place `view::place` computed.
    pub(super) fn new(
        session_id: SessionId,
        event_id: EventId,
        user_id: UserId,
        place: Place,
        (active_until_ms, since_ms): (u64, u64),
        state: &EventState,
    ) -> Self {
        Self {
            session_id,
            event_id,
            user_id,
            status: place.status,
            position: place.position,
            active_until_ms,
            admissions: state.rate,
            admissions_at_ms: state.rate_at_ms,
            target_url: state.target.clone(),
            pre_queue: place.pre_queue,
            opens_at_ms: state.opens_at_ms,
            message: state.message.clone(),
            closed_reason: place.closed_reason,
            suspended: place.suspended,
            since_ms,
            session_ms: state.session_ms,
            draw: place.draw,
            returned: place.returned,
            grace_ms: state.grace_ms,
        }
    }
}

/// The record a script's place reply (`place` in common.lua) gives, and the event's epoch
/// (see [`super::polls`]).
pub(super) fn record(
    session_id: SessionId,
    event_id: EventId,
    reply: &Reply,
) -> Result<(SessionRecord, String), StoreError> {
    let state = EventState::decode(reply)?;
    record_in(session_id, event_id, reply, &state, reply.get("now")?)
}

/// The same, from a session's own part of a reply (`put_session` in common.lua) and its
/// event's state read apart (a batch of joins sends it once per event).
fn record_in(
    session_id: SessionId,
    event_id: EventId,
    reply: &Reply,
    state: &EventState,
    now: u64,
) -> Result<(SessionRecord, String), StoreError> {
    let (q, until): (u64, u64) = (reply.get("q")?, reply.get("until")?);
    let ahead = Ahead {
        gone: reply.opt("gone")?.unwrap_or(0),
        rank: reply.opt("rank")?,
        back: reply.opt("back")?,
    };
    let letter: String = reply.get("st")?;
    let place = view::place(&letter, q, until, state, ahead, now)?;
    let user: String = reply.get("user")?;
    let user = UserId::parse(&user).map_err(|e| StoreError::Unexpected(e.message))?;
    let since: u64 = reply.opt("seen")?.unwrap_or(0);
    let record = SessionRecord::new(session_id, event_id, user, place, (until, since), state);
    Ok((record, state.epoch.clone()))
}

/// The record of a new place in line, from its join number and what the asker knows (see
/// [`Waiting`]): as [`record_in`] reads a waiting session's reply.
fn waiting_in(
    session_id: SessionId,
    event_id: EventId,
    user: UserId,
    w: &Waiting,
) -> Result<(SessionRecord, String), StoreError> {
    let ahead = Ahead {
        gone: w.gone,
        rank: None,
        back: None,
    };
    let place = view::place("W", w.q, 0, &w.state, ahead, w.now)?;
    let record = SessionRecord::new(session_id, event_id, user, place, (0, w.now), &w.state);
    Ok((record, w.state.epoch.clone()))
}

impl Store {
    /// Adds a join to the event's line, or returns the user's live session there. With
    /// `paid`, the nonce of the solved challenge that pays for it and how long it is kept
    /// once spent (ms): spent in the same step as the join, and a join whose nonce was
    /// spent before is [`JoinReply::Spent`].
    pub async fn join(
        &self,
        event: &EventId,
        user: &UserId,
        mode: JoinMode,
        paid: Option<(&str, u64)>,
    ) -> Result<JoinReply, StoreError> {
        let register = mode
            == JoinMode::Create {
                register_event: true,
            };
        let tag_bits = random_tag();
        let tag = tag_text(tag_bits);
        let peek = mode == JoinMode::Peek;
        let mut refreshed = false;
        let (placed, known) = loop {
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
                match mode {
                    JoinMode::Create { .. } => Create::Place,
                    JoinMode::IfAdmitted => Create::IfAdmitted,
                    JoinMode::Peek => Create::Not,
                },
                paid.map(|(nonce, ms)| (nonce.to_owned(), ms)),
                self.clock.now_ms(),
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
                Written::Suspended => return Ok(JoinReply::Suspended),
                Written::TokenRequired => return Ok(JoinReply::TokenRequired),
                Written::Spent => return Ok(JoinReply::Spent),
                Written::Closed(reason) => {
                    return Ok(JoinReply::Closed(
                        ClosedReason::parse(&reason).unwrap_or(ClosedReason::Closed),
                    ))
                }
                Written::Place(placed) => break (placed, known),
            }
        };
        // The batch's writer put the event in the schedule, if the join may be admitted.
        let (created, (record, epoch)) = match placed {
            Placed::Waiting(w) => {
                let session_id = SessionKey {
                    event_number: known.number,
                    seq: w.q,
                    tag: tag_bits,
                }
                .encode();
                (
                    true,
                    waiting_in(session_id, event.clone(), user.clone(), &w)?,
                )
            }
            Placed::Row(row) => {
                let reply = Reply::decode(row.row)?;
                let created: i64 = reply.get("created")?;
                let id: String = reply.get("sid")?;
                let session_id =
                    SessionId::parse(&id).map_err(|e| StoreError::Unexpected(e.message))?;
                (
                    created == 1,
                    record_in(session_id, event.clone(), &reply, &row.state, row.now)?,
                )
            }
        };
        // The script has just written a waiting session's heartbeat.
        let beat_due = self.clock.now_ms() + self.heartbeat_ms;
        self.polls.saw(&record, known, &epoch, beat_due);
        Ok(if created {
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
        let reply = self
            .session_script(
                &sid,
                &self.scripts.status,
                |k, key| {
                    let call = scripts::Status {
                        stream: &k.stream,
                        meta: &k.meta,
                        sessions: &k.sessions,
                        users: &k.users,
                        done: &k.done,
                        left: &k.left,
                        ranks: &k.ranks,
                        back: &k.back,
                        moved: &k.moved,
                        now: self.clock.for_script(),
                        q: key.seq.to_string(),
                        tag: key.tag_text(),
                        heartbeat_ms: heartbeat.clone(),
                        event_number: event_number_hex(key.event_number),
                    };
                    (
                        call.keys(),
                        call.args().into_iter().map(String::from).collect(),
                    )
                },
                Writes::Incidental,
            )
            .await?;
        match reply {
            Some((Some(reply), known)) => {
                let (record, epoch) = record(sid, known.event.clone(), &reply)?;
                if reply.opt::<i64>("returned")? == Some(1) {
                    // Back within its grace: the next free slot is its. The return stands
                    // if this fails: the event's next expiry, join or poll finds it due.
                    self.polls.outdated(known.number);
                    if let Err(e) = self.wake(&known.event).await {
                        tracing::warn!(event = %known.event, error = %e, "a return's wake was not written");
                    }
                }
                // The script wrote the heartbeat unless it was younger than the period.
                self.polls.saw(&record, known, &epoch, self.clock.now_ms());
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
        let reply = self
            .session_script(
                &sid,
                &self.scripts.leave,
                |k, key| {
                    let call = scripts::Leave {
                        stream: &k.stream,
                        meta: &k.meta,
                        sessions: &k.sessions,
                        users: &k.users,
                        active: &k.active,
                        left: &k.left,
                        done: &k.done,
                        revoked: &k.revoked,
                        ranks: &k.ranks,
                        leftlog: &k.leftlog,
                        back: &k.back,
                        now: self.clock.for_script(),
                        session_id: sid.to_string(),
                        q: key.seq.to_string(),
                        tag: key.tag_text(),
                    };
                    (
                        call.keys(),
                        call.args().into_iter().map(String::from).collect(),
                    )
                },
                Writes::Acknowledged,
            )
            .await?;
        match reply {
            Some((Some(reply), known)) => {
                let freed: i64 = reply.get("freed")?;
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
                    record: record(sid, known.event.clone(), &reply)?.0,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Renews an ACTIVE session's slot as its buyer keeps using the shop (`lua/renew.lua`):
    /// `None` when it holds no slot (or is unknown), else its slot as it stands after the
    /// renewal (unchanged unless less than half was left, and never past the event's cap).
    pub async fn renew(&self, sid: SessionId) -> Result<Option<Renewal>, StoreError> {
        let default_ms = self.event_defaults.session_ms.to_string();
        let reply = self
            .session_script(
                &sid,
                &self.scripts.renew,
                |k, key| {
                    let call = scripts::Renew {
                        meta: &k.meta,
                        sessions: &k.sessions,
                        active: &k.active,
                        revoked: &k.revoked,
                        now: self.clock.for_script(),
                        session_id: sid.to_string(),
                        q: key.seq.to_string(),
                        tag: key.tag_text(),
                        session_ms: default_ms.clone(),
                    };
                    (
                        call.keys(),
                        call.args().into_iter().map(String::from).collect(),
                    )
                },
                Writes::Acknowledged,
            )
            .await?;
        match reply {
            Some((Some(reply), known)) => Ok(Some(Renewal {
                event_id: known.event.clone(),
                until_ms: reply.get("until")?,
                since_ms: reply.get("since")?,
                length_ms: reply.get("length")?,
            })),
            _ => Ok(None),
        }
    }

    /// Runs a script on the keys of a session's event, found from the session id; `None`
    /// when no event has the id's number, `Some((None, _))` when the script found no such
    /// session. A mapping found stale (`STALEEVENT`) is forgotten and the call made once
    /// more with the registry's. `call` gives the keys and arguments.
    async fn session_script(
        &self,
        sid: &SessionId,
        script: &Script,
        call: impl for<'k> Fn(&'k EventKeys, &SessionKey) -> (Vec<&'k str>, Vec<String>),
        writes: Writes,
    ) -> Result<Option<(Option<Reply>, Arc<Registered>)>, StoreError> {
        let mut refreshed = false;
        loop {
            let Some((key, known)) = self.locate(sid).await? else {
                return Ok(None);
            };
            let (keys, args) = call(&known.keys, &key);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match self.script::<Value>(script, &keys, &args, writes).await {
                Err(StoreError::StaleEvent) if !refreshed => {
                    refreshed = true;
                    self.forget(&known);
                }
                // The registry's number is not in the event's meta either: the event's
                // keys were deleted (or lost), and no session can be there.
                Err(StoreError::StaleEvent) => return Ok(None),
                Err(e) => return Err(e),
                Ok(Value::Nil) => return Ok(Some((None, known))),
                Ok(Value::Boolean(false)) => return Ok(Some((None, known))),
                Ok(value) => return Ok(Some((Some(Reply::decode(value)?), known))),
            }
        }
    }
}
