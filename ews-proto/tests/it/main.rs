//! Integration tests of ews-proto: the real EWS samples, round trips, bad input.

// A test binary: a panic is how a helper reports a broken fixture.
#![allow(clippy::unwrap_used)]

mod availability;
mod bad_input;
mod calendar;
mod notifications;
mod samples;
mod timezone;
mod written;
