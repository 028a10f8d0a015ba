//! What every handler and server function can reach: the state of the router.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::granter::Health;
use crate::service::Service;

/// What every handler and server function can reach. Cheap to clone (axum clones the
/// state for every request): one shared allocation.
#[derive(Clone)]
pub struct AppState(pub Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub service: Service,
    pub granter: Health,
    /// `None`: /metrics is open.
    pub metrics_token: Option<secrecy::SecretString>,
    /// Failed tries at the admin and metrics tokens, per client: the admin API, `/metrics`
    /// and the console's sign-in share it.
    pub failures: crate::client::FailureBudget,
    /// The operator's console; `None` without an admin token.
    pub console: Option<crate::console_session::Console>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Service {
    fn from_ref(state: &AppState) -> Self {
        state.service.clone()
    }
}
