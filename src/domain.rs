//! Domain types shared by the server and the browser (WASM).
//!
//! Every value that comes from outside (a form, a JSON body, a path) becomes one of these
//! through its `parse` function, so the rest of the code never sees an unchecked string.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// Longest event or user id accepted.
pub const MAX_ID_LEN: usize = 64;

/// Defines [`ErrorCode`]: each variant with the text clients see.
macro_rules! error_codes {
    ($($name:ident = $text:literal,)*) => {
        /// Every error code a client can be answered with, in `{"error": {"code",
        /// "message"}}`: stable words for programs (the message is for people).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        pub enum ErrorCode {
            $(#[serde(rename = $text)] $name,)*
        }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $text,)*
                }
            }
        }
    };
}

error_codes! {
    AlreadyJoined = "already_joined",
    ChallengeRequired = "challenge_required",
    CrossSite = "cross_site",
    EventClosed = "event_closed",
    EventExists = "event_exists",
    EventsFull = "events_full",
    EventSuspended = "event_suspended",
    Internal = "internal",
    InvalidBody = "invalid_body",
    InvalidBrand = "invalid_brand",
    InvalidEnqueueToken = "invalid_enqueue_token",
    InvalidEntry = "invalid_entry",
    InvalidEventId = "invalid_event_id",
    InvalidForm = "invalid_form",
    InvalidFormToken = "invalid_form_token",
    InvalidJson = "invalid_json",
    InvalidMessage = "invalid_message",
    InvalidPass = "invalid_pass",
    InvalidQuery = "invalid_query",
    InvalidRound = "invalid_round",
    InvalidSessionId = "invalid_session_id",
    InvalidSettings = "invalid_settings",
    InvalidState = "invalid_state",
    InvalidTokenField = "invalid_token_field",
    InvalidUserId = "invalid_user_id",
    MethodNotAllowed = "method_not_allowed",
    MoveExpired = "move_expired",
    NoConsole = "no_console",
    NoPass = "no_pass",
    NoTokens = "no_tokens",
    NotDrawn = "not_drawn",
    NotFound = "not_found",
    NotYourPlace = "not_your_place",
    OtherEvent = "other_event",
    OtherPlaceHere = "other_place_here",
    PassExpired = "pass_expired",
    PassRevoked = "pass_revoked",
    PayloadTooLarge = "payload_too_large",
    PlaceInThisBrowser = "place_in_this_browser",
    PlaceNotMovable = "place_not_movable",
    RateLimited = "rate_limited",
    SessionNotFound = "session_not_found",
    SignedOut = "signed_out",
    Timeout = "timeout",
    TokenRequired = "token_required",
    Unauthorized = "unauthorized",
    Unavailable = "unavailable",
    UnknownEvent = "unknown_event",
    UnreadableBody = "unreadable_body",
    UnsupportedMediaType = "unsupported_media_type",
    WrongEvent = "wrong_event",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an input was refused: a stable machine-readable `code` and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidInput {
    pub code: ErrorCode,
    pub message: String,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InvalidInput {}

/// 1–64 characters of `[A-Za-z0-9._:-]`: what every name accepts.
pub fn is_valid_name(raw: &str) -> bool {
    !raw.is_empty()
        && raw.len() <= MAX_ID_LEN
        && raw
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b':' | b'-'))
}

fn parse_name(field: &str, code: ErrorCode, raw: &str) -> Result<String, InvalidInput> {
    let fail = |why: &str| InvalidInput {
        code,
        message: format!("{field} {why}"),
    };
    if raw.is_empty() {
        return Err(fail("must not be empty"));
    }
    if raw.chars().count() > MAX_ID_LEN {
        return Err(fail(&format!("must be at most {MAX_ID_LEN} characters")));
    }
    if !raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-'))
    {
        return Err(fail("may only contain letters, digits and . _ : -"));
    }
    Ok(raw.to_owned())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $code:ident) => {
        $(#[$doc])*
        // Deserialised through `parse`, like every other way in: serde never makes an
        // unchecked one.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = String))]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = InvalidInput;

            fn try_from(raw: String) -> Result<Self, InvalidInput> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(name: $name) -> String {
                name.0
            }
        }

        impl $name {
            /// Accepts 1–64 characters of `[A-Za-z0-9._:-]`.
            pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
                parse_name($field, ErrorCode::$code, raw).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Hashes and compares as its text, so a map keyed by it is searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// The sale people queue for, e.g. `E1` or `tour-2027:berlin`.
    EventId,
    "eventId",
    InvalidEventId
);
name_type!(
    /// The person queueing, as the caller identifies them.
    UserId,
    "userId",
    InvalidUserId
);

/// A place in line: a UUID handed out on join. The store mints them (a version 8 UUID
/// carrying the event's number, the join number and 62 random bits; see `store::ids`);
/// to everyone else it is an opaque UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(value_type = String, format = "uuid"))]
#[serde(transparent)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Uuid::from_bytes(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Accepts the hyphenated UUID form only (what the API hands out).
    pub fn parse(raw: &str) -> Result<Self, InvalidInput> {
        let invalid = || InvalidInput {
            code: ErrorCode::InvalidSessionId,
            message: "sessionId must be a UUID like 0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d".into(),
        };
        if raw.len() != 36 {
            return Err(invalid());
        }
        Uuid::try_parse(raw).map(Self).map_err(|_| invalid())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// In which order an event lets people in (README, "A fair start").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Queueing {
    /// First come, first served.
    Fifo,
    /// Everyone who joined before the opening is drawn into a random order at the
    /// opening, ahead of everyone who joins later (who keep FIFO order). The default when
    /// the event has an opening time.
    DrawAtOpen,
    /// Everyone waiting is drawn into a random order, and again each time a draw is used
    /// up: arrival time does not matter.
    Random,
}

impl Queueing {
    pub fn as_str(self) -> &'static str {
        match self {
            Queueing::Fifo => "fifo",
            Queueing::DrawAtOpen => "draw-at-open",
            Queueing::Random => "random",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Queueing::Fifo, Queueing::DrawAtOpen, Queueing::Random]
            .into_iter()
            .find(|q| q.as_str() == s)
    }

    /// The order in force: the event's setting, else a draw at the opening when it has
    /// one, else FIFO (as `queueing_of` in the scripts' common.lua).
    pub fn in_force(setting: Option<Self>, opens_at_ms: Option<u64>) -> Self {
        setting.unwrap_or(if opens_at_ms.is_some() {
            Queueing::DrawAtOpen
        } else {
            Queueing::Fifo
        })
    }
}

/// Where a session stands. The same strings appear in JSON and on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// In line, not yet admitted.
    Waiting,
    /// Admitted: holds one of the event's slots until it expires or leaves.
    Active,
    /// Was active; its time ran out and the slot went to the next in line.
    Expired,
    /// Left the line or gave the slot back.
    Left,
    /// Stopped polling while waiting, so its turn was skipped.
    Abandoned,
    /// The sale ended (sold out, closed, or its end time passed) before its turn.
    Closed,
    /// Its place moved to another device (README, "Take your place with you"): this id is
    /// no longer it.
    Moved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Waiting => "WAITING",
            Status::Active => "ACTIVE",
            Status::Expired => "EXPIRED",
            Status::Left => "LEFT",
            Status::Abandoned => "ABANDONED",
            Status::Closed => "CLOSED",
            Status::Moved => "MOVED",
        }
    }

    /// True when nothing more will happen to the session.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Waiting | Status::Active)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event's sale, as its operator sets it (README, "A sale that has a state").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SaleState {
    /// Joins and admissions as usual.
    #[default]
    Open,
    /// Over: no new joins (410), the line is closed; admitted buyers finish.
    SoldOut,
    /// Over, likewise, for any other reason.
    Closed,
    /// Maintenance: no joins, no admissions, no door opens; the line is kept as it is.
    Suspended,
}

impl SaleState {
    pub fn as_str(self) -> &'static str {
        match self {
            SaleState::Open => "open",
            SaleState::SoldOut => "sold_out",
            SaleState::Closed => "closed",
            SaleState::Suspended => "suspended",
        }
    }

    /// The state named `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        [
            SaleState::Open,
            SaleState::SoldOut,
            SaleState::Closed,
            SaleState::Suspended,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// Why a sale takes nobody any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClosedReason {
    SoldOut,
    Closed,
    /// Its end time (`endsAt`) passed.
    Ended,
}

impl ClosedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedReason::SoldOut => "sold_out",
            ClosedReason::Closed => "closed",
            ClosedReason::Ended => "ended",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ClosedReason::SoldOut,
            ClosedReason::Closed,
            ClosedReason::Ended,
        ]
        .into_iter()
        .find(|r| r.as_str() == text)
    }

    /// Why a sale in `state`, ending at `ends_at_ms`, is over at `now`, if it is.
    pub fn of(state: SaleState, ends_at_ms: Option<u64>, now: u64) -> Option<Self> {
        match state {
            SaleState::SoldOut => Some(ClosedReason::SoldOut),
            SaleState::Closed => Some(ClosedReason::Closed),
            _ if ends_at_ms.is_some_and(|at| now >= at) => Some(ClosedReason::Ended),
            _ => None,
        }
    }
}

/// What a session's owner is told about it: the JSON body of the status route and the data
/// behind the queue page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    // (The fields marked `skip_deserializing` for the browser are ones the page's island
    // does not read: it gets their meaning in the card's words. Not reading them keeps
    // their readers out of the visitor's WASM file.)
    pub session_id: SessionId,
    pub event_id: EventId,
    pub user_id: UserId,
    pub status: Status,
    /// 1 = next in line; only while WAITING, and not before the draw of a drawn event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    /// Waiting for the event's opening (the pre-queue).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pre_queue: bool,
    /// When the event opens (RFC 3339), while in the pre-queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub opens_at: Option<String>,
    /// Seconds until the opening, as of this answer, while in the pre-queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_in_seconds: Option<u64>,
    /// Seconds until admission at the recent admission rate; only while WAITING and known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub estimated_wait_seconds: Option<u64>,
    /// False while there is no recent admission rate to estimate from.
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub wait_time_known: bool,
    /// When to ask again, in milliseconds: short near the front, longer far back.
    pub refresh_after_ms: u64,
    /// Unix milliseconds when an ACTIVE session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub active_until_ms: Option<u64>,
    /// The pass: a signed JWT (EdDSA) for this event, checked by the gate and verifiable
    /// with the room's JWKS; only while ACTIVE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Where the event's shop is; only while ACTIVE and when the operator set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub target_url: Option<String>,
    /// The operator's words to the people waiting (e.g. "doors open at 10:05"); only
    /// while WAITING and when one is posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub message: Option<String>,
    /// The message in other languages, by language tag (`de`, `ar`, ...), when the
    /// operator gave some; the page shows the visitor's, else `message`. (The server's
    /// only: the page gets the visitor's in the card's words.)
    #[cfg(feature = "ssr")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_translations: Option<std::collections::BTreeMap<String, String>>,
    /// Why the sale is over; only when CLOSED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub closed_reason: Option<ClosedReason>,
    /// The sale is suspended for maintenance: the place is kept, nobody is admitted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub suspended: bool,
    /// Its join number: the order of arrival in the event (the one the published draw
    /// names; a session id carries it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub join_number: Option<u64>,
    /// The event's draw it is one of, while that draw is the event's current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub draw: Option<DrawnPlace>,
    /// What happens to this place if its owner stops polling for longer than the
    /// abandonment period; only while WAITING.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "hydrate", serde(skip_deserializing))]
    pub grace: Option<Grace>,
}

/// The grace of a waiting place (README, "Your turn, in the background"): skipped for not
/// polling, its owner may come back within `seconds` of the skip and is let in at the next
/// free slot, ahead of the line, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Grace {
    /// How long after a skip this place may still come back (0: it may not: the event has
    /// no grace, or this place used it).
    pub seconds: u64,
    /// It was skipped and came back: it goes in at the next free slot, ahead of the line.
    pub returned: bool,
}

/// The operator's message to an event's line with its translations, as stored in one
/// value: its text, then a line `<language>\t<text>` per translation. (A message is one
/// line without control characters, so neither a newline nor a tab can be part of one.)
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineMessage {
    pub text: String,
    /// By language tag, each once.
    pub translations: std::collections::BTreeMap<String, String>,
}

impl LineMessage {
    /// The message a stored value holds (a value without translations is the text).
    pub fn decode(stored: &str) -> Self {
        let mut lines = stored.split('\n');
        let text = lines.next().unwrap_or_default().to_string();
        let translations = lines
            .filter_map(|line| line.split_once('\t'))
            .map(|(lang, text)| (lang.to_string(), text.to_string()))
            .collect();
        Self { text, translations }
    }

    /// The value to store.
    pub fn encode(&self) -> String {
        let mut out = self.text.clone();
        for (lang, text) in &self.translations {
            out.push('\n');
            out.push_str(lang);
            out.push('\t');
            out.push_str(text);
        }
        out
    }

    /// The translations, or `None` when there are none (as the JSON answers say it).
    pub fn translations(&self) -> Option<std::collections::BTreeMap<String, String>> {
        (!self.translations.is_empty()).then(|| self.translations.clone())
    }
}

/// A session's part in a fair start's draw (README, "A fair start").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DrawnPlace {
    /// The draw's round (`GET /api/waiting-room/events/{eventId}/draw` publishes it).
    pub round: u64,
    /// Its place in the draw's order (1 = drawn first), while the draw's order is kept
    /// (until everyone of it was let in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rank: Option<u64>,
}

/// What the place page shows: the session, and once it is admitted, where to go on to
/// (the checked `return` URL, else the event's shop).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceView {
    pub session: SessionView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continue_to: Option<String>,
    /// The card's words, in the visitor's language.
    pub texts: CardTexts,
    /// The poll pace of a page in a hidden tab (another tab in front, the screen off):
    /// slower than `refreshAfterMs`, and still well inside the abandonment period.
    pub hidden_refresh_after_ms: u64,
}

/// The status card's words in the visitor's language (`crate::lang`), made by the server
/// with every answer: the browser's code carries no translations. A list read by [`Word`]
/// (serde reads a list of strings with code the browser's file has anyway; a struct of
/// named fields cost the main WASM file ~8 KB per place it is read).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CardTexts(Vec<String>);

/// The words of a status card, by place in [`CardTexts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    Event,
    Headline,
    Detail,
    Status,
    /// The words before and after the position, and the position as the language writes
    /// it (empty without a position).
    PositionBefore,
    Position,
    PositionAfter,
    /// The words before and after the countdown to the opening.
    OpensBefore,
    OpensAfter,
    Fairness,
    PassSaved,
    Continue,
    Leave,
    JoinAgain,
    /// What a failed poll says when the room cannot be reached.
    Unreachable,
    /// The button that asks for a notification when it is the visitor's turn, and what the
    /// page says once asked.
    Notify,
    NotifyOn,
    /// The button that asks for a sound when it is the visitor's turn, and what the page
    /// says once asked.
    Sound,
    SoundOn,
    /// The receipt: the join number, and for one of a draw how the order was made, its
    /// place in the draw when known, and the published draw's link text.
    JoinNumber,
    DrawNote,
    DrawLink,
    /// Where the draw is published (empty when the session is not one of a draw).
    DrawUrl,
    /// The operator's message in the visitor's language, else as posted (empty: none).
    Message,
}

impl Word {
    /// Every word, in its place.
    pub const ALL: [Word; 24] = [
        Word::Event,
        Word::Headline,
        Word::Detail,
        Word::Status,
        Word::PositionBefore,
        Word::Position,
        Word::PositionAfter,
        Word::OpensBefore,
        Word::OpensAfter,
        Word::Fairness,
        Word::PassSaved,
        Word::Continue,
        Word::Leave,
        Word::JoinAgain,
        Word::Unreachable,
        Word::Notify,
        Word::NotifyOn,
        Word::Sound,
        Word::SoundOn,
        Word::JoinNumber,
        Word::DrawNote,
        Word::DrawLink,
        Word::DrawUrl,
        Word::Message,
    ];
}

impl CardTexts {
    /// The card's words, each in its place (`text(word)` for every word of [`Word::ALL`]).
    pub fn new(mut text: impl FnMut(Word) -> String) -> Self {
        Self(Word::ALL.into_iter().map(&mut text).collect())
    }

    /// A word ("" if an answer lacked it).
    pub fn get(&self, word: Word) -> &str {
        self.0.get(word as usize).map_or("", String::as_str)
    }

    /// A word to show.
    pub fn text(&self, word: Word) -> String {
        self.get(word).to_string()
    }
}

/// The proof-of-work island's words in the visitor's language.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SolverTexts {
    pub working: String,
    pub done: String,
    /// The time-lock's wait, when the search failed.
    pub waiting: String,
    pub progress: String,
}

/// What an event's page (`/e/{eventId}`) offers a browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Door {
    /// This browser has a place there: its page (and a redirect to it).
    Place(String),
    /// The line takes joins: the "Join the line" button, after the time-lock when one is
    /// in force (README, "Bots and accounts").
    Join(Option<JoinLock>),
    /// The sale is over, and why.
    Closed(ClosedReason),
    /// Down for maintenance: nobody joins or is admitted until the operator resumes it.
    Suspended,
}

/// What a page's join must bring while a challenge is in force: the signed form token of
/// the time-lock and how long until it opens (for browsers without JavaScript), and a
/// challenge for this browser (solved by the page's `JoinSolver` island instead of
/// waiting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinLock {
    pub lock: String,
    pub wait_seconds: u64,
    pub challenge: PageChallenge,
}

/// A join's challenge as the page's island solves it (README, "Bots and accounts"): find
/// the counter below `bound` whose SHA-256(salt ‖ nonce ‖ counter as 4 big-endian bytes)
/// starts with `key_prefix` (all hex), and send it back with the key and `header` (the
/// signed challenge itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageChallenge {
    pub header: String,
    pub salt: String,
    pub nonce: String,
    pub key_prefix: String,
    pub bound: u32,
}

/// Longest message an operator may post to the people waiting, in characters.
pub const MAX_MESSAGE_CHARS: usize = 280;

/// An event as the operator's console and `GET /api/admin/events/{id}` show it: its
/// settings and its line now. Every figure is read from Redis (README, "The operator's
/// console").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventFigures {
    pub event_id: EventId,
    /// The shop the line leads to; null when none is set.
    pub target_url: Option<String>,
    /// Most ACTIVE sessions, as set; null = the room's default …
    pub capacity: Option<u64>,
    /// … and the capacity in force either way.
    pub capacity_in_force: u64,
    /// Most new ACTIVE sessions per minute; null = no limit.
    pub rate_per_minute: Option<u64>,
    pub paused: bool,
    /// The opening (RFC 3339), when one is set.
    pub opens_at: Option<String>,
    pub queueing: Queueing,
    /// Joins so far.
    pub joined: u64,
    /// Joins not admitted (or skipped) yet.
    pub waiting: u64,
    /// Sessions holding a slot.
    pub active: u64,
    /// Everyone admitted so far.
    pub admitted: u64,
    /// Admissions in about the last minute: the decayed count that visitors' estimates
    /// come from.
    pub admitted_per_minute: f64,
    /// Estimated wait of the last person in line at that pace; null while nobody waits
    /// or nobody was admitted recently.
    pub last_wait_seconds: Option<u64>,
    /// The message the people waiting see; null when none is posted.
    pub message: Option<String>,
    /// The message in other languages, by language tag; null when none were given. (The
    /// server's only: the console shows the message as posted.)
    #[cfg(feature = "ssr")]
    #[serde(default)]
    pub message_translations: Option<std::collections::BTreeMap<String, String>>,
    /// The sale's state, as the operator set it.
    pub state: SaleState,
    /// When the sale ends (RFC 3339), when one is set.
    pub ends_at: Option<String>,
    /// Why it takes nobody any more (its state, or its end passed); null while it does.
    pub closed_reason: Option<ClosedReason>,
    /// How long a session lasts, as set; null = the room's default …
    pub session_seconds: Option<u64>,
    /// … and the length in force either way: a pass is renewed to this while its buyer
    /// keeps using the shop.
    pub session_seconds_in_force: u64,
    /// The longest a session may last with renewals (from its admission); null = no cap.
    pub max_session_seconds: Option<u64>,
    /// How long a visitor skipped for not polling may come back and get the turn back, as
    /// set; null = the room's default …
    pub grace_seconds: Option<u64>,
    /// … and the grace in force either way (0: none).
    pub grace_seconds_in_force: u64,
    /// Who may join (README, "Bots and accounts").
    pub entry: Entry,
    /// With `token`: the algorithm of the key tokens are checked with (`HS256`, `EdDSA`,
    /// `ES256`; the key itself is never shown).
    pub entry_key_alg: Option<String>,
    /// Whether a join must pay first (README, "Bots and accounts"): the event's own
    /// setting, or the room's default.
    pub challenge: ChallengeMode,
    /// With `always`: the lowest level of the challenge (1-4), whatever the pressure.
    pub challenge_level: u8,
    /// The shop's brand on the line's pages (README, "The shop's brand"); null when none.
    #[serde(default)]
    pub brand: Option<BrandFigures>,
}

/// An event's brand as the admin API shows it (see `crate::brand`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BrandFigures {
    pub display_name: Option<String>,
    /// An https URL.
    pub logo_url: Option<String>,
    /// `#rrggbb`: links and buttons.
    pub accent_color: Option<String>,
    /// `#rrggbb`: the page behind the card.
    pub background_color: Option<String>,
    /// Limited Markdown (emphasis, https links, lists), shown sanitised.
    pub text: Option<String>,
    pub contrast: BrandContrast,
}

/// The contrast of a brand's colours (WCAG 2.x, AA asks 4.5:1 for text), and the text
/// colours the room chose for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BrandContrast {
    /// The accent as text on the page's white card (at least 4.5: else refused).
    pub accent_on_card: Option<f64>,
    /// The text drawn on the background (black or white, whichever reads better) …
    pub on_background: Option<String>,
    /// … and its contrast.
    pub on_background_ratio: Option<f64>,
    /// The text drawn on the accent (buttons), likewise …
    pub on_accent: Option<String>,
    /// … and its contrast.
    pub on_accent_ratio: Option<f64>,
}

/// What a line's page shows of the shop's brand (rendered on the server only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrandView {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    /// The brand's stylesheet (`/brand/{event}.css?v=…`).
    pub stylesheet: String,
    /// The text block, as sanitised HTML.
    pub text_html: Option<String>,
    /// The logo's origin (`https://host[:port]`), which the page's image policy allows.
    pub logo_origin: Option<String>,
}

/// A place's offer to move to another device, as its page shows it (README, "Take your
/// place with you"; rendered on the server only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveOfferView {
    /// The place's own page, to go back to.
    pub place_url: String,
    /// The one-time link (absolute: it is opened on another device).
    pub url: String,
    /// The link's QR code (an SVG document made by the server from the link alone).
    pub qr_svg: String,
    /// How long the link lasts.
    pub minutes: u64,
}

/// The highest level of the join's challenge (README, "Bots and accounts").
pub const MAX_CHALLENGE_LEVEL: u8 = 4;

/// Whether a join must solve a proof-of-work first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChallengeMode {
    /// Never.
    Off,
    /// When the line is long or joins come fast, harder as they grow (the room's default:
    /// `WAITING_ROOM_CHALLENGE`).
    #[default]
    Auto,
    /// Always, harder as the line grows.
    Always,
}

impl ChallengeMode {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "off" => Some(Self::Off),
            "auto" => Some(Self::Auto),
            "always" => Some(Self::Always),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Auto => "auto",
            Self::Always => "always",
        }
    }
}

/// Who may join an event's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Entry {
    /// Anyone.
    Open,
    /// Only the shop's accounts, each with an enqueue token the shop signed: one place per
    /// account.
    Token,
}

/// One sample of an event's line, recorded by the granter every few seconds while the
/// event has work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Sample {
    /// When (unix ms).
    pub at_ms: u64,
    pub waiting: u64,
    pub active: u64,
    /// The capacity in force then.
    pub capacity: u64,
    /// Everyone admitted up to then (admissions per minute are its differences).
    pub admitted: u64,
}

/// An event's figures now and its samples over the last hour: one page of the console,
/// and `GET /api/admin/events/{id}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventHistory {
    pub figures: EventFigures,
    /// Seconds between samples while the event has work (none while it is quiet).
    pub sample_seconds: u64,
    /// When this was read (unix ms): the right edge of the charts.
    pub now_ms: u64,
    /// Oldest first.
    pub samples: Vec<Sample>,
}

/// Polling interval for a session: 1 s at the front of the line, growing with the position,
/// capped at 10 s; terminal sessions are not polled at all (0).
pub fn refresh_after_ms(status: Status, position: Option<u64>) -> u64 {
    match (status, position) {
        // Next in line: twice a second, so a slot given back reaches them within a second.
        (Status::Waiting, Some(1)) => 500,
        (Status::Waiting, Some(p)) => (1_000 + p.saturating_sub(2).saturating_mul(100)).min(10_000),
        (Status::Waiting, None) => 2_000,
        (Status::Active, _) => 5_000,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_card_word_is_in_its_place() {
        // CardTexts finds a word at its index: Word::ALL lists them in their enum's order.
        for (i, word) in Word::ALL.into_iter().enumerate() {
            assert_eq!(word as usize, i, "{word:?}");
        }
    }

    #[test]
    fn names_accept_the_allowed_alphabet() {
        for ok in ["E1", "a", "tour-2027:berlin_1.x", &"x".repeat(64)] {
            assert_eq!(EventId::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn names_refuse_everything_else() {
        for bad in ["", " ", "a b", "é", "a/b", "a\n", "{E1}", &"x".repeat(65)] {
            let err = UserId::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidUserId, "{bad:?}");
        }
    }

    #[test]
    fn names_from_json_go_through_parse() {
        let ok: EventId = serde_json::from_str(r#""tour-2027:berlin""#).unwrap();
        assert_eq!(ok.as_str(), "tour-2027:berlin");
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#""tour-2027:berlin""#);
        for bad in [r#""a b""#, r#""{E1}""#, r#""""#] {
            assert!(serde_json::from_str::<EventId>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<UserId>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn session_ids_round_trip_and_refuse_other_forms() {
        let id = "0b6c3f9e-8a51-4c7e-9d0a-2f4f5b8e1c3d";
        assert_eq!(SessionId::parse(id).unwrap().to_string(), id);
        for bad in [
            "",
            "x",
            "0b6c3f9e8a514c7e9d0a2f4f5b8e1c3d",
            &format!("{{{id}}}"),
        ] {
            assert!(SessionId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn status_strings_match_json() {
        for s in [
            Status::Waiting,
            Status::Active,
            Status::Expired,
            Status::Left,
            Status::Abandoned,
        ] {
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn refresh_hint_grows_with_position_within_bounds() {
        assert_eq!(refresh_after_ms(Status::Waiting, Some(1)), 500);
        assert_eq!(refresh_after_ms(Status::Waiting, Some(2)), 1_000);
        assert!(refresh_after_ms(Status::Waiting, Some(10)) > 1_000);
        assert_eq!(refresh_after_ms(Status::Waiting, Some(1_000_000)), 10_000);
        assert_eq!(refresh_after_ms(Status::Left, None), 0);
    }
}
