//! The status of one session, as people read it, kept live in the browser.

use std::time::Duration;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use super::hydration_flag;
use super::join_page::error_text;
use crate::domain::{CardTexts, PlaceView, SessionView, Status, Word};
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
    // The tab is hidden (another tab in front, the screen off): polls slow down to the
    // server's hidden pace, and an admission is signalled (title, icon, a notification
    // if asked for) and waits for the visitor to come back before going on to the shop.
    // (This body runs once in the browser, when the island hydrates; the listener lives as
    // long as the page.)
    #[cfg(feature = "hydrate")]
    let (hidden, can_notify) = {
        let hidden = RwSignal::new(turn::hidden());
        let _ = window_event_listener_untyped("visibilitychange", move |_| {
            hidden.set(turn::hidden());
        });
        (hidden, turn::can_notify())
    };
    #[cfg(not(feature = "hydrate"))]
    let (hidden, can_notify) = (RwSignal::new(false), false);
    let hidden_pace = initial.hidden_refresh_after_ms;
    // The visitor asked, by a click, for a notification (a sound) when it is their turn.
    let notify = RwSignal::new(false);
    let sound = RwSignal::new(false);
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
                    texts.with_untracked(|t| error_text(&e, t.get(Word::Unreachable))),
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
            (false, ms) if hidden.get() => Duration::from_millis(ms.max(hidden_pace)),
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
                                #[cfg(feature = "hydrate")]
                                if hidden.get_untracked() {
                                    turn::signal(
                                        &now.texts,
                                        notify.get_untracked(),
                                        sound.get_untracked(),
                                    );
                                }
                            }
                            continue_to.set(now.continue_to);
                            opens_in.set(now.session.opens_in_seconds.unwrap_or(0));
                            texts.set(now.texts);
                            view.set(now.session);
                        }
                        Err(e) => problem.set(Some(
                            texts.with_untracked(|t| error_text(&e, t.get(Word::Unreachable))),
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

    // Admitted, with a shop to go to: go (the pass cookie came with this answer), once the
    // visitor is looking.
    Effect::new(move |_| {
        let admitted = view.with(|v| v.status == Status::Active);
        if hidden.get() {
            return;
        }
        if let (true, true, Some(url)) = (admitted, go_on.get(), continue_to.get()) {
            let _ = window().location().set_href(&url);
        }
    });

    view! {
        <div class="live place-live" data-hydrated=hydration_flag()>
            {move || view! { <StatusCard view=view.get() texts=texts.get() continue_to=continue_to.get() go_on=go_on.get() opens_in leave leaving/> }}
            <p class="error" role="alert">{move || problem.get()}</p>
            // Asking for a notification: only where the browser can notify (so never without
            // JavaScript), while waiting; once asked, the button says so.
            <button type="button" class="secondary" data-testid="notify"
                hidden=move || !(can_notify && view.with(|v| v.status == Status::Waiting))
                disabled=move || notify.get()
                on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    turn::ask(notify);
                }>
                {move || texts.with(|t| t.text(if notify.get() { Word::NotifyOn } else { Word::Notify }))}
            </button>
            // A sound: with JavaScript (the page plays it), while waiting. The click is what
            // lets the browser play it later, from a hidden tab.
            <button type="button" class="secondary" data-testid="sound"
                hidden=move || !(cfg!(feature = "hydrate") && view.with(|v| v.status == Status::Waiting))
                disabled=move || sound.get()
                on:click=move |_| sound.set(true)>
                {move || texts.with(|t| t.text(if sound.get() { Word::SoundOn } else { Word::Sound }))}
            </button>
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
            <p class="event">{texts.text(Word::Event)} " " <strong>{view.event_id.to_string()}</strong></p>
            <div aria-live="polite" aria-atomic="true">
                <h1 class="status">{texts.text(Word::Headline)}</h1>
                {(!texts.get(Word::Message).is_empty()).then(|| view! {
                    <p class="notice" data-testid="message">{texts.text(Word::Message)}</p>
                })}
                <p class="status-word">{texts.text(Word::Status)} " " <code data-testid="status">{view.status.as_str()}</code></p>
                {view.position.is_some().then(|| view! {
                    <p class="position">{texts.text(Word::PositionBefore)} <strong data-testid="position">{texts.text(Word::Position)}</strong> {texts.text(Word::PositionAfter)}</p>
                })}
                <p class="detail" data-testid="estimate">{texts.text(Word::Detail)}</p>
            </div>
            // The receipt: the join number, and for one of a draw how the order was made and
            // where it is published.
            <p class="receipt" data-testid="receipt">{texts.text(Word::JoinNumber)}</p>
            {(!texts.get(Word::DrawUrl).is_empty()).then(|| view! {
                <p class="receipt" data-testid="draw">
                    {texts.text(Word::DrawNote)} " "
                    <a href=texts.text(Word::DrawUrl)>{texts.text(Word::DrawLink)}</a>
                </p>
            })}
            {view.pre_queue.then(|| view! {
                <div class="opening">
                    <p>{texts.text(Word::OpensBefore)}
                        <strong data-testid="countdown">{move || clock(opens_in.get())}</strong>
                        {texts.text(Word::OpensAfter)}
                    </p>
                    {view.position.is_none().then(|| view! {
                        <p data-testid="fairness">{texts.text(Word::Fairness)}</p>
                    })}
                </div>
            })}
            {view.access_token.is_some().then(|| view! {
                <div class="pass" data-testid="pass">
                    <p>{texts.text(Word::PassSaved)}</p>
                    {continue_to.map(|url| view! {
                        <p><a class="button" data-testid="continue" href=url>{texts.text(Word::Continue)}</a></p>
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
                        {texts.text(Word::Leave)}
                    </button>
                </form>
                // Without JavaScript the page refreshes itself; with it, polling takes over
                // (a <noscript> set through innerHTML is inert when scripts run).
                <div inner_html=format!(
                    r#"<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>"#
                )></div>
            })}
            {(!live).then(|| view! { <p><a href="/">{texts.text(Word::JoinAgain)}</a></p> })}
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

/// Telling a visitor who looked away that it is their turn (the browser only).
#[cfg(feature = "hydrate")]
mod turn {
    use leptos::prelude::*;
    use web_sys::{
        js_sys, HtmlAudioElement, Notification, NotificationOptions, NotificationPermission,
    };

    use crate::domain::{CardTexts, Word};

    /// The icon of a page whose visitor's turn came.
    const TURN_ICON: &str = "/favicon-turn.svg";
    /// Its sound: a short two-note chime.
    const TURN_SOUND: &str = "/turn.wav";

    pub fn hidden() -> bool {
        document().hidden()
    }

    /// The browser has notifications, and they are not refused.
    pub fn can_notify() -> bool {
        js_sys::Reflect::has(&window(), &"Notification".into()).unwrap_or(false)
            && Notification::permission() != NotificationPermission::Denied
    }

    /// Asks for the browser's permission (after the visitor's click), and remembers that
    /// the visitor wants to be notified once it is granted.
    pub fn ask(notify: RwSignal<bool>) {
        if Notification::permission() == NotificationPermission::Granted {
            notify.set(true);
            return;
        }
        if let Ok(asked) = Notification::request_permission() {
            leptos::task::spawn_local(async move {
                let answer = wasm_bindgen_futures::JsFuture::from(asked).await;
                if answer.ok().and_then(|a| a.as_string()).as_deref() == Some("granted") {
                    notify.set(true);
                }
            });
        }
    }

    /// The turn came while the tab was hidden: the title and icon say so, and a
    /// notification and a sound if the visitor asked for them.
    pub fn signal(texts: &CardTexts, notify: bool, sound: bool) {
        if sound {
            if let Ok(chime) = HtmlAudioElement::new_with_src(TURN_SOUND) {
                let _ = chime.play();
            }
        }
        let doc = document();
        doc.set_title(&format!("\u{1F514} {}", texts.get(Word::Headline)));
        if let Ok(Some(icon)) = doc.query_selector("link[rel=icon]") {
            let _ = icon.set_attribute("href", TURN_ICON);
        }
        if notify && Notification::permission() == NotificationPermission::Granted {
            let options = NotificationOptions::new();
            options.set_body(texts.get(Word::Detail));
            options.set_icon(TURN_ICON);
            let _ = Notification::new_with_options(texts.get(Word::Headline), &options);
        }
    }
}
