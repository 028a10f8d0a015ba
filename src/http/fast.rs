//! The server's fast lane (see [`super::serve`]): what is answered from memory before the
//! router sees the request. The gate's checks ([`super::api::gate_fast_lane`]) and polls of
//! waiting sessions that this process remembers, while their event's snapshot is fresh
//! ([`Service::status_from_memory`]): the hottest requests of an on-sale. Anything else,
//! and whatever memory cannot answer, goes to the router, which answers the same way (with
//! Redis when needed). Fast-lane answers skip the router's layers: they get the same
//! default headers, and are counted in `vestibule_status_polls_total` /
//! `vestibule_gate_checks_total` but not in the request-duration histogram.

use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper::body::Incoming;

use super::serve::FastLane;
use super::{api, browser};
use crate::domain::SessionId;
use crate::service::Service;

/// Where a session is polled: `GET /api/waiting-room/sessions/{id}`.
const SESSIONS: &str = "/api/waiting-room/sessions/";

/// The gate's lane, then the polls'.
pub fn lane(service: Service) -> FastLane {
    let gate = api::gate_fast_lane(service.clone());
    Arc::new(move |request| gate(request).or_else(|| poll(&service, request)))
}

fn poll(service: &Service, request: &hyper::Request<Incoming>) -> Option<Response> {
    if request.method() != Method::GET {
        return None;
    }
    let id = request.uri().path().strip_prefix(SESSIONS)?;
    let sid = SessionId::parse(id).ok()?;
    let view = service.status_from_memory(&sid)?;
    Some(browser::with_default_headers(Json(view).into_response()))
}
