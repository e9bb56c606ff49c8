//! Integration tests of mock-ews over real loopback sockets.

mod calendar;
mod control;
mod ews;
mod support;
mod worlds;
