//! Server functions behind the page: thin wrappers over [`crate::service::Service`].
//!
//! Arguments arrive as plain strings (they come from forms and URLs) and are parsed into
//! domain types here, so a bad value reads as a plain sentence on the page.

use leptos::prelude::*;

use crate::domain::SessionView;

#[cfg(feature = "ssr")]
mod ssr {
    use leptos::prelude::*;

    use crate::error::AppError;
    use crate::service::Service;
    use crate::startup::AppState;

    pub fn service() -> Result<Service, ServerFnError> {
        use_context::<AppState>()
            .map(|state| state.service.clone())
            .ok_or_else(|| ServerFnError::new("the waiting room is not set up"))
    }

    /// The message of an error, with the HTTP status set on the response, except for a
    /// plain form post (no JavaScript), which is answered with a redirect back to the
    /// form carrying the error (a status would replace the redirect).
    pub fn fail(e: impl Into<AppError>) -> ServerFnError {
        let e = e.into();
        let form_post = use_context::<axum::http::request::Parts>().is_some_and(|req| {
            req.method == axum::http::Method::POST
                && req
                    .headers
                    .get(axum::http::header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("text/html"))
        });
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            if !form_post {
                response.set_status(e.status);
            }
        }
        ServerFnError::new(e.message)
    }
}

/// Joins the line, then sends the browser to the session's page.
#[server]
pub async fn join_queue(event_id: String, user_id: String) -> Result<SessionView, ServerFnError> {
    use crate::domain::{EventId, UserId};
    use ssr::{fail, service};

    let service = service()?;
    let event = EventId::parse(event_id.trim()).map_err(fail)?;
    let user = UserId::parse(user_id.trim()).map_err(fail)?;
    let (_, view) = service.join(&event, &user).await.map_err(fail)?;
    leptos_axum::redirect(&format!("/queue/{}", view.session_id));
    Ok(view)
}

/// Where a session stands (and a heartbeat for a waiting one).
#[server]
pub async fn get_status(session_id: String) -> Result<SessionView, ServerFnError> {
    use crate::domain::SessionId;
    use ssr::{fail, service};

    let service = service()?;
    let sid = SessionId::parse(&session_id).map_err(fail)?;
    service.status(sid).await.map_err(fail)
}

/// Leaves the line, or gives the slot back.
#[server]
pub async fn leave_queue(session_id: String) -> Result<SessionView, ServerFnError> {
    use crate::domain::SessionId;
    use ssr::{fail, service};

    let service = service()?;
    let sid = SessionId::parse(&session_id).map_err(fail)?;
    service.leave(sid).await.map_err(fail)
}
