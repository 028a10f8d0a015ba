//! Server functions behind the console's pages: what a signed-in operator reads. The
//! writes are plain form posts (`crate::http::console`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::{EventFigures, EventHistory};

/// Who looks at a console page, and what their last post did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Desk {
    pub signed_in: bool,
    /// The form token of the operator's session ("" when signed out).
    pub csrf: String,
    /// What the last post did: (it worked, in words).
    pub flash: Option<(bool, String)>,
}

/// A page of the events table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsList {
    pub events: Vec<EventFigures>,
    /// The `after` of the next page; none on the last.
    pub next: Option<String>,
}

/// Events per page of the console's table.
pub const EVENTS_PER_PAGE: usize = 50;

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;

    use crate::console_session::{removal, Console, ConsoleSession, FLASH_COOKIE};
    use crate::server_fns::ssr::{fail, headers, set_cookie};
    use crate::service::ServiceError;
    use crate::state::AppState;
    use crate::visitor::is_https;

    pub fn console() -> Result<Console, ServerFnError> {
        use_context::<AppState>()
            .and_then(|state| state.console.clone())
            .ok_or_else(|| fail(ServiceError::NoConsole))
    }

    /// The operator's session, or the error (401) a signed-out reader gets.
    pub fn session(console: &Console) -> Result<ConsoleSession, ServerFnError> {
        console
            .session(&headers())
            .ok_or_else(|| fail(ServiceError::SignedOut))
    }

    /// The flash of this request, shown once: the answer removes it.
    pub fn take_flash(console: &Console) -> Option<(bool, String)> {
        let headers = headers();
        let flash = console.flash(&headers)?;
        set_cookie(removal(FLASH_COOKIE, "/admin", is_https(&headers)));
        Some((flash.ok, flash.text))
    }
}

/// Who looks at a console page (and the flash of their last post, once).
#[server(endpoint = "console/desk")]
pub async fn console_desk() -> Result<Desk, ServerFnError> {
    let console = ssr::console()?;
    let flash = ssr::take_flash(&console);
    Ok(match ssr::session(&console) {
        Ok(session) => Desk {
            signed_in: true,
            csrf: console.csrf(&session),
            flash,
        },
        Err(_) => Desk {
            signed_in: false,
            csrf: String::new(),
            flash,
        },
    })
}

/// A page of events with their figures, from `after` on (in id order).
#[server(endpoint = "console/events")]
pub async fn console_events(after: Option<String>) -> Result<EventsList, ServerFnError> {
    use crate::domain::EventId;
    use crate::server_fns::ssr::{fail, service};

    ssr::session(&ssr::console()?)?;
    let after = after
        .filter(|a| !a.is_empty())
        .map(|a| EventId::parse(&a))
        .transpose()
        .map_err(fail)?;
    // One more than shown: the first of the next page, if any.
    let (mut events, more) = service()?
        .events(after.as_ref(), EVENTS_PER_PAGE + 1)
        .await
        .map_err(fail)?;
    let next = (events.len() > EVENTS_PER_PAGE || more)
        .then(|| events.truncate(EVENTS_PER_PAGE))
        .and_then(|()| events.last().map(|e| e.event_id.to_string()));
    Ok(EventsList { events, next })
}

/// One event's figures now and its samples over the last hour.
#[server(endpoint = "console/history")]
pub async fn console_history(event_id: String) -> Result<EventHistory, ServerFnError> {
    use crate::domain::EventId;
    use crate::server_fns::ssr::{fail, service};

    ssr::session(&ssr::console()?)?;
    let event = EventId::parse(event_id.trim()).map_err(fail)?;
    service()?.history(&event, 60).await.map_err(fail)
}
