//! End-to-end property: random worlds, random changes and random retried faults; once the
//! faults stop and the clock has moved past the recovery bound, the engine's appointments
//! equal the mock's truth and its presence and slots equal calendar-core's on that truth.
//!
//! Each case is a scenario file generated as text and played by the real player, so a
//! failing case shrinks to a small scenario that is printed whole: save it under
//! `scenarios/` to keep it. `PROPTEST_CASES` raises the number of cases (default 6 here:
//! each case is a real mock and engine exchanging a few hundred HTTP requests).

use std::fmt::Write as _;

use ews_kit::scenario::{Outcome, Scenario, play_scenario};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Item {
    day: u32,
    hour: u32,
    quarter: u32,
    minutes: u32,
    status: &'static str,
    recurring: Option<u32>,
    cancelled: bool,
}

#[derive(Debug, Clone)]
enum Change {
    Create { mailbox: usize, item: Item },
    Move { target: usize, hours: i32 },
    Delete { target: usize },
    Busy { backoff_s: u32, times: u32 },
    Reset,
}

fn item() -> impl Strategy<Value = Item> {
    (
        0u32..4,
        7u32..18,
        0u32..4,
        prop_oneof![Just(15u32), Just(30), Just(60), Just(90), Just(180)],
        prop_oneof![
            4 => Just("busy"),
            1 => Just("tentative"),
            1 => Just("free"),
            1 => Just("oof")
        ],
        prop::option::weighted(0.25, 2u32..5),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(day, hour, quarter, minutes, status, recurring, cancelled)| Item {
                day,
                hour,
                quarter,
                minutes,
                status,
                recurring,
                cancelled,
            },
        )
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0usize..2, item()).prop_map(|(mailbox, item)| Change::Create { mailbox, item }),
        (0usize..6, -3i32..4).prop_map(|(target, hours)| Change::Move { target, hours }),
        (0usize..6).prop_map(|target| Change::Delete { target }),
        (1u32..30, 1u32..3).prop_map(|(backoff_s, times)| Change::Busy { backoff_s, times }),
        Just(Change::Reset),
    ]
}

fn item_yaml(subject: &str, i: &Item) -> String {
    let mut s = format!(
        "{{ subject: \"{subject}\", start: 2026-03-{:02} {:02}:{:02}, duration: {}m, status: {}",
        23 + i.day,
        i.hour,
        i.quarter * 15,
        i.minutes,
        i.status
    );
    if let Some(n) = i.recurring {
        let _ = write!(s, ", recurrence: {{ daily: true, count: {n} }}");
    }
    if i.cancelled {
        s.push_str(", cancelled: true");
    }
    s.push_str(" }");
    s
}

const MAILBOXES: [&str; 2] = ["kim@contoso.com", "registry@contoso.com"];

/// The scenario text of one case.
fn scenario(items: &[(usize, Item)], changes: &[(u32, Change)]) -> String {
    let mut y = String::from(
        "name: generated\nzone: Europe/Berlin\nworld:\n  now: 2026-03-23 07:00\n  mailboxes:\n",
    );
    let mut subjects: Vec<(usize, String)> = Vec::new();
    for (m, smtp) in MAILBOXES.iter().enumerate() {
        let _ = writeln!(
            y,
            "    - smtp: {smtp}\n      zone: Europe/Berlin\n      calendar:"
        );
        let mine: Vec<_> = items.iter().filter(|(mb, _)| *mb == m).collect();
        if mine.is_empty() {
            y.push_str("        []\n");
        }
        for (_, it) in mine {
            let subject = format!("Item {}", subjects.len());
            let _ = writeln!(y, "        - {}", item_yaml(&subject, it));
            subjects.push((m, subject));
        }
    }
    y.push_str(
        "  accounts:\n    - { user: svc-sync, password: sync-pw, impersonation: all }\n\
         engine:\n  notifications: { mode: pull, pull_interval: 2m }\n  users:\n\
         \x20   - email: kim@contoso.com\n  counters:\n\
         \x20   - { id: registry, mailbox: registry@contoso.com, timeZone: Europe/Berlin, \
         slotMinutes: 30, stepMinutes: 30, openingHours: [{ days: [Mon, Tue, Wed, Thu, Fri], \
         ranges: [\"08:00-12:00\", \"13:00-17:00\"] }] }\nsteps:\n",
    );
    let mut gone = std::collections::BTreeSet::new();
    for (minutes, c) in changes {
        let _ = writeln!(y, "  - advance: {minutes}m");
        match c {
            Change::Create { mailbox, item } => {
                let subject = format!("Item {}", subjects.len());
                let _ = writeln!(
                    y,
                    "  - create: {{ mailbox: {}, item: {} }}",
                    MAILBOXES[*mailbox],
                    item_yaml(&subject, item)
                );
                subjects.push((*mailbox, subject));
            }
            Change::Move { target, hours } => {
                if let Some((m, s)) = subjects.get(*target).filter(|_| !gone.contains(target)) {
                    // A move by whole hours keeps the start on the quarter grid.
                    let _ = writeln!(
                        y,
                        "  - update: {{ mailbox: {}, subject: \"{s}\", start: {} }}",
                        MAILBOXES[*m],
                        moved_start(items, changes, *target, *hours).unwrap_or_default()
                    );
                }
            }
            Change::Delete { target } => {
                if let Some((m, s)) = subjects.get(*target).filter(|_| !gone.contains(target)) {
                    let _ = writeln!(
                        y,
                        "  - delete: {{ mailbox: {}, subject: \"{s}\" }}",
                        MAILBOXES[*m]
                    );
                    gone.insert(*target);
                }
            }
            Change::Busy { backoff_s, times } => {
                let _ = writeln!(
                    y,
                    "  - fault: {{ fault: {{ kind: serverBusy, backOffMs: {} }}, times: {times} }}",
                    backoff_s * 1000
                );
            }
            Change::Reset => {
                y.push_str("  - fault: { fault: { kind: connectionReset }, times: 1 }\n");
            }
        }
    }
    y.push_str(
        "  - clear_faults: true\n  - advance: 5m\n    expect:\n\
         \x20     - converged: { within: 10m }\n      - oracle: { days: 3 }\n",
    );
    y
}

/// The new start of subject number `target`, `hours` later than its original start.
fn moved_start(
    items: &[(usize, Item)],
    changes: &[(u32, Change)],
    target: usize,
    hours: i32,
) -> Option<String> {
    let created = changes.iter().filter_map(|(_, c)| match c {
        Change::Create { item, .. } => Some(item),
        _ => None,
    });
    // Subjects are numbered world items first (in mailbox order), then creations.
    let mut ordered: Vec<&Item> = Vec::new();
    for m in 0..MAILBOXES.len() {
        ordered.extend(items.iter().filter(|(mb, _)| *mb == m).map(|(_, i)| i));
    }
    ordered.extend(created);
    let it = ordered.get(target)?;
    let hour = (i32::try_from(it.hour).ok()? + hours).clamp(6, 20);
    Some(format!(
        "2026-03-{:02} {:02}:{:02}",
        23 + it.day,
        hour,
        it.quarter * 15
    ))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(6),
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_converges_to_the_mock_and_agrees_with_the_oracles(
        items in prop::collection::vec((0usize..2, item()), 0..6),
        changes in prop::collection::vec((1u32..90, change()), 0..6),
    ) {
        let text = scenario(&items, &changes);
        let parsed = Scenario::from_yaml(&text, "generated.yaml");
        prop_assert!(parsed.is_ok(), "generated scenario does not parse: {:?}\n{text}", parsed.err());
        let report = play_scenario(&parsed.unwrap());
        prop_assert!(
            report.outcome == Outcome::Passed,
            "{report}\n--- the scenario (save it under scenarios/ to keep it) ---\n{text}"
        );
    }
}
