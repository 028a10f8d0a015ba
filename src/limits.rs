//! Abuse limits: a per-client rate limit on joins and a deadline for every request.
//! (The request body limit is on the JSON routes, see [`crate::api::MAX_BODY_BYTES`].)

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use leptos::server_fn::ServerFn;

use crate::error::AppError;
use crate::server_fns::JoinEvent;
use crate::telemetry::names;

/// Clients remembered before stale ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 100_000;

/// Joins per client address: the JSON join route and the page's join server function.
#[derive(Clone)]
pub struct JoinLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl JoinLimiter {
    /// `per_second` 0 means no limit.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst).unwrap_or(rate);
            Arc::new(RateLimiter::keyed(
                Quota::per_second(rate).allow_burst(burst),
            ))
        });
        Self { limiter }
    }

    /// `Err(wait)` when this client must wait before joining again.
    fn check(&self, client: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_TRACKED_CLIENTS {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

fn is_join(request: &Request) -> bool {
    request.method() == Method::POST
        && matches!(
            request.uri().path(),
            crate::api::JOIN_PATH | <JoinEvent as ServerFn>::PATH
        )
}

/// Middleware: 429 with `Retry-After` for a client joining too fast.
pub async fn limit_joins(
    State(limiter): State<JoinLimiter>,
    request: Request,
    next: Next,
) -> Response {
    if is_join(&request) {
        let client = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Some(Err(wait)) = client.map(|ip| limiter.check(ip)) {
            metrics::counter!(names::RATE_LIMITED).increment(1);
            let mut response = AppError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many joins from this address; slow down",
            )
            .into_response();
            let seconds = wait.as_secs().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            return response;
        }
    }
    next.run(request).await
}

/// Middleware: a request that takes longer than the deadline is answered 503 (JSON).
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; please retry",
        )
        .into_response(),
    }
}
