//! The Exchange Web Services wire format, shared by mock-ews (parses requests, writes
//! responses) and sync-engine (writes requests, parses responses).
//!
//! **Invariant:** this crate does no I/O and never reads a clock.
