//! `/queue/{sessionId}?return=<url>`: where a place stands. Rendered with the status on the
//! server (so it works without JavaScript and a reload shows the same place); the status
//! itself is an island that polls at the pace the server asks for (`refreshAfterMs`).
//! Once admitted, the answer sets the pass cookie and the page takes the visitor on to
//! the shop.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::join_page::error_text;
use super::shop_brand::ShopBrand;
use super::status_card::LiveStatus;
use super::use_lang;
use crate::lang::t;
use crate::server_fns::{event_brand, get_status};

#[component]
pub fn QueuePage() -> impl IntoView {
    let lang = use_lang();
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
        <Title text=t(lang, "title-place")/>
        <Suspense fallback=move || view! { <section class="card"><p>{t(lang, "finding")}</p></section> }>
            {move || {
                let return_to = return_to.clone();
                Suspend::new(async move {
                    match status.await {
                        Ok(place) => {
                            let event = place.session.event_id.to_string();
                            let brand = event_brand(event.clone()).await.ok().flatten();
                            let move_url = format!("/queue/{}/move", place.session.session_id);
                            view! {
                                <ShopBrand brand event/>
                                <LiveStatus initial=place return_to/>
                                // Taking the place to another device: a page of its own (the
                                // link and its QR code). Outside the island (no WASM): shown
                                // by the stylesheet while the card above says WAITING.
                                <p class="move-place"><a href=move_url data-testid="move">{t(lang, "card-move")}</a></p>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <PlaceError e/> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// Why a place's page (or its move page) cannot show the place, in the visitor's words.
#[component]
pub fn PlaceError(e: ServerFnError) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card">
            <h1>{t(lang, "place-error-heading")}</h1>
            <p class="error" role="alert">{error_text(&e, &t(lang, "error-unreachable"))}</p>
            <p><a href="/">{t(lang, "join-a-line")}</a></p>
        </section>
    }
}
