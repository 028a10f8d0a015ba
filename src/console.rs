//! The operator's console behind `/admin` (README, "The operator's console"): its sign-in
//! and the form posts that steer events. The pages themselves are in `app::console`.
//!
//! - Signing in: the admin token (`WAITING_ROOM_ADMIN_TOKEN`) is entered once. The answer
//!   sets `vestibule_console`, a cookie signed (HMAC) with a key derived from the token:
//!   `HttpOnly`, `SameSite=Strict`, `Secure` over https, good for [`SESSION_HOURS`] hours.
//!   A new token ends every session made with the old one. Sign-in attempts are limited
//!   per client address.
//! - Every form carries a token derived from the session (`csrf`), and posts from another
//!   site are refused before that (`crate::browser`), so another site cannot steer an
//!   event with an operator's cookie.
//! - After a post the browser is sent back (303) to the page it came from; what happened
//!   travels in a short-lived signed cookie (the flash) that the next page shows once.
//!
//! The console is mounted only when an admin token is set, like `/api/admin`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use base64::Engine;
use cookie::{Cookie, CookieJar, Key, SameSite};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

use crate::admin::parse_settings;
use crate::domain::{EventId, SessionId};
use crate::error::AppError;
use crate::limits::JoinLimiter;
use crate::service::Service;
use crate::state::AppState;
use crate::visitor::is_https;

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "vestibule_console";
/// What the last post did, shown once by the next page.
pub const FLASH_COOKIE: &str = "vestibule_console_flash";
/// How long a console session lasts.
pub const SESSION_HOURS: u64 = 12;
/// Sign-in attempts per client address: a burst of this many, then [`SIGN_IN_PER_MINUTE`].
/// Guessing a long random token at that pace is hopeless (README, "The operator's
/// console", says how long a token to use).
const SIGN_IN_BURST: u32 = 20;
const SIGN_IN_PER_MINUTE: u32 = 10;

/// The console's keys, derived from the admin token. Cheap to clone.
#[derive(Clone)]
pub struct Console(Arc<Keys>);

struct Keys {
    token: Box<[u8]>,
    /// Signs the session and flash cookies.
    key: Key,
    /// Makes each session's form token.
    csrf_key: [u8; 32],
    sign_ins: JoinLimiter,
}

/// A signed-in operator's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    nonce: String,
}

/// What the last post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub ok: bool,
    pub text: String,
}

impl Console {
    /// `trusted`: the proxies whose forwarded addresses name the client (for the limit
    /// on sign-in attempts).
    pub fn new(token: &str, trusted: Vec<ipnet::IpNet>) -> Self {
        let derive = |purpose: &str| {
            let mut hash = Sha512::new();
            hash.update(purpose.as_bytes());
            hash.update([0]);
            hash.update(token.as_bytes());
            hash.finalize()
        };
        let mut csrf_key = [0u8; 32];
        csrf_key.copy_from_slice(&Sha256::digest(derive("vestibule console form"))[..]);
        Self(Arc::new(Keys {
            token: token.as_bytes().into(),
            key: Key::from(&derive("vestibule console session")[..]),
            csrf_key,
            sign_ins: JoinLimiter::per_minute(SIGN_IN_PER_MINUTE, SIGN_IN_BURST, trusted),
        }))
    }

    /// The token, compared in constant time.
    pub fn is_token(&self, given: &str) -> bool {
        bool::from(given.trim().as_bytes().ct_eq(&self.0.token))
    }

    /// The session this request's cookie proves, if any (and not expired).
    pub fn session(&self, headers: &HeaderMap) -> Option<ConsoleSession> {
        let value = self.signed(headers, SESSION_COOKIE)?;
        let (expires, nonce) = value.split_once('.')?;
        let expires: u64 = expires.parse().ok()?;
        (expires > crate::clock::now_ms() && nonce.len() == 32).then(|| ConsoleSession {
            nonce: nonce.to_string(),
        })
    }

    /// The form token of a session.
    pub fn csrf(&self, session: &ConsoleSession) -> String {
        let mut hash = Sha256::new();
        hash.update(self.0.csrf_key);
        hash.update(session.nonce.as_bytes());
        hex(&hash.finalize())
    }

    /// Whether a form's token is this session's.
    fn csrf_ok(&self, session: &ConsoleSession, given: Option<&String>) -> bool {
        given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(self.csrf(session).as_bytes())))
    }

    /// `Set-Cookie` of a new session.
    fn new_session(&self, secure: bool) -> HeaderValue {
        let expires = crate::clock::now_ms() + SESSION_HOURS * 3_600_000;
        let nonce = format!("{:032x}", rand::random::<u128>());
        self.sign(
            cookie(SESSION_COOKIE, format!("{expires}.{nonce}"), "/", secure)
                .max_age(cookie::time::Duration::hours(SESSION_HOURS as i64)),
        )
    }

    /// The flash of this request, if any.
    pub fn flash(&self, headers: &HeaderMap) -> Option<Flash> {
        let value = self.signed(headers, FLASH_COOKIE)?;
        let (kind, text) = value.split_once('.')?;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()?;
        Some(Flash {
            ok: kind == "ok",
            text: String::from_utf8(text).ok()?,
        })
    }

    /// `Set-Cookie` of a flash for the next page.
    fn set_flash(&self, flash: &Flash, secure: bool) -> HeaderValue {
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&flash.text);
        let kind = if flash.ok { "ok" } else { "error" };
        self.sign(
            cookie(FLASH_COOKIE, format!("{kind}.{text}"), "/admin", secure)
                .max_age(cookie::time::Duration::minutes(1)),
        )
    }

    fn signed(&self, headers: &HeaderMap, name: &str) -> Option<String> {
        let mut jar = CookieJar::new();
        for value in headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for c in Cookie::split_parse(value.to_owned()).filter_map(Result::ok) {
                if c.name() == name {
                    jar.add_original(c);
                }
            }
        }
        Some(jar.signed(&self.0.key).get(name)?.value().to_string())
    }

    fn sign(&self, cookie: cookie::CookieBuilder<'static>) -> HeaderValue {
        let mut jar = CookieJar::new();
        jar.signed_mut(&self.0.key).add(cookie.build());
        let signed = jar.delta().next().expect("the cookie just added");
        HeaderValue::from_str(&signed.to_string()).expect("a cookie is a valid header value")
    }
}

/// `Set-Cookie` that removes a cookie.
pub fn removal(name: &'static str, path: &'static str, secure: bool) -> HeaderValue {
    let gone = cookie(name, String::new(), path, secure)
        .max_age(cookie::time::Duration::ZERO)
        .build();
    HeaderValue::from_str(&gone.to_string()).expect("a cookie is a valid header value")
}

fn cookie(
    name: &'static str,
    value: String,
    path: &'static str,
    secure: bool,
) -> cookie::CookieBuilder<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The console's form posts.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/sign-in", post(sign_in))
        .route("/admin/sign-out", post(sign_out))
        .route("/admin/events", post(create_event))
        .route("/admin/events/{id}/settings", post(edit_settings))
        .route("/admin/events/{id}/pause", post(pause))
        .route("/admin/events/{id}/resume", post(resume))
        .route("/admin/events/{id}/message", post(message))
        .route("/admin/events/{id}/revoke", post(revoke))
}

type Fields = Result<Form<HashMap<String, String>>, FormRejection>;

/// Back to `to` (303), with a flash.
fn back(console: &Console, headers: &HeaderMap, to: &str, ok: bool, text: &str) -> Response {
    let flash = Flash {
        ok,
        text: text.to_string(),
    };
    (
        [(
            header::SET_COOKIE,
            console.set_flash(&flash, is_https(headers)),
        )],
        Redirect::to(to),
    )
        .into_response()
}

/// Why a console post is not carried out.
enum Refused {
    /// No admin token, no console.
    NoConsole,
    SignedOut(Console),
    Unreadable,
    WrongFormToken,
}

impl Refused {
    fn answer(self, headers: &HeaderMap) -> Response {
        match self {
            Refused::NoConsole => StatusCode::NOT_FOUND.into_response(),
            Refused::SignedOut(console) => {
                back(&console, headers, "/admin", false, "Please sign in first.")
            }
            Refused::Unreadable => {
                AppError::bad_request("invalid_form", "this form could not be read").into_response()
            }
            Refused::WrongFormToken => AppError::new(
                StatusCode::FORBIDDEN,
                "invalid_form_token",
                "this form is not from this console session; reload the page and try again",
            )
            .into_response(),
        }
    }
}

fn console_of(state: &AppState) -> Result<Console, Refused> {
    state.console.clone().ok_or(Refused::NoConsole)
}

/// `POST /admin/sign-in {token}`.
async fn sign_in(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    let console = match console_of(&state) {
        Ok(c) => c,
        Err(r) => return r.answer(&headers),
    };
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    if let Err(wait) = console.0.sign_ins.check_client(peer, &headers) {
        let text = format!(
            "Too many sign-in attempts from this address: try again in {} s.",
            wait.as_secs().max(1)
        );
        return back(&console, &headers, "/admin", false, &text);
    }
    let token = form.ok().and_then(|Form(f)| f.get("token").cloned());
    if !token.is_some_and(|t| console.is_token(&t)) {
        tracing::warn!("console sign-in with a wrong token");
        return back(
            &console,
            &headers,
            "/admin",
            false,
            "That is not the admin token.",
        );
    }
    let secure = is_https(&headers);
    (
        [(header::SET_COOKIE, console.new_session(secure))],
        Redirect::to("/admin"),
    )
        .into_response()
}

/// `POST /admin/sign-out`.
async fn sign_out(headers: HeaderMap) -> Response {
    (
        [(
            header::SET_COOKIE,
            removal(SESSION_COOKIE, "/", is_https(&headers)),
        )],
        Redirect::to("/admin"),
    )
        .into_response()
}

/// The form of a signed-in operator with this session's token, or why not.
fn checked(
    state: &AppState,
    headers: &HeaderMap,
    form: Fields,
) -> Result<(Console, HashMap<String, String>), Refused> {
    let console = console_of(state)?;
    let Some(session) = console.session(headers) else {
        return Err(Refused::SignedOut(console));
    };
    let Ok(Form(fields)) = form else {
        return Err(Refused::Unreadable);
    };
    if !console.csrf_ok(&session, fields.get("csrf")) {
        return Err(Refused::WrongFormToken);
    }
    Ok((console, fields))
}

/// An event's console page.
fn event_page(event: &EventId) -> String {
    format!("/admin/events/{event}")
}

/// Settings from a form, checked as the JSON API checks them (empty fields are unset).
fn settings_of(
    fields: &HashMap<String, String>,
    paused: bool,
) -> Result<crate::store::EventSettings, AppError> {
    let mut body = Map::new();
    let text = |name: &str| fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    for (field, key) in [
        ("capacity", "capacity"),
        ("rate_per_minute", "ratePerMinute"),
    ] {
        if let Some(v) = text(field) {
            body.insert(
                key.into(),
                v.parse::<u64>()
                    .map_or_else(|_| Value::String(v.into()), Value::from),
            );
        }
    }
    for (field, key) in [
        ("target_url", "targetUrl"),
        ("opens_at", "opensAt"),
        ("queueing", "queueing"),
    ] {
        if let Some(v) = text(field) {
            body.insert(key.into(), Value::String(v.into()));
        }
    }
    body.insert("paused".into(), Value::Bool(paused));
    parse_settings(&body)
}

/// `POST /admin/events {event_id, target_url, capacity, rate_per_minute, opens_at,
/// queueing}`: creates an event (or replaces the settings of one).
async fn create_event(State(state): State<AppState>, headers: HeaderMap, form: Fields) -> Response {
    let (console, fields) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(r) => return r.answer(&headers),
    };
    let outcome = async {
        let event = EventId::parse(fields.get("event_id").map_or("", |v| v.trim()))?;
        let settings = settings_of(&fields, false)?;
        state.service.put_settings(&event, &settings).await?;
        Ok::<_, AppError>(event)
    }
    .await;
    match outcome {
        Ok(event) => back(
            &console,
            &headers,
            &event_page(&event),
            true,
            "Event saved.",
        ),
        Err(e) => back(&console, &headers, "/admin", false, &e.message),
    }
}

/// Runs one change to an event and goes back to its page, saying what happened.
async fn on_event<F, Fut>(
    state: AppState,
    headers: HeaderMap,
    id: String,
    form: Fields,
    change: F,
) -> Response
where
    F: FnOnce(Service, EventId, HashMap<String, String>) -> Fut,
    Fut: std::future::Future<Output = Result<String, AppError>>,
{
    let (console, fields) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(r) => return r.answer(&headers),
    };
    let event = match EventId::parse(&id) {
        Ok(e) => e,
        Err(e) => return back(&console, &headers, "/admin", false, &e.message),
    };
    let to = event_page(&event);
    match change(state.service.clone(), event, fields).await {
        Ok(done) => back(&console, &headers, &to, true, &done),
        Err(e) => back(&console, &headers, &to, false, &e.message),
    }
}

/// `POST /admin/events/{id}/settings`: replaces the settings (pause stays as it is).
async fn edit_settings(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    on_event(
        state,
        headers,
        id,
        form,
        |service, event, fields| async move {
            let paused = service.event(&event).await?.paused;
            service
                .put_settings(&event, &settings_of(&fields, paused)?)
                .await?;
            Ok("Settings saved.".into())
        },
    )
    .await
}

/// `POST /admin/events/{id}/pause`.
async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    on_event(state, headers, id, form, |service, event, _| async move {
        service.set_paused(&event, true).await?;
        Ok("Paused: nobody is let in until you resume.".into())
    })
    .await
}

/// `POST /admin/events/{id}/resume`.
async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    on_event(state, headers, id, form, |service, event, _| async move {
        service.set_paused(&event, false).await?;
        Ok("Resumed: people are let in again.".into())
    })
    .await
}

/// `POST /admin/events/{id}/message {text, action: post|remove}`.
async fn message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    on_event(
        state,
        headers,
        id,
        form,
        |service, event, fields| async move {
            if fields.get("action").map(String::as_str) == Some("remove") {
                service.set_message(&event, None).await?;
                return Ok("Message taken down.".into());
            }
            let text = fields.get("text").map_or("", String::as_str);
            service.set_message(&event, Some(text)).await?;
            Ok("Message posted: the people waiting see it now.".into())
        },
    )
    .await
}

/// `POST /admin/events/{id}/revoke {session_id}`: ends one of this event's sessions.
async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    form: Fields,
) -> Response {
    on_event(
        state,
        headers,
        id,
        form,
        |service, event, fields| async move {
            let sid = SessionId::parse(fields.get("session_id").map_or("", |v| v.trim()))?;
            let view = service.status(sid).await?;
            if view.event_id != event {
                return Err(AppError::bad_request(
                    "other_event",
                    format!(
                        "that session is in the line of {}, not this event",
                        view.event_id
                    ),
                ));
            }
            let ended = service.leave(sid).await?;
            Ok(format!("Session ended (it is now {}).", ended.status))
        },
    )
    .await
}
