//! Fuzzes the parsing of any message (responses, faults, notifications, captured streams),
//! the engine's attack surface: any bytes give messages or an error, never a panic, and
//! whatever parses must survive write -> parse unchanged.
//!
//!   cd ews-proto && cargo +nightly fuzz run parse_message

#![no_main]

use ews_proto::{Limits, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(messages) = Message::parse_all(data, &limits) {
        for message in messages {
            let written = message.write();
            match Message::parse(&written, &limits) {
                Ok(again) => assert_eq!(again, message, "message changed by write -> parse"),
                Err(e) => panic!(
                    "a written message does not parse: {e}\n{}",
                    String::from_utf8_lossy(&written)
                ),
            }
        }
    }
});
