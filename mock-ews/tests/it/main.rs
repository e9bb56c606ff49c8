//! Integration tests of mock-ews over real loopback sockets.

mod control;
mod ews;
mod support;
mod worlds;
