//! `/queue/{sessionId}`: where a session stands. Rendered with the status on the server
//! (so it works without JavaScript and a reload shows the same place); the status itself
//! is an island that polls at the pace the server asks for (`refreshAfterMs`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::join_page::error_text;
use super::status_card::LiveStatus;
use crate::server_fns::get_status;

#[component]
pub fn QueuePage() -> impl IntoView {
    let params = use_params_map();
    let status = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        get_status,
    );

    view! {
        <Title text="Your place in line"/>
        <Suspense fallback=|| view! { <section class="card"><p>"Finding your place…"</p></section> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(view) => view! { <LiveStatus initial=view/> }.into_any(),
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
        </Suspense>
    }
}
