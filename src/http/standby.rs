//! Standby (README, "Always on"): a browser sent to an event's page (`GET /e/{eventId}`)
//! by the shop's door goes straight back to the shop, with a pass and without a page to
//! read, when the event has room for it now: a free slot, nobody waiting, no draw pending,
//! the sale open. Otherwise (or when anything fails) the page is rendered as usual.
//!
//! The admission is a real place, decided in the join script like any join (capacity
//! exact, FIFO with everyone else: see `JoinMode::IfAdmitted`). Only a browser's own
//! top-level navigation is let through (`Sec-Fetch-Mode: navigate`, a document, not a
//! prefetch): an `<img>` or a prefetcher never takes a slot. It is a join for the per-client
//! join limit, and it never makes an event (only events the room knows are let through).

use axum::extract::{Path, Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use leptos::prelude::provide_context;

use crate::app::shell;
use crate::client::ClientLimiter;
use crate::domain::{EventId, Status};
use crate::server_fns::ssr::{continue_to, place_url};
use crate::state::AppState;
use crate::telemetry::names;
use crate::visitor::is_https;

/// A browser's own top-level navigation: not a subresource, a frame, a prefetch or a
/// program that sends no fetch metadata.
pub fn is_navigation(headers: &HeaderMap) -> bool {
    let text = |name: &'static str| {
        headers
            .get(HeaderName::from_static(name))
            .and_then(|v| v.to_str().ok())
    };
    let prefetch = |v: Option<&str>| v.is_some_and(|v| v.contains("prefetch"));
    text("sec-fetch-mode") == Some("navigate")
        && matches!(text("sec-fetch-dest"), None | Some("document"))
        && !prefetch(text("sec-purpose"))
        && !prefetch(text("purpose"))
}

/// The route `GET /e/{eventId}`: straight through when there is room, else the Leptos
/// page. `joins` is the join limit of the join routes.
pub fn route(joins: ClientLimiter) -> MethodRouter<AppState> {
    get(
        move |State(state): State<AppState>, Path(event): Path<String>, request: Request| {
            let joins = joins.clone();
            async move { door(state, joins, event, request).await }
        },
    )
}

async fn door(state: AppState, joins: ClientLimiter, event: String, request: Request) -> Response {
    let https = is_https(request.headers());
    if let Some(kept) = keep_entry_token(&state, &event, request.uri().query(), https).await {
        return kept;
    }
    let return_to = request
        .uri()
        .query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "return")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    let peer = crate::client::peer(request.extensions());
    let headers = request.headers().clone();
    if let Some(through) =
        straight_through(&state, &joins, &event, &return_to, peer, &headers).await
    {
        return through;
    }
    let options = state.leptos_options.clone();
    let page = leptos_axum::render_app_async_with_context(
        move || {
            provide_context(state.clone());
            provide_context(leptos_router::Method::Get);
        },
        move || shell(options.clone()),
    );
    page(request).await.into_response()
}

/// The shop's enqueue token in the line's URL (`?enqueue_token=`, README, "Bots and
/// accounts"): kept in the browser's `vestibule_entry` cookie and taken out of the URL (a
/// 303 to the same page without it), so that it is not left in the address bar, the
/// history or a shared link. `None` when the URL carries none.
async fn keep_entry_token(
    state: &AppState,
    event: &str,
    query: Option<&str>,
    https: bool,
) -> Option<Response> {
    let query = query?;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let token = pairs.iter().find(|(k, _)| k == ENTRY_PARAM)?.1.clone();
    let rest: Vec<_> = pairs.iter().filter(|(k, _)| k != ENTRY_PARAM).collect();
    let mut to = format!(
        "/e/{}",
        url::form_urlencoded::byte_serialize(event.as_bytes()).collect::<String>()
    );
    if !rest.is_empty() {
        to.push('?');
        to.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(rest)
                .finish(),
        );
    }
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response();
    let fits = !token.is_empty() && token.len() <= crate::entry::MAX_TOKEN_LEN;
    if fits {
        let secrets = state.service.secrets().await.ok()?;
        if let Some(cookie) = secrets.cookies.entry(&token, https) {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
    }
    Some(response)
}

/// The query parameter that carries the shop's enqueue token to the line.
pub const ENTRY_PARAM: &str = "enqueue_token";

/// A redirect to the shop with the pass (and this browser's visitor cookie if it had
/// none), when this browser is admitted now; `None` for the page.
async fn straight_through(
    state: &AppState,
    joins: &ClientLimiter,
    event: &str,
    return_to: &str,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> Option<Response> {
    if !is_navigation(headers) {
        return None;
    }
    let event = EventId::parse(event).ok()?;
    if joins.check_client(peer, headers).is_err() {
        metrics::counter!(names::RATE_LIMITED).increment(1);
        return None; // the page, which takes nothing
    }
    let service = &state.service;
    // While joins must pay (a challenge in force: README, "Bots and accounts"), nobody
    // skips the page's time-lock.
    if service.challenge_level(&event).await.ok()? > 0 {
        return None;
    }
    let secrets = service.secrets().await.ok()?;
    let https = is_https(headers);
    let (user, new_cookie) = match secrets.cookies.visitor(headers) {
        Some(user) => (user, None),
        None => {
            let (user, cookie) = secrets.cookies.new_visitor(https);
            (user, Some(cookie))
        }
    };
    let view = service.enter(&event, &user).await.ok()??;
    let (Status::Active, Some(pass), Some(until)) = (
        view.status,
        view.access_token.as_deref(),
        view.active_until_ms,
    ) else {
        return None; // a place in line: the page sends it there
    };
    let seconds = until.saturating_sub(service.now()) / 1_000;
    let to = continue_to(view.target_url.as_deref(), return_to.trim())
        .unwrap_or_else(|| place_url(view.session_id, return_to.trim()));
    let mut response = (StatusCode::SEE_OTHER, [(LOCATION, to)]).into_response();
    let cookies = response.headers_mut();
    cookies.append(SET_COOKIE, secrets.cookies.pass(pass, seconds, https));
    if let Some(cookie) = new_cookie {
        cookies.append(SET_COOKIE, cookie);
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn only_a_top_level_navigation_is_let_through() {
        let nav = [
            ("sec-fetch-mode", "navigate"),
            ("sec-fetch-dest", "document"),
        ];
        assert!(is_navigation(&headers(&nav)));
        assert!(is_navigation(&headers(&[("sec-fetch-mode", "navigate")])));
        for not in [
            headers(&[]),
            headers(&[("sec-fetch-mode", "no-cors"), ("sec-fetch-dest", "image")]),
            headers(&[("sec-fetch-mode", "navigate"), ("sec-fetch-dest", "iframe")]),
            headers(&[
                ("sec-fetch-mode", "navigate"),
                ("sec-fetch-dest", "document"),
                ("sec-purpose", "prefetch;prerender"),
            ]),
            headers(&[("sec-fetch-mode", "navigate"), ("purpose", "prefetch")]),
        ] {
            assert!(!is_navigation(&not), "{not:?}");
        }
    }
}
