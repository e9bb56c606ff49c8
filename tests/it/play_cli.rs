//! `ews-kit play`: readable report, summary line, exit code.

use std::process::Command;

const PASSING: &str = "\
world:
  now: 2026-03-23T07:00:00Z
  mailboxes: [{ smtp: kim@contoso.com }]
  accounts: [{ user: svc, password: pw, impersonation: all }]
engine:
  notifications: { mode: pull, pull_interval: 10m }
  users: [{ email: kim@contoso.com }]
steps:
  - expect:
      - presence: { user: kim@contoso.com, status: available }
";

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ews-kit-play-{name}-{}", std::process::id()));
    std::fs::create_dir_all(d.join("worlds")).unwrap();
    d
}

#[test]
fn a_directory_plays_every_scenario_but_worlds_and_fails_on_a_failure() {
    let d = dir("mixed");
    std::fs::write(d.join("a-pass.yaml"), PASSING).unwrap();
    std::fs::write(
        d.join("b-fail.yaml"),
        PASSING.replace("status: available", "status: absent"),
    )
    .unwrap();
    // A plain world file is data, not a scenario: it would not parse as one.
    std::fs::write(d.join("worlds/office.yaml"), "mailboxes: []\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ews-kit"))
        .arg("play")
        .arg(&d)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("PASS a-pass"), "{text}");
    assert!(text.contains("FAIL b-fail"), "{text}");
    assert!(text.contains("expected: status Absent"), "{text}");
    assert!(
        text.contains("2 scenarios: 1 passed, 0 known issues, 0 fixed known issues, 1 failed"),
        "{text}"
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn passing_files_exit_zero() {
    let d = dir("pass");
    let f = d.join("only.yaml");
    std::fs::write(&f, PASSING).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ews-kit"))
        .arg("play")
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(d).unwrap();
}
