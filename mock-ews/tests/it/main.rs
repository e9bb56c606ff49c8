//! Integration tests of mock-ews over real loopback sockets.

mod availability;
mod bad_input;
mod binary;
mod calendar;
mod compat;
mod control;
mod ews;
mod faults;
mod moved;
mod notification;
mod notification_compat;
mod notification_faults;
mod notification_push;
mod notification_streaming;
mod samples;
mod support;
mod sync;
mod worlds;
mod write;
