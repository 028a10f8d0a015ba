//! `/`: the join form. A plain HTML form that works without JavaScript; an island that
//! joins without a page load (and shows errors in place) once hydrated.

use leptos::prelude::*;
use leptos_meta::Title;

use super::hydration_flag;
use crate::domain::MAX_ID_LEN;
use crate::server_fns::JoinQueue;

#[component]
pub fn JoinPage() -> impl IntoView {
    view! {
        <Title text="Join the line"/>
        <section class="card">
            <h1>"Join the line"</h1>
            <p class="lede">
                "You keep your place while this page is open. We'll let you in as soon as there is room."
            </p>
            <JoinForm/>
        </section>
    }
}

/// The form; on success the server sends the browser to the session's page.
#[island]
pub fn JoinForm() -> impl IntoView {
    let join = ServerAction::<JoinQueue>::new();
    let pending = join.pending();
    let error = move || match join.value().get() {
        Some(Err(e)) => Some(error_text(&e)),
        _ => None,
    };

    view! {
        <div class="join" data-hydrated=hydration_flag()>
            <ActionForm action=join attr:class="join-form">
                <label for="event_id">"Event"</label>
                <input id="event_id" name="event_id" type="text" required
                    maxlength=MAX_ID_LEN pattern="[A-Za-z0-9._:\\-]+" value="E1"
                    autocomplete="off"/>
                <label for="user_id">"Your id"</label>
                <input id="user_id" name="user_id" type="text" required
                    maxlength=MAX_ID_LEN pattern="[A-Za-z0-9._:\\-]+"
                    placeholder="e.g. alice" autocomplete="username"/>
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Joining…" } else { "Join" }}
                </button>
            </ActionForm>
            <p class="error" role="alert">{error}</p>
        </div>
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
