//! Server functions behind the pages: thin wrappers over [`crate::service::Service`].
//!
//! Arguments arrive as plain strings (they come from forms and URLs) and are parsed into
//! domain types here, so a bad value reads as a plain sentence on the page. The browser's
//! identity is its signed visitor cookie (see `crate::visitor`): a page never asks who
//! someone is, and a place made by one browser is shown to that browser only.

use leptos::prelude::*;

use crate::domain::{BrandView, Door, MoveOfferView, PlaceView, SessionView};

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use axum::http::header::SET_COOKIE;
    use axum::http::request::Parts;
    use axum::http::{HeaderMap, HeaderValue};
    use leptos::prelude::*;

    use crate::domain::{SessionId, SessionView, UserId};
    use crate::error::AppError;
    use crate::service::{Secrets, Service, ServiceError};
    use crate::state::AppState;
    use crate::visitor::{is_https, VISITOR_PREFIX};

    pub fn service() -> Result<Service, ServerFnError> {
        use_context::<AppState>()
            .map(|state| state.service.clone())
            .ok_or_else(|| ServerFnError::new("the waiting room is not set up"))
    }

    /// The request's headers.
    pub fn headers() -> HeaderMap {
        use_context::<Parts>()
            .map(|parts| parts.headers)
            .unwrap_or_default()
    }

    pub fn set_cookie(value: HeaderValue) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(SET_COOKIE, value);
        }
    }

    /// The visitor of this browser; a new one (and its cookie) when it has none.
    pub fn visitor(secrets: &Secrets) -> UserId {
        let headers = headers();
        if let Some(visitor) = secrets.cookies.visitor(&headers) {
            return visitor;
        }
        let (visitor, cookie) = secrets.cookies.new_visitor(is_https(&headers));
        set_cookie(cookie);
        visitor
    }

    /// A visitor's place is shown and changed only in the browser that made it (the one
    /// whose request `headers` carry its visitor cookie).
    pub fn check_owner(
        secrets: &Secrets,
        headers: &HeaderMap,
        view: &SessionView,
    ) -> Result<(), ServiceError> {
        if !view.user_id.as_str().starts_with(VISITOR_PREFIX) {
            return Ok(()); // made through the JSON API: its id is the credential
        }
        if secrets.cookies.visitor(headers).as_ref() == Some(&view.user_id) {
            return Ok(());
        }
        Err(ServiceError::NotYourPlace)
    }

    /// The place `session_id` names, read (a waiting one's poll is its heartbeat) and given
    /// to its owner only ([`check_owner`]); with the request's headers.
    pub async fn owned_place(
        service: &Service,
        secrets: &Secrets,
        session_id: &str,
    ) -> Result<(SessionId, SessionView, HeaderMap), ServerFnError> {
        let sid = SessionId::parse(session_id).map_err(fail)?;
        let view = service.status(sid).await.map_err(fail)?;
        let headers = headers();
        check_owner(secrets, &headers, &view).map_err(fail)?;
        Ok((sid, view, headers))
    }

    /// The page of a place, carrying where to go once admitted.
    pub fn place_url(session: SessionId, return_to: &str) -> String {
        let mut url = format!("/queue/{session}");
        if !return_to.is_empty() {
            url.push_str("?return=");
            url.extend(url::form_urlencoded::byte_serialize(return_to.as_bytes()));
        }
        url
    }

    /// A plain HTML form post (no JavaScript): answered with a redirect to a page.
    pub fn is_form_post() -> bool {
        use_context::<Parts>().is_some_and(|req| {
            req.method == axum::http::Method::POST
                && req
                    .headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// The message of an error, with the HTTP status set on the response, except for a
    /// plain form post (no JavaScript), which is answered with a redirect back to the
    /// form carrying the error (a status would replace the redirect).
    pub fn fail(e: impl Into<AppError>) -> ServerFnError {
        let e = e.into();
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if !is_form_post() {
                response.set_status(e.status);
            }
        }
        ServerFnError::new(crate::lang::error_message(
            lang(&headers()),
            e.code,
            &e.message,
        ))
    }

    /// The visitor's language: the page's (when this runs in its rendering), else that of
    /// the request's `headers` (its cookie or `Accept-Language`).
    pub fn lang(headers: &HeaderMap) -> crate::lang::Lang {
        use_context::<crate::lang::Lang>()
            .unwrap_or_else(|| crate::lang::of_request(headers, None).0)
    }

    /// Where an admitted visitor goes on to: `return_to` when it is on the event's shop's
    /// origin (no open redirect), else the shop itself; nowhere without a shop.
    pub fn continue_to(target: Option<&str>, return_to: &str) -> Option<String> {
        let target = url::Url::parse(target?).ok()?;
        if let Ok(wanted) = url::Url::parse(return_to) {
            if wanted.origin() == target.origin() {
                return Some(wanted.to_string());
            }
        }
        Some(target.to_string())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_return_url_is_followed_only_on_the_shops_origin() {
            let shop = Some("https://shop.example/sale/");
            let ok = continue_to(shop, "https://shop.example/sale/seat?id=3");
            assert_eq!(ok.as_deref(), Some("https://shop.example/sale/seat?id=3"));
            for evil in [
                "https://evil.example/",
                "http://shop.example/sale/",
                "https://shop.example:8443/",
                "https://shop.example.evil.example/",
                "//evil.example/",
                "javascript:alert(1)",
                "",
            ] {
                assert_eq!(
                    continue_to(shop, evil).as_deref(),
                    Some("https://shop.example/sale/"),
                    "{evil}"
                );
            }
            assert_eq!(continue_to(None, "https://shop.example/"), None);
        }
    }
}

/// Joins the event's line as this browser's visitor (or finds its place there), then
/// sends the browser to the place's page. With the shop's enqueue token (the
/// `vestibule_entry` cookie: see `crate::visitor`) for an event that takes tokens, the
/// place is the shop's account's, one per account: this browser holds it (its signed
/// `vestibule_places` cookie), and another browser of the same account is refused.
/// While a challenge is in force the form brings its `challenge` with the `counter` and
/// `key` the page's island found, or its open `lock` (the time-lock of browsers without
/// JavaScript).
#[server]
pub async fn join_event(
    event_id: String,
    return_to: String,
    lock: Option<String>,
    challenge: Option<String>,
    counter: Option<String>,
    key: Option<String>,
) -> Result<SessionView, ServerFnError> {
    use crate::domain::EventId;
    use crate::service::{Proof, ServiceError};
    use crate::visitor::{cookie_value, is_https, ENTRY_COOKIE};
    use ssr::{fail, headers, place_url, service, set_cookie, visitor};

    let service = service()?;
    let event = EventId::parse(event_id.trim()).map_err(fail)?;
    let secrets = service.secrets().await.map_err(fail)?;
    let headers = headers();
    // The challenge's solution or the time-lock, when a challenge is in force. The page
    // made the challenge for this browser's visitor.
    let who = secrets
        .cookies
        .visitor(&headers)
        .map(|v| v.as_str().to_owned())
        .unwrap_or_default();
    let solution = match (challenge, counter, key) {
        (Some(c), Some(n), Some(k)) if !c.is_empty() => {
            // Unreadable: refused as a wrong solution.
            Some(crate::challenge::page_solution(&c, &n, &k).unwrap_or_else(|| "-".into()))
        }
        _ => None,
    };
    service
        .unlock(
            &event,
            lock.as_deref().filter(|l| !l.is_empty()),
            solution.as_deref(),
            &who,
        )
        .await
        .map_err(fail)?;
    let https = is_https(&headers);
    let token = cookie_value(&headers, ENTRY_COOKIE).filter(|t| !t.is_empty());
    let account = match token {
        Some(token) => match service.account(&event, token).await {
            Ok(account) => Some(account),
            // The event takes no tokens (any more): the browser joins as itself.
            Err(ServiceError::NoTokens) => None,
            Err(refused) => return Err(fail(refused)),
        },
        None => None,
    };
    let outcome = match &account {
        Some(account) => {
            let held = Proof::Held(secrets.cookies.held(&headers));
            match service.join(&event, account, held).await {
                Err(ServiceError::AlreadyJoined) => Err(ServiceError::PlaceElsewhere),
                other => other,
            }
        }
        None => {
            service
                .join(&event, &visitor(secrets), Proof::Visitor)
                .await
        }
    }
    .map_err(fail)?;
    let view = outcome.view().clone();
    if account.is_some() {
        set_cookie(secrets.cookies.hold(&headers, view.session_id, https));
        set_cookie(secrets.cookies.clear_entry(https));
    }
    leptos_axum::redirect(&place_url(view.session_id, return_to.trim()));
    Ok(view)
}

/// The page of an event's line: the place's page (and a redirect there) when this browser
/// already has a place; else whether the line takes joins, or why not (the sale is over,
/// or suspended).
#[server]
pub async fn find_place(
    event_id: String,
    return_to: String,
    lock: Option<String>,
) -> Result<Door, ServerFnError> {
    use crate::domain::{EventId, Status};
    use ssr::{fail, headers, place_url, service, visitor};

    let service = service()?;
    let event = EventId::parse(event_id.trim()).map_err(fail)?;
    let secrets = service.secrets().await.map_err(fail)?;
    let headers = headers();
    let mut found = None;
    if let Some(visitor) = secrets.cookies.visitor(&headers) {
        found = service.find(&event, &visitor).await.map_err(fail)?;
    }
    // A place this browser holds for the shop's account.
    for sid in secrets.cookies.held(&headers) {
        if found.is_some() {
            break;
        }
        if let Ok(view) = service.status(sid).await {
            let live = matches!(view.status, Status::Waiting | Status::Active);
            found = (view.event_id == event && live).then_some(view);
        }
    }
    if let Some(view) = found {
        let url = place_url(view.session_id, return_to.trim());
        leptos_axum::redirect(&url);
        return Ok(Door::Place(url));
    }
    Ok(match service.sale(&event).await.map_err(fail)? {
        (Some(reason), _) => Door::Closed(reason),
        (None, true) => Door::Suspended,
        (None, false) => Door::Join(
            service
                // A challenge is made for this browser's visitor (its cookie is set now).
                .join_lock(&event, lock.as_deref(), || {
                    visitor(secrets).as_str().to_owned()
                })
                .await
                .map_err(fail)?,
        ),
    })
}

/// The shop's brand on an event's pages (README, "The shop's brand"), if it has one. A
/// brand that cannot be read leaves the page plain rather than failing it.
#[server]
pub async fn event_brand(event_id: String) -> Result<Option<BrandView>, ServerFnError> {
    use crate::domain::EventId;
    use sha2::{Digest, Sha256};

    let service = ssr::service()?;
    let Ok(event) = EventId::parse(event_id.trim()) else {
        return Ok(None);
    };
    let Ok(Some(brand)) = service.brand(&event).await else {
        return Ok(None);
    };
    // The stylesheet's address changes with it, so that it may be kept a minute.
    let version = hex::encode(&Sha256::digest(brand.css().as_bytes())[..6]);
    Ok(Some(BrandView {
        stylesheet: format!("/brand/{event}.css?v={version}"),
        text_html: brand.text_html(),
        logo_origin: brand.logo_origin(),
        display_name: brand.display_name,
        logo_url: brand.logo_url,
    }))
}

/// Where a session stands (and a heartbeat for a waiting one). Once it is admitted, the
/// answer carries the pass as a cookie and where to go on to.
#[server(output = leptos::server_fn::codec::Post<JsonText>)]
pub async fn get_status(session_id: String, return_to: String) -> Result<PlaceView, ServerFnError> {
    use crate::domain::Status;
    use crate::visitor::is_https;
    use ssr::{continue_to, fail, lang, owned_place, service, set_cookie};

    let service = service()?;
    let secrets = service.secrets().await.map_err(fail)?;
    let (_, session, headers) = owned_place(&service, secrets, &session_id).await?;
    let mut continue_url = None;
    if let (Status::Active, Some(pass), Some(until)) = (
        session.status,
        session.access_token.as_deref(),
        session.active_until_ms,
    ) {
        let seconds = until.saturating_sub(service.now()) / 1_000;
        set_cookie(secrets.cookies.pass(pass, seconds, is_https(&headers)));
        continue_url = continue_to(session.target_url.as_deref(), return_to.trim());
    }
    Ok(PlaceView {
        texts: crate::lang::card_texts(lang(&headers), &session),
        session,
        continue_to: continue_url,
        hidden_refresh_after_ms: service.hidden_poll_ms(),
    })
}

/// Leaves the line, or gives the slot back (and the pass with it).
#[server(output = leptos::server_fn::codec::Post<JsonText>)]
pub async fn leave_queue(session_id: String) -> Result<PlaceView, ServerFnError> {
    use crate::visitor::{cookie_value, is_https, PASS_COOKIE};
    use ssr::{fail, is_form_post, lang, owned_place, service, set_cookie};

    let service = service()?;
    let secrets = service.secrets().await.map_err(fail)?;
    let (sid, _, headers) = owned_place(&service, secrets, &session_id).await?;
    let view = service.leave(sid).await.map_err(fail)?;
    let holds_this_pass = cookie_value(&headers, PASS_COOKIE)
        .and_then(|pass| secrets.keyring.verify(pass).ok())
        .is_some_and(|claims| claims.sub == session_id);
    if holds_this_pass {
        set_cookie(secrets.cookies.clear_pass(is_https(&headers)));
    }
    // Without JavaScript, back to the place's page (the referrer carries only the origin:
    // a place's URL is its credential, see `crate::http::browser`).
    if is_form_post() {
        leptos_axum::redirect(&format!("/queue/{sid}"));
    }
    Ok(PlaceView {
        texts: crate::lang::card_texts(lang(&headers), &view),
        session: view,
        continue_to: None,
        hidden_refresh_after_ms: service.hidden_poll_ms(),
    })
}

/// A new one-time link (and its QR code) that takes this browser's waiting place to
/// another device (README, "Take your place with you"), replacing any earlier one.
#[server]
pub async fn offer_move(session_id: String) -> Result<MoveOfferView, ServerFnError> {
    use crate::visitor::is_https;
    use ssr::{fail, owned_place, service};

    let service = service()?;
    let secrets = service.secrets().await.map_err(fail)?;
    let (sid, current, headers) = owned_place(&service, secrets, &session_id).await?;
    let offer = service.offer_move(&current).await.map_err(fail)?;
    // Opened on another device: the link names this host as the browser reached it (a
    // host name and port, which the proxy in front forwards).
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.len() <= 262 && !h.contains('@') && h.parse::<axum::http::uri::Authority>().is_ok()
        })
        .ok_or_else(|| {
            fail(crate::domain::InvalidInput {
                code: crate::domain::ErrorCode::InvalidForm,
                message: "this request's Host header is not a host name".into(),
            })
        })?;
    let scheme = if is_https(&headers) { "https" } else { "http" };
    let url = format!("{scheme}://{host}{}", offer.path());
    Ok(MoveOfferView {
        place_url: format!("/queue/{sid}"),
        qr_svg: crate::service::qr_svg(&url).map_err(fail)?,
        url,
        minutes: offer.expires_in_seconds.div_ceil(60),
    })
}

/// Takes the place of a move link (`/move/{event}/{code}`) to this browser: its page, under
/// its new id (a redirect there for a form post). The link works once.
#[server]
pub async fn take_place(event_id: String, code: String) -> Result<SessionView, ServerFnError> {
    use crate::domain::EventId;
    use crate::visitor::{is_https, VISITOR_PREFIX};
    use ssr::{fail, headers, place_url, service, set_cookie, visitor};

    let service = service()?;
    let event = EventId::parse(event_id.trim()).map_err(fail)?;
    let secrets = service.secrets().await.map_err(fail)?;
    let headers = headers();
    let view = service
        .take_place(&event, code.trim(), &visitor(secrets))
        .await
        .map_err(fail)?;
    if !view.user_id.as_str().starts_with(VISITOR_PREFIX) {
        // A shop's account's place: this browser holds it now (its signed cookie).
        set_cookie(
            secrets
                .cookies
                .hold(&headers, view.session_id, is_https(&headers)),
        );
    }
    leptos_axum::redirect(&place_url(view.session_id, ""));
    Ok(view)
}

/// JSON answers read from text: the island's own props are read that way, so the browser's
/// file holds one reader of a place (`PlaceView`) instead of two (server functions read
/// JSON from bytes by default, a second copy of every type's reader: ~3 KB of the main
/// WASM file's gzip budget).
pub struct JsonText;

impl leptos::server_fn::ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl leptos::server_fn::FormatType for JsonText {
    const FORMAT_TYPE: leptos::server_fn::Format = leptos::server_fn::Format::Text;
}

impl<T: serde::Serialize> leptos::server_fn::Encodes<T> for JsonText {
    type Error = leptos::serde_json::Error;

    fn encode(output: &T) -> Result<leptos::server_fn::Bytes, Self::Error> {
        leptos::serde_json::to_vec(output).map(leptos::server_fn::Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server_fn::Decodes<T> for JsonText {
    type Error = leptos::serde_json::Error;

    fn decode(bytes: leptos::server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        leptos::serde_json::from_str(text)
    }
}
