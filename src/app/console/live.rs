//! The console's live parts: islands that ask for fresh figures every few seconds and
//! redraw in place. They are lazy islands: their code is a WASM file of its own that only
//! the console's pages load, so a waiting visitor never downloads it.

use std::future::Future;
use std::time::Duration;

use leptos::prelude::*;

use super::data::{console_events, console_history, EventsList};
use super::figures::{Charts, EventsTable, Figures};
use crate::app::hydration_flag;
use crate::domain::EventHistory;

/// How often the figures are read again.
const REFRESH: Duration = Duration::from_secs(5);

/// Puts what `fetch` answers into `into` every [`REFRESH`] (in the browser only), and what
/// went wrong into `problem`.
fn poll<T, F, Fut>(fetch: F, into: RwSignal<T>, problem: RwSignal<Option<String>>)
where
    T: Send + Sync + 'static,
    F: Fn() -> Fut + Clone + 'static,
    Fut: Future<Output = Result<T, ServerFnError>> + 'static,
{
    Effect::new(move |_| {
        let fetch = fetch.clone();
        set_interval(
            move || {
                let answer = fetch();
                leptos::task::spawn_local(async move {
                    match answer.await {
                        Ok(fresh) => {
                            problem.set(None);
                            into.set(fresh);
                        }
                        Err(ServerFnError::ServerError(message)) => problem.set(Some(message)),
                        Err(_) => problem.set(Some(
                            "The figures could not be refreshed; trying again.".into(),
                        )),
                    }
                });
            },
            REFRESH,
        );
    });
}

/// The events table, refreshed in place.
#[island(lazy)]
pub fn LiveEvents(initial: EventsList, after: Option<String>) -> impl IntoView {
    let list = RwSignal::new(initial);
    let problem = RwSignal::new(None::<String>);
    poll(move || console_events(after.clone()), list, problem);
    view! {
        <div class="live" data-hydrated=hydration_flag()>
            {move || view! { <EventsTable list=list.get()/> }}
            <p class="error" role="status">{move || problem.get()}</p>
        </div>
    }
}

/// An event's figures and charts, refreshed in place.
#[island(lazy)]
pub fn LiveEvent(initial: EventHistory) -> impl IntoView {
    let event = initial.figures.event_id.to_string();
    let history = RwSignal::new(initial);
    let problem = RwSignal::new(None::<String>);
    poll(move || console_history(event.clone()), history, problem);
    view! {
        <div class="live" data-hydrated=hydration_flag()>
            {move || {
                let history = history.get();
                view! {
                    <Figures figures=history.figures.clone()/>
                    <Charts history/>
                }
            }}
            <p class="error" role="status">{move || problem.get()}</p>
        </div>
    }
}
