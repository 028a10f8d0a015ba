//! What can go wrong in the room's operations, in the room's own words. `crate::error`
//! maps each to an HTTP status and a code, in one place.

use crate::domain::{ClosedReason, InvalidInput};
use crate::store::StoreError;

/// Why an operation of the room did not happen.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// A repeat join of a user who has a live place, without the proof that it is theirs.
    #[error(
        "this user already has a place in this line; send its sessionId with the join to \
         resume it, or poll it with the id you were given"
    )]
    AlreadyJoined,
    /// A join to an event with `entry: token` without a token.
    #[error(
        "this line is for the shop's customers: open it from the shop (a join needs the \
         shop's enqueue token)"
    )]
    TokenRequired,
    /// A token sent to an event that takes none.
    #[error("this event takes no enqueue tokens: join without one")]
    NoTokens,
    /// A token that does not hold.
    #[error("{0}")]
    BadToken(crate::entry::TokenRefusal),
    /// The page's join before its time-lock opened (`Some(seconds)` left), or without a
    /// usable one (expired, used, not this event's: the page makes a new one).
    #[error("{}", match .0 {
        Some(s) => format!("Please wait {s} more second{} before joining: everyone waits a moment here, to keep bots out.", if *s == 1 { "" } else { "s" }),
        None => "This join form has expired or was used already: the page has a new one, please wait a moment and join again.".to_string(),
    })]
    Locked(Option<u64>),
    /// The solved challenge that paid for a join was used already.
    #[error("this solution was used already: solve the new challenge")]
    SolutionSpent,
    /// A browser's join as a shop's account whose place another browser holds.
    #[error(
        "your account already has a place in this line, in another browser or device: \
         continue there"
    )]
    PlaceElsewhere,
    #[error("no session with this id (it may have been purged after it ended)")]
    SessionNotFound,
    /// A link to move a place that was used, replaced by a newer one, or expired.
    #[error(
        "this link to move a place has expired or was used already: ask for a new one on \
         the page that holds the place"
    )]
    MoveExpired,
    /// A place that cannot move (any more): no longer waiting, or moved too often.
    #[error("this place can no longer move: it is not waiting any more, or it moved too often")]
    NotMovable,
    /// A link to move a place opened in the browser that holds the place.
    #[error("this place is already in this browser")]
    PlaceInThisBrowser,
    /// A link to move a place opened in a browser that holds another place in that line.
    #[error("this browser holds another place in this line: leave it first to take this one")]
    OtherPlaceHere,
    #[error("there is no line for this event (events are created by the operator)")]
    UnknownEvent,
    /// An operator created an event whose id an operator configured before.
    #[error("an event with this id exists: change it on its page")]
    EventExists,
    /// The sale is over: no new place (and the line is closed).
    #[error("this sale is over ({}): the line takes nobody any more", .0.as_str())]
    EventClosed(ClosedReason),
    /// The sale is suspended for maintenance: no new place for now.
    #[error(
        "this sale is paused for maintenance; places in line are kept: please come back shortly"
    )]
    EventSuspended,
    /// The shop's door does not open for this pass.
    #[error("{0}")]
    PassRefused(Refusal),
    /// A place shown or changed from a browser that is not the one that made it.
    #[error("this place in line belongs to another browser")]
    NotYourPlace,
    #[error("The console is not enabled on this server (it needs WAITING_ROOM_ADMIN_TOKEN).")]
    NoConsole,
    #[error("Signed out: sign in again to see the figures.")]
    SignedOut,
    /// Input that does not make sense, with its code.
    #[error("{0}")]
    Invalid(InvalidInput),
    /// Redis, or the room's keys in it, could not be used.
    #[error("{0}")]
    Store(StoreError),
    /// A bug or an unusable configuration (logged where it happened).
    #[error("something went wrong on our side")]
    Internal,
}

/// Why a pass does not open a door.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no pass: send the vestibule_pass cookie or Authorization: Bearer <pass>")]
    NoPass,
    #[error("the pass is not valid: {0}")]
    Invalid(String),
    #[error("this pass is for another event")]
    WrongEvent,
    #[error("this pass has expired")]
    Expired,
    #[error("this pass's session has ended (left or revoked)")]
    Revoked,
    #[error("the sale is suspended for maintenance")]
    Suspended,
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Store(e)
    }
}

impl From<InvalidInput> for ServiceError {
    fn from(e: InvalidInput) -> Self {
        ServiceError::Invalid(e)
    }
}
