//! `/admin/events/{eventId}`: one event's figures and charts (refreshed in place), and its
//! controls: the sale's state, pause and resume, the message to the people waiting, the
//! shop's brand, the settings, and ending one session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::data::{console_desk, console_history};
use super::events_page::SignIn;
use super::live::LiveEvent;
use super::{FlashNote, SettingsFields, SignOut};
use crate::app::join_page::error_text;
use crate::domain::{BrandFigures, EventFigures, SaleState, MAX_MESSAGE_CHARS};

#[component]
pub fn ConsoleEvent() -> impl IntoView {
    let params = use_params_map();
    let event = params.read_untracked().get("event").unwrap_or_default();
    let page = Resource::new(
        || (),
        move |_| {
            let event = event.clone();
            async move {
                let desk = console_desk().await?;
                let history = if desk.signed_in {
                    Some(console_history(event).await?)
                } else {
                    None
                };
                Ok::<_, ServerFnError>((desk, history))
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <section class="console"><p>"Loading…"</p></section> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((desk, Some(history))) => {
                        let figures = history.figures.clone();
                        let id = figures.event_id.to_string();
                        view! {
                            <Title text=format!("{id} · Console")/>
                            <section class="console">
                                <nav aria-label="Breadcrumb"><a href="/admin">"All events"</a></nav>
                                <div class="console-head">
                                    <h1>"Event " <span class="event-id">{id.clone()}</span></h1>
                                    <SignOut csrf=desk.csrf.clone()/>
                                </div>
                                <FlashNote flash=desk.flash/>
                                <p class="lede">"Live figures, read again every 5 seconds; the charts show the last hour."</p>
                                <LiveEvent initial=history/>
                                <Controls figures csrf=desk.csrf/>
                            </section>
                        }
                        .into_any()
                    }
                    Ok((desk, None)) => view! { <Title text="Console"/><SignIn flash=desk.flash/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Console"/>
                        <section class="card">
                            <h1>"This event cannot be shown"</h1>
                            <p class="error" role="alert">{error_text(&e, "We could not reach the waiting room.")}</p>
                            <p><a href="/admin">"All events"</a></p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The event's controls, each a plain form.
#[component]
fn Controls(figures: EventFigures, csrf: String) -> impl IntoView {
    let id = figures.event_id.to_string();
    let action = move |what: &str| format!("/admin/events/{id}/{what}");
    let message = figures.message.clone().unwrap_or_default();
    let has_message = figures.message.is_some();
    let brand = figures.brand.clone();
    let brand_csrf = csrf.clone();
    let (pause_action, pause_label) = if figures.paused {
        (action("resume"), "Resume admissions")
    } else {
        (action("pause"), "Pause admissions")
    };
    let hidden = move || view! { <input type="hidden" name="csrf" value=csrf.clone()/> };
    let sale = figures.state;
    let state_option = move |s: SaleState, text: &'static str| {
        view! { <option value=s.as_str() selected=s == sale>{text}</option> }
    };
    let sale_now = match figures.closed_reason {
        Some(reason) => format!(
            "The sale takes nobody: {}.",
            reason.as_str().replace('_', " ")
        ),
        None if sale == SaleState::Suspended => {
            "Suspended: everyone sees the maintenance page; the line is kept.".into()
        }
        None => "Open: joins are taken.".into(),
    };
    view! {
        <section aria-labelledby="sale-title" class="panel">
            <h2 id="sale-title">"Sale"</h2>
            <p class="hint" data-testid="sale-state">{sale_now}</p>
            <form method="post" action=action("state") class="inline">
                {hidden()}
                <label for="sale-state">"State"</label>
                <select id="sale-state" name="state">
                    {state_option(SaleState::Open, "Open")}
                    {state_option(SaleState::SoldOut, "Sold out (ends the line)")}
                    {state_option(SaleState::Closed, "Closed (ends the line)")}
                    {state_option(SaleState::Suspended, "Suspended (maintenance page, line kept)")}
                </select>
                <button type="submit">"Set the state"</button>
            </form>
        </section>
        <section aria-labelledby="steer-title" class="panel">
            <h2 id="steer-title">"Steer"</h2>
            <form method="post" action=pause_action class="inline">
                {hidden()}
                <button type="submit">{pause_label}</button>
            </form>
            <p class="hint">{if figures.paused {
                "Paused: joins and positions go on, nobody is let in."
            } else {
                "Pausing stops admissions at once, on every instance; joins go on."
            }}</p>
        </section>
        <section aria-labelledby="message-title" class="panel">
            <h2 id="message-title">"Message to the people waiting"</h2>
            <p class="hint">"Shown on every waiting visitor's page (and in their status) until you take it down."</p>
            <form method="post" action=action("message") class="grid-form">
                {hidden()}
                <label for="message-text">"Message"</label>
                <input id="message-text" type="text" name="text" value=message
                    maxlength=MAX_MESSAGE_CHARS.to_string() placeholder="Doors open at 10:05"/>
                <div class="buttons">
                    <button type="submit" name="action" value="post">"Post the message"</button>
                    {has_message.then(|| view! {
                        <button type="submit" name="action" value="remove" class="secondary">"Take it down"</button>
                    })}
                </div>
            </form>
        </section>
        <BrandForm brand action=action("brand") csrf=brand_csrf/>
        <section aria-labelledby="settings-title" class="panel">
            <h2 id="settings-title">"Settings"</h2>
            <form method="post" action=action("settings") class="grid-form">
                {hidden()}
                <SettingsFields prefix="edit" values=Some(figures)/>
                <button type="submit">"Save the settings"</button>
            </form>
        </section>
        <section aria-labelledby="revoke-title" class="panel">
            <h2 id="revoke-title">"End a session"</h2>
            <p class="hint">"Ends one place in this line as if its owner left; an admitted one's pass stops opening the shop."</p>
            <form method="post" action=action("revoke") class="grid-form">
                {hidden()}
                <label for="revoke-id">"Session id"</label>
                <input id="revoke-id" type="text" name="session_id" required/>
                <button type="submit" class="danger">"End this session"</button>
            </form>
        </section>
    }
}

/// The shop's brand on the line's pages (README, "The shop's brand"), and the text colours
/// the room chose for contrast.
#[component]
fn BrandForm(brand: Option<BrandFigures>, action: String, csrf: String) -> impl IntoView {
    let has_brand = brand.is_some();
    let value = |f: fn(&BrandFigures) -> &Option<String>| {
        brand
            .as_ref()
            .and_then(|b| f(b).clone())
            .unwrap_or_default()
    };
    let (name, logo, accent, background, text) = (
        value(|b| &b.display_name),
        value(|b| &b.logo_url),
        value(|b| &b.accent_color),
        value(|b| &b.background_color),
        value(|b| &b.text),
    );
    let contrast = brand.as_ref().map(|b| {
        let c = &b.contrast;
        let mut said = Vec::new();
        if let Some(ratio) = c.accent_on_card {
            said.push(format!("the accent on the white card: {ratio:.1}:1"));
        }
        if let (Some(on), Some(ratio)) = (&c.on_background, c.on_background_ratio) {
            said.push(format!("text on the background set to {on} ({ratio:.1}:1)"));
        }
        if let (Some(on), Some(ratio)) = (&c.on_accent, c.on_accent_ratio) {
            said.push(format!("text on the accent set to {on} ({ratio:.1}:1)"));
        }
        if said.is_empty() {
            "No colours set: the room's own.".to_string()
        } else {
            format!("Contrast (WCAG AA asks 4.5:1): {}.", said.join("; "))
        }
    });
    view! {
        <section aria-labelledby="brand-title" class="panel">
            <h2 id="brand-title">"The shop's brand"</h2>
            <p class="hint">"On the line's pages: a name, a logo (https), colours (#rrggbb) and a short text in Markdown (emphasis, https links, lists). An accent that cannot be read on the white card is refused; text on the background and on buttons is set black or white, whichever reads better."</p>
            <p class="hint" data-testid="brand-contrast">{contrast}</p>
            <form method="post" action=action class="grid-form">
                <input type="hidden" name="csrf" value=csrf/>
                <label for="brand-name">"Display name"</label>
                <input id="brand-name" type="text" name="display_name" value=name maxlength="60"/>
                <label for="brand-logo">"Logo URL"</label>
                <input id="brand-logo" type="url" name="logo_url" value=logo placeholder="https://shop.example/logo.svg"/>
                <label for="brand-accent">"Accent colour"</label>
                <input id="brand-accent" type="text" name="accent_color" value=accent placeholder="#1a7f37"/>
                <label for="brand-background">"Background colour"</label>
                <input id="brand-background" type="text" name="background_color" value=background placeholder="#f4f1ea"/>
                <label for="brand-text">"Text (Markdown)"</label>
                <textarea id="brand-text" name="text" rows="4" maxlength="1000">{text}</textarea>
                <div class="buttons">
                    <button type="submit" name="action" value="save">"Save the brand"</button>
                    {has_brand.then(|| view! {
                        <button type="submit" name="action" value="remove" class="secondary">"Remove the brand"</button>
                    })}
                </div>
            </form>
        </section>
    }
}
