//! Vestibule: a virtual waiting room for high-demand sales.
//!
//! People join a line per event; a background granter admits them in join order while the
//! event has free capacity. State lives in Redis (a stream per event read by the consumer
//! group `granter`), so any number of server instances form one waiting room.
//!
//! The crate is built twice: with `ssr` as the server and with `hydrate` as the WASM that
//! brings the page's islands to life in the browser. [`domain`], [`lang`], [`app`] and
//! [`server_fns`] are shared; everything else is server-only.
//!
//! # A map, from the top down
//!
//! A request comes in at the top and goes down; no module imports one above it.
//!
//! - `main.rs`, [`startup`]: the binary, and the wiring of store, service, granter and
//!   router; graceful shutdown. [`config`]: every setting (flags, environment).
//! - [`http`]: the HTTP surface. The router ([`http::router`]), the JSON routes
//!   ([`http::api`]), the admin routes ([`http::admin`]), the console's form posts
//!   ([`http::console`]), request bodies ([`http::body`]), limits and deadlines
//!   ([`http::limits`]), CSRF guard and headers ([`http::browser`]), a brand's stylesheet
//!   ([`http::brand`]), the OpenAPI document
//!   ([`http::openapi`]), the server loop and its fast lane ([`http::serve`],
//!   [`http::fast`]).
//! - [`app`]: the pages (Leptos, server-rendered, with islands); [`server_fns`]: the thin
//!   server functions behind them. [`lang`]: the visitor's language and the page's words
//!   in it (shared: the browser's build has only its types).
//! - [`error`]: the one error type of the HTTP surface, and the one `match` that gives
//!   each of the room's failures its status and code. [`state`]: what handlers reach.
//! - [`service`]: the room's operations, by who calls them (visitors, the gate, operators),
//!   in the room's own words ([`service::ServiceError`]).
//! - [`granter`]: the loop that admits people, over the schedule of events due.
//! - [`entry`]: enqueue tokens, the shop's word that a join is one of its accounts;
//!   [`challenge`]: the proof-of-work a join may have to solve first; [`brand`]: the
//!   shop's look on its line's pages, checked.
//! - [`passes`]: the passes' keys, the verified-pass cache and revocations; [`visitor`]:
//!   the visitor and pass cookies; [`console_session`]: the console's session;
//!   [`client`]: who a request is from, and per-client limits; [`telemetry`]: logs and
//!   metrics.
//! - [`store`]: the only code that talks to Redis: every key ([`store::keys`]), every
//!   script and its contract ([`store::scripts`]), a session's place ([`store`]'s `view`).
//! - [`draw`]: the uniform shuffle of a fair start; [`domain`]: the types shared with the
//!   browser; [`clock`]: the room's time (movable in tests).

// The views of the islands are deeply nested types.
#![recursion_limit = "256"]

pub mod app;
pub mod domain;
pub mod lang;
pub mod server_fns;

#[cfg(feature = "ssr")]
pub mod brand;
#[cfg(feature = "ssr")]
pub mod challenge;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod console_session;
#[cfg(feature = "ssr")]
pub mod draw;
#[cfg(feature = "ssr")]
pub mod entry;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod granter;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod passes;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod startup;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod visitor;

/// Entry point of the WASM bundle: brings the page's islands (the join form, the live
/// status) to life; the rest of the page is plain server-rendered HTML.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panics in the console while developing; release bundles leave the hook
    // (and the formatting code it pulls in) out.
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
