//! Every request sample in `../shared/ews-samples/` gets a well-formed, non-fault answer from
//! a world that has the samples' mailboxes.

use ews_proto::{Limits, Response};

use crate::support::{basic, http};

/// Samples a client never sends to a server (push notifications go server -> client); they
/// get the well-formed `ErrorInvalidRequest` fault.
const NOT_FOR_THIS_SERVER: &[&str] = &[
    "sendnotification-push-modified-request.xml",
    "sendnotification-push-status-request.xml",
];

const WORLD: &str = r#"
server: 2016
mailboxes:
  - { smtp: user1@example.com, password: pw, zone: Pacific Standard Time }
  - { smtp: user2@example.com, zone: Pacific Standard Time }
  - { smtp: alfred@contoso.com }
  - { smtp: mack@contoso.com }
  - { smtp: magdalena@contoso.com }
  - { smtp: sadie@contoso.com }
accounts:
  - user: user1@example.com
    password: pw
    impersonation: all
    delegate: { mack@contoso.com: reviewer, sadie@contoso.com: reviewer, user2@example.com: reviewer }
"#;

fn samples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/ews-samples")
}

#[tokio::test]
async fn every_request_sample_gets_a_well_formed_answer() {
    let dir = samples_dir();
    if !dir.is_dir() {
        eprintln!(
            "skipped: {} not found (../shared sits beside the repository in CI)",
            dir.display()
        );
        return;
    }
    let spec = mock_ews::WorldSpec::from_yaml(WORLD, "samples world").unwrap();
    let ews = mock_ews::MockEws::builder()
        .world(spec)
        .clock(ews_clock::Clock::frozen_at(
            "2014-02-13T08:00:00Z".parse().unwrap(),
        ))
        .start()
        .await
        .unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with("-request.xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    let mut answered = 0;
    for name in &names {
        let body = std::fs::read(dir.join(name)).unwrap();
        let r = http(
            &ews,
            "POST",
            "/EWS/Exchange.asmx",
            &[basic("user1@example.com", "pw")],
            &body,
        )
        .await;
        let parsed = Response::parse_bytes(r.body.as_bytes(), &Limits::default());
        let (_, resp) =
            parsed.unwrap_or_else(|e| panic!("{name}: unparseable answer ({e}):\n{}", r.body));
        if NOT_FOR_THIS_SERVER.contains(&name.as_str()) {
            assert_eq!(r.status, 500, "{name}");
            assert!(matches!(resp, Response::Fault(_)), "{name}");
            continue;
        }
        assert_eq!(r.status, 200, "{name}: {}", r.body);
        assert!(!matches!(resp, Response::Fault(_)), "{name}: {}", r.body);
        answered += 1;
    }
    assert_eq!(answered, names.len() - NOT_FOR_THIS_SERVER.len());
    // The CreateItem samples really created items.
    assert!(
        ews.store().world().item_count() >= 3,
        "{}",
        ews.store().world().item_count()
    );
}
