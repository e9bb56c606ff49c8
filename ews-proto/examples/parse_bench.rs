//! Run with: cargo run --release -p ews-proto --example parse_bench -- [N] [MODE]
//!
//! Prints the cost of `Envelope::parse` for the request mock-ews's CalendarView bench sends
//! (`view`, the default), for the same request pretty-printed with CRLF line ends
//! (`pretty`), and for a few of the real sample requests (`samples`), so the parser is not
//! tuned for one shape only. N parses (default 20,000) per input. `view-reference` and
//! `pretty-reference` read through quick-xml's reference reader alone (what every parse
//! cost before the fast path), for comparison.
//!
//! Instruction counts are steadier than times on a shared machine:
//!
//! ```text
//! CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p ews-proto --example parse_bench
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/parse.cg target/release/examples/parse_bench 2000
//! callgrind_annotate --inclusive=yes /tmp/parse.cg | grep -E 'Envelope::parse|parse_roots'
//! ```
//!
//! and divide by N. Numbers, not assertions: the machine is shared.

use std::time::Instant;

use ews_proto::xml::parse_with_reference_reader;
use ews_proto::{Envelope, Limits, ParseError};

/// The request of `mock-ews/benches/calendar_view.rs` (7-day, 20-item CalendarView with
/// impersonation), byte for byte.
const VIEW: &str = r#"<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header><t:RequestServerVersion Version="Exchange2013_SP1"/><t:ExchangeImpersonation><t:ConnectingSID><t:PrimarySmtpAddress>user7@contoso.com</t:PrimarySmtpAddress></t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body><m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="calendar:LegacyFreeBusyStatus"/><t:FieldURI FieldURI="calendar:CalendarItemType"/><t:FieldURI FieldURI="item:Sensitivity"/></t:AdditionalProperties></m:ItemShape><m:CalendarView StartDate="2026-03-23T00:00:00Z" EndDate="2026-03-30T00:00:00Z"/><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem></soap:Body></soap:Envelope>"#;

/// Sample requests of other shapes (default namespaces, comments, indentation).
const SAMPLES: [&str; 4] = [
    "finditem-calendarview-recurring-request.xml",
    "getuseravailability-timezonecontext-request.xml",
    "createitem-impersonation-request.xml",
    "subscribe-streaming-request.xml",
];

/// `VIEW` indented by two spaces per level with CRLF line ends, as some clients send it.
fn pretty(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() * 2);
    let mut depth = 0_usize;
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        let text = &rest[..lt];
        let gt = rest[lt..].find('>').map_or(rest.len(), |i| lt + i + 1);
        let tag = &rest[lt..gt];
        if !text.is_empty() {
            // Text content stays inline with its tags.
            out.push_str(text);
        }
        let closing = tag.starts_with("</");
        if closing {
            depth = depth.saturating_sub(1);
            if text.is_empty() {
                out.push_str("\r\n");
                out.push_str(&"  ".repeat(depth));
            }
        } else if !out.is_empty() && !tag.starts_with("<?") {
            out.push_str("\r\n");
            out.push_str(&"  ".repeat(depth));
        }
        out.push_str(tag);
        if !closing && !tag.ends_with("/>") && !tag.starts_with("<?") {
            depth += 1;
        }
        rest = &rest[gt..];
    }
    out.push_str(rest);
    out
}

/// `Envelope::parse` without the fast path.
fn parse_reference(input: &[u8], limits: &Limits) -> Result<Envelope, ParseError> {
    let mut roots = parse_with_reference_reader(input, limits, false)?;
    Envelope::from_element(roots.swap_remove(0))
}

fn run(label: &str, input: &[u8], n: u32) {
    run_with(label, input, n, Envelope::parse);
}

fn run_with(
    label: &str,
    input: &[u8],
    n: u32,
    parse: fn(&[u8], &Limits) -> Result<Envelope, ParseError>,
) {
    let limits = Limits::default();
    if let Err(e) = parse(input, &limits) {
        panic!("{label} does not parse: {e}");
    }
    let start = Instant::now();
    for _ in 0..n {
        let parsed = parse(std::hint::black_box(input), &limits);
        std::hint::black_box(parsed.is_ok());
    }
    let per = start.elapsed().as_nanos() / u128::from(n.max(1));
    println!(
        "{label:<52} {per:>7} ns/parse  ({} bytes, n={n})",
        input.len()
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args
        .next()
        .map(|a| a.parse().unwrap_or_else(|e| panic!("N `{a}`: {e}")))
        .unwrap_or(20_000);
    let mode = args.next().unwrap_or_else(|| "view".into());
    match mode.as_str() {
        "view" => run("CalendarView request (bench)", VIEW.as_bytes(), n),
        "pretty" => run(
            "CalendarView request, indented, CRLF",
            pretty(VIEW).as_bytes(),
            n,
        ),
        "samples" => {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/ews-samples/");
            for name in SAMPLES {
                let bytes = std::fs::read(format!("{dir}{name}"))
                    .unwrap_or_else(|e| panic!("{dir}{name}: {e}"));
                run(name, &bytes, n);
            }
        }
        "view-reference" => run_with(
            "CalendarView request, reference reader",
            VIEW.as_bytes(),
            n,
            parse_reference,
        ),
        "pretty-reference" => run_with(
            "indented CRLF request, reference reader",
            pretty(VIEW).as_bytes(),
            n,
            parse_reference,
        ),
        "show-pretty" => print!("{}", pretty(VIEW)),
        other => panic!(
            "unknown mode `{other}` (view, pretty, samples, view-reference, pretty-reference, \
             show-pretty)"
        ),
    }
}
