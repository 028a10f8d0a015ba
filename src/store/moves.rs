//! A place taken to another device (README, "Take your place with you"). The place's page
//! makes an offer: a one-time token kept with the place's current tag for
//! [`MOVE_OFFER_MS`] on the scripts' clock (`lua/offer.lua`; one live offer per place: a
//! new one replaces it). Whoever brings the token moves the place to their browser
//! (`lua/move.lua`): same join number and turn, a new session id, and the old id answered
//! MOVED.

use redis::Value;

use super::ids::{event_number_hex, random_tag, tag_text};
use super::scripts::{self, Reply};
use super::session::SessionRecord;
use super::{Store, StoreError, Writes};
use crate::domain::{EventId, SessionId, UserId};

/// How long an offer to move a place lasts.
pub const MOVE_OFFER_MS: u64 = 300_000;
/// How many times one place may move.
pub const MAX_MOVES: u32 = 5;

/// Why a place did not move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoveRefusal {
    /// No such offer: never made, used, replaced by a newer one, or expired.
    Expired,
    /// The place is no longer waiting (admitted, left, skipped, closed, or unknown).
    Gone,
    /// The new browser holds a place in this line already.
    Held,
    /// The offer was opened in the browser that holds the place.
    Same,
    /// The place moved [`MAX_MOVES`] times already.
    Most,
}

/// The outcome of bringing an offer's token.
#[derive(Debug, Clone, PartialEq)]
pub enum MoveReply {
    /// The place, under its new session id.
    Moved(Box<SessionRecord>),
    Refused(MoveRefusal),
}

/// A hex token of 128 random bits.
fn fresh_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl Store {
    /// Makes the one live offer to move session `sid`'s place, replacing any earlier one;
    /// returns its join number and token. `None` when `sid` is no waiting place.
    pub async fn offer_move(&self, sid: &SessionId) -> Result<Option<(u64, String)>, StoreError> {
        let token = fresh_token();
        let mut refreshed = false;
        loop {
            let Some((key, known)) = self.locate(sid).await? else {
                return Ok(None);
            };
            let k = &known.keys;
            let offer = format!("{}{}", k.moves, key.seq);
            let call = scripts::Offer {
                stream: &k.stream,
                meta: &k.meta,
                sessions: &k.sessions,
                offer: &offer,
                now: self.clock.for_script(),
                q: key.seq.to_string(),
                tag: key.tag_text(),
                token: token.clone(),
                offer_ms: MOVE_OFFER_MS.to_string(),
                event_number: event_number_hex(key.event_number),
            };
            let made = self
                .script::<i64>(
                    &self.scripts.offer,
                    &call.keys(),
                    &call.args(),
                    Writes::Acknowledged,
                )
                .await;
            match made {
                Err(StoreError::StaleEvent) if !refreshed => {
                    refreshed = true;
                    self.forget(&known);
                }
                Err(StoreError::StaleEvent) => return Ok(None),
                Err(e) => return Err(e),
                Ok(made) => return Ok((made == 1).then_some((key.seq, token))),
            }
        }
    }

    /// Moves join `q` of `event` to `user` (the new browser's visitor) with the offer's
    /// `token`, if the offer holds (see `lua/move.lua`). A place whose user id starts with
    /// `visitors` (a browser's visitor) becomes `user`'s; any other (a shop's account)
    /// stays its user's.
    pub async fn take_place(
        &self,
        event: &EventId,
        (q, token): (u64, &str),
        user: &UserId,
        visitors: &str,
    ) -> Result<MoveReply, StoreError> {
        let mut refreshed = false;
        loop {
            let Some(known) = self.looked_up(event).await? else {
                return Ok(MoveReply::Refused(MoveRefusal::Expired));
            };
            let k = &known.keys;
            let offer = format!("{}{q}", k.moves);
            let call = scripts::Move {
                stream: &k.stream,
                meta: &k.meta,
                sessions: &k.sessions,
                users: &k.users,
                left: &k.left,
                ranks: &k.ranks,
                back: &k.back,
                offer: &offer,
                moved: &k.moved,
                movelog: &k.movelog,
                now: self.clock.for_script(),
                q: q.to_string(),
                token: token.to_owned(),
                tag: tag_text(random_tag()),
                user: user.as_str().to_owned(),
                visitor_prefix: visitors.to_owned(),
                max_moves: MAX_MOVES.to_string(),
                event_number: event_number_hex(known.number),
            };
            let value = match self
                .script::<Value>(
                    &self.scripts.moves,
                    &call.keys(),
                    &call.args(),
                    Writes::Acknowledged,
                )
                .await
            {
                Err(StoreError::StaleEvent) if !refreshed => {
                    refreshed = true;
                    self.forget(&known);
                    continue;
                }
                Err(StoreError::StaleEvent) => return Ok(MoveReply::Refused(MoveRefusal::Gone)),
                other => other?,
            };
            let reply = Reply::decode(value)?;
            if let Some(why) = reply.opt::<String>("refused")? {
                return Ok(MoveReply::Refused(match why.as_str() {
                    "expired" => MoveRefusal::Expired,
                    "held" => MoveRefusal::Held,
                    "same" => MoveRefusal::Same,
                    "most" => MoveRefusal::Most,
                    _ => MoveRefusal::Gone,
                }));
            }
            let sid: String = reply.get("sid")?;
            let sid = SessionId::parse(&sid).map_err(|e| StoreError::Unexpected(e.message))?;
            let (record, epoch) = super::session::record(sid, event.clone(), &reply)?;
            // Polls of either id read Redis until the granter passes the place (the old one
            // is answered MOVED there): this process's at once, the others' from their next
            // snapshot.
            self.polls.outdated(known.number);
            self.polls
                .saw(&record, known.clone(), &epoch, self.clock.now_ms());
            return Ok(MoveReply::Moved(Box::new(record)));
        }
    }
}
