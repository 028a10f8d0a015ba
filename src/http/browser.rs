//! What protects the pages' visitors: server functions and the console's forms refuse
//! other sites' posts (CSRF) and large bodies, and every response carries the security
//! headers.
//!
//! The JSON API is not a target of cross-site forms: it takes only `application/json`,
//! which a form cannot send and a cross-origin script cannot without a CORS preflight this
//! server never grants. The server functions take form posts, so they check where a post
//! comes from: `Sec-Fetch-Site` (sent by every current browser) must say `same-origin`,
//! and an `Origin` header must name this host (the `Host` the proxy in front forwards).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::server_fn::ServerFn;

use crate::app::console::data::{ConsoleDesk, ConsoleEvents, ConsoleHistory};
use crate::domain::ErrorCode;
use crate::error::AppError;
use crate::server_fns::{FindPlace, GetStatus, JoinEvent, LeaveQueue, OfferMove, TakePlace};

/// Largest body a server function accepts (the JSON API has the same limit).
pub const MAX_FORM_BYTES: usize = super::body::MAX_BODY_BYTES;

/// The path of one of the pages' server functions.
pub fn is_server_fn(path: &str) -> bool {
    [
        <JoinEvent as ServerFn>::PATH,
        <FindPlace as ServerFn>::PATH,
        <GetStatus as ServerFn>::PATH,
        <LeaveQueue as ServerFn>::PATH,
        <OfferMove as ServerFn>::PATH,
        <TakePlace as ServerFn>::PATH,
        <ConsoleDesk as ServerFn>::PATH,
        <ConsoleEvents as ServerFn>::PATH,
        <ConsoleHistory as ServerFn>::PATH,
    ]
    .contains(&path)
}

/// The path of one of the console's form posts (`super::console`).
fn is_console_post(path: &str) -> bool {
    path.starts_with("/admin/")
}

/// Why a post to a server function is refused, if it is.
fn cross_site(headers: &HeaderMap) -> Option<&'static str> {
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(&HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site, "same-origin" | "none") {
            return Some("this form was posted from another site");
        }
    }
    if let Some(origin) = text(&header::ORIGIN) {
        let host = text(&header::HOST).unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, host)| host);
        if origin_host != Some(host) || host.is_empty() {
            return Some("this form was posted from another origin");
        }
    }
    None
}

/// Middleware: server functions take posts from this site only, with bodies of at most
/// [`MAX_FORM_BYTES`] (counted as they arrive, whatever `Content-Length` says).
pub async fn guard_server_fns(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET || !(is_server_fn(path) || is_console_post(path)) {
        return next.run(request).await;
    }
    if let Some(why) = cross_site(request.headers()) {
        return AppError::new(StatusCode::FORBIDDEN, ErrorCode::CrossSite, why).into_response();
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_FORM_BYTES) {
        return AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the body must be at most {MAX_FORM_BYTES} bytes"),
        )
        .into_response();
    }
    let request = request.map(|body| Body::new(http_body_util::Limited::new(body, MAX_FORM_BYTES)));
    next.run(request).await
}

/// Middleware: the headers every response gets unless it set its own: no sniffing, no
/// framing, no referrer beyond the origin (a place's URL is its credential), nothing cached
/// (pages and answers are personal; `/pkg` sets its own), and a policy that runs nothing
/// (pages set theirs with a nonce).
pub async fn default_headers(request: Request, next: Next) -> Response {
    with_default_headers(next.run(request).await)
}

/// The same headers, on a response made before the router (the server's fast lane).
pub fn with_default_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in defaults() {
        headers.entry(name).or_insert(value);
    }
    response
}

fn defaults() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn posts_from_this_site_pass_and_others_are_refused() {
        let ok = headers(&[
            ("host", "room.example"),
            ("origin", "https://room.example"),
            ("sec-fetch-site", "same-origin"),
        ]);
        assert_eq!(cross_site(&ok), None);
        assert_eq!(cross_site(&headers(&[("host", "room.example")])), None);
        for bad in [
            headers(&[("host", "room.example"), ("origin", "https://evil.example")]),
            headers(&[("host", "room.example"), ("origin", "null")]),
            headers(&[("host", "room.example"), ("sec-fetch-site", "cross-site")]),
            headers(&[("host", "room.example"), ("sec-fetch-site", "same-site")]),
        ] {
            assert!(cross_site(&bad).is_some(), "{bad:?}");
        }
    }
}
