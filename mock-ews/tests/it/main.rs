//! Integration tests of mock-ews over real loopback sockets.

mod availability;
mod calendar;
mod control;
mod ews;
mod samples;
mod support;
mod worlds;
mod write;
