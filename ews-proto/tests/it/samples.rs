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
