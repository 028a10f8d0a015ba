//! The page: the HTML shell, the router and its pages.
//!
//! Pages render on the server only: `/` (join by event id), `/e/{eventId}` (an event's
//! line, where a shop sends its visitors), `/queue/{sessionId}` (a place) and the
//! operator's console under `/admin` ([`console`]). The interactive parts are islands
//! (`#[island]`): the visitor's live status (`status_card::LiveStatus`), in the main WASM
//! file; the join's proof-of-work (`solver::JoinSolver`) and the console's live figures,
//! lazy islands split into WASM files of their own. Only islands are compiled into WASM and hydrated, so the browser downloads no
//! router and no page code. Forms are plain HTML forms posted to server functions (the
//! console's to `crate::http::console`).

pub mod console;
mod event_page;
pub(crate) mod join_page;
mod move_page;
#[cfg(feature = "ssr")]
mod policy;
mod queue_page;
mod shop_brand;
mod solver;
mod status_card;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::lang::{t, Lang};
use console::{ConsoleEvent, ConsoleHome};
use event_page::EventPage;
use join_page::JoinPage;
use move_page::{MovePage, TakePage};
#[cfg(feature = "ssr")]
use policy::page_policy;
use queue_page::QueuePage;

/// The document around the app, rendered on the server only. Its response carries a
/// Content-Security-Policy with this response's nonce, which the hydration script bears.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(policy) =
            axum::http::HeaderValue::from_str(&page_policy(&nonce.to_string(), None))
        {
            response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    // The visitor's language (`crate::lang`): for every page and server function of this
    // response. Picked by its link, it is remembered in a cookie.
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        let (lang, remember) = crate::lang::of_request(&parts.headers, parts.uri.query());
        if let (Some(cookie), Some(response)) =
            (remember, use_context::<leptos_axum::ResponseOptions>())
        {
            response.append_header(axum::http::header::SET_COOKIE, cookie);
        }
        provide_context(lang);
    }
    let lang = use_lang();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code() dir=lang.dir()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app (rendered on the server; its islands hydrate in the browser).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = use_lang();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "Vestibule".to_string() } else { format!("{page} · Vestibule") }
        }/>
        <Router>
            <header class="masthead">
                <a href="/" class="brand">"Vestibule"</a>
                <span class="tagline">{t(lang, "brand-tagline")}</span>
                <LangLinks lang/>
            </header>
            <main>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=JoinPage/>
                    // Where a protected shop sends its visitors.
                    <Route path=path!("/e/:event") view=EventPage ssr=SsrMode::Async/>
                    // Rendered whole before sending, so the status is in the HTML itself
                    // (works without JavaScript, and a reload shows the same place).
                    <Route path=path!("/queue/:id") view=QueuePage ssr=SsrMode::Async/>
                    // Taking a place to another device: its link and QR code, and what
                    // the link opens.
                    <Route path=path!("/queue/:id/move") view=MovePage ssr=SsrMode::Async/>
                    <Route path=path!("/move/:event/:code") view=TakePage/>
                    // The operator's console (served when an admin token is set).
                    <Route path=path!("/admin") view=ConsoleHome ssr=SsrMode::Async/>
                    <Route path=path!("/admin/events/:event") view=ConsoleEvent ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// The visitor's language, as the shell picked it (English outside a page's rendering).
pub(crate) fn use_lang() -> Lang {
    use_context::<Lang>().unwrap_or_default()
}

/// Links to this page in each language: plain links (no JavaScript needed) whose
/// `?lang=` the shell remembers in a cookie.
#[component]
fn LangLinks(lang: Lang) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let (path, query) = use_context::<axum::http::request::Parts>()
        .map(|p| {
            (
                p.uri.path().to_string(),
                p.uri.query().unwrap_or("").to_string(),
            )
        })
        .unwrap_or_else(|| ("/".into(), String::new()));
    #[cfg(not(feature = "ssr"))]
    let (path, query) = (String::from("/"), String::new());
    // The page's own query (its return URL, its lock), with the language replaced.
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && !pair.starts_with("lang=") && !pair.starts_with("__err=")
        })
        .collect();
    let links = Lang::ALL
        .into_iter()
        .map(|other| {
            let mut href = format!("{path}?");
            for pair in &kept {
                href.push_str(pair);
                href.push('&');
            }
            href.push_str("lang=");
            href.push_str(other.code());
            let current = (other == lang).then_some("true");
            view! {
                <li><a href=href hreflang=other.code() lang=other.code() aria-current=current>{other.name()}</a></li>
            }
        })
        .collect_view();
    view! {
        <nav class="langs" aria-label=t(lang, "lang-switch")>
            <ul>{links}</ul>
        </nav>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(crate::error::AppError::page_not_found().status);
    }
    let lang = use_lang();
    view! {
        <Title text=t(lang, "title-not-found")/>
        <section class="card">
            <h1>{t(lang, "not-found-heading")}</h1>
            <p><a href="/">{t(lang, "join-a-line")}</a></p>
        </section>
    }
}

/// `data-hydrated` on an island's root: "false" in the HTML, "true" once the WASM has
/// taken the island over (effects run in the browser only). Tests and styles can tell.
pub(crate) fn hydration_flag() -> impl Fn() -> &'static str + Copy {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    move || if hydrated.get() { "true" } else { "false" }
}
