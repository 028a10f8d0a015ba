//! Taking a place to another device (README, "Take your place with you"), two plain pages
//! (no WASM):
//! - `/queue/{sessionId}/move`: the place's owner gets a one-time link and its QR code
//!   (made on the server), valid for a few minutes. Each visit makes a new one and voids
//!   the last.
//! - `/move/{eventId}/{code}`: what the link opens on the other device: a button (a plain
//!   form posted to the `take_place` server function), so that a link preview or a
//!   prefetch cannot spend it. Once moved, this browser holds the place and the first
//!   device's page says MOVED.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::join_page::form_error;
use super::queue_page::PlaceError;
use super::use_lang;
use crate::domain::is_valid_name;
use crate::lang::{t, t_args, Arg};
use crate::server_fns::{offer_move, TakePlace};

#[component]
pub fn MovePage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let offer = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        offer_move,
    );
    view! {
        <Title text=t(lang, "move-title")/>
        <Suspense fallback=move || view! { <section class="card"><p>{t(lang, "finding")}</p></section> }>
            {move || Suspend::new(async move {
                match offer.await {
                    Ok(offer) => view! {
                        <section class="card move">
                            <h1>{t(lang, "move-heading")}</h1>
                            <p class="lede">{t_args(lang, "move-lede", &[("minutes", Arg::Number(offer.minutes))])}</p>
                            <div class="qr" role="img" aria-label=t(lang, "move-qr") data-testid="move-qr" inner_html=offer.qr_svg></div>
                            <p class="move-link"><a data-testid="move-link" href=offer.url.clone() rel="nofollow">{offer.url.clone()}</a></p>
                            <p><a href=offer.place_url>{t(lang, "move-back")}</a></p>
                        </section>
                    }
                    .into_any(),
                    Err(e) => view! { <PlaceError e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn TakePage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let event = params.read_untracked().get("event").unwrap_or_default();
    let code = params.read_untracked().get("code").unwrap_or_default();
    let error = form_error(lang);
    // Not an event's name: the page says so, and repeats nothing of it.
    let (error, event) = match is_valid_name(&event) {
        true => (error, event),
        false => (Some(t(lang, "error-invalid_event_id")), String::new()),
    };
    let take_url = <TakePlace as ServerFn>::url();
    // A refusal of the form comes back to this page (the server function redirects to the
    // referrer): the full address goes to this site only, never elsewhere.
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            axum::http::header::REFERRER_POLICY,
            axum::http::HeaderValue::from_static("same-origin"),
        );
    }
    let lede = t_args(lang, "take-lede", &[("event", Arg::Text(&event))]);
    view! {
        <Title text=t(lang, "take-title")/>
        <section class="card take">
            {match error {
                Some(error) => view! {
                    <h1>{t(lang, "take-error-heading")}</h1>
                    <p class="error" role="alert" data-testid="take-error">{error}</p>
                    <p><a href=format!("/e/{event}")>{t(lang, "join-a-line")}</a></p>
                }
                .into_any(),
                None => view! {
                    <h1>{t(lang, "take-heading")}</h1>
                    <p class="lede">{lede}</p>
                    <form method="post" action=take_url>
                        <input type="hidden" name="event_id" value=event.clone()/>
                        <input type="hidden" name="code" value=code/>
                        <button type="submit" data-testid="take">{t(lang, "take-button")}</button>
                    </form>
                }
                .into_any(),
            }}
        </section>
    }
}
