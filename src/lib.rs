//! Vestibule: a virtual waiting room for high-demand sales.
//!
//! People join a line per event; a background granter admits them in join order while the
//! event has free capacity. State lives in Redis (a stream per event read by the consumer
//! group `granter`), so any number of server instances form one waiting room.
//!
//! The crate is built twice: with `ssr` as the server and with `hydrate` as the WASM that
//! brings the page's islands to life in the browser. [`domain`], [`app`] and [`server_fns`]
//! are shared; everything else is server-only.

// The views of the islands are deeply nested types.
#![recursion_limit = "256"]

pub mod app;
pub mod domain;
pub mod server_fns;

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
