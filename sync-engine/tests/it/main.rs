//! Integration tests of sync-engine: one binary, modules by area.

// Fixture helpers are test code too; clippy's allow-unwrap-in-tests covers only #[test] fns.
#![allow(clippy::unwrap_used)]

mod api;
mod config;
mod ews;
mod mock;
mod presence;
mod subscriptions;
mod support;
mod sync;
mod tls;
