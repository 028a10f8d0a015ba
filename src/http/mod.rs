//! The HTTP surface: the router and its state, the public JSON routes ([`api`]), the admin
//! routes ([`admin`]), the console's form posts ([`console`]), the middleware (client
//! limits, deadline, CSRF guard and security headers), the OpenAPI document and the server
//! loop. Failed tries at the admin and metrics tokens are limited per client
//! ([`crate::client::FailureBudget`], in the state). The pages themselves are the Leptos app
//! (`crate::app`).

pub mod admin;
pub mod api;
pub mod body;
pub mod brand;
pub mod browser;

pub mod console;
pub mod fast;
pub mod limits;
pub mod openapi;
pub mod serve;
pub mod standby;

use axum::http::{header, HeaderValue};
use axum::Router;
use leptos::server_fn::ServerFn;
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::{shell, App};
use crate::client::ClientLimiter;
use crate::server_fns::JoinEvent;
use crate::state::AppState;
use crate::telemetry;

/// The limits every request passes through.
pub struct Limits {
    pub joins: ClientLimiter,
    pub request_timeout: std::time::Duration,
    /// Admin routes are mounted only with a token.
    pub admin_token: Option<secrecy::SecretString>,
}

/// Every route: the JSON API (and the admin API when configured), the hashed static files,
/// the Leptos pages and server functions, and the fallback (files under the site root,
/// else the app's 404 page).
pub fn router(state: AppState, limits: Limits) -> Router {
    let options = state.leptos_options.clone();
    let pkg_dir = format!("{}/{}", options.site_root, options.site_pkg_dir);
    let cache = if options.hash_files {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache),
        ))
        .service(
            ServeDir::new(pkg_dir)
                .precompressed_br()
                .precompressed_gzip(),
        );
    // The page's join (a server function) is routed here, with the join limit as its
    // layer, as the JSON join is in `api::router`.
    let join_fn = <JoinEvent as ServerFn>::PATH;
    // So is an event's page, which may let a browser straight through (`standby`).
    let routes = generate_route_list_with_exclusions(
        App,
        Some(vec![join_fn.to_string(), "/e/{event}".to_string()]),
    );
    let join_page = {
        let state = state.clone();
        move |request: axum::extract::Request| {
            let state = state.clone();
            async move {
                leptos_axum::handle_server_fns_with_context(
                    move || leptos::prelude::provide_context(state.clone()),
                    request,
                )
                .await
            }
        }
    };
    let mut router = Router::new()
        .route("/e/{event}", standby::route(limits.joins.clone()))
        .route("/brand/{file}", axum::routing::get(brand::stylesheet))
        .route(
            join_fn,
            axum::routing::post(join_page).route_layer(axum::middleware::from_fn_with_state(
                limits.joins.clone(),
                limits::limit_joins,
            )),
        );
    if let Some(token) = &limits.admin_token {
        router = router
            .merge(admin::router(token, state.failures.clone()))
            .merge(console::router());
    }
    router
        .merge(api::router(limits.joins))
        .merge(openapi::router())
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg)
        .leptos_routes_with_context(&state, routes, || {}, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            limits::deadline,
        ))
        .layer(axum::middleware::from_fn(browser::guard_server_fns))
        .layer(axum::middleware::from_fn(browser::default_headers))
        .layer(axum::middleware::from_fn(telemetry::track_http))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
