//! `/queue/{sessionId}`: where a session stands. Rendered with the status on the server;
//! once hydrated it polls at the pace the server asks for (`refreshAfterMs`).

use std::time::Duration;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::join_page::error_text;
use super::status_card::StatusCard;
use crate::server_fns::{get_status, LeaveQueue};

/// Retry pace after a failed poll (network or server away).
const RETRY_AFTER_ERROR: Duration = Duration::from_secs(3);

#[component]
pub fn QueuePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let tick = RwSignal::new(0u64);
    let leave = ServerAction::<LeaveQueue>::new();
    let status = Resource::new(
        move || (id(), tick.get(), leave.version().get()),
        |(id, _, _)| get_status(id),
    );

    // Polling: after each answer, ask again when the server said to. A timer only moves
    // the tick it was set for, so overlapping timers cannot speed polling up.
    Effect::new(move |_| {
        let wait = match status.get() {
            Some(Ok(view)) if view.refresh_after_ms > 0 => {
                Duration::from_millis(view.refresh_after_ms)
            }
            Some(Err(_)) => RETRY_AFTER_ERROR,
            _ => return,
        };
        let at = tick.get_untracked();
        set_timeout(
            move || {
                if tick.get_untracked() == at {
                    tick.set(at + 1);
                }
            },
            wait,
        );
    });

    view! {
        <Title text="Your place in line"/>
        <Transition fallback=|| view! { <section class="card"><p>"Finding your place…"</p></section> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(view) => view! { <StatusCard view leave/> }.into_any(),
                    Err(e) => view! {
                        <section class="card">
                            <h1>"We couldn't show this place in line"</h1>
                            <p class="error" role="alert">{error_text(&e)}</p>
                            <p><a href="/">"Join a line"</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
