//! `/admin`: the sign-in form, then the events table (refreshed in place) and a form that
//! creates an event.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::data::{console_desk, console_events};
use super::live::LiveEvents;
use super::{FlashNote, SettingsFields, SignOut};
use crate::app::join_page::error_text;

#[component]
pub fn ConsoleHome() -> impl IntoView {
    let query = use_query_map();
    let after = query.read_untracked().get("after");
    let page = Resource::new(
        || (),
        move |_| {
            let after = after.clone();
            async move {
                let desk = console_desk().await?;
                let events = if desk.signed_in {
                    Some(console_events(after).await?)
                } else {
                    None
                };
                Ok::<_, ServerFnError>((desk, events))
            }
        },
    );
    let after = query.read_untracked().get("after");
    view! {
        <Title text="Console"/>
        <Suspense fallback=|| view! { <section class="console"><p>"Loading…"</p></section> }>
            {move || {
                let after = after.clone();
                Suspend::new(async move {
                    match page.await {
                        Ok((desk, Some(list))) => view! {
                            <section class="console">
                                <div class="console-head">
                                    <h1>"Events"</h1>
                                    <SignOut csrf=desk.csrf.clone()/>
                                </div>
                                <FlashNote flash=desk.flash/>
                                <p class="lede">"Live figures, read again every 5 seconds."</p>
                                <LiveEvents initial=list after/>
                                <CreateEvent csrf=desk.csrf/>
                            </section>
                        }
                        .into_any(),
                        Ok((desk, None)) => view! { <SignIn flash=desk.flash/> }.into_any(),
                        Err(e) => view! {
                            <section class="card">
                                <h1>"The console is not available"</h1>
                                <p class="error" role="alert">{error_text(&e, "We could not reach the waiting room.")}</p>
                            </section>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// The sign-in form: the admin token, once.
#[component]
pub fn SignIn(flash: Option<(bool, String)>) -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Operator's console"</h1>
            <p class="lede">"Sign in with the room's admin token to watch and steer the lines."</p>
            <FlashNote flash/>
            <form method="post" action="/admin/sign-in" class="stack">
                <label for="token">"Admin token"</label>
                <input id="token" type="password" name="token" required autocomplete="current-password"/>
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}

/// Creates an event.
#[component]
fn CreateEvent(csrf: String) -> impl IntoView {
    view! {
        <section aria-labelledby="create-title" class="panel">
            <h2 id="create-title">"Create an event"</h2>
            <form method="post" action="/admin/events" class="grid-form">
                <input type="hidden" name="csrf" value=csrf/>
                <label for="new-event-id">"Event id"</label>
                <input id="new-event-id" type="text" name="event_id" required
                    placeholder="tour-2027-berlin"/>
                <SettingsFields prefix="new" values=None/>
                <button type="submit">"Create"</button>
            </form>
        </section>
    }
}
