//! A session's place, computed in one place: from what Redis holds of the session and its
//! event's state (`place` in `lua/common.lua`, and `scripts::STATE_FIELDS`), for a poll that read
//! Redis and for one answered from a process's memory alike (`polls.rs`).

use redis::Value;

use super::scripts::{opt_field as opt, Reply, STATE_FIELDS};
use super::StoreError;
use crate::domain::{ClosedReason, DrawnPlace, Queueing, SaleState, Status};

/// What every waiting session of an event shares in its answer (the meta's
/// `STATE_FIELDS`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventState {
    /// Join number of the last entry the granter passed.
    pub head: u64,
    /// Exponentially decayed count of admissions (time constant one minute) …
    pub rate: f64,
    /// … as of this time (unix ms).
    pub rate_at_ms: u64,
    pub target: Option<String>,
    pub opens_at_ms: Option<u64>,
    pub queueing: Option<Queueing>,
    /// The current draw: its number (0: none yet), whether its order is written, and
    /// joins `draw_lo + 1 ..= draw_lo + draw_n` of which `draw_next` were reached.
    pub draw_round: u64,
    pub draw_ready: bool,
    pub draw_lo: u64,
    pub draw_n: u64,
    pub draw_next: u64,
    pub message: Option<String>,
    /// Random, new whenever Redis lost the event (see `polls.rs`).
    pub epoch: String,
    /// The sale's state, as the operator set it, and when it ends (unix ms).
    pub state: SaleState,
    pub ends_at_ms: Option<u64>,
    /// The event's own session length (ms), if it has one.
    pub session_ms: Option<u64>,
    /// The event's own grace (ms), if it has one.
    pub grace_ms: Option<u64>,
    /// Those who came back within their grace and wait ahead of everyone.
    pub back_n: u64,
}

impl EventState {
    /// From a reply of name/value pairs.
    pub fn decode(reply: &Reply) -> Result<Self, StoreError> {
        Self::read(|name| reply.value(name))
    }

    /// From the meta's [`STATE_FIELDS`] by position, as HMGET answers them (what follows
    /// them is not read).
    pub fn from_fields(values: &[Value]) -> Result<Self, StoreError> {
        Self::read(|name| {
            STATE_FIELDS
                .iter()
                .position(|f| *f == name)
                .and_then(|i| values.get(i))
        })
    }

    fn read<'a>(field: impl Fn(&str) -> Option<&'a Value>) -> Result<Self, StoreError> {
        let number = |name: &str| opt::<u64>(field(name), name).map(Option::unwrap_or_default);
        let text = |name: &str| -> Result<Option<String>, StoreError> {
            Ok(opt::<String>(field(name), name)?.filter(|s| !s.is_empty()))
        };
        let maybe = |name: &str| opt::<u64>(field(name), name);
        let draw_round = number("draw_round")?;
        Ok(Self {
            head: number("head")?,
            rate: text("rate")?.and_then(|r| r.parse().ok()).unwrap_or(0.0),
            rate_at_ms: number("rate_ts")?,
            target: text("target")?,
            opens_at_ms: maybe("opens_at")?,
            queueing: text("queueing")?.as_deref().and_then(Queueing::parse),
            draw_round,
            draw_ready: draw_round > 0 && maybe("draw_ready")? == Some(draw_round),
            draw_lo: number("draw_lo")?,
            draw_n: number("draw_n")?,
            draw_next: number("draw_next")?,
            message: text("message")?,
            epoch: text("epoch")?.unwrap_or_default(),
            state: text("state")?
                .as_deref()
                .and_then(SaleState::parse)
                .unwrap_or_default(),
            ends_at_ms: maybe("ends_at")?,
            session_ms: maybe("session_ms")?,
            grace_ms: maybe("grace_ms")?,
            back_n: number("back_n")?,
        })
    }

    /// Whether join number `q` is one of the current draw's.
    pub fn in_draw(&self, q: u64) -> bool {
        q > self.draw_lo && q <= self.draw_lo + self.draw_n
    }
}

/// What Redis tells of one session's place beyond its record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ahead {
    /// Those ahead of it who left while waiting, not yet passed by the granter.
    pub gone: u64,
    /// Its rank (from 0) in the current draw, once the draw's order is written.
    pub rank: Option<u64>,
    /// For one that came back within its grace: how many came back before it.
    pub back: Option<u64>,
}

/// Where a session stands at a moment: what [`place`] computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub status: Status,
    /// 1 = next; 0 when it has none (not waiting, or waiting for a draw).
    pub position: u64,
    pub pre_queue: bool,
    /// Why the sale is over, for a session it closed.
    pub closed_reason: Option<ClosedReason>,
    /// Waiting while the sale is suspended.
    pub suspended: bool,
    /// The current draw it is one of.
    pub draw: Option<DrawnPlace>,
    /// Skipped for not polling, it came back within its grace: admitted at the next free
    /// slot, ahead of the line.
    pub returned: bool,
}

/// A session's [`Place`] at `now`.
///
/// - An ACTIVE session whose slot ended is EXPIRED (the granter writes it so later).
/// - Before the opening of a drawn event nobody has a place yet.
/// - One of the current draw not reached yet is placed by its rank; while the draw's order
///   is being written, by the most it can have ahead: everyone of the draw not reached.
/// - Anyone else: everyone of the draw not reached yet, then its join number minus the
///   granter's head, less those ahead who left.
/// - Everyone waiting (but in the pre-queue) has those who came back ahead of them.
/// - One that came back within its grace (R) is WAITING ahead of everyone: behind only those
///   who came back before it.
/// - A session waiting when the sale is over is CLOSED at once (the granter writes it so
///   later); one waiting while the sale is suspended keeps its place.
pub fn place(
    letter: &str,
    q: u64,
    until_ms: u64,
    state: &EventState,
    ahead: Ahead,
    now: u64,
) -> Result<Place, StoreError> {
    let closed_reason = ClosedReason::of(state.state, state.ends_at_ms, now);
    let draw = (state.draw_round > 0 && state.in_draw(q)).then_some(DrawnPlace {
        round: state.draw_round,
        rank: ahead.rank.map(|r| r + 1),
    });
    let status = match letter {
        "W" | "R" if closed_reason.is_some() => Status::Closed,
        "W" | "R" => Status::Waiting,
        "A" if until_ms <= now => Status::Expired,
        "A" => Status::Active,
        "E" => Status::Expired,
        "L" => Status::Left,
        "B" => Status::Abandoned,
        "C" => Status::Closed,
        "M" => Status::Moved,
        other => return Err(StoreError::Unexpected(format!("unknown status {other:?}"))),
    };
    let done = |status| Place {
        status,
        position: 0,
        pre_queue: false,
        closed_reason: (status == Status::Closed)
            .then(|| closed_reason.unwrap_or(ClosedReason::Closed)),
        suspended: false,
        draw,
        returned: false,
    };
    if status != Status::Waiting {
        return Ok(done(status));
    }
    let waiting = |position, pre_queue| Place {
        status,
        position,
        pre_queue,
        closed_reason: None,
        suspended: state.state == SaleState::Suspended,
        draw,
        returned: letter == "R",
    };
    if letter == "R" {
        return Ok(waiting(ahead.back.unwrap_or(0) + 1, false));
    }
    let before_opening = state.opens_at_ms.is_some_and(|at| now < at);
    let drawn = Queueing::in_force(state.queueing, state.opens_at_ms) == Queueing::DrawAtOpen;
    let undrawn = state.draw_n.saturating_sub(state.draw_next);
    let position = if drawn && state.draw_round == 0 && state.opens_at_ms.is_some() {
        return Ok(waiting(0, true));
    } else if state.in_draw(q) {
        match ahead.rank {
            Some(rank) => (rank + 1).saturating_sub(state.draw_next).max(1),
            None => undrawn.max(1),
        }
    } else {
        (undrawn + q.saturating_sub(state.head)).saturating_sub(ahead.gone)
    };
    Ok(waiting(position + state.back_n, before_opening))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;

    fn fifo(head: u64) -> EventState {
        EventState {
            head,
            ..EventState::default()
        }
    }

    fn pos(state: &EventState, q: u64, ahead: Ahead) -> (Status, u64, bool) {
        let p = place("W", q, 0, state, ahead, NOW).unwrap();
        (p.status, p.position, p.pre_queue)
    }

    #[test]
    fn a_state_read_by_position_is_the_state_read_by_name() {
        // One value per field, each different, nil where a meta has none; the join script
        // answers them by position, the others by name.
        let values: Vec<Value> = STATE_FIELDS
            .iter()
            .map(|f| match *f {
                "head" => Value::BulkString(b"41".to_vec()),
                "rate" => Value::BulkString(b"2.5".to_vec()),
                "target" => Value::BulkString(b"https://shop.example/".to_vec()),
                "queueing" => Value::BulkString(b"draw-at-open".to_vec()),
                "draw_round" | "draw_ready" => Value::BulkString(b"3".to_vec()),
                "draw_lo" => Value::BulkString(b"7".to_vec()),
                "draw_n" => Value::BulkString(b"20".to_vec()),
                "draw_next" => Value::BulkString(b"4".to_vec()),
                "epoch" => Value::BulkString(b"e-1".to_vec()),
                "state" => Value::BulkString(b"suspended".to_vec()),
                "grace_ms" => Value::Int(9000),
                "back_n" => Value::BulkString(b"2".to_vec()),
                "ends_at" => Value::Nil,
                _ => Value::BulkString(format!("{}", f.len() * 1000).into_bytes()),
            })
            .collect();
        let mut pairs = Vec::new();
        for (f, v) in STATE_FIELDS.iter().zip(&values) {
            pairs.push(Value::BulkString(f.as_bytes().to_vec()));
            pairs.push(v.clone());
        }
        let by_name = EventState::decode(&Reply::decode(Value::Array(pairs)).unwrap()).unwrap();
        // What the script read besides (its own fields) follows, and is not read.
        let mut more = values.clone();
        more.push(Value::BulkString(b"extra".to_vec()));
        let by_position = EventState::from_fields(&more).unwrap();
        assert_eq!(by_position, by_name);
        assert_eq!(
            (
                by_name.head,
                by_name.draw_lo,
                by_name.back_n,
                by_name.grace_ms
            ),
            (41, 7, 2, Some(9000))
        );
        assert!(by_name.draw_ready);
        assert_eq!(by_name.state, SaleState::Suspended);
        assert_eq!(by_name.ends_at_ms, None);
        // A stale event's state is empty: every field its default.
        assert_eq!(EventState::from_fields(&[]).unwrap(), EventState::default());
    }

    #[test]
    fn those_who_came_back_within_their_grace_are_ahead_of_everyone_else() {
        let state = EventState {
            back_n: 2,
            ..fifo(10)
        };
        let back = |n| Ahead {
            back: Some(n),
            ..Ahead::default()
        };
        let returned = place("R", 4, 0, &state, back(1), NOW).unwrap();
        assert_eq!(
            (returned.status, returned.position, returned.returned),
            (Status::Waiting, 2, true)
        );
        // Everyone else waiting has both of them ahead.
        assert_eq!(pos(&state, 11, Ahead::default()).1, 3);
        assert!(
            !place("W", 11, 0, &state, Ahead::default(), NOW)
                .unwrap()
                .returned
        );
        // A sale that ended closes them as it closes the line.
        let closed = EventState {
            state: SaleState::Closed,
            ..state
        };
        assert_eq!(
            place("R", 4, 0, &closed, back(0), NOW).unwrap().status,
            Status::Closed
        );
    }

    #[test]
    fn a_fifo_place_is_the_join_number_past_the_head_less_those_who_left() {
        assert_eq!(pos(&fifo(10), 11, Ahead::default()).1, 1);
        assert_eq!(pos(&fifo(10), 15, Ahead::default()).1, 5);
        let two_left = Ahead {
            gone: 2,
            rank: None,
            back: None,
        };
        assert_eq!(pos(&fifo(10), 15, two_left).1, 3);
    }

    #[test]
    fn statuses_follow_the_record_and_the_end_of_a_slot() {
        let s = fifo(0);
        let at = |letter, until| {
            place(letter, 1, until, &s, Ahead::default(), NOW)
                .unwrap()
                .status
        };
        assert_eq!(at("A", NOW + 1), Status::Active);
        assert_eq!(at("A", NOW), Status::Expired, "a slot ends at its time");
        assert_eq!(at("E", 0), Status::Expired);
        assert_eq!(at("L", 0), Status::Left);
        assert_eq!(at("B", 0), Status::Abandoned);
        assert!(place("X", 1, 0, &s, Ahead::default(), NOW).is_err());
        assert_eq!(
            place("A", 1, NOW + 1, &s, Ahead::default(), NOW)
                .unwrap()
                .position,
            0,
            "no position unless waiting"
        );
    }

    #[test]
    fn before_a_drawn_opening_nobody_has_a_place() {
        let s = EventState {
            opens_at_ms: Some(NOW + 60_000),
            ..EventState::default()
        };
        assert_eq!(pos(&s, 7, Ahead::default()), (Status::Waiting, 0, true));
        // FIFO with an opening: a pre-queue in arrival order, positions shown.
        let fifo_pre = EventState {
            queueing: Some(Queueing::Fifo),
            ..s
        };
        assert_eq!(
            pos(&fifo_pre, 7, Ahead::default()),
            (Status::Waiting, 7, true)
        );
    }

    #[test]
    fn the_people_of_a_draw_are_placed_by_rank_and_everyone_after_behind_them() {
        let s = EventState {
            opens_at_ms: Some(NOW - 1),
            draw_round: 1,
            draw_ready: true,
            draw_lo: 0,
            draw_n: 100,
            draw_next: 40,
            head: 100,
            ..EventState::default()
        };
        let rank = |r| Ahead {
            gone: 0,
            rank: Some(r),
            back: None,
        };
        assert_eq!(pos(&s, 5, rank(40)).1, 1, "the next drawn");
        assert_eq!(pos(&s, 5, rank(99)).1, 60);
        // Not written yet: the most it can have ahead.
        assert_eq!(pos(&s, 5, Ahead::default()).1, 60);
        // A later join waits behind the 60 of the draw not reached yet.
        assert_eq!(pos(&s, 103, Ahead::default()), (Status::Waiting, 63, false));
    }

    #[test]
    fn a_sale_that_is_over_closes_the_line_and_a_suspended_one_keeps_it() {
        let over = EventState {
            state: SaleState::SoldOut,
            ..fifo(0)
        };
        let p = place("W", 3, 0, &over, Ahead::default(), NOW).unwrap();
        assert_eq!(
            (p.status, p.position, p.closed_reason),
            (Status::Closed, 0, Some(ClosedReason::SoldOut))
        );
        // Admitted buyers finish on their passes.
        let p = place("A", 1, NOW + 5, &over, Ahead::default(), NOW).unwrap();
        assert_eq!((p.status, p.closed_reason), (Status::Active, None));
        let ended = EventState {
            ends_at_ms: Some(NOW),
            ..fifo(0)
        };
        assert_eq!(
            place("W", 3, 0, &ended, Ahead::default(), NOW)
                .unwrap()
                .closed_reason,
            Some(ClosedReason::Ended)
        );
        let not_yet = EventState {
            ends_at_ms: Some(NOW + 1),
            ..fifo(0)
        };
        assert_eq!(pos(&not_yet, 3, Ahead::default()).0, Status::Waiting);
        let suspended = EventState {
            state: SaleState::Suspended,
            ..fifo(0)
        };
        let p = place("W", 3, 0, &suspended, Ahead::default(), NOW).unwrap();
        assert_eq!(
            (p.status, p.position, p.suspended),
            (Status::Waiting, 3, true)
        );
        // Closed by the granter: its record says so.
        assert_eq!(
            place("C", 3, 0, &fifo(0), Ahead::default(), NOW)
                .unwrap()
                .status,
            Status::Closed
        );
    }
}
