//! Every sample in `shared/ews-samples` through the public API: it parses into its typed
//! form, and parse -> write -> parse is the identity.

use std::path::PathBuf;

use ews_proto::{Envelope, Limits, Message};

pub(crate) fn sample_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/ews-samples"
    ))
}

pub(crate) fn samples() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(sample_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn sample(name: &str) -> Vec<u8> {
    std::fs::read(sample_dir().join(name)).unwrap()
}

#[test]
fn every_sample_is_an_envelope() {
    let all = samples();
    assert_eq!(all.len(), 40, "the sample set has 40 messages");
    for (name, bytes) in all {
        Envelope::parse(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn every_sample_parses_into_its_typed_form_and_round_trips() {
    let mut failures = Vec::new();
    for (name, bytes) in samples() {
        let msg = match Message::parse(&bytes, &Limits::default()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let written = msg.write();
        match Message::parse(&written, &Limits::default()) {
            Ok(again) if again == msg => {}
            Ok(again) => failures.push(format!(
                "{name}: round trip differs\nfirst:  {msg:?}\nsecond: {again:?}"
            )),
            Err(e) => failures.push(format!(
                "{name}: written form does not parse: {e}\n{}",
                String::from_utf8_lossy(&written)
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every boolean element ews-proto reads into a typed field. Elements it does not model
/// (`t:IsDraft`, whole `t:MeetingRequest` items, suggestions) are kept verbatim as data, so
/// rewriting them would rightly show up as a difference.
const TYPED_BOOLEANS: [&str; 20] = [
    "ExcludeConflicts",
    "IsMeeting",
    "IsRecurring",
    "IsException",
    "IsReminderSet",
    "IsPrivate",
    "ReminderIsSet",
    "HasAttachments",
    "IsAllDayEvent",
    "IsCancelled",
    "MeetingRequestWasSent",
    "IsResponseRequested",
    "IsOnlineMeeting",
    "IsOrganizer",
    "IsRead",
    "MoreEvents",
    "IncludesLastItemInRange",
    "SubscribeToAllFolders",
    "ReturnFullTimeZoneData",
    "IsArchive",
];

/// Rewrites the `true`/`false` of typed boolean elements and attributes into xs:boolean's
/// numeric form (`1`/`0`), padded with XML whitespace, as exchangelib and others send them.
fn numeric_booleans(xml: &str) -> (String, usize) {
    let mut out = xml.to_owned();
    let mut n = 0;
    for name in TYPED_BOOLEANS {
        for (from, to) in [
            (format!("{name}>true<"), format!("{name}> 1\n<")),
            (format!("{name}>false<"), format!("{name}>\t0 <")),
            (format!("{name}=\"true\""), format!("{name}=\"1\"")),
            (format!("{name}=\"false\""), format!("{name}=\"0\"")),
        ] {
            n += out.matches(&from).count();
            out = out.replace(&from, &to);
        }
    }
    (out, n)
}

#[test]
fn every_boolean_in_the_samples_also_reads_as_1_or_0() {
    // xs:boolean is `true|false|1|0` with whitespace collapse; every typed reader must take
    // all four, or a client writing `0` gets a schema error (mock-ews used to rewrite them).
    let mut rewritten = 0;
    for (name, bytes) in samples() {
        let text = String::from_utf8(bytes).unwrap();
        let (numeric, n) = numeric_booleans(&text);
        if n == 0 {
            continue;
        }
        rewritten += n;
        let original = Message::parse(text.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = Message::parse(numeric.as_bytes(), &Limits::default())
            .unwrap_or_else(|e| panic!("{name} with numeric booleans: {e}"));
        assert_eq!(again, original, "{name}");
    }
    assert!(rewritten >= 10, "only {rewritten} booleans in the samples");
}
