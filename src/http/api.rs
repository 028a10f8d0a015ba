//! The JSON routes for curl users and other programs, under `/api/waiting-room`.
//!
//! Bodies are parsed by hand from bytes so that every way a request can be wrong gets
//! the one JSON error shape (see [`crate::error`]), never axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use crate::domain::{EventId, InvalidInput, SessionId, UserId};
use crate::error::AppError;
use crate::service::{JoinOutcome, Proof, Service};
use crate::state::AppState;
use crate::visitor::{cookie_value, PASS_COOKIE, VISITOR_PREFIX};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Where joins are posted.
pub const JOIN_PATH: &str = "/api/waiting-room/sessions";
/// Where the public keys of passes are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(JOIN_PATH, post(join))
        .route("/api/waiting-room/sessions/{id}", get(status).delete(leave))
        .route("/api/waiting-room/tokens/verify", post(verify))
        .route("/api/waiting-room/gate/{id}", get(gate))
        .route("/api/waiting-room/events/{id}/draw", get(draw))
        .route(JWKS_PATH, get(jwks))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(|| async { Json(super::openapi::document()) }),
        )
        .route("/api/{*rest}", any(no_such_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The gate's fast lane (see [`super::serve`]): a check that memory can decide is
/// answered before the router, with no router, state or service clone; the rest (keys not
/// loaded yet, an event never guarded here, a malformed id) goes to the `gate` route.
pub fn gate_fast_lane(service: Service) -> super::serve::FastLane {
    std::sync::Arc::new(move |request| {
        let id = request.uri().path().strip_prefix(GATE_PREFIX)?;
        if !(request.method() == axum::http::Method::GET && crate::domain::is_valid_name(id)) {
            return None;
        }
        let checked = service.check_pass_from_memory(id, presented_pass(request.headers()))?;
        Some(gate_answer(checked))
    })
}

/// Where the gate is asked.
const GATE_PREFIX: &str = "/api/waiting-room/gate/";

/// The pass a request to the gate carries: `Authorization: Bearer`, else the cookie.
fn presented_pass(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| cookie_value(headers, PASS_COOKIE))
}

/// The gate's answer to a check, counted: 204, or the refusal.
fn gate_answer(checked: Result<(), AppError>) -> Response {
    crate::telemetry::count_gate(checked.is_ok());
    match checked {
        Ok(()) => (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "no-store")],
        )
            .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `POST /api/waiting-room/sessions {"eventId", "userId", "sessionId"?}` → 202 with a new
/// place, or 200 with the user's existing place when `sessionId` proves it is the
/// caller's; a repeat join without that proof is 409 and discloses nothing.
async fn join(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = json_object(&headers, body)?;
    let (event, user) = parse_join(&body)?;
    let proof = match body.get("sessionId") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => Some(SessionId::parse(id)?),
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_session_id",
                "sessionId must be a string",
            ))
        }
    };
    Ok(
        match service.join(&event, &user, Proof::Session(proof)).await? {
            JoinOutcome::Created(view) => (StatusCode::ACCEPTED, Json(view)).into_response(),
            JoinOutcome::Existing(view) => (StatusCode::OK, Json(view)).into_response(),
        },
    )
}

/// `?round=N` of the draw route.
#[derive(Debug, serde::Deserialize)]
pub struct DrawQuery {
    round: Option<u64>,
}

/// `GET /api/waiting-room/events/{id}/draw[?round=N]` → a draw once made (the first
/// unless `round` says otherwise): its seed, the algorithm and the digest of its order,
/// from which anyone can check the order (README, "A fair start"). 404 `not_drawn` before.
async fn draw(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<DrawQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|e| AppError::bad_request("invalid_event_id", e.body_text()))?;
    let event = EventId::parse(&id)?;
    let round = query
        .ok()
        .map(|Query(q)| q.round.unwrap_or(1))
        .filter(|&round| round > 0)
        .ok_or_else(|| {
            AppError::bad_request("invalid_round", "round must be a whole number from 1")
        })?;
    let Some((d, digest)) = service.draw(&event, round).await? else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "not_drawn",
            "no such draw: the event has not opened yet, or has no draw of that round",
        ));
    };
    Ok(Json(json!({
        "eventId": event,
        "round": d.round,
        "seed": d.seed,
        "algorithm": crate::draw::ALGORITHM,
        "drawnAt": crate::service::rfc3339(d.at_ms),
        "firstJoin": d.lo + 1,
        "lastJoin": d.lo + d.n,
        "count": d.n,
        "orderDigest": digest,
    }))
    .into_response())
}

/// `GET /api/waiting-room/sessions/{id}` → the session view (and a heartbeat).
async fn status(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = session_id(id)?;
    Ok(Json(service.status(sid).await?).into_response())
}

/// `DELETE /api/waiting-room/sessions/{id}` → the session view, now LEFT (idempotent).
async fn leave(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = session_id(id)?;
    Ok(Json(service.leave(sid).await?).into_response())
}

/// `POST /api/waiting-room/tokens/verify {"token", "eventId"}` → `{"valid": true,
/// "claims"}` when the pass opens that event's door now, else `{"valid": false, "reason"}`.
async fn verify(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = json_object(&headers, body)?;
    let token = string_field(&body, "token", "invalid_token_field")?;
    let event = EventId::parse(string_field(&body, "eventId", "invalid_event_id")?)?;
    let answer = match service.verify_pass(&event, token).await? {
        Ok(claims) => json!({ "valid": true, "claims": claims }),
        Err(reason) => json!({ "valid": false, "reason": reason }),
    };
    Ok(Json(answer).into_response())
}

/// `GET /api/waiting-room/gate/{eventId}`: 204 when the request carries a pass that opens
/// this event's door (the `vestibule_pass` cookie or `Authorization: Bearer`), else 401.
/// For proxies that ask before every request to the shop (nginx `auth_request`, Traefik
/// ForwardAuth, Caddy `forward_auth`). Most checks never get here: the fast lane answers
/// them from memory; this route takes the rest, which may read Redis once.
async fn gate(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let Path(id) = id.map_err(|e| AppError::bad_request("invalid_event_id", e.body_text()))?;
    let event = EventId::parse(&id)?;
    let checked = service
        .check_pass(&event, presented_pass(request.headers()))
        .await;
    Ok(gate_answer(checked))
}

/// `GET /.well-known/jwks.json`: the public keys of passes (current and retired).
async fn jwks(State(service): State<Service>) -> Result<Response, AppError> {
    let secrets = service.secrets().await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(secrets.keyring.jwks().clone()),
    )
        .into_response())
}

/// The credentials of `Authorization: Bearer <credentials>` (the scheme in any case).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, credentials) = value.split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

/// `GET /healthz`: the process is up.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: Redis answers and the granter passed recently; else 503.
async fn readyz(State(state): State<AppState>) -> Response {
    let redis = state.service.store().ping().await.is_ok();
    let granter = state.granter.is_recent(crate::clock::now_ms());
    let body = Json(json!({
        "status": if redis && granter { "ready" } else { "not_ready" },
        "redis": redis,
        "granter": granter,
    }));
    if redis && granter {
        (StatusCode::OK, body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// `GET /metrics`: Prometheus text format; with `WAITING_ROOM_METRICS_TOKEN` set, only
/// with `Authorization: Bearer <token>`.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token {
        let given = bearer(&headers).unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            token.as_bytes(),
        )) {
            return AppError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "metrics need Authorization: Bearer <WAITING_ROOM_METRICS_TOKEN>",
            )
            .into_response();
        }
    }
    let handle = crate::telemetry::metrics_handle();
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

async fn no_such_route() -> AppError {
    AppError::new(StatusCode::NOT_FOUND, "not_found", "no such API route")
}

pub(crate) async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

pub(crate) fn session_id(id: Result<Path<String>, PathRejection>) -> Result<SessionId, AppError> {
    let Path(id) = id.map_err(|e| AppError::bad_request("invalid_session_id", e.body_text()))?;
    Ok(SessionId::parse(&id)?)
}

/// Checks the content type and size, and parses the body as a JSON object.
pub fn json_object(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, AppError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with content-type: application/json",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body must be at most {MAX_BODY_BYTES} bytes"),
            )
        } else {
            AppError::bad_request("unreadable_body", e.body_text())
        }
    })?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AppError::bad_request(
            "invalid_body",
            "the body must be a JSON object",
        )),
        Err(e) => Err(AppError::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )),
    }
}

fn string_field<'a>(
    body: &'a Map<String, Value>,
    name: &str,
    code: &'static str,
) -> Result<&'a str, InvalidInput> {
    match body.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(InvalidInput {
            code,
            message: format!("{name} must be a string"),
        }),
        None => Err(InvalidInput {
            code,
            message: format!("{name} is required"),
        }),
    }
}

/// The two fields of a join body, validated. User ids of the page's visitors
/// (`visitor:…`) are not for JSON callers.
pub fn parse_join(body: &Map<String, Value>) -> Result<(EventId, UserId), InvalidInput> {
    let event = EventId::parse(string_field(body, "eventId", "invalid_event_id")?)?;
    let user = UserId::parse(string_field(body, "userId", "invalid_user_id")?)?;
    if user.as_str().starts_with(VISITOR_PREFIX) {
        return Err(InvalidInput {
            code: "invalid_user_id",
            message: format!("userId may not start with {VISITOR_PREFIX:?} (the page's visitors)"),
        });
    }
    Ok((event, user))
}
