//! Workspace-level end-to-end and property tests of ews-kit.

// A test binary: a panic is how a helper reports a broken fixture.
#![allow(clippy::unwrap_used)]

mod convergence;
mod decode;
mod play_cli;
mod player;
mod scenarios;
mod up;
