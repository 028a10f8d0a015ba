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

use crate::domain::MAX_ID_LEN;
use crate::server_fns::JoinEvent;

#[component]
pub fn JoinPage() -> impl IntoView {
    let query = use_query_map();
    let error = query.with_untracked(|q| {
        q.get("__err")
            .map(|e| error_text(&ServerFnUrlError::<ServerFnError>::decode_err(&e)))
    });

    let join_url = <JoinEvent as ServerFn>::url();

    view! {
        <Title text="Join the line"/>
        <section class="card">
            <h1>"Join the line"</h1>
            <p class="lede">
                "You keep your place while this page is open. We'll let you in as soon as there is room."
            </p>
            <form method="post" action=join_url class="join-form">
                <label for="event_id">"Event"</label>
                <input id="event_id" name="event_id" type="text" required
                    maxlength=MAX_ID_LEN pattern="[A-Za-z0-9._:\\-]+" value="E1"
                    autocomplete="off"/>
                <input type="hidden" name="return_to" value=""/>
                <button type="submit">"Join"</button>
            </form>
            <p class="error" role="alert">{error}</p>
        </section>
    }
}

/// A server function error as a sentence for people.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) => {
            "We could not reach the waiting room. Check your connection; we'll keep trying."
                .to_string()
        }
        other => other.to_string(),
    }
}
