//! The example worlds load and mean what their comments say.

use mock_ews::{World, WorldSpec};

use crate::support::example;

#[test]
fn every_example_world_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("worlds");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let spec = WorldSpec::from_file(&path).unwrap();
            World::from_spec(&spec, chrono::DateTime::UNIX_EPOCH)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 3, "expected at least 3 example worlds, found {n}");
}

#[test]
fn small_office_series_has_its_exceptions() {
    let spec = example("small-office.yaml");
    let world = World::from_spec(&spec, chrono::DateTime::UNIX_EPOCH).unwrap();
    let alice = world.mailbox("alice@contoso.com").unwrap();
    let standup = alice
        .items
        .values()
        .find(|i| i.subject == "Standup")
        .unwrap();
    assert_eq!(standup.modified.len(), 1);
    assert_eq!(standup.deleted.len(), 1);
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc();
    let view = standup.view(at("2026-03-23T00:00:00Z"), at("2026-04-09T00:00:00Z"));
    let starts: Vec<String> = view.iter().map(|v| v.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        vec![
            "2026-03-23T08:30:00+00:00", // 09:30 CET
            "2026-03-25T10:00:00+00:00", // moved to 11:00 CET
            "2026-03-30T07:30:00+00:00", // 09:30 CEST after the DST change
            "2026-04-01T07:30:00+00:00",
            "2026-04-08T07:30:00+00:00", // 6 Apr deleted
        ]
    );
}

#[test]
fn a_broken_world_file_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("mock-ews-world-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(&path, "mailboxes:\n  - smtp: a@x\n    calendar:\n      - subject: X\n        start: 2026-03-09 10:00\n        duration: ten minutes\n").unwrap();
    let err = WorldSpec::from_file(&path).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.contains("bad.yaml:6:"), "{err}");
    assert!(err.contains("ten minutes"), "{err}");
}
