//! `/`: a form to join an event's line by its id, for trying the room. The browser joins
//! as its own visitor (see `crate::visitor`): nobody types who they are, so nobody can
//! take another person's place. A plain HTML form posted to the `join_event` server
//! function (no WASM needed); the server answers with a redirect to the place's page, or
//! back here with the error in the query string, shown below the form.

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::use_lang;
use crate::domain::MAX_ID_LEN;
use crate::lang::{t, Lang};
use crate::server_fns::JoinEvent;

#[component]
pub fn JoinPage() -> impl IntoView {
    let lang = use_lang();
    let error = form_error(lang);

    let join_url = <JoinEvent as ServerFn>::url();

    view! {
        <Title text=t(lang, "title-join")/>
        <section class="card">
            <h1>{t(lang, "join-heading")}</h1>
            <p class="lede">{t(lang, "join-lede")}</p>
            <form method="post" action=join_url class="join-form">
                <label for="event_id">{t(lang, "event-label")}</label>
                <input id="event_id" name="event_id" type="text" required
                    maxlength=MAX_ID_LEN pattern="[A-Za-z0-9._:\\-]+" value="E1"
                    autocomplete="off"/>
                <input type="hidden" name="return_to" value=""/>
                <button type="submit">{t(lang, "join-button")}</button>
            </form>
            <p class="error" role="alert">{error}</p>
        </section>
    }
}

/// The refusal a plain form post came back with (the server function redirects to the
/// form's page with it in `?__err=`), as a sentence for people.
pub fn form_error(lang: Lang) -> Option<String> {
    use_query_map().with_untracked(|q| {
        q.get("__err").map(|e| {
            error_text(
                &ServerFnUrlError::<ServerFnError>::decode_err(&e),
                &t(lang, "error-unreachable"),
            )
        })
    })
}

/// A server function error as a sentence for people (the server's are in the visitor's
/// language already); `unreachable` is what a failed request says.
pub fn error_text(e: &ServerFnError, unreachable: &str) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) => unreachable.to_string(),
        other => other.to_string(),
    }
}
