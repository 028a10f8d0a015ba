//! The integration tests, as one binary (one link of the whole graph instead of one per
//! file). Each module is one subject; `common` has the harness: a real redis-server per
//! test, the app in-process on port 0 or as a real process.
#![cfg(feature = "ssr")]
#![allow(dead_code)]

mod always_on;
mod api_errors;
mod cluster;
mod common;
mod console;
mod draw;
mod entry;
mod faults;
mod gate;
mod hardening;
mod idle_events;
mod join_writes;
mod joins;
mod lifecycle;
mod moves;
mod openapi;
mod operations;
mod parsing_props;
mod polls;
mod processes;
mod waiting_room;
