//! Admin routes under `/api/admin`, for operators steering a sale while it runs.
//!
//! Mounted only when `WAITING_ROOM_ADMIN_TOKEN` is set (otherwise the paths are 404 like
//! any unknown API route); every request needs `Authorization: Bearer <token>`, compared in
//! constant time.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::api::json_object;
use crate::domain::{EventFigures, EventHistory, EventId, Queueing};
use crate::error::AppError;
use crate::service::{parse_rfc3339, Service};
use crate::state::AppState;
use crate::store::EventSettings;

/// Largest capacity an event may be given.
pub const MAX_CAPACITY: u64 = 1_000_000;

pub fn router(token: &str) -> Router<AppState> {
    let token: Arc<[u8]> = token.as_bytes().into();
    Router::new()
        .route("/api/admin/events", get(list))
        .route("/api/admin/events/{id}", get(show).put(replace))
        .route("/api/admin/events/{id}/pause", post(pause))
        .route("/api/admin/events/{id}/resume", post(resume))
        .route("/api/admin/events/{id}/history", get(history))
        .route(
            "/api/admin/events/{id}/message",
            axum::routing::put(post_message).delete(take_down_message),
        )
        .route("/api/admin/sessions/{id}", delete(revoke))
        .route_layer(middleware::from_fn_with_state(token, require_token))
        .method_not_allowed_fallback(super::api::method_not_allowed)
}

async fn require_token(State(token): State<Arc<[u8]>>, request: Request, next: Next) -> Response {
    let given = super::api::bearer(request.headers()).unwrap_or_default();
    if bool::from(given.as_bytes().ct_eq(&token)) {
        return next.run(request).await;
    }
    let mut response = AppError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
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
#[derive(Debug, Serialize)]
pub struct EventsPage {
    pub events: Vec<EventFigures>,
    /// The `after` of the next page; null on the last.
    pub next: Option<EventId>,
}

/// `GET /api/admin/events?limit=&after=`: a page of events in id order, with settings and
/// figures; `next` is the `after` of the next page (null on the last).
async fn list(
    State(service): State<Service>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<EventsPage>, AppError> {
    let invalid = |m: &str| AppError::bad_request("invalid_query", m);
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
async fn show(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.event(&event).await?))
}

/// `GET /api/admin/events/{id}/history?minutes=`: the figures now and the samples of the
/// line over the last `minutes` (1 to 60, default 60).
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
                    "invalid_query",
                    "minutes must be a whole number from 1 to 60",
                )
            })?,
    };
    Ok(Json(service.history(&event, minutes).await?))
}

/// `PUT /api/admin/events/{id}/message {"text"}`: posts the message the people waiting
/// see (it replaces any earlier one).
async fn post_message(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let body = json_object(&headers, body)?;
    let invalid = |m: &str| AppError::bad_request("invalid_message", m);
    if let Some(unknown) = body.keys().find(|k| k.as_str() != "text") {
        return Err(invalid(&format!(
            "unknown field {unknown:?}; expected text"
        )));
    }
    let Some(Value::String(text)) = body.get("text") else {
        return Err(invalid("text must be a string"));
    };
    Ok(Json(service.set_message(&event, Some(text)).await?))
}

/// `DELETE /api/admin/events/{id}/message`: takes the message down.
async fn take_down_message(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    Ok(Json(service.set_message(&event, None).await?))
}

/// `PUT /api/admin/events/{id} {"capacity"?, "ratePerMinute"?, "paused"?, "targetUrl"?}`:
/// creates the event or replaces its settings (a missing field means the default:
/// configured capacity, no rate, running, no shop).
async fn replace(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<EventFigures>, AppError> {
    let event = event_id(id)?;
    let settings = parse_settings(&json_object(&headers, body)?)?;
    Ok(Json(service.put_settings(&event, &settings).await?))
}

/// `POST /api/admin/events/{id}/pause`: no admissions; joins and positions go on.
async fn pause(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<EventFigures>, AppError> {
    set_paused(service, id, true).await
}

/// `POST /api/admin/events/{id}/resume`.
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
async fn revoke(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = super::api::session_id(id)?;
    Ok(Json(service.leave(sid).await?).into_response())
}

fn event_id(id: Result<Path<String>, PathRejection>) -> Result<EventId, AppError> {
    let Path(id) = id.map_err(|e| AppError::bad_request("invalid_event_id", e.body_text()))?;
    Ok(EventId::parse(&id)?)
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
const FIELDS: [&str; 6] = [
    "capacity",
    "ratePerMinute",
    "paused",
    "targetUrl",
    "opensAt",
    "queueing",
];

/// Settings from a PUT body; every field optional, unknown fields refused.
pub fn parse_settings(body: &Map<String, Value>) -> Result<EventSettings, AppError> {
    let invalid = |m: &str| AppError::bad_request("invalid_settings", m);
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(&format!(
            "unknown field {unknown:?}; expected one of {}",
            FIELDS.join(", ")
        )));
    }
    let count = |name: &str, min: u64| -> Result<Option<u64>, AppError> {
        match body.get(name) {
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
    let paused = match body.get("paused") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("paused must be true or false")),
    };
    let target_url = match body.get("targetUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(target_url(url).map_err(|m| invalid(&m))?),
        Some(_) => return Err(invalid("targetUrl must be a string")),
    };
    let opens_at_ms = match body.get("opensAt") {
        None | Some(Value::Null) => None,
        Some(Value::String(at)) => Some(parse_rfc3339(at).ok_or_else(|| {
            invalid("opensAt must be an RFC 3339 time such as 2026-12-01T10:00:00Z")
        })?),
        Some(_) => return Err(invalid("opensAt must be a string")),
    };
    let queueing = match body.get("queueing") {
        None | Some(Value::Null) => None,
        Some(Value::String(q)) => Some(
            Queueing::parse(q)
                .ok_or_else(|| invalid("queueing must be one of fifo, draw-at-open, random"))?,
        ),
        Some(_) => return Err(invalid("queueing must be a string")),
    };
    Ok(EventSettings {
        target_url,
        capacity: count("capacity", 0)?,
        rate_per_minute: count("ratePerMinute", 1)?,
        paused,
        opens_at_ms,
        queueing,
    })
}
