//! Every sample in `shared/ews-samples` through the public API.

use std::path::PathBuf;

use ews_proto::{Envelope, Limits, Ns};

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

#[test]
fn every_sample_is_an_envelope_with_an_ews_body() {
    let all = samples();
    assert_eq!(all.len(), 40, "the sample set has 40 messages");
    for (name, bytes) in all {
        let env =
            Envelope::parse(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ok_ns = matches!(env.body.ns, Ns::Messages | Ns::Soap | Ns::Other(_));
        assert!(ok_ns, "{name}: body in {:?}", env.body.ns);
    }
}
