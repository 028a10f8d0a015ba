//! The server's fast lane (see [`super::serve`]): what is answered before the router sees
//! the request. The gate's checks ([`super::api::gate_fast_lane`]) and polls of waiting
//! sessions that this process remembers, while their event's snapshot is fresh
//! ([`Service::status_from_memory`]), are answered from memory: the hottest requests of an
//! on-sale; JSON joins, the requests of an opening, by their own handler
//! ([`super::api::join_lane`]), which keeps the join route's limits and answers. Anything
//! else, and whatever memory cannot answer, goes to the router, which answers the same way
//! (with Redis when needed). Fast-lane answers skip the router's layers: they get the same
//! default headers; gate checks and polls are counted in `vestibule_status_polls_total` /
//! `vestibule_gate_checks_total` but not in the request-duration histogram, joins in both.

use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper::body::Incoming;

use super::api::JoinLane;
use super::serve::{FastLane, Lane};
use super::{api, browser};
use crate::domain::SessionId;
use crate::service::Service;

/// Where a session is polled: `GET /api/waiting-room/sessions/{id}`.
const SESSIONS: &str = "/api/waiting-room/sessions/";

/// The gate's lane, the polls', then the joins'.
pub fn lane(joins: JoinLane) -> FastLane {
    let joins = Arc::new(joins);
    Arc::new(move |request, peer| {
        let service = &joins.service;
        if let Some(answered) =
            api::gate_fast_lane(service, &request).or_else(|| poll(service, &request))
        {
            return Lane::Answered(answered);
        }
        if api::is_json_join(&request) {
            return Lane::Handled(Box::pin(api::join_lane(joins.clone(), request, peer)));
        }
        Lane::Routed(request)
    })
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
