//! The operator's console (README, "The operator's console"): `/admin`, a sign-in and then
//! the events table; `/admin/events/{eventId}`, an event's figures, charts and controls.
//!
//! The pages render on the server. Their forms are plain HTML forms posted to
//! `crate::http::console`, which answers with a redirect back here. The figures and charts are
//! lazy islands ([`live`]) that read fresh figures every few seconds: their code is split
//! into a WASM file of its own, which a waiting visitor never downloads.

pub mod data;
mod event_page;
mod events_page;
mod figures;
mod live;

use leptos::prelude::*;

use crate::domain::{EventFigures, Queueing};

pub use event_page::ConsoleEvent;
pub use events_page::ConsoleHome;

/// What the last post did, said once.
#[component]
fn FlashNote(flash: Option<(bool, String)>) -> impl IntoView {
    flash.map(|(ok, text)| {
        if ok {
            view! { <p class="flash ok" role="status" data-testid="flash">{text}</p> }.into_any()
        } else {
            view! { <p class="flash error" role="alert" data-testid="flash">{text}</p> }.into_any()
        }
    })
}

/// The sign-out button.
#[component]
fn SignOut(csrf: String) -> impl IntoView {
    view! {
        <form method="post" action="/admin/sign-out" class="inline">
            <input type="hidden" name="csrf" value=csrf/>
            <button type="submit" class="secondary">"Sign out"</button>
        </form>
    }
}

/// The fields of an event's settings, filled with `values` when editing.
#[component]
fn SettingsFields(prefix: &'static str, values: Option<EventFigures>) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    let target = values
        .as_ref()
        .and_then(|v| v.target_url.clone())
        .unwrap_or_default();
    let capacity = values
        .as_ref()
        .and_then(|v| v.capacity)
        .map(|c| c.to_string())
        .unwrap_or_default();
    let rate = values
        .as_ref()
        .and_then(|v| v.rate_per_minute)
        .map(|r| r.to_string())
        .unwrap_or_default();
    let opens = values
        .as_ref()
        .and_then(|v| v.opens_at.clone())
        .unwrap_or_default();
    let ends = values
        .as_ref()
        .and_then(|v| v.ends_at.clone())
        .unwrap_or_default();
    let session = values
        .as_ref()
        .and_then(|v| v.session_seconds)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let max_session = values
        .as_ref()
        .and_then(|v| v.max_session_seconds)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let grace = values
        .as_ref()
        .and_then(|v| v.grace_seconds)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let queueing = values.as_ref().map(|v| v.queueing);
    let option = move |q: Option<Queueing>, text: &'static str| {
        let value = q.map_or("", Queueing::as_str);
        let selected = q.is_some() && q == queueing;
        view! { <option value=value selected=selected>{text}</option> }
    };
    view! {
        <label for=id("target")>"Shop URL (where admitted people go)"</label>
        <input id=id("target") type="url" name="target_url" value=target
            placeholder="https://shop.example/sale/"/>
        <label for=id("capacity")>"Capacity (people in the shop at once; empty: the room's default)"</label>
        <input id=id("capacity") type="number" name="capacity" min="0" value=capacity/>
        <label for=id("rate")>"Admissions per minute at most (empty: no limit)"</label>
        <input id=id("rate") type="number" name="rate_per_minute" min="1" value=rate/>
        <label for=id("opens")>"Opens at (RFC 3339, e.g. 2026-12-01T10:00:00Z; empty: open now)"</label>
        <input id=id("opens") type="text" name="opens_at" value=opens/>
        <label for=id("ends")>"Ends at (RFC 3339; empty: no end): no joins after it, and the people still waiting are told"</label>
        <input id=id("ends") type="text" name="ends_at" value=ends/>
        <label for=id("session")>"Session length in seconds (10-86400; empty: the room's default), renewed while the buyer uses the shop"</label>
        <input id=id("session") type="number" name="session_seconds" min="10" max="86400" value=session/>
        <label for=id("max-session")>"Longest session in seconds, renewals included (empty: no cap)"</label>
        <input id=id("max-session") type="number" name="max_session_seconds" min="10" max="86400" value=max_session/>
        <label for=id("grace")>"Grace in seconds: a visitor away too long who comes back within it is let in next, once (0-3600; 0: none; empty: the room's default)"</label>
        <input id=id("grace") type="number" name="grace_seconds" min="0" max="3600" value=grace/>
        <label for=id("queueing")>"Order"</label>
        <select id=id("queueing") name="queueing">
            {option(None, "Default (a draw at the opening when there is one, else first come)")}
            {option(Some(Queueing::Fifo), "First come, first served")}
            {option(Some(Queueing::DrawAtOpen), "Draw at the opening")}
            {option(Some(Queueing::Random), "Random")}
        </select>
    }
}
