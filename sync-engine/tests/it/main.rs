//! Integration tests of sync-engine: one binary, modules by area.

mod api;
mod config;
mod ews;
mod presence;
mod subscriptions;
mod support;
mod sync;
