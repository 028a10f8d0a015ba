//! The status of one session, as people read it, kept live in the browser.

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::hydration_flag;
use super::join_page::error_text;
use crate::domain::{CardTexts, PlaceView, SessionView, Status};
use crate::server_fns::{get_status, leave_queue, LeaveQueue};

/// Retry pace after a failed poll (network or server away).
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(3);

/// The status card, polled at the pace the server asks for (`refreshAfterMs`) until the
/// session is final. A failed poll keeps the last status on screen, says why, and
/// retries; the Leave button's answer is the new status. Once admitted with somewhere
/// to go (`continueTo`), the browser goes there: the answer that said so also set the
/// pass cookie. Every answer brings the card's words in the visitor's language.
#[island]
pub fn LiveStatus(initial: PlaceView, return_to: String) -> impl IntoView {
    // Go on by itself when admitted while this page watched, or when it was opened on the
    // way to the shop (with a return URL); not when someone came back to give the slot
    // back.
    let go_on = RwSignal::new(initial.session.status == Status::Active && !return_to.is_empty());
    let continue_to = RwSignal::new(initial.continue_to);
    // Seconds to the opening (0: none), counted down here between polls.
    let opens_in = RwSignal::new(initial.session.opens_in_seconds.unwrap_or(0));
    let countdown = RwSignal::new(0u64);
    let view = RwSignal::new(initial.session);
    let texts = RwSignal::new(initial.texts);
    let problem = RwSignal::new(None::<String>);
    let tick = RwSignal::new(0u64);
    // Leaving, in place: the answer is the new status. (A plain call rather than a
    // `ServerAction`, whose no-JavaScript error handling the form already has.)
    let leaving = RwSignal::new(false);
    let leave = Callback::new(move |session_id: String| {
        leaving.set(true);
        leptos::task::spawn_local(async move {
            match leave_queue(session_id).await {
                Ok(left) => {
                    problem.set(None);
                    continue_to.set(None);
                    texts.set(left.texts);
                    view.set(left.session);
                }
                Err(e) => problem.set(Some(
                    texts.with_untracked(|t| error_text(&e, &t.unreachable)),
                )),
            }
            leaving.set(false);
        });
    });

    // After each answer, ask again when the server said to. A timer only moves the tick it
    // was set for, so overlapping timers cannot speed polling up.
    Effect::new(move |_| {
        let wait = match (
            problem.with(Option::is_some),
            view.with(|v| v.refresh_after_ms),
        ) {
            (true, _) => RETRY_AFTER_ERROR,
            (false, 0) => return,
            (false, ms) => Duration::from_millis(ms),
        };
        let at = tick.get_untracked();
        let return_to = return_to.clone();
        set_timeout(
            move || {
                if tick.get_untracked() != at {
                    return;
                }
                tick.set(at + 1);
                let id = view.with_untracked(|v| v.session_id.to_string());
                let return_to = return_to.clone();
                leptos::task::spawn_local(async move {
                    match get_status(id, return_to).await {
                        Ok(now) => {
                            problem.set(None);
                            let was_active = view.with_untracked(|v| v.status == Status::Active);
                            if now.session.status == Status::Active && !was_active {
                                go_on.set(true);
                            }
                            continue_to.set(now.continue_to);
                            opens_in.set(now.session.opens_in_seconds.unwrap_or(0));
                            texts.set(now.texts);
                            view.set(now.session);
                        }
                        Err(e) => problem.set(Some(
                            texts.with_untracked(|t| error_text(&e, &t.unreachable)),
                        )),
                    }
                });
            },
            wait,
        );
    });

    // The countdown: one second off at a time. A poll's fresh figure starts a new count,
    // and a timer of an older count does nothing.
    Effect::new(move |_| {
        let left = opens_in.get();
        let count = countdown.get_untracked().wrapping_add(1);
        countdown.set(count);
        if left == 0 {
            return;
        }
        set_timeout(
            move || {
                if countdown.get_untracked() == count {
                    opens_in.set(left - 1);
                }
            },
            Duration::from_secs(1),
        );
    });

    // Admitted, with a shop to go to: go (the pass cookie came with this answer).
    Effect::new(move |_| {
        let admitted = view.with(|v| v.status == Status::Active);
        if let (true, true, Some(url)) = (admitted, go_on.get(), continue_to.get()) {
            let _ = window().location().set_href(&url);
        }
    });

    view! {
        <div class="live" data-hydrated=hydration_flag()>
            {move || view! { <StatusCard view=view.get() texts=texts.get() continue_to=continue_to.get() go_on=go_on.get() opens_in leave leaving/> }}
            <p class="error" role="alert">{move || problem.get()}</p>
        </div>
    }
}

#[component]
pub fn StatusCard(
    view: SessionView,
    /// Its words, in the visitor's language.
    texts: CardTexts,
    continue_to: Option<String>,
    /// Admitted on the way to the shop: the page goes on by itself (without JavaScript,
    /// by its refresh).
    go_on: bool,
    /// Seconds to the opening, while in the pre-queue.
    opens_in: RwSignal<u64>,
    /// Leaves the line (or gives the slot back) of this session id.
    leave: Callback<String>,
    /// A leave is on its way.
    leaving: RwSignal<bool>,
) -> impl IntoView {
    let live = !view.status.is_final();
    let refresh = view.refresh_after_ms.div_ceil(1_000).max(1);
    let session_id = view.session_id.to_string();
    let leave_id = session_id.clone();
    let leave_url = <LeaveQueue as ServerFn>::url();
    // Without JavaScript: refresh at the server's pace, or once admitted on the way to the
    // shop, go there now (the answer that rendered this page set the pass cookie).
    let refresh = match (&continue_to, go_on && view.status == Status::Active) {
        (Some(url), true) => format!("0;url={}", attribute(url)),
        _ => refresh.to_string(),
    };

    view! {
        <section class="card" data-status=view.status.as_str()>
            <p class="event">{texts.event} " " <strong>{view.event_id.to_string()}</strong></p>
            <div aria-live="polite" aria-atomic="true">
                <h1 class="status">{texts.headline}</h1>
                {view.message.map(|m| view! { <p class="notice" data-testid="message">{m}</p> })}
                <p class="status-word">{texts.status} " " <code data-testid="status">{view.status.as_str()}</code></p>
                {texts.position.map(|(before, number, after)| view! {
                    <p class="position">{before} <strong data-testid="position">{number}</strong> {after}</p>
                })}
                <p class="detail" data-testid="estimate">{texts.detail}</p>
            </div>
            {view.pre_queue.then(|| view! {
                <div class="opening">
                    <p>{texts.opens_in.0}
                        <strong data-testid="countdown">{move || clock(opens_in.get())}</strong>
                        {texts.opens_in.1}
                    </p>
                    {view.position.is_none().then(|| view! {
                        <p data-testid="fairness">{texts.fairness}</p>
                    })}
                </div>
            })}
            {view.access_token.is_some().then(|| view! {
                <div class="pass" data-testid="pass">
                    <p>{texts.pass_saved}</p>
                    {continue_to.map(|url| view! {
                        <p><a class="button" data-testid="continue" href=url>{texts.continue_label}</a></p>
                    })}
                </div>
            })}
            {live.then(|| view! {
                // A plain form (it works without JavaScript); once hydrated the submit is
                // taken over and the answer shown in place.
                <form method="post" action=leave_url class="leave-form"
                    on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        leave.run(leave_id.clone());
                    }>
                    <input type="hidden" name="session_id" value=session_id/>
                    <button type="submit" class="secondary" disabled=move || leaving.get()>
                        {texts.leave}
                    </button>
                </form>
                // Without JavaScript the page refreshes itself; with it, polling takes over
                // (a <noscript> set through innerHTML is inert when scripts run).
                <div inner_html=format!(
                    r#"<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>"#
                )></div>
            })}
            {(!live).then(|| view! { <p><a href="/">{texts.join_again}</a></p> })}
        </section>
    }
}

/// `text` safe inside a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `2:03`, `62:03`: minutes and seconds left to the opening.
fn clock(seconds: u64) -> String {
    format!("{}:{:02}", seconds / 60, seconds % 60)
}
