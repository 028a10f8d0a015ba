//! `/e/{eventId}?return=<url>`: an event's line, where a protected shop sends its visitors.
//!
//! Opening it shows this browser's place when it has one (a redirect to the place's page),
//! else a one-click "Join the line" button, or why the line takes nobody (the sale is
//! over, or suspended). (A browser's navigation here may be let straight through to the
//! shop first when there is room: `crate::http::standby`.) The page itself never writes: a GET that
//! joined would put browsers in line from link prefetchers, crawlers and other sites'
//! `<img>` tags, and make events out of any URL. The button posts to the `join_event`
//! server function, with or without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::join_page::{error_text, form_error};
use super::shop_brand::ShopBrand;
use super::solver::JoinSolver;
use super::use_lang;
use crate::domain::{Door, JoinLock};
use crate::lang::{closed_text, solver_texts, t, t_args, Arg};
use crate::server_fns::{event_brand, find_place, JoinEvent};

/// A query parameter's value, percent-encoded (by hand: this page also builds for the
/// browser, without the server's URL crate).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn EventPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let event = params.read_untracked().get("event").unwrap_or_default();
    let return_to = query.read_untracked().get("return").unwrap_or_default();
    let error = form_error(lang);
    let lock = query.read_untracked().get("lock");
    let place = Resource::new(
        move || (event.clone(), return_to.clone(), lock.clone()),
        |(event, return_to, lock)| find_place(event, return_to, lock),
    );
    let join_url = <JoinEvent as ServerFn>::url();
    let event = params.read_untracked().get("event").unwrap_or_default();
    let return_to = query.read_untracked().get("return").unwrap_or_default();

    view! {
        <Title text=t(lang, "title-line")/>
        <Suspense fallback=move || view! { <section class="card"><p>{t(lang, "finding")}</p></section> }>
            {move || {
                let (event, return_to, join_url, error) =
                    (event.clone(), return_to.clone(), join_url, error.clone());
                Suspend::new(async move {
                    let brand = event_brand(event.clone()).await.ok().flatten();
                    let shop = view! { <ShopBrand brand event=event.clone()/> };
                    let card = match place.await {
                        Ok(Door::Place(url)) => view! {
                            <section class="card">
                                <h1>{t(lang, "event-already")}</h1>
                                <p><a href=url>{t(lang, "event-see-place")}</a></p>
                            </section>
                        }
                        .into_any(),
                        Ok(Door::Closed(reason)) => {
                            let (headline, detail) = closed_text(lang, reason);
                            view! {
                                <section class="card" data-status="CLOSED">
                                    <p class="event">{t(lang, "event-label")} " " <strong>{event.clone()}</strong></p>
                                    <h1>{headline}</h1>
                                    <p class="lede">{detail}</p>
                                </section>
                            }
                            .into_any()
                        }
                        Ok(Door::Suspended) => view! {
                            <section class="card" data-status="SUSPENDED">
                                <p class="event">{t(lang, "event-label")} " " <strong>{event.clone()}</strong></p>
                                <h1>{t(lang, "status-paused")}</h1>
                                <p class="lede">{t(lang, "event-suspended-lede")}</p>
                            </section>
                        }
                        .into_any(),
                        Ok(Door::Join(Some(JoinLock { lock, wait_seconds, challenge }))) if wait_seconds > 0 => {
                            // A challenge is in force (README, "Bots and accounts"). With
                            // JavaScript, the island solves it and joins; without, the
                            // time-lock: the page comes back by itself, carrying its lock,
                            // once the form opens.
                            let mut again = format!("/e/{}?lock={}", encode(&event), encode(&lock));
                            if !return_to.is_empty() {
                                again.push_str(&format!("&return={}", encode(&return_to)));
                            }
                            let refresh = format!("{wait_seconds};url={again}");
                            let lede = t_args(lang, "event-lock-lede", &[("seconds", Arg::Number(wait_seconds))]);
                            view! {
                                <section class="card" data-status="LOCKED">
                                    <p class="event">{t(lang, "event-label")} " " <strong>{event.clone()}</strong></p>
                                    <h1>{t(lang, "event-lock-heading")}</h1>
                                    <noscript>
                                        <meta http-equiv="refresh" content=refresh/>
                                        <p class="lede" role="status">{lede}</p>
                                        <p><a href=again.clone()>{t(lang, "event-continue")}</a></p>
                                    </noscript>
                                    <JoinSolver
                                        event=event.clone()
                                        return_to=return_to.clone()
                                        lock
                                        challenge
                                        wait_seconds
                                        texts=solver_texts(lang, wait_seconds)
                                        again
                                        join_url=join_url.to_string()
                                    />
                                    <p class="error" role="alert">{error}</p>
                                </section>
                            }
                            .into_any()
                        }
                        Ok(Door::Join(lock)) => {
                            let lock = lock.map(|l| l.lock).unwrap_or_default();
                            view! {
                                <section class="card">
                                    <p class="event">{t(lang, "event-label")} " " <strong>{event.clone()}</strong></p>
                                    <h1>{t(lang, "event-heading")}</h1>
                                    <p class="lede">{t(lang, "event-lede")}</p>
                                    <form method="post" action=join_url class="join-form">
                                        <input type="hidden" name="event_id" value=event/>
                                        <input type="hidden" name="return_to" value=return_to/>
                                        <input type="hidden" name="lock" value=lock/>
                                        <button type="submit">{t(lang, "event-join-button")}</button>
                                    </form>
                                    <p class="error" role="alert">{error}</p>
                                </section>
                            }
                            .into_any()
                        }
                        Err(e) => view! {
                            <section class="card">
                                <h1>{t(lang, "event-error-heading")}</h1>
                                <p class="error" role="alert">{error_text(&e, &t(lang, "error-unreachable"))}</p>
                            </section>
                        }
                        .into_any(),
                    };
                    view! { {shop} {card} }
                })
            }}
        </Suspense>
    }
}
