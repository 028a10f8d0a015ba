//! The JSON routes for curl users and other programs, under `/api/waiting-room`.
//!
//! Bodies are read by [`super::body::JsonBody`] into types that are both their parser and
//! their schema, so that every way a request can be wrong gets the one JSON error shape
//! (see [`crate::error`]) and a code naming the field, never axum's plain-text rejections.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::body::{self, Field, JsonBody};
use crate::challenge::{CHALLENGE_HEADER, SOLUTION_HEADER};
use crate::client::ClientLimiter;
use crate::domain::ErrorCode;
use crate::domain::{EventId, InvalidInput, SessionId, SessionView, UserId};
use crate::entry::{ACCOUNT_PREFIX, MAX_TOKEN_LEN};
use crate::error::{AppError, ErrorBody};
use crate::service::{JoinOutcome, Proof, Service, ServiceError};
use crate::state::AppState;
use crate::visitor::{cookie_value, is_https, PASS_COOKIE, VISITOR_PREFIX};

pub use super::body::MAX_BODY_BYTES;
pub use crate::client::bearer;
/// Where joins are posted.
pub const JOIN_PATH: &str = "/api/waiting-room/sessions";
/// Where the public keys of passes are published.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The routes, each with its OpenAPI operation (`#[utoipa::path]` on its handler).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(join)).merge(others())
}

/// Every route but the join.
fn others() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status, leave))
        .routes(routes!(verify))
        .routes(routes!(gate))
        .routes(routes!(checkout))
        .routes(routes!(draw))
        .routes(routes!(jwks))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

/// The routes as served: with the catch-all 404 for unknown API paths and the limits (the
/// join limit a layer of the join route alone). A server answers JSON joins in its join
/// lane ([`join_lane`], the same checks and answers) before the router sees them; the
/// route answers a router used without that lane.
pub fn router(joins: ClientLimiter) -> Router<AppState> {
    let (join, _) = OpenApiRouter::new().routes(routes!(join)).split_for_parts();
    let (router, _) = others().split_for_parts();
    router
        .merge(join.route_layer(axum::middleware::from_fn_with_state(
            joins,
            super::limits::limit_joins,
        )))
        .route("/api/{*rest}", any(no_such_route))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The gate's fast lane (see [`super::serve`]): a check that memory can decide is
/// answered before the router, with no router, state or service clone; the rest (keys not
/// loaded yet, an event never guarded here, a malformed id) goes to the `gate` route. Its
/// answers skip the router's layers, so they get the default headers here, as routed ones
/// do ([`super::browser::with_default_headers`]).
pub fn gate_fast_lane(service: &Service, request: &hyper::Request<Incoming>) -> Option<Response> {
    let id = request.uri().path().strip_prefix(GATE_PREFIX)?;
    if !(request.method() == axum::http::Method::GET && crate::domain::is_valid_name(id)) {
        return None;
    }
    let checked = service.check_pass_from_memory(id, presented_pass(request.headers()))?;
    Some(super::browser::with_default_headers(gate_answer(checked)))
}

/// Where the gate is asked.
const GATE_PREFIX: &str = "/api/waiting-room/gate/";

/// The pass a request to the gate carries: `Authorization: Bearer`, else the cookie.
fn presented_pass(headers: &HeaderMap) -> Option<&str> {
    bearer(headers).or_else(|| cookie_value(headers, PASS_COOKIE))
}

/// The gate's answer to a check, counted: 204, or the refusal.
fn gate_answer(checked: Result<(), ServiceError>) -> Response {
    crate::telemetry::count_gate(checked.is_ok());
    match checked {
        Ok(()) => (
            StatusCode::NO_CONTENT,
            [(header::CACHE_CONTROL, "no-store")],
        )
            .into_response(),
        Err(refused) => AppError::from(refused).into_response(),
    }
}

/// The body of a join: its schema, and its parser ([`JoinRequest::parse`]).
#[derive(Debug, Default, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct JoinRequest {
    /// 1-64 characters of `[A-Za-z0-9._:-]`.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9._:-]{1,64}$")]
    #[serde(default)]
    pub event_id: Field,
    /// 1-64 characters of `[A-Za-z0-9._:-]`, not starting with `visitor:` (the page's
    /// visitors) or `account:` (the shop's accounts). Required unless `enqueueToken` is
    /// given, and not with it.
    #[schema(value_type = Option<String>, pattern = "^[A-Za-z0-9._:-]{1,64}$")]
    #[serde(default)]
    pub user_id: Field,
    /// Proof of an existing place: a repeat join without it is 409.
    #[schema(value_type = Option<String>, format = "uuid")]
    #[serde(default)]
    pub session_id: Field,
    /// For an event with `entry: token`: the shop's signed token for one of its accounts
    /// (README, "Bots and accounts"); the place is the account's (`account:<sub>`).
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub enqueue_token: Field,
}

/// Who joins: a user the caller names, or the account a token vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Joiner {
    User(UserId),
    Token(String),
}

impl JoinRequest {
    /// The event, who joins and the proof of an existing place, each checked with its own
    /// code. User ids of the page's visitors (`visitor:…`) and of accounts (`account:…`)
    /// are not for JSON callers to name.
    pub fn parse(self) -> Result<(EventId, Joiner, Option<SessionId>), InvalidInput> {
        let event = EventId::parse(&body::string(
            &self.event_id,
            "eventId",
            ErrorCode::InvalidEventId,
        )?)?;
        let joiner = match &self.enqueue_token {
            None | Some(Value::Null) => {
                let user = UserId::parse(&body::string(
                    &self.user_id,
                    "userId",
                    ErrorCode::InvalidUserId,
                )?)?;
                for (prefix, whose) in [
                    (VISITOR_PREFIX, "the page's visitors"),
                    (ACCOUNT_PREFIX, "accounts with an enqueue token"),
                ] {
                    if user.as_str().starts_with(prefix) {
                        return Err(InvalidInput {
                            code: ErrorCode::InvalidUserId,
                            message: format!("userId may not start with {prefix:?} ({whose})"),
                        });
                    }
                }
                Joiner::User(user)
            }
            Some(Value::String(_)) if !matches!(self.user_id, None | Some(Value::Null)) => {
                return Err(InvalidInput {
                    code: ErrorCode::InvalidUserId,
                    message: "give userId or enqueueToken, not both: with a token the place is \
                              its account's"
                        .into(),
                });
            }
            Some(Value::String(token)) if !token.is_empty() && token.len() <= MAX_TOKEN_LEN => {
                Joiner::Token(token.clone())
            }
            Some(_) => {
                return Err(InvalidInput {
                    code: ErrorCode::InvalidEnqueueToken,
                    message: format!(
                        "enqueueToken must be a string of 1 to {MAX_TOKEN_LEN} characters"
                    ),
                })
            }
        };
        let proof = match &self.session_id {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(SessionId::parse(id)?),
            Some(_) => {
                return Err(InvalidInput {
                    code: ErrorCode::InvalidSessionId,
                    message: "sessionId must be a string".into(),
                })
            }
        };
        Ok((event, joiner, proof))
    }
}

/// `POST /api/waiting-room/sessions {"eventId", "userId" | "enqueueToken", "sessionId"?}` →
/// 202 with a new place, or 200 with the user's existing place when `sessionId` proves it
/// is the caller's; a repeat join without that proof is 409 and discloses nothing.
#[utoipa::path(post, path = "/api/waiting-room/sessions", tag = "visitors",
    summary = "Join an event's line",
    request_body = JoinRequest,
    responses(
        (status = 202, description = "A new place in line", body = SessionView),
        (status = 200, description = "The user's existing live session for the event (the request's sessionId proved it)", body = SessionView),
        (status = 400, description = "Invalid JSON or field; or an enqueueToken for an event that takes none (no_tokens)", body = ErrorBody),
        (status = 401, description = "The event takes only the shop's accounts: no enqueueToken (token_required), or one that does not hold (invalid_enqueue_token)", body = ErrorBody),
        (status = 404, description = "Unknown event (WAITING_ROOM_EVENTS=registered)", body = ErrorBody),
        (status = 409, description = "The user already has a place and the request did not prove it is theirs", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 428, description = "A challenge is in force and the request's Vestibule-Solution header is missing, wrong, expired, spent, or for another event or caller (challenge_required); a fresh challenge is in the Vestibule-Challenge header", body = ErrorBody,
            headers(("Vestibule-Challenge" = String, description = "base64url of the challenge's JSON (ALTCHA v2, SHA-256)"))),
        (status = 429, description = "Too many joins from this address", body = ErrorBody),
        (status = 503, description = "Redis unavailable; retry after Retry-After", body = ErrorBody),
    ))]
async fn join(
    State(service): State<Service>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<JoinRequest>,
) -> Result<Response, AppError> {
    answer_join(&service, body, solution(&headers)).await
}

/// The `Vestibule-Solution` header, if any.
fn solution(headers: &HeaderMap) -> Option<String> {
    headers
        .get(SOLUTION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn answer_join(
    service: &Service,
    body: JoinRequest,
    solution: Option<String>,
) -> Result<Response, AppError> {
    let (event, joiner, proof) = body.parse()?;
    let user = match joiner {
        Joiner::User(user) => user,
        Joiner::Token(token) => service.account(&event, &token).await?,
    };
    let nonce = match service
        .check_payment(&event, user.as_str(), solution.as_deref())
        .await
    {
        Ok(nonce) => nonce,
        Err((refusal, challenge)) => return Ok(pay_first(refusal.to_string(), &challenge)),
    };
    // The solution's nonce is spent by the join itself, in the same step.
    let joined = service
        .join_paying(&event, &user, Proof::Session(proof), nonce.as_deref())
        .await;
    Ok(match joined {
        Ok(JoinOutcome::Created(view)) => (StatusCode::ACCEPTED, Json(view)).into_response(),
        Ok(JoinOutcome::Existing(view)) => (StatusCode::OK, Json(view)).into_response(),
        Err(ServiceError::SolutionSpent) => {
            let challenge = service
                .fresh_challenge(&event, user.as_str())
                .await
                .unwrap_or_default();
            pay_first(ServiceError::SolutionSpent.to_string(), &challenge)
        }
        Err(e) => return Err(e.into()),
    })
}

/// `428 challenge_required` with a fresh challenge in the `Vestibule-Challenge` header.
fn pay_first(message: String, challenge: &str) -> Response {
    let mut response = AppError::new(
        StatusCode::PRECONDITION_REQUIRED,
        ErrorCode::ChallengeRequired,
        message,
    )
    .into_response();
    match header::HeaderValue::from_str(challenge) {
        Ok(value) if !challenge.is_empty() => {
            response.headers_mut().insert(CHALLENGE_HEADER, value);
        }
        _ => {}
    }
    response
}

/// What the join lane needs: the service and the join's limits.
pub struct JoinLane {
    pub service: Service,
    pub limiter: ClientLimiter,
    pub deadline: std::time::Duration,
}

/// Whether the server's join lane takes the request: `POST` [`JOIN_PATH`].
pub fn is_json_join(request: &hyper::Request<Incoming>) -> bool {
    request.method() == axum::http::Method::POST && request.uri().path() == JOIN_PATH
}

/// The JSON join without the router (see [`super::fast`]): what the `join` route and its
/// layers do, in one task: the join limit (429), the request deadline (503), the body's
/// checks (400/413/415), the join, the default headers and the latency histogram. The
/// route stays for the OpenAPI document, and answers the same.
pub async fn join_lane(
    lane: std::sync::Arc<JoinLane>,
    request: hyper::Request<Incoming>,
    peer: std::net::SocketAddr,
) -> Response {
    let started = std::time::Instant::now();
    let response = match super::limits::refuse_json_join(&lane.limiter, peer, request.headers()) {
        Some(refused) => refused,
        None => {
            super::limits::within(lane.deadline, async {
                let solution = solution(request.headers());
                match body::read_json::<JoinRequest>(request).await {
                    Ok(body) => answer_join(&lane.service, body, solution)
                        .await
                        .unwrap_or_else(IntoResponse::into_response),
                    Err(refused) => refused.into_response(),
                }
            })
            .await
        }
    };
    crate::telemetry::record_http(JOIN_PATH, "POST", response.status().as_u16(), started);
    super::browser::with_default_headers(response)
}

/// `?round=N` of the draw route.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DrawQuery {
    /// Which draw (1 = the opening's).
    #[param(minimum = 1, default = 1)]
    round: Option<u64>,
}

/// A draw, as published.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DrawAnswer {
    event_id: EventId,
    #[schema(minimum = 1)]
    round: u64,
    /// 64 hex digits, drawn at the draw.
    seed: String,
    /// `vestibule-feistel-sha1-v1`.
    algorithm: &'static str,
    #[schema(format = DateTime)]
    drawn_at: Option<String>,
    first_join: u64,
    last_join: u64,
    count: u64,
    /// `sha256:` of the join numbers in the order drawn, each in decimal followed by a
    /// newline.
    order_digest: String,
}

/// `GET /api/waiting-room/events/{id}/draw[?round=N]` → a draw once made (the first
/// unless `round` says otherwise): its seed, the algorithm and the digest of its order,
/// from which anyone can check the order (README, "A fair start"). 404 `not_drawn` before.
#[utoipa::path(get, path = "/api/waiting-room/events/{id}/draw", tag = "visitors",
    summary = "A draw of the event, once made: seed, algorithm and digest of the order",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]"), DrawQuery),
    responses(
        (status = 200, description = "The draw", body = DrawAnswer),
        (status = 400, description = "Bad event id or round", body = ErrorBody),
        (status = 404, description = "No such draw yet (not_drawn)", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn draw(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<DrawQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Path(id) =
        id.map_err(|e| AppError::bad_request(ErrorCode::InvalidEventId, e.body_text()))?;
    let event = EventId::parse(&id)?;
    let round = query
        .ok()
        .map(|Query(q)| q.round.unwrap_or(1))
        .filter(|&round| round > 0)
        .ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::InvalidRound,
                "round must be a whole number from 1",
            )
        })?;
    let Some((d, digest)) = service.draw(&event, round).await? else {
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotDrawn,
            "no such draw: the event has not opened yet, or has no draw of that round",
        ));
    };
    Ok(Json(DrawAnswer {
        event_id: event,
        round: d.round,
        seed: d.seed,
        algorithm: crate::draw::ALGORITHM,
        drawn_at: crate::service::rfc3339(d.at_ms),
        first_join: d.lo + 1,
        last_join: d.lo + d.n,
        count: d.n,
        order_digest: digest,
    })
    .into_response())
}

/// `GET /api/waiting-room/sessions/{id}` → the session view (and a heartbeat).
#[utoipa::path(get, path = "/api/waiting-room/sessions/{id}", tag = "visitors",
    summary = "Where a session stands (polling is its heartbeat)",
    params(("id" = String, Path, description = "The session id (a UUID)")),
    responses(
        (status = 200, description = "The session", body = SessionView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn status(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = session_id(id)?;
    Ok(Json(service.status(sid).await?).into_response())
}

/// `DELETE /api/waiting-room/sessions/{id}` → the session view, now LEFT (idempotent).
#[utoipa::path(delete, path = "/api/waiting-room/sessions/{id}", tag = "visitors",
    summary = "Leave the line or give the slot back (idempotent)",
    params(("id" = String, Path, description = "The session id (a UUID)")),
    responses(
        (status = 200, description = "The session, now LEFT", body = SessionView),
        (status = 400, description = "Malformed id", body = ErrorBody),
        (status = 404, description = "Unknown session", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn leave(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, AppError> {
    let sid = session_id(id)?;
    Ok(Json(service.leave(sid).await?).into_response())
}

/// The body of a verification: its schema, and its parser.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// A pass (the `accessToken` of an ACTIVE session).
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    token: Field,
    #[schema(value_type = String, required = true)]
    #[serde(default)]
    event_id: Field,
}

impl VerifyRequest {
    fn parse(self) -> Result<(String, EventId), InvalidInput> {
        let token = body::string(&self.token, "token", ErrorCode::InvalidTokenField)?;
        let event = EventId::parse(&body::string(
            &self.event_id,
            "eventId",
            ErrorCode::InvalidEventId,
        )?)?;
        Ok((token, event))
    }
}

/// Whether a pass opens an event's door now.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    valid: bool,
    /// Why not, when not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The pass's claims (aud = eventId, sub = jti = sessionId, iat, exp), when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    claims: Option<crate::passes::Claims>,
}

/// `POST /api/waiting-room/tokens/verify {"token", "eventId"}` → `{"valid": true,
/// "claims"}` when the pass opens that event's door now, else `{"valid": false, "reason"}`.
#[utoipa::path(post, path = "/api/waiting-room/tokens/verify", tag = "shops",
    summary = "Check that a pass opens an event's door now",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "{valid: true, claims} or {valid: false, reason}", body = Verification),
        (status = 400, description = "No token or eventId field", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 503, description = "Redis unavailable (keys or revocations not loaded yet)", body = ErrorBody),
    ))]
async fn verify(
    State(service): State<Service>,
    JsonBody(body): JsonBody<VerifyRequest>,
) -> Result<Response, AppError> {
    let (token, event) = body.parse()?;
    let answer = match service.verify_pass(&event, &token).await? {
        Ok(claims) => Verification {
            valid: true,
            reason: None,
            claims: Some(claims),
        },
        Err(reason) => Verification {
            valid: false,
            reason: Some(reason),
            claims: None,
        },
    };
    Ok(Json(answer).into_response())
}

/// `GET /api/waiting-room/gate/{eventId}`: 204 when the request carries a pass that opens
/// this event's door (the `vestibule_pass` cookie or `Authorization: Bearer`), else 401.
/// For proxies that ask before every request to the shop (nginx `auth_request`, Traefik
/// ForwardAuth, Caddy `forward_auth`). Most checks never get here: the fast lane answers
/// them from memory; this route takes the rest, which may read Redis once.
#[utoipa::path(get, path = "/api/waiting-room/gate/{id}", tag = "shops",
    summary = "The door: does this request carry a pass for the event?",
    description = "For nginx auth_request, Traefik ForwardAuth and Caddy forward_auth. The pass comes from the vestibule_pass cookie or Authorization: Bearer. Answered from memory; a pass whose session ended stops opening within a second.",
    params(("id" = String, Path, description = "The event id: 1-64 characters of [A-Za-z0-9._:-]")),
    security(("pass" = []), ("passCookie" = [])),
    responses(
        (status = 204, description = "The pass opens this event's door"),
        (status = 400, description = "Bad event id", body = ErrorBody),
        (status = 401, description = "No pass, or a pass that is invalid, expired, revoked or for another event", body = ErrorBody),
        (status = 503, description = "Redis unavailable (keys or revocations not loaded yet)", body = ErrorBody),
    ))]
async fn gate(
    State(service): State<Service>,
    id: Result<Path<String>, PathRejection>,
    request: axum::extract::Request,
) -> Result<Response, AppError> {
    let Path(id) =
        id.map_err(|e| AppError::bad_request(ErrorCode::InvalidEventId, e.body_text()))?;
    let event = EventId::parse(&id)?;
    let checked = service
        .check_pass(&event, presented_pass(request.headers()))
        .await;
    let renewed = match &checked {
        Ok(Some(pass)) => Some(pass.clone()),
        _ => None,
    };
    let mut answer = gate_answer(checked.map(|_| ()));
    if let Some(pass) = renewed {
        // The renewed pass for the buyer's cookie: the proxy passes it on (nginx:
        // auth_request_set and add_header; README, "Sessions that follow the buyer").
        let secrets = service.secrets().await?;
        let seconds = pass_seconds_left(&service, &pass);
        let cookie = secrets
            .cookies
            .pass(&pass, seconds, is_https(request.headers()));
        answer.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(answer)
}

/// Seconds a pass has left (its cookie's lifetime).
fn pass_seconds_left(service: &Service, pass: &str) -> u64 {
    let exp = pass
        .split('.')
        .nth(1)
        .and_then(|claims| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .ok()
        })
        .and_then(|json| serde_json::from_slice::<crate::passes::Claims>(&json).ok())
        .map_or(0, |c| c.exp);
    exp.saturating_sub(service.now() / 1_000)
}

/// `POST /api/waiting-room/checkout`: the shop's checkout is done (the buyer paid, or left
/// the checkout). The pass (`Authorization: Bearer`, or the `vestibule_pass` cookie) is the
/// credential: its session ends, and its slot goes to the next person at once. Answers the
/// session, now `LEFT`, and removes the pass cookie.
#[utoipa::path(post, path = "/api/waiting-room/checkout", tag = "shops",
    summary = "The buyer is done: end the session of this pass",
    security(("pass" = []), ("passCookie" = [])),
    responses(
        (status = 200, description = "The session, ended (LEFT); its slot goes to the next person", body = SessionView),
        (status = 401, description = "No pass, or one the room did not sign", body = ErrorBody),
        (status = 404, description = "The pass's session is gone (purged)", body = ErrorBody),
        (status = 503, description = "Redis unavailable", body = ErrorBody),
    ))]
async fn checkout(
    State(service): State<Service>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let view = service.checkout(presented_pass(&headers)).await?;
    let secrets = service.secrets().await?;
    let mut answer = Json(view).into_response();
    answer.headers_mut().insert(
        header::SET_COOKIE,
        secrets.cookies.clear_pass(is_https(&headers)),
    );
    Ok(answer)
}

/// `GET /.well-known/jwks.json`: the public keys of passes (current and retired).
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "shops",
    summary = "The public keys of passes (Ed25519, current and retired)",
    responses(
        (status = 200, description = "A JWK set: {keys: [{kty: OKP, crv: Ed25519, x, kid, alg: EdDSA, use: sig}]}", body = Object),
        (status = 503, description = "Redis unavailable (keys not loaded yet)", body = ErrorBody),
    ))]
async fn jwks(State(service): State<Service>) -> Result<Response, AppError> {
    let secrets = service.secrets().await?;
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(secrets.keyring.jwks().clone()),
    )
        .into_response())
}

/// What `/healthz` and `/readyz` say.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthAnswer {
    /// `ok` (healthz), `ready` or `not_ready` (readyz).
    status: &'static str,
    /// Redis answers (readyz).
    #[serde(skip_serializing_if = "Option::is_none")]
    redis: Option<bool>,
    /// The granter passed recently (readyz).
    #[serde(skip_serializing_if = "Option::is_none")]
    granter: Option<bool>,
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "operations", summary = "The process is up",
    responses((status = 200, description = "{status: ok}", body = HealthAnswer)))]
async fn healthz() -> Json<HealthAnswer> {
    Json(HealthAnswer {
        status: "ok",
        redis: None,
        granter: None,
    })
}

/// `GET /readyz`: Redis answers and the granter passed recently; else 503.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    summary = "Redis answers and the granter ran recently",
    responses(
        (status = 200, description = "Ready", body = HealthAnswer),
        (status = 503, description = "Not ready", body = HealthAnswer),
    ))]
async fn readyz(State(state): State<AppState>) -> Response {
    let redis = state.service.store().ping().await.is_ok();
    let granter = state.granter.is_recent(crate::clock::now_ms());
    let body = Json(HealthAnswer {
        status: if redis && granter {
            "ready"
        } else {
            "not_ready"
        },
        redis: Some(redis),
        granter: Some(granter),
    });
    if redis && granter {
        (StatusCode::OK, body).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// `GET /metrics`: Prometheus text format; with `WAITING_ROOM_METRICS_TOKEN` set, only
/// with `Authorization: Bearer <token>`, wrong tokens counted against the client's budget
/// of failed tries (429 once over it, before the token is compared).
#[utoipa::path(get, path = "/metrics", tag = "operations", summary = "Prometheus metrics",
    security(("metrics" = [])),
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "WAITING_ROOM_METRICS_TOKEN is set and the request lacks it", body = ErrorBody),
        (status = 429, description = "WAITING_ROOM_METRICS_TOKEN is set and this address sent too many wrong tokens (also answered to the right token while it lasts); retry after Retry-After", body = ErrorBody),
    ))]
async fn metrics(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = &state.metrics_token {
        let peer = crate::client::peer(&extensions);
        match state.failures.bearer_is(peer, &headers, token) {
            Ok(true) => {}
            Ok(false) => {
                return AppError::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthorized,
                    "metrics need Authorization: Bearer <WAITING_ROOM_METRICS_TOKEN>",
                )
                .into_response()
            }
            Err(wait) => return super::limits::too_many_failures(wait),
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
    AppError::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such API route",
    )
}

pub(crate) async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "this route does not accept that method",
    )
}

pub(crate) fn session_id(id: Result<Path<String>, PathRejection>) -> Result<SessionId, AppError> {
    let Path(id) =
        id.map_err(|e| AppError::bad_request(ErrorCode::InvalidSessionId, e.body_text()))?;
    Ok(SessionId::parse(&id)?)
}
