//! Admin routes under `/api/admin`, for operators steering a sale while it runs.
//!
//! Mounted only when `WAITING_ROOM_ADMIN_TOKEN` is set (otherwise the paths are 404 like
//! any unknown API route); every request needs `Authorization: Bearer <token>`, compared in
//! constant time. Wrong tokens count against the client's budget of failed tries
//! ([`crate::client::FailureBudget`]): a client over it is answered 429 before its token is
//! compared. Bodies over [`MAX_BODY_BYTES`] are refused (413 `payload_too_large`), as on the
//! public API.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::MAX_BODY_BYTES;
use super::body::{self, Field, JsonBody, Unknown};
use crate::client::FailureBudget;
use crate::domain::SessionView;
use crate::domain::{
    ChallengeMode, Entry, ErrorCode, InvalidInput, SaleState, MAX_CHALLENGE_LEVEL,
};
use crate::domain::{EventFigures, EventHistory, EventId, Queueing};
use crate::entry::EntryKey;
use crate::error::{AppError, ErrorBody};
use crate::service::{parse_rfc3339, Service};
use crate::state::AppState;
use crate::store::EventSettings;

/// Largest capacity an event may be given.
pub const MAX_CAPACITY: u64 = 1_000_000;

/// The routes, each with its OpenAPI operation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show, replace))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(set_state))
        .routes(routes!(set_entry))
        .routes(routes!(history))
        .routes(routes!(post_message, take_down_message))
        .routes(routes!(put_brand, remove_brand))
        .routes(routes!(revoke))
}

/// The routes as served: each behind the admin token, wrong tokens counted in `failures`,
/// with the public API's body limit.
pub fn router(token: &SecretString, failures: FailureBudget) -> Router<AppState> {
    let door = Door {
        token: Arc::new(token.clone()),
        failures,
    };
    let (router, _) = routes().split_for_parts();
    router
        .route_layer(middleware::from_fn_with_state(door, require_token))
        .method_not_allowed_fallback(super::api::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// What the admin routes check a request against.
#[derive(Clone)]
struct Door {
    token: Arc<SecretString>,
    failures: FailureBudget,
}

async fn require_token(State(door): State<Door>, request: Request, next: Next) -> Response {
    let peer = crate::client::peer(request.extensions());
    let verdict = door
        .failures
        .bearer_is(peer, request.headers(), &door.token);
    match verdict {
        Ok(true) => return next.run(request).await,
        Ok(false) => {}
        Err(wait) => return super::limits::too_many_failures(wait),
    }
    let mut response = AppError::new(
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthorized,
        "admin routes need Authorization: Bearer <WAITING_ROOM_ADMIN_TOKEN>",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// Events per page of `GET /api/admin/events`, unless `limit` says otherwise.
const PAGE: usize = 100;
/// Most events one page may ask for.
const MAX_PAGE: usize = 1_000;

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<EventFigures>,
    /// The `after` of the next page; null on the last.
    pub next: Option<EventId>,
}

/// `GET /api/admin/events?limit=&after=`: a page of events in id order, with settings and
/// figures; `next` is the `after` of the next page (null on the last).
#[utoipa::path(get, path = "/api/admin/events", tag = "operators",
    summary = "A page of events, in id order, with settings and figures",
    params(("limit" = Option<u32>, Query, description = "1-1000, default 100"),
           ("after" = Option<String>, Query, description = "The `next` of the previous page")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "{events, next}", body = EventsPage),
        (status = 400, description = "Bad limit or after", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn list(
    State(service): State<Service>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<EventsPage>, AppError> {
    let invalid = |m: &str| AppError::bad_request(ErrorCode::InvalidQuery, m);
    let limit = match query.get("limit") {
        None => PAGE,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                invalid(&format!(
                    "limit must be a whole number from 1 to {MAX_PAGE}"
                ))
            })?,
    };
    let after = query.get("after").map(|a| EventId::parse(a)).transpose()?;
    let (events, more) = service.events(after.as_ref(), limit).await?;
    let next = more
        .then(|| events.last().map(|e| e.event_id.clone()))
        .flatten();
    Ok(Json(EventsPage { events, next }))
}

/// `GET /api/admin/events/{id}`.
#[utoipa::path(get, path = "/api/admin/events/{id}", tag = "operators",
    summary = "One event's settings and figures (defaults and zeros for an unknown event)",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn show(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.event(&event).await?))
}

/// `GET /api/admin/events/{id}/history?minutes=`: the figures now and the samples of the
/// line over the last `minutes` (1 to 60, default 60).
#[utoipa::path(get, path = "/api/admin/events/{id}/history", tag = "operators",
    summary = "The event's figures now and samples of its line over the last hour",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]"),
           ("minutes" = Option<u32>, Query, description = "1-60, default 60")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Figures and samples", body = EventHistory),
        (status = 400, description = "Bad event id or minutes", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn history(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<EventHistory>, AppError> {
    let event = event_id(id)?;
    let minutes = match query.get("minutes") {
        None => 60,
        Some(m) => m
            .parse::<u64>()
            .ok()
            .filter(|m| (1..=60).contains(m))
            .ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::InvalidQuery,
                    "minutes must be a whole number from 1 to 60",
                )
            })?,
    };
    Ok(Json(service.history(&event, minutes).await?))
}

/// `PUT /api/admin/events/{id}/brand {"displayName"?, "logoUrl"?, "accentColor"?,
/// "backgroundColor"?, "text"?}`: the shop's brand on the line's pages (README, "The shop's
/// brand"); it replaces the earlier one whole.
#[utoipa::path(put, path = "/api/admin/events/{id}/brand", tag = "operators",
    summary = "Set the shop's brand on the line's pages (replaces any earlier one)",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    request_body = BrandRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event, with its brand and the contrast of its colours", body = EventFigures),
        (status = 400, description = "Bad event id, or a value refused (invalid_brand): not a #rgb/#rrggbb colour, an accent below 4.5:1 on the white card, a logo URL that is not https, a name or text too long, HTML in the text", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn put_brand(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<BrandRequest>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let brand = body.parse()?;
    Ok(Json(service.set_brand(&event, Some(&brand)).await?))
}

/// `DELETE /api/admin/events/{id}/brand`: the line's pages look like the room's again.
#[utoipa::path(delete, path = "/api/admin/events/{id}/brand", tag = "operators",
    summary = "Remove the shop's brand",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn remove_brand(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.set_brand(&event, None).await?))
}

/// `PUT /api/admin/events/{id}/message {"text"}`: posts the message the people waiting
/// see (it replaces any earlier one).
#[utoipa::path(put, path = "/api/admin/events/{id}/message", tag = "operators",
    summary = "Post the message the people waiting see (replaces any earlier one)",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    request_body = MessageRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id, or a message that is empty, too long or not one line", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn post_message(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<MessageRequest>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let (text, translations) = body.parse()?;
    Ok(Json(
        service
            .set_message(&event, Some(&text), &translations)
            .await?,
    ))
}

/// `DELETE /api/admin/events/{id}/message`: takes the message down.
#[utoipa::path(delete, path = "/api/admin/events/{id}/message", tag = "operators",
    summary = "Take the message down",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn take_down_message(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.set_message(&event, None, &[]).await?))
}

/// `PUT /api/admin/events/{id} {"capacity"?, "ratePerMinute"?, "paused"?, "targetUrl"?}`:
/// creates the event or replaces its settings (a missing field means the default:
/// configured capacity, no rate, running, no shop).
#[utoipa::path(put, path = "/api/admin/events/{id}", tag = "operators",
    summary = "Create the event or replace its settings (a missing field is the default)",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    request_body = SettingsRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id or settings", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "Redis unavailable, or no event number left (events_full)", body = ErrorBody),
    ))]
async fn replace(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<SettingsRequest>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let settings = body.parse()?;
    Ok(Json(service.put_settings(&event, &settings, false).await?))
}

/// The body of `POST /api/admin/events/{id}/state`.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct StateRequest {
    /// `open`, `sold_out`, `closed` or `suspended`.
    #[schema(value_type = SaleState, required = true)]
    #[serde(default)]
    state: Field,
    /// Anything else: refused.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl StateRequest {
    pub fn parse(&self) -> Result<SaleState, InvalidInput> {
        body::refuse_unknown(&self.unknown, &["state"], ErrorCode::InvalidState)?;
        match &self.state {
            Some(Value::String(text)) => SaleState::parse(text),
            _ => None,
        }
        .ok_or_else(|| InvalidInput {
            code: ErrorCode::InvalidState,
            message: "state must be one of open, sold_out, closed, suspended".into(),
        })
    }
}

/// `POST /api/admin/events/{id}/state {"state"}`: the sale's state. `sold_out` and
/// `closed` end it (no joins, 410; the line is closed; admitted buyers finish),
/// `suspended` holds everything for maintenance (the line is kept), `open` resumes.
#[utoipa::path(post, path = "/api/admin/events/{id}/state", tag = "operators",
    summary = "Set the sale's state: open, sold_out, closed or suspended",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    request_body = StateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id or state", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn set_state(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<StateRequest>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let state = body.parse()?;
    Ok(Json(service.set_state(&event, state).await?))
}

/// The body of `PUT /api/admin/events/{id}/entry`.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct EntryRequest {
    /// `open` (anyone) or `token` (only the shop's accounts, with an enqueue token).
    #[schema(value_type = Entry, required = true)]
    #[serde(default)]
    entry: Field,
    /// With `token`: `HS256`, `EdDSA` or `ES256`.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    alg: Field,
    /// With `HS256`: the shared secret (32 to 512 bytes).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    secret: Field,
    /// With `EdDSA` (Ed25519) or `ES256` (P-256): the public key in PEM.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    public_key: Field,
    /// Instead of `alg` and a key: the URL of the shop's JWKS (`https`; EdDSA, ES256 or
    /// RS256 keys, found by the token's `kid`), fetched now and then again as the README
    /// says ("Bots and accounts").
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    jwks_url: Field,
    /// Whether a join must pay first: `off`, `auto` or `always`; absent or null: the
    /// room's default (`WAITING_ROOM_CHALLENGE`).
    #[schema(value_type = Option<ChallengeMode>)]
    #[serde(default)]
    challenge: Field,
    /// With `"challenge": "always"`: the lowest level (1-4) of the challenge whatever the
    /// pressure (README, "Bots and accounts"); absent or null: the pressure's.
    #[schema(value_type = Option<u8>, minimum = 1, maximum = 4)]
    #[serde(default)]
    challenge_level: Field,
    /// Anything else: refused.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl EntryRequest {
    /// The key tokens are checked with (`None` for `open`), the challenge and its lowest
    /// level (0: the pressure's).
    pub fn parse(&self) -> Result<(Option<EntryKey>, Option<ChallengeMode>, u8), InvalidInput> {
        let invalid = |m: String| InvalidInput {
            code: ErrorCode::InvalidEntry,
            message: m,
        };
        body::refuse_unknown(
            &self.unknown,
            &[
                "entry",
                "alg",
                "secret",
                "publicKey",
                "jwksUrl",
                "challenge",
                "challengeLevel",
            ],
            ErrorCode::InvalidEntry,
        )?;
        let text = |v: &Field| match v {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let challenge = match &self.challenge {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) => ChallengeMode::parse(c)
                .map(Some)
                .ok_or_else(|| invalid("challenge must be one of off, auto, always".into()))?,
            Some(_) => return Err(invalid("challenge must be one of off, auto, always".into())),
        };
        let challenge_level = match &self.challenge_level {
            None | Some(Value::Null) => 0,
            Some(level) => {
                let level = level
                    .as_u64()
                    .filter(|l| (1..=u64::from(MAX_CHALLENGE_LEVEL)).contains(l))
                    .ok_or_else(|| {
                        invalid("challengeLevel must be a whole number from 1 to 4".into())
                    })?;
                if challenge != Some(ChallengeMode::Always) {
                    return Err(invalid(
                        "challengeLevel goes with \"challenge\": \"always\" only".into(),
                    ));
                }
                level as u8
            }
        };
        let key = match text(&self.entry).as_deref() {
            Some("open") => Ok(None),
            Some("token") if self.jwks_url.is_some() => {
                let url = text(&self.jwks_url)
                    .ok_or_else(|| invalid("jwksUrl must be a string".into()))?;
                if !matches!(text(&self.alg).as_deref(), None | Some("JWKS")) {
                    return Err(invalid(
                        "with jwksUrl, the keys name their algorithms: leave alg out".into(),
                    ));
                }
                EntryKey::parse("JWKS", &url).map(Some).map_err(invalid)
            }
            Some("token") => {
                let alg = text(&self.alg)
                    .ok_or_else(|| invalid("alg must be one of HS256, EdDSA, ES256".into()))?;
                let material = match alg.as_str() {
                    "HS256" => text(&self.secret)
                        .ok_or_else(|| invalid("HS256 needs secret (a string)".into()))?,
                    _ => text(&self.public_key)
                        .ok_or_else(|| invalid(format!("{alg} needs publicKey (a PEM string)")))?,
                };
                EntryKey::parse(&alg, &material).map(Some).map_err(invalid)
            }
            _ => Err(invalid("entry must be open or token".into())),
        }?;
        Ok((key, challenge, challenge_level))
    }
}

/// `PUT /api/admin/events/{id}/entry {"entry": "open"}` or `{"entry": "token", "alg",
/// "secret" | "publicKey"}` or `{"entry": "token", "jwksUrl"}`, with `"challenge"` (`off`, `auto`, `always`) and
/// `"challengeLevel"` (1-4, with `always`): who may join
/// and at what cost (README, "Bots and accounts"). Holds from this write on, on every
/// instance; the answer shows the key's algorithm, never the key.
#[utoipa::path(put, path = "/api/admin/events/{id}/entry", tag = "operators",
    summary = "Who may join: anyone, or only the shop's accounts with an enqueue token",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    request_body = EntryRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id, entry or key (invalid_entry)", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn set_entry(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody<EntryRequest>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let (key, challenge, level) = body.parse()?;
    Ok(Json(
        service
            .set_entry(&event, key.as_ref(), challenge, level)
            .await?,
    ))
}

/// `POST /api/admin/events/{id}/pause`: no admissions; joins and positions go on.
#[utoipa::path(post, path = "/api/admin/events/{id}/pause", tag = "operators",
    summary = "Pause admissions (joins and positions go on)",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn pause(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    set_paused(service, id, true).await
}

/// `POST /api/admin/events/{id}/resume`.
#[utoipa::path(post, path = "/api/admin/events/{id}/resume", tag = "operators",
    summary = "Resume admissions",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The event", body = EventFigures),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn resume(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    set_paused(service, id, false).await
}

async fn set_paused(
    service: Service,
    id: Result<Path<String>, PathRejection>,
    paused: bool,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.set_paused(&event, paused).await?))
}

/// `DELETE /api/admin/sessions/{id}`: ends a session as if its owner left.
#[utoipa::path(delete, path = "/api/admin/sessions/{id}", tag = "operators",
    summary = "Revoke a session (as if its owner left)",
    params(("id" = String, Path, description = "The session id (a UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The session, now LEFT", body = SessionView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 401, description = "Missing or wrong bearer token", body = ErrorBody),
        (status = 429, description = "Too many wrong tokens from this address (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn revoke(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = super::api::session_id(id)?;
    Ok(Json(service.leave(sid).await?).into_response())
}

fn event_id(id: Result<Path<String>, PathRejection>) -> Result<EventId, AppError> {
    let Path(id) =
        id.map_err(|e| AppError::bad_request(ErrorCode::InvalidEventId, e.body_text()))?;
    Ok(EventId::parse(&id)?)
}

/// The body of `PUT /api/admin/events/{id}`: every field optional, unknown fields
/// refused.
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct SettingsRequest {
    /// Most ACTIVE sessions; null = the room's default.
    #[schema(value_type = Option<u64>, minimum = 0, maximum = 1_000_000)]
    #[serde(default)]
    pub capacity: Field,
    /// Most new ACTIVE sessions per minute; null = no limit.
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 1_000_000)]
    #[serde(default)]
    pub rate_per_minute: Field,
    /// No admissions while paused.
    #[schema(value_type = Option<bool>)]
    #[serde(default)]
    pub paused: Field,
    /// The shop: an absolute http(s) URL.
    #[schema(value_type = Option<String>, format = "uri")]
    #[serde(default)]
    pub target_url: Field,
    /// The opening (RFC 3339): joins before it wait in the pre-queue.
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub opens_at: Field,
    /// Default: draw-at-open with an opening, else fifo.
    #[schema(value_type = Option<Queueing>)]
    #[serde(default)]
    pub queueing: Field,
    /// The end of the sale (RFC 3339): no joins after it, and the people still waiting
    /// are told the sale is over (CLOSED).
    #[schema(value_type = Option<String>, format = DateTime)]
    #[serde(default)]
    pub ends_at: Field,
    /// How long a session lasts, and is renewed to while its buyer keeps using the shop
    /// (10-86400); null = the room's default.
    #[schema(value_type = Option<u64>, minimum = 10, maximum = 86_400)]
    #[serde(default)]
    pub session_seconds: Field,
    /// The longest a session may last with renewals, from its admission (10-86400);
    /// null = no cap.
    #[schema(value_type = Option<u64>, minimum = 10, maximum = 86_400)]
    #[serde(default)]
    pub max_session_seconds: Field,
    /// How long a visitor skipped for not polling (away longer than the abandonment period)
    /// may come back and get the turn back: admitted at the next free slot, ahead of the
    /// line, once (0-3600; 0: no grace); null = the room's default.
    #[schema(value_type = Option<u64>, minimum = 0, maximum = 3_600)]
    #[serde(default)]
    pub grace_seconds: Field,
    /// Anything else: refused.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Unknown,
}

/// The body of `PUT /api/admin/events/{id}/message`.
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct MessageRequest {
    /// One line of text, trimmed: shown to visitors whose language has no translation.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 280)]
    #[serde(default)]
    text: Field,
    /// The message in other languages the page speaks, by tag (`de`, `fr`, `es`, `ja`,
    /// `ar`, `en`): each one line, 1–280 characters.
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    #[serde(default)]
    translations: Field,
    /// Anything else: refused.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl MessageRequest {
    fn parse(&self) -> Result<(String, Vec<(String, String)>), InvalidInput> {
        let refuse = |message: &str| InvalidInput {
            code: ErrorCode::InvalidMessage,
            message: message.into(),
        };
        body::refuse_unknown(
            &self.unknown,
            &["text", "translations"],
            ErrorCode::InvalidMessage,
        )?;
        let text = match &self.text {
            Some(Value::String(text)) => text.clone(),
            _ => return Err(refuse("text must be a string")),
        };
        let translations = match &self.translations {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(map)) if map.len() <= crate::lang::Lang::ALL.len() => map
                .iter()
                .map(|(tag, text)| match text {
                    Value::String(text) => Ok((tag.clone(), text.clone())),
                    _ => Err(refuse("translations: each translation must be a string")),
                })
                .collect::<Result<_, _>>()?,
            Some(Value::Object(_)) => {
                return Err(refuse(
                    "translations: at most one per language the page speaks",
                ))
            }
            Some(_) => {
                return Err(refuse(
                    "translations must be an object of language tag to text",
                ))
            }
        };
        Ok((text, translations))
    }
}

/// The body of `PUT /api/admin/events/{id}/brand`: every field optional (absent, null or
/// empty: none).
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct BrandRequest {
    /// Shown above the line: 1–60 characters on one line.
    #[schema(value_type = Option<String>, max_length = 60)]
    #[serde(default)]
    display_name: Field,
    /// An https URL of the shop's logo (at most 512 characters); the page's image policy
    /// allows its origin only.
    #[schema(value_type = Option<String>, max_length = 512)]
    #[serde(default)]
    logo_url: Field,
    /// `#rgb` or `#rrggbb`: links and buttons; at least 4.5:1 on the page's white card.
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    accent_color: Field,
    /// `#rgb` or `#rrggbb`: the page behind the card (its text is black or white,
    /// whichever reads better).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    background_color: Field,
    /// At most 1,000 characters of Markdown (emphasis, https links, lists; no HTML).
    #[schema(value_type = Option<String>, max_length = 1000)]
    #[serde(default)]
    text: Field,
    /// Anything else: refused.
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl BrandRequest {
    fn parse(&self) -> Result<crate::brand::Brand, InvalidInput> {
        body::refuse_unknown(
            &self.unknown,
            &[
                "displayName",
                "logoUrl",
                "accentColor",
                "backgroundColor",
                "text",
            ],
            ErrorCode::InvalidBrand,
        )?;
        let text = |field: &Field, name: &str| match field {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(v)) => Ok(Some(v.clone())),
            Some(_) => Err(InvalidInput {
                code: ErrorCode::InvalidBrand,
                message: format!("{name} must be a string"),
            }),
        };
        let name = text(&self.display_name, "displayName")?;
        let logo = text(&self.logo_url, "logoUrl")?;
        let accent = text(&self.accent_color, "accentColor")?;
        let background = text(&self.background_color, "backgroundColor")?;
        let words = text(&self.text, "text")?;
        crate::brand::Brand::parse(
            name.as_deref(),
            logo.as_deref(),
            accent.as_deref(),
            background.as_deref(),
            words.as_deref(),
        )
    }
}

/// Longest target URL accepted.
pub const MAX_URL_LEN: usize = 2_048;

/// An absolute http(s) URL with a host, normalised.
fn target_url(raw: &str) -> Result<String, String> {
    let expected = "targetUrl must be an absolute http(s) URL such as https://shop.example/sale";
    if raw.len() > MAX_URL_LEN {
        return Err(format!(
            "targetUrl must be at most {MAX_URL_LEN} characters"
        ));
    }
    let url = url::Url::parse(raw).map_err(|_| expected.to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(expected.into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("targetUrl must not carry credentials".into());
    }
    Ok(url.to_string())
}

/// The fields of an event's settings.
const FIELDS: [&str; 10] = [
    "capacity",
    "ratePerMinute",
    "paused",
    "targetUrl",
    "opensAt",
    "queueing",
    "endsAt",
    "sessionSeconds",
    "maxSessionSeconds",
    "graceSeconds",
];

/// Longest session accepted, with or without renewals (a day).
pub const MAX_SESSION_SECONDS: u64 = 86_400;
/// Longest grace accepted (an hour: the default retention of ended sessions).
pub const MAX_GRACE_SECONDS: u64 = 3_600;

impl SettingsRequest {
    /// Settings from a PUT body (or the console's form): every field optional, unknown
    /// fields refused, each checked with `invalid_settings` and a message naming it.
    pub fn parse(&self) -> Result<EventSettings, InvalidInput> {
        let invalid = |m: &str| InvalidInput {
            code: ErrorCode::InvalidSettings,
            message: m.to_string(),
        };
        body::refuse_unknown(&self.unknown, &FIELDS, ErrorCode::InvalidSettings)?;
        let field = |name: &str| -> Option<&Value> {
            match name {
                "capacity" => self.capacity.as_ref(),
                "ratePerMinute" => self.rate_per_minute.as_ref(),
                "paused" => self.paused.as_ref(),
                "targetUrl" => self.target_url.as_ref(),
                "opensAt" => self.opens_at.as_ref(),
                "endsAt" => self.ends_at.as_ref(),
                "sessionSeconds" => self.session_seconds.as_ref(),
                "maxSessionSeconds" => self.max_session_seconds.as_ref(),
                "graceSeconds" => self.grace_seconds.as_ref(),
                _ => self.queueing.as_ref(),
            }
        };
        // A duration of `min..=max` seconds, as ms.
        let seconds = |name: &str, min: u64, max: u64| -> Result<Option<u64>, InvalidInput> {
            match field(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| (min..=max).contains(n))
                    .map(|s| Some(s * 1_000))
                    .ok_or_else(|| {
                        invalid(&format!(
                            "{name} must be a whole number of seconds from {min} to {max}"
                        ))
                    }),
            }
        };
        let count = |name: &str, min: u64| -> Result<Option<u64>, InvalidInput> {
            match field(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .filter(|n| (min..=MAX_CAPACITY).contains(n))
                    .map(Some)
                    .ok_or_else(|| {
                        invalid(&format!(
                            "{name} must be a whole number from {min} to {MAX_CAPACITY}"
                        ))
                    }),
            }
        };
        let paused = match field("paused") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(invalid("paused must be true or false")),
        };
        let target_url = match field("targetUrl") {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) => Some(target_url(url).map_err(|m| invalid(&m))?),
            Some(_) => return Err(invalid("targetUrl must be a string")),
        };
        let opens_at_ms = match field("opensAt") {
            None | Some(Value::Null) => None,
            Some(Value::String(at)) => Some(parse_rfc3339(at).ok_or_else(|| {
                invalid("opensAt must be an RFC 3339 time such as 2026-12-01T10:00:00Z")
            })?),
            Some(_) => return Err(invalid("opensAt must be a string")),
        };
        let queueing = match field("queueing") {
            None | Some(Value::Null) => None,
            Some(Value::String(q)) => Some(
                Queueing::parse(q)
                    .ok_or_else(|| invalid("queueing must be one of fifo, draw-at-open, random"))?,
            ),
            Some(_) => return Err(invalid("queueing must be a string")),
        };
        let ends_at_ms = match field("endsAt") {
            None | Some(Value::Null) => None,
            Some(Value::String(at)) => Some(parse_rfc3339(at).ok_or_else(|| {
                invalid("endsAt must be an RFC 3339 time such as 2026-12-01T18:00:00Z")
            })?),
            Some(_) => return Err(invalid("endsAt must be a string")),
        };
        if let (Some(opens), Some(ends)) = (opens_at_ms, ends_at_ms) {
            if ends <= opens {
                return Err(invalid("endsAt must be after opensAt"));
            }
        }
        let session_ms = seconds("sessionSeconds", 10, MAX_SESSION_SECONDS)?;
        let session_cap_ms = seconds("maxSessionSeconds", 10, MAX_SESSION_SECONDS)?;
        if let (Some(length), Some(cap)) = (session_ms, session_cap_ms) {
            if cap < length {
                return Err(invalid("maxSessionSeconds must be at least sessionSeconds"));
            }
        }
        let grace_ms = seconds("graceSeconds", 0, MAX_GRACE_SECONDS)?;
        Ok(EventSettings {
            target_url,
            capacity: count("capacity", 0)?,
            rate_per_minute: count("ratePerMinute", 1)?,
            paused,
            opens_at_ms,
            queueing,
            ends_at_ms,
            session_ms,
            session_cap_ms,
            grace_ms,
        })
    }
}
