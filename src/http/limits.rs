//! Abuse limits: a per-client rate limit on joins and a deadline for every request (and the
//! answer to a client over its budget of failed tries at a token). The
//! client is the TCP peer, or behind trusted proxies the address they forward (see
//! [`crate::client::client_ip`]). A browser's form post that hits a limit is sent back to its page with
//! the reason, as a refused join is; everyone else gets the JSON error.
//! (Body limits: [`super::body::MAX_BODY_BYTES`] and [`super::browser`].)

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use leptos::prelude::ServerFnError;
use leptos::server_fn::error::ServerFnUrlError;

use crate::client::ClientLimiter;
use crate::domain::ErrorCode;
use crate::error::AppError;
use crate::telemetry::names;

/// A browser posting a form (no JavaScript) to a server function: it should land back on
/// its page with the reason, not on a JSON document.
fn form_post_back(request: &Request, message: &str) -> Option<Response> {
    let headers = request.headers();
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let html = text(header::ACCEPT).is_some_and(|a| a.contains("text/html"));
    let form = text(header::CONTENT_TYPE)
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let path = request.uri().path();
    if !(request.method() == Method::POST && html && form && super::browser::is_server_fn(path)) {
        return None;
    }
    let back = text(header::REFERER).unwrap_or("/");
    let error: ServerFnUrlError<ServerFnError> =
        ServerFnUrlError::new(path, ServerFnError::ServerError(message.to_owned()));
    let url = error.to_url(back).ok()?;
    // Only ever back to a page of this site.
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    Some(Redirect::to(&target).into_response())
}

/// Middleware of the join routes (the JSON join and the page's): 429 with `Retry-After`
/// for a client joining too fast.
pub async fn limit_joins(
    State(limiter): State<ClientLimiter>,
    request: Request,
    next: Next,
) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(wait) = client.and_then(|peer| over_join_limit(&limiter, peer, request.headers())) {
        if let Some(back) = form_post_back(&request, TOO_MANY_JOINS) {
            return back;
        }
        return rate_limited(TOO_MANY_JOINS, wait);
    }
    next.run(request).await
}

const TOO_MANY_JOINS: &str = "too many joins from this address; slow down";

/// How long the client must wait before joining again, counted in
/// `vestibule_rate_limited_total`; `None` when it may join now.
fn over_join_limit(
    limiter: &ClientLimiter,
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
) -> Option<Duration> {
    let wait = limiter.check_client(peer, headers).err()?;
    metrics::counter!(names::RATE_LIMITED).increment(1);
    Some(wait)
}

/// The join limit for a JSON join the router does not see (the server's join lane): the
/// same 429 as [`limit_joins`], counted the same, or `None` to go on.
pub fn refuse_json_join(
    limiter: &ClientLimiter,
    peer: SocketAddr,
    headers: &axum::http::HeaderMap,
) -> Option<Response> {
    let wait = over_join_limit(limiter, peer.ip(), headers)?;
    Some(rate_limited(TOO_MANY_JOINS, wait))
}

/// 429 `rate_limited` with `Retry-After`: `wait` in whole seconds, rounded up, at least 1.
pub fn rate_limited(message: &str, wait: Duration) -> Response {
    let mut response = AppError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        message,
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
    response
}

/// `wait` in whole seconds, rounded up, at least 1: what `Retry-After` says.
pub fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The answer to a client over its budget of failed tries at a token (see
/// [`crate::client::FailureBudget`]), counted in `vestibule_rate_limited_total`.
pub fn too_many_failures(wait: Duration) -> Response {
    metrics::counter!(names::RATE_LIMITED).increment(1);
    rate_limited(
        "too many wrong tokens from this address; wait before trying again",
        wait,
    )
}

/// Middleware: a request that takes longer than the deadline is answered 503 (JSON), or
/// for a browser's form post, back on its page with the reason.
pub async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let back = form_post_back(&request, TOO_LONG);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => back.unwrap_or_else(timed_out),
    }
}

/// The same deadline for a request the router does not see (the server's join lane).
pub async fn within(
    limit: Duration,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    tokio::time::timeout(limit, work)
        .await
        .unwrap_or_else(|_| timed_out())
}

const TOO_LONG: &str = "the request took too long; please retry";

fn timed_out() -> Response {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Timeout,
        TOO_LONG,
    )
    .into_response()
}
