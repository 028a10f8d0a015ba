//! The operator's console behind `/admin` (README, "The operator's console"): its sign-in
//! and the form posts that steer events. The pages themselves are in `crate::app::console`,
//! the session and its cookies in [`crate::console_session`].
//!
//! - Signing in: the admin token (`WAITING_ROOM_ADMIN_TOKEN`) is entered once. The answer
//!   sets `vestibule_console`, a cookie signed (HMAC) with a key derived from the token:
//!   `HttpOnly`, `SameSite=Strict`, `Secure` over https, good for 12 hours.
//!   A new token ends every session made with the old one. Wrong tokens count against the
//!   client's budget of failed tries, shared with the admin API and `/metrics`
//!   ([`crate::client::FailureBudget`]); a client over it is refused before its token is
//!   compared.
//! - Every form carries a token derived from the session (`csrf`), and posts from another
//!   site are refused before that ([`super::browser`]), so another site cannot steer an
//!   event with an operator's cookie.
//! - After a post the browser is sent back (303) to the page it came from; what happened
//!   travels in a short-lived signed cookie (the flash) that the next page shows once.
//!
//! The console is mounted only when an admin token is set, like `/api/admin`.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde_json::{Map, Value};

use super::admin::SettingsRequest;
use crate::console_session::{removal, Console, Flash, SESSION_COOKIE};
use crate::domain::ErrorCode;
use crate::domain::{EventId, SaleState, SessionId};
use crate::error::AppError;
use crate::service::Service;
use crate::state::AppState;
use crate::visitor::is_https;

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
        .route("/admin/events/{id}/brand", post(brand))
        .route("/admin/events/{id}/state", post(set_state))
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
                AppError::bad_request(ErrorCode::InvalidForm, "this form could not be read")
                    .into_response()
            }
            Refused::WrongFormToken => AppError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::InvalidFormToken,
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
    let peer = crate::client::peer(&extensions);
    let token = form.ok().and_then(|Form(f)| f.get("token").cloned());
    let right = state.failures.attempt(peer, &headers, || {
        token.as_deref().is_some_and(|t| console.is_token(t))
    });
    match right {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!("console sign-in with a wrong token");
            return back(
                &console,
                &headers,
                "/admin",
                false,
                "That is not the admin token.",
            );
        }
        Err(wait) => {
            metrics::counter!(crate::telemetry::names::RATE_LIMITED).increment(1);
            let text = format!(
                "Too many sign-in attempts from this address: try again in {} s.",
                super::limits::whole_seconds(wait)
            );
            return back(&console, &headers, "/admin", false, &text);
        }
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
        ("session_seconds", "sessionSeconds"),
        ("max_session_seconds", "maxSessionSeconds"),
        ("grace_seconds", "graceSeconds"),
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
        ("ends_at", "endsAt"),
        ("queueing", "queueing"),
    ] {
        if let Some(v) = text(field) {
            body.insert(key.into(), Value::String(v.into()));
        }
    }
    body.insert("paused".into(), Value::Bool(paused));
    let request: SettingsRequest = serde_json::from_value(Value::Object(body))
        .map_err(|e| AppError::bad_request(ErrorCode::InvalidSettings, e.to_string()))?;
    Ok(request.parse()?)
}

/// `POST /admin/events {event_id, target_url, capacity, rate_per_minute, opens_at,
/// queueing}`: creates an event; one an operator configured before is left as it is.
async fn create_event(State(state): State<AppState>, headers: HeaderMap, form: Fields) -> Response {
    let (console, fields) = match checked(&state, &headers, form) {
        Ok(ok) => ok,
        Err(r) => return r.answer(&headers),
    };
    let outcome = async {
        let event = EventId::parse(fields.get("event_id").map_or("", |v| v.trim()))?;
        let settings = settings_of(&fields, false)?;
        state.service.create_event(&event, &settings).await?;
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
            service
                .put_settings(&event, &settings_of(&fields, false)?, true)
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

/// `POST /admin/events/{id}/state {state: open|sold_out|closed|suspended}`.
async fn set_state(
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
            let wanted = fields.get("state").map_or("", |v| v.trim());
            let sale = SaleState::parse(wanted).ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::InvalidState,
                    "state must be one of open, sold_out, closed, suspended",
                )
            })?;
            service.set_state(&event, sale).await?;
            Ok(match sale {
                SaleState::Open => "The sale is open.",
                SaleState::SoldOut => "Sold out: no more joins, and the people waiting are told.",
                SaleState::Closed => "Closed: no more joins, and the people waiting are told.",
                SaleState::Suspended => {
                    "Suspended: everyone sees the maintenance page; the line is kept."
                }
            }
            .into())
        },
    )
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
                service.set_message(&event, None, &[]).await?;
                return Ok("Message taken down.".into());
            }
            let text = fields.get("text").map_or("", String::as_str);
            service.set_message(&event, Some(text), &[]).await?;
            Ok("Message posted: the people waiting see it now.".into())
        },
    )
    .await
}

/// `POST /admin/events/{id}/brand {display_name, logo_url, accent_color,
/// background_color, text, action: save|remove}`: the shop's brand, checked as the admin
/// API checks it (a refusal says why, with the contrast it measured).
async fn brand(
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
                service.set_brand(&event, None).await?;
                return Ok("Brand removed: the line's pages look like the room's again.".into());
            }
            let field = |name: &str| fields.get(name).map(String::as_str);
            let brand = crate::brand::Brand::parse(
                field("display_name"),
                field("logo_url"),
                field("accent_color"),
                field("background_color"),
                field("text"),
            )?;
            let figures = service.set_brand(&event, Some(&brand)).await?;
            let chosen = figures
                .brand
                .map(|b| {
                    let mut said = Vec::new();
                    if let Some(on) = b.contrast.on_background {
                        said.push(format!("text on the background set to {on}"));
                    }
                    if let Some(on) = b.contrast.on_accent {
                        said.push(format!("text on the accent set to {on}"));
                    }
                    said
                })
                .unwrap_or_default();
            Ok(if chosen.is_empty() {
                "Brand saved: the line's pages show it now.".into()
            } else {
                format!(
                    "Brand saved: the line's pages show it now ({} for contrast).",
                    chosen.join(", ")
                )
            })
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
                    ErrorCode::OtherEvent,
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
