//! Fuzzes the contract between the two XML readers: the fast path in `xml/fast.rs` may
//! decline any input, but whatever it answers must be exactly what quick-xml's reference
//! reader gives (the same trees, line and column included, or the same error), for one
//! root and for a stream of roots.
//!
//!   cd ews-proto && mkdir -p fuzz/corpus/parse_paths_agree &&
//!   cp ../../shared/ews-samples/*.xml fuzz/corpus/parse_paths_agree/ &&
//!   cargo +nightly fuzz run parse_paths_agree

#![no_main]

use ews_proto::xml::parse_with_reference_reader;
use ews_proto::{Element, Limits, ParseError};
use libfuzzer_sys::fuzz_target;

/// Equality including line and column, which `Element`'s `PartialEq` ignores.
fn identical(a: &Element, b: &Element) -> bool {
    a == b
        && (a.line, a.column) == (b.line, b.column)
        && a.children
            .iter()
            .zip(&b.children)
            .all(|(x, y)| identical(x, y))
}

fn agree(ours: Result<Vec<Element>, ParseError>, reference: Result<Vec<Element>, ParseError>) {
    match (ours, reference) {
        (Ok(a), Ok(b)) => assert!(
            a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| identical(x, y)),
            "trees differ\nparse: {a:#?}\nreference: {b:#?}"
        ),
        (Err(a), Err(b)) => assert_eq!(a, b, "errors differ"),
        (a, b) => panic!("outcomes differ\nparse: {a:?}\nreference: {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    agree(
        ews_proto::parse(data, &limits).map(|root| vec![root]),
        parse_with_reference_reader(data, &limits, false),
    );
    agree(
        ews_proto::parse_many(data, &limits),
        parse_with_reference_reader(data, &limits, true),
    );
});
