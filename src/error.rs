//! The one error type of the HTTP surface, and its JSON shape.
//!
//! Every failure a client can see is an [`AppError`]: a status, a stable `code` and a
//! readable `message`, rendered as `{"error": {"code", "message"}}`. The room's own
//! failures ([`ServiceError`]) get their status and code here, in one `match`
//! ([`AppError::from`]). Redis being away is a 503 with `Retry-After`; input problems are
//! 4xx; nothing else should ever happen, and when it does it is logged and answered 500
//! without details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::domain::{ErrorCode, InvalidInput};
use crate::service::{Refusal, ServiceError};
use crate::store::StoreError;

/// Seconds a client is asked to wait when Redis is away.
pub const RETRY_AFTER_SECONDS: u64 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl AppError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn session_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::SessionNotFound,
            "no session with this id (it may have been purged after it ended)",
        )
    }

    pub fn unknown_event() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownEvent,
            "there is no line for this event (events are created by the operator)",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable,
            "the waiting room is briefly unavailable; your place is kept, please retry shortly",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "something went wrong on our side",
        )
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<ServiceError> for AppError {
    /// The status and code of each of the room's failures.
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        let (status, code) = match e {
            ServiceError::AlreadyJoined | ServiceError::PlaceElsewhere => {
                (StatusCode::CONFLICT, ErrorCode::AlreadyJoined)
            }
            ServiceError::TokenRequired => (StatusCode::UNAUTHORIZED, ErrorCode::TokenRequired),
            ServiceError::NoTokens => (StatusCode::BAD_REQUEST, ErrorCode::NoTokens),
            ServiceError::Locked(_) | ServiceError::SolutionSpent => (
                StatusCode::PRECONDITION_REQUIRED,
                ErrorCode::ChallengeRequired,
            ),
            ServiceError::BadToken(_) => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidEnqueueToken),
            ServiceError::SessionNotFound => (StatusCode::NOT_FOUND, ErrorCode::SessionNotFound),
            ServiceError::MoveExpired => (StatusCode::GONE, ErrorCode::MoveExpired),
            ServiceError::NotMovable => (StatusCode::CONFLICT, ErrorCode::PlaceNotMovable),
            ServiceError::PlaceInThisBrowser => {
                (StatusCode::CONFLICT, ErrorCode::PlaceInThisBrowser)
            }
            ServiceError::OtherPlaceHere => (StatusCode::CONFLICT, ErrorCode::OtherPlaceHere),
            ServiceError::UnknownEvent => (StatusCode::NOT_FOUND, ErrorCode::UnknownEvent),
            ServiceError::EventExists => (StatusCode::CONFLICT, ErrorCode::EventExists),
            ServiceError::EventClosed(_) => (StatusCode::GONE, ErrorCode::EventClosed),
            ServiceError::EventSuspended => {
                (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::EventSuspended)
            }
            ServiceError::PassRefused(refusal) => (
                StatusCode::UNAUTHORIZED,
                match refusal {
                    Refusal::NoPass => ErrorCode::NoPass,
                    Refusal::Invalid(_) => ErrorCode::InvalidPass,
                    Refusal::WrongEvent => ErrorCode::WrongEvent,
                    Refusal::Expired => ErrorCode::PassExpired,
                    Refusal::Revoked => ErrorCode::PassRevoked,
                    Refusal::Suspended => ErrorCode::EventSuspended,
                },
            ),
            ServiceError::NotYourPlace => (StatusCode::FORBIDDEN, ErrorCode::NotYourPlace),
            ServiceError::NoConsole => (StatusCode::NOT_FOUND, ErrorCode::NoConsole),
            ServiceError::SignedOut => (StatusCode::UNAUTHORIZED, ErrorCode::SignedOut),
            ServiceError::Invalid(invalid) => return invalid.into(),
            ServiceError::Store(e) => return e.into(),
            ServiceError::Internal => return Self::internal(),
        };
        Self::new(status, code, message)
    }
}

impl AppError {
    /// The status of a page that does not exist.
    pub fn page_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "page not found")
    }
}

impl From<InvalidInput> for AppError {
    fn from(e: InvalidInput) -> Self {
        Self::bad_request(e.code, e.message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(e) => {
                metrics::counter!(crate::telemetry::names::REDIS_ERRORS, "kind" => "unavailable")
                    .increment(1);
                tracing::warn!(error = %e, "redis unavailable");
                Self::unavailable()
            }
            StoreError::EventsFull => {
                tracing::error!("every event number is taken: no new event can be created");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::EventsFull,
                    "this waiting room cannot take new events any more; existing events work",
                )
            }
            StoreError::StaleEvent => {
                tracing::warn!("an event's number changed twice during one request");
                Self::unavailable()
            }
            StoreError::Late => {
                metrics::counter!(crate::telemetry::names::REDIS_ERRORS, "kind" => "late")
                    .increment(1);
                tracing::warn!("redis ran a join after its deadline; nothing was written");
                Self::unavailable()
            }
            StoreError::Unreplicated { acked, wanted } => {
                metrics::counter!(crate::telemetry::names::REDIS_ERRORS, "kind" => "unreplicated")
                    .increment(1);
                tracing::warn!(
                    acked,
                    wanted,
                    "a write was not confirmed by enough replicas"
                );
                Self::unavailable()
            }
            StoreError::Unexpected(e) => {
                metrics::counter!(crate::telemetry::names::REDIS_ERRORS, "kind" => "unexpected")
                    .increment(1);
                tracing::error!(error = %e, "unexpected redis reply");
                Self::internal()
            }
        }
    }
}

/// The body of every error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `invalid_event_id`, `session_not_found`, `unavailable`, …
    pub code: ErrorCode,
    /// For people.
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        });
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}
