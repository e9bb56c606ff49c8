//! The player itself: failures name the step, its line and the difference; known issues are
//! reported without failing; changes in the mock reach the engine through a forced sync.

use ews_kit::scenario::{Outcome, Scenario, play_scenario};

const WORLD: &str = "\
zone: Europe/Berlin
world:
  now: 2026-03-23 08:00
  mailboxes:
    - smtp: kim@contoso.com
      zone: Europe/Berlin
      calendar:
        - { subject: Review, start: 2026-03-23 10:00, duration: 1h }
  accounts:
    - { user: svc, password: pw, impersonation: all }
engine:
  notifications: { mode: pull, pull_interval: 10m }
  users: [{ email: kim@contoso.com }]
";

fn play(steps: &str) -> ews_kit::scenario::Report {
    play_with(None, steps)
}

fn play_with(known_issue: Option<&str>, steps: &str) -> ews_kit::scenario::Report {
    let mut text = WORLD.to_string();
    if let Some(k) = known_issue {
        text.push_str(&format!("known_issue: {k:?}\n"));
    }
    text.push_str("steps:\n");
    text.push_str(steps);
    let scenario = Scenario::from_yaml(&text, "inline.yaml").unwrap();
    play_scenario(&scenario)
}

#[test]
fn a_wrong_expectation_names_step_line_expected_and_actual() {
    let report = play(
        "  - at: 2026-03-23 10:30\n    expect:\n      - presence: { user: kim@contoso.com, status: available }\n",
    );
    let Outcome::Failed(failures) = &report.outcome else {
        panic!("expected a failure, got {report}");
    };
    assert_eq!(failures.len(), 1);
    let f = &failures[0];
    assert_eq!((f.step, f.line), (1, 15));
    assert_eq!(f.expected, "status Available");
    assert!(f.actual.starts_with("Meeting"), "{}", f.actual);
    assert!(report.to_string().contains("step 1 (line 15"), "{report}");
}

#[test]
fn holding_expectations_pass_and_count() {
    let report = play(
        "  - at: 2026-03-23 10:30\n    expect:\n      - presence: { user: kim@contoso.com, status: meeting, item: Review, next_change: 2026-03-23 11:00 }\n      - appointments: { user: kim@contoso.com, count: 1 }\n",
    );
    assert_eq!(report.outcome, Outcome::Passed, "{report}");
    assert_eq!((report.steps, report.checks), (1, 2));
}

#[test]
fn a_known_issue_is_reported_but_not_a_failure() {
    let report = play_with(
        Some("demo"),
        "  - expect:\n      - appointments: { user: kim@contoso.com, count: 5 }\n",
    );
    assert!(
        matches!(report.outcome, Outcome::KnownIssue { .. }),
        "{report}"
    );
    assert!(report.ok());
}

#[test]
fn a_known_issue_that_no_longer_fails_is_flagged_without_failing() {
    let report = play_with(
        Some("demo"),
        "  - expect:\n      - appointments: { user: kim@contoso.com, count: 1 }\n",
    );
    assert!(
        matches!(report.outcome, Outcome::KnownIssueFixed { .. }),
        "{report}"
    );
    assert!(report.ok());
    assert!(
        report.to_string().contains("remove `known_issue`"),
        "{report}"
    );
}

#[test]
fn a_change_in_the_mock_reaches_the_engine_after_a_forced_sync() {
    let report = play(
        "  - update: { mailbox: kim@contoso.com, subject: Review, start: 2026-03-23 14:00 }\n    expect:\n      - appointments: { user: kim@contoso.com, includes: [{ subject: Review, start: 2026-03-23 10:00 }] }\n  - sync: true\n    expect:\n      - appointments: { user: kim@contoso.com, exactly: [{ subject: Review, start: 2026-03-23 14:00, end: 2026-03-23 15:00 }] }\n      - converged: { within: 0s }\n",
    );
    assert_eq!(report.outcome, Outcome::Passed, "{report}");
}

#[test]
fn converged_reports_what_the_engine_lacks() {
    let report = play(
        "  - create: { mailbox: kim@contoso.com, item: { subject: New, start: 2026-03-24 09:00, duration: 30m } }\n    expect:\n      - converged: { within: 10s }\n",
    );
    let Outcome::Failed(failures) = &report.outcome else {
        panic!("expected a failure, got {report}");
    };
    assert!(
        failures[0]
            .actual
            .contains("engine lacks 2026-03-24 09:00 - 2026-03-24 09:30 Busy \"New\""),
        "{}",
        failures[0].actual
    );
}

#[test]
fn an_action_on_a_missing_item_is_an_error_naming_the_step() {
    let report = play("  - delete: { mailbox: kim@contoso.com, subject: Nope }\n");
    let Outcome::Error(e) = &report.outcome else {
        panic!("expected an error, got {report}");
    };
    assert!(e.starts_with("step 1 (line 15)"), "{e}");
    assert!(e.contains("no item `Nope`"), "{e}");
}

#[test]
fn a_delete_type_outside_the_ews_enumeration_is_refused_with_its_position() {
    let text = format!(
        "{WORLD}steps:\n  - delete: {{ mailbox: kim@contoso.com, subject: Review, delete_type: Trash }}\n"
    );
    let err = Scenario::from_yaml(&text, "inline.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("inline.yaml:15:71:"), "{err}");
    assert!(err.contains("MoveToDeletedItems"), "{err}");
}

#[test]
fn a_bad_file_is_an_error_with_its_position() {
    let dir = tempfile_dir();
    let path = dir.join("broken.yaml");
    std::fs::write(
        &path,
        "world:\n  now: 2026-03-23T07:00:00Z\nsteps:\n  - advance: later\n",
    )
    .unwrap();
    let report = ews_kit::scenario::play_file(&path);
    let Outcome::Error(e) = &report.outcome else {
        panic!("expected an error, got {report}");
    };
    assert!(e.contains("broken.yaml:4:"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ews-kit-player-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
