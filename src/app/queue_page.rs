//! `/queue/{sessionId}?return=<url>`: where a place stands. Rendered with the status on the
//! server (so it works without JavaScript and a reload shows the same place); the status
//! itself is an island that polls at the pace the server asks for (`refreshAfterMs`).
//! Once admitted, the answer sets the pass cookie and the page takes the visitor on to
//! the shop.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::join_page::error_text;
use super::status_card::LiveStatus;
use crate::server_fns::get_status;

#[component]
pub fn QueuePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let return_to = query.read_untracked().get("return").unwrap_or_default();
    let status = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                query.read().get("return").unwrap_or_default(),
            )
        },
        |(id, return_to)| get_status(id, return_to),
    );

    view! {
        <Title text="Your place in line"/>
        <Suspense fallback=|| view! { <section class="card"><p>"Finding your place…"</p></section> }>
            {move || {
                let return_to = return_to.clone();
                Suspend::new(async move {
                    match status.await {
                        Ok(place) => view! { <LiveStatus initial=place return_to/> }.into_any(),
                        Err(e) => view! {
                            <section class="card">
                                <h1>"We couldn't show this place in line"</h1>
                                <p class="error" role="alert">{error_text(&e)}</p>
                                <p><a href="/">"Join a line"</a></p>
                            </section>
                        }
                        .into_any(),
                    }
                })
            }}
        </Suspense>
    }
}
