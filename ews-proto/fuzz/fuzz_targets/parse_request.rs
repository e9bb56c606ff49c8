//! Fuzzes request parsing, the mock's attack surface: any bytes give a request or an error,
//! never a panic, and whatever parses must survive write -> parse unchanged.
//!
//! Seed it with the real samples:
//!   cd ews-proto && mkdir -p fuzz/corpus/parse_request &&
//!   cp ../../shared/ews-samples/*-request.xml fuzz/corpus/parse_request/ &&
//!   cargo +nightly fuzz run parse_request

#![no_main]

use ews_proto::{Limits, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok((headers, request)) = Request::parse_bytes(data, &limits) {
        let written = request.write(&headers);
        match Request::parse_bytes(&written, &limits) {
            Ok((headers_again, request_again)) => {
                assert_eq!(headers_again, headers, "headers changed by write -> parse");
                assert_eq!(request_again, request, "request changed by write -> parse");
            }
            Err(e) => panic!(
                "a written request does not parse: {e}\n{}",
                String::from_utf8_lossy(&written)
            ),
        }
    }
});
