//! Presence: the rules of CALENDAR-SEMANTICS §2 and cases 21, 26–34, 44 as named tests, and a
//! property test against a direct rule table with a minute-by-minute search for the next change.

use calendar_core::{
    ItemRef, Presence, PresenceInput, PresenceReason, PresenceRules, presence, presence_timeline,
};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::strategies::{self, oracle_presence};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%m-%d %H:%MZ").to_string()
}

fn describe(item: &ItemRef) -> String {
    let name = item
        .subject
        .clone()
        .or_else(|| item.id.clone())
        .unwrap_or_else(|| "(no subject)".to_owned());
    format!(
        "{name} {:?} {}–{}",
        item.status,
        at(item.start),
        at(item.end)
    )
}

fn render(p: &Presence) -> String {
    let message = p
        .message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    let reason = match &p.reason {
        PresenceReason::Override { until, .. } => {
            format!("override until {}", until.map_or("reset".to_owned(), at))
        }
        PresenceReason::OofSettings { state, until } => {
            format!(
                "oof {state:?} until {}",
                until.map_or("disabled".to_owned(), at)
            )
        }
        PresenceReason::OofItem { item } => format!("oof item {}", describe(item)),
        PresenceReason::Meeting { item } => format!("meeting {}", describe(item)),
        PresenceReason::NoBlockingItem => "no blocking item".to_owned(),
    };
    let next = p.next_change.map_or("never".to_owned(), at);
    format!("{:?}{message} | {reason} | next {next}", p.state)
}

fn input_and_rules(value: &serde_json::Value) -> (PresenceInput, PresenceRules) {
    let input: PresenceInput = serde_json::from_value(value.clone()).unwrap();
    let rules = value
        .get("rules")
        .map(|r| serde_json::from_value(r.clone()).unwrap())
        .unwrap_or_default();
    (input, rules)
}

/// The one helper the named tests go through: a fixture with `at`, rendered as one line.
fn presence_at(value: serde_json::Value) -> String {
    let (input, rules) = input_and_rules(&value);
    let now = utc(value["at"].as_str().unwrap());
    render(&presence(&input, &rules, now))
}

/// All changes between `from` and `to`, one line each.
fn timeline(value: serde_json::Value) -> String {
    let (input, rules) = input_and_rules(&value);
    let from = utc(value["from"].as_str().unwrap());
    let to = utc(value["to"].as_str().unwrap());
    presence_timeline(&input, &rules, from, to)
        .iter()
        .map(|c| format!("{} {}", at(c.at), render(&c.presence)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn scheduled_oof(at: &str) -> serde_json::Value {
    json!({
        "oof": { "state": "Scheduled",
                 "window": { "start": "2026-03-30T10:30:00Z", "end": "2026-03-30T14:15:00Z" },
                 "internalReply": "<html><body><p>On leave&nbsp;until <b>Tuesday</b>.</p></body></html>",
                 "externalReply": "Out of office." },
        "at": at
    })
}

#[test]
fn case_31_scheduled_oof_flips_at_its_boundary_instants_not_at_midnight() {
    insta::assert_snapshot!(presence_at(scheduled_oof("2026-03-30T10:29:59Z")),
        @"Available | no blocking item | next 03-30 10:30Z");
    insta::assert_snapshot!(presence_at(scheduled_oof("2026-03-30T10:30:00Z")),
        @"Absent: On leave until Tuesday. | oof Scheduled until 03-30 14:15Z | next 03-30 14:15Z");
    insta::assert_snapshot!(presence_at(scheduled_oof("2026-03-30T14:15:00Z")),
        @"Available | no blocking item | next never");
}

#[test]
fn external_reply_is_the_message_when_configured() {
    let mut value = scheduled_oof("2026-03-30T12:00:00Z");
    value["rules"] = json!({ "reply": "external" });
    insta::assert_snapshot!(presence_at(value),
        @"Absent: Out of office. | oof Scheduled until 03-30 14:15Z | next 03-30 14:15Z");
}

#[test]
fn case_32_disabled_oof_ignores_its_duration() {
    insta::assert_snapshot!(presence_at(json!({
        "oof": { "state": "Disabled",
                 "window": { "start": "2026-03-30T00:00:00Z", "end": "2026-03-31T00:00:00Z" },
                 "internalReply": "Away" },
        "at": "2026-03-30T12:00:00Z"
    })), @"Available | no blocking item | next never");
}

#[test]
fn enabled_oof_outranks_a_running_meeting() {
    insta::assert_snapshot!(presence_at(json!({
        "oof": { "state": "Enabled", "internalReply": "On leave" },
        "items": [ { "subject": "Standup", "start": "2026-03-30T07:00:00Z", "end": "2026-03-30T07:30:00Z", "status": "Busy" } ],
        "at": "2026-03-30T07:10:00Z"
    })), @"Absent: On leave | oof Enabled until disabled | next never");
}

#[test]
fn case_28_an_oof_item_outranks_overlapping_busy_and_tentative_items() {
    insta::assert_snapshot!(presence_at(json!({
        "items": [
            { "subject": "Review", "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T10:00:00Z", "status": "busy" },
            { "subject": "Dentist", "start": "2026-03-30T08:30:00Z", "end": "2026-03-30T09:30:00Z", "status": "OOF" },
            { "subject": "Maybe", "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T11:00:00Z", "status": "tentative" }
        ],
        "at": "2026-03-30T09:00:00Z"
    })), @"Absent | oof item Dentist Oof 03-30 08:30Z–03-30 09:30Z | next 03-30 09:30Z");
}

#[test]
fn case_33_private_item_makes_a_meeting_without_leaking_its_subject() {
    let value = json!({
        "items": [ { "id": "AAMk-1", "subject": "Doctor", "private": true,
                     "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T09:00:00Z", "status": "busy" } ],
        "at": "2026-03-30T08:15:00Z"
    });
    insta::assert_snapshot!(presence_at(value.clone()),
        @"Meeting | meeting AAMk-1 Busy 03-30 08:00Z–03-30 09:00Z | next 03-30 09:00Z");
    let (input, rules) = input_and_rules(&value);
    let result = presence(&input, &rules, utc("2026-03-30T08:15:00Z"));
    assert!(!serde_json::to_string(&result).unwrap().contains("Doctor"));
    assert!(!format!("{result:?} {input:?}").contains("Doctor"));
}

#[test]
fn case_21_29_30_34_only_busy_and_tentative_items_make_a_meeting() {
    let value = |rules: serde_json::Value, at: &str| {
        json!({
            "items": [
                { "subject": "Cancelled", "cancelled": true, "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T09:00:00Z", "status": "busy" },
                { "subject": "Birthday", "allDay": true, "timeZone": "UTC", "start": "2026-03-30T00:00:00Z", "end": "2026-03-31T00:00:00Z", "status": "free" },
                { "subject": "Home office", "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T17:00:00Z", "status": "workingElsewhere" },
                { "subject": "Maybe", "start": "2026-03-30T10:00:00Z", "end": "2026-03-30T11:00:00Z", "status": "tentative" }
            ],
            "rules": rules,
            "at": at
        })
    };
    insta::assert_snapshot!(presence_at(value(json!({}), "2026-03-30T08:30:00Z")),
        @"Available | no blocking item | next 03-30 10:00Z");
    insta::assert_snapshot!(presence_at(value(json!({}), "2026-03-30T10:30:00Z")),
        @"Meeting | meeting Maybe Tentative 03-30 10:00Z–03-30 11:00Z | next 03-30 11:00Z");
    insta::assert_snapshot!(presence_at(value(json!({ "tentativeIsMeeting": false }), "2026-03-30T10:30:00Z")),
        @"Available | no blocking item | next never");
    insta::assert_snapshot!(presence_at(value(json!({ "workingElsewhereIsMeeting": true }), "2026-03-30T08:30:00Z")),
        @"Meeting | meeting Home office WorkingElsewhere 03-30 08:00Z–03-30 17:00Z | next 03-30 10:00Z");
}

#[test]
fn case_26_and_27_zero_length_items_never_run_and_back_to_back_items_leave_no_gap() {
    insta::assert_snapshot!(timeline(json!({
        "items": [
            { "subject": "A", "start": "2026-03-30T09:00:00Z", "end": "2026-03-30T10:00:00Z", "status": "busy" },
            { "subject": "B", "start": "2026-03-30T10:00:00Z", "end": "2026-03-30T11:00:00Z", "status": "busy" },
            { "subject": "Zero", "start": "2026-03-30T12:00:00Z", "end": "2026-03-30T12:00:00Z", "status": "busy" }
        ],
        "from": "2026-03-30T08:00:00Z", "to": "2026-03-30T23:00:00Z"
    })), @r"
    03-30 08:00Z Available | no blocking item | next 03-30 09:00Z
    03-30 09:00Z Meeting | meeting A Busy 03-30 09:00Z–03-30 10:00Z | next 03-30 10:00Z
    03-30 10:00Z Meeting | meeting B Busy 03-30 10:00Z–03-30 11:00Z | next 03-30 11:00Z
    03-30 11:00Z Available | no blocking item | next never
    ");
}

fn override_case(b_start: &str, b_cancelled: bool, at: &str) -> serde_json::Value {
    json!({
        "items": [
            { "subject": "A", "start": "2026-03-30T08:00:00Z", "end": "2026-03-30T09:00:00Z", "status": "busy" },
            { "subject": "B", "start": b_start, "end": "2026-03-30T11:00:00Z", "status": "busy", "cancelled": b_cancelled }
        ],
        "override": { "state": "available", "setAt": "2026-03-30T08:15:00Z" },
        "at": at
    })
}

#[test]
fn case_44_override_holds_until_the_next_blocking_item_starts_and_follows_it() {
    // Set during meeting A: it wins over A and ends when B starts.
    insta::assert_snapshot!(presence_at(override_case("2026-03-30T10:00:00Z", false, "2026-03-30T08:30:00Z")),
        @"Available | override until 03-30 10:00Z | next 03-30 10:00Z");
    insta::assert_snapshot!(presence_at(override_case("2026-03-30T10:00:00Z", false, "2026-03-30T10:00:00Z")),
        @"Meeting | meeting B Busy 03-30 10:00Z–03-30 11:00Z | next 03-30 11:00Z");
    // B moves to 10:30: the override's end moves with it.
    insta::assert_snapshot!(presence_at(override_case("2026-03-30T10:30:00Z", false, "2026-03-30T10:10:00Z")),
        @"Available | override until 03-30 10:30Z | next 03-30 10:30Z");
    // B is cancelled: nothing blocking follows, so the override holds until reset.
    insta::assert_snapshot!(presence_at(override_case("2026-03-30T10:00:00Z", true, "2026-03-30T10:10:00Z")),
        @"Available | override until reset | next never");
    // Before it was set, the calendar decides.
    insta::assert_snapshot!(presence_at(override_case("2026-03-30T10:00:00Z", false, "2026-03-30T08:10:00Z")),
        @"Meeting | meeting A Busy 03-30 08:00Z–03-30 09:00Z | next 03-30 08:15Z");
}

#[test]
fn override_ends_at_its_explicit_expiry_or_a_scheduled_oof_start_whichever_is_first() {
    let value = |rules: serde_json::Value| {
        json!({
            "oof": { "state": "scheduled", "internalReply": "Away",
                     "window": { "start": "2026-03-30T12:00:00Z", "end": "2026-03-31T12:00:00Z" } },
            "override": { "state": "meeting", "setAt": "2026-03-30T08:00:00Z",
                          "expires": "2026-03-30T13:00:00Z", "message": "Focus time" },
            "rules": rules,
            "at": "2026-03-30T11:00:00Z"
        })
    };
    insta::assert_snapshot!(presence_at(value(json!({}))),
        @"Meeting: Focus time | override until 03-30 12:00Z | next 03-30 12:00Z");
    insta::assert_snapshot!(presence_at(value(json!({ "overrideEndsAtScheduledOof": false }))),
        @"Meeting: Focus time | override until 03-30 13:00Z | next 03-30 13:00Z");
}

#[test]
fn all_day_busy_item_is_a_meeting_on_its_own_date_in_the_mailbox_zone() {
    // Created in New York for June 9 (04:00Z–04:00Z); the mailbox is in Berlin.
    let value = |at: &str| {
        json!({
            "timeZone": "Europe/Berlin",
            "items": [ { "subject": "Offsite", "allDay": true, "timeZone": "America/New_York",
                         "start": "2026-06-09T04:00:00Z", "end": "2026-06-10T04:00:00Z", "status": "busy" } ],
            "at": at
        })
    };
    insta::assert_snapshot!(presence_at(value("2026-06-08T22:30:00Z")),
        @"Meeting | meeting Offsite Busy 06-09 04:00Z–06-10 04:00Z | next 06-09 22:00Z");
    insta::assert_snapshot!(presence_at(value("2026-06-09T22:30:00Z")),
        @"Available | no blocking item | next never");
}

#[test]
fn timeline_lists_every_change_of_a_day() {
    insta::assert_snapshot!(timeline(json!({
        "oof": { "state": "scheduled", "internalReply": "<p>Back tomorrow</p>",
                 "window": { "start": "2026-03-30T15:00:00Z", "end": "2026-03-31T07:00:00Z" } },
        "items": [
            { "subject": "Standup", "start": "2026-03-30T07:00:00Z", "end": "2026-03-30T07:15:00Z", "status": "busy" },
            { "subject": "Workshop", "start": "2026-03-30T13:00:00Z", "end": "2026-03-30T16:00:00Z", "status": "busy" }
        ],
        "from": "2026-03-30T06:00:00Z", "to": "2026-03-31T06:00:00Z"
    })), @r"
    03-30 06:00Z Available | no blocking item | next 03-30 07:00Z
    03-30 07:00Z Meeting | meeting Standup Busy 03-30 07:00Z–03-30 07:15Z | next 03-30 07:15Z
    03-30 07:15Z Available | no blocking item | next 03-30 13:00Z
    03-30 13:00Z Meeting | meeting Workshop Busy 03-30 13:00Z–03-30 16:00Z | next 03-30 15:00Z
    03-30 15:00Z Absent: Back tomorrow | oof Scheduled until 03-31 07:00Z | next 03-31 07:00Z
    ");
}

#[test]
fn serialized_presence_is_readable() {
    let value = scheduled_oof("2026-03-30T12:00:00Z");
    let (input, rules) = input_and_rules(&value);
    let result = presence(&input, &rules, utc("2026-03-30T12:00:00Z"));
    insta::assert_snapshot!(serde_json::to_string(&result).unwrap(),
        @r#"{"state":"absent","message":"On leave until Tuesday.","reason":{"kind":"oofSettings","state":"scheduled","until":"2026-03-30T14:15:00Z"},"nextChange":"2026-03-30T14:15:00Z"}"#);
}

proptest! {
    #![proptest_config(strategies::config())]

    #[test]
    fn presence_matches_the_rule_table_and_a_minute_scan_for_the_next_change(
        (input, rules, now) in strategies::presence_case(),
    ) {
        let got = presence(&input, &rules, now);
        let expected = oracle_presence(&input, &rules, now);
        prop_assert_eq!(&got, &expected);
        // Private subjects never leave the input.
        let text = serde_json::to_string(&got).unwrap();
        prop_assert!(!text.contains("Private subject"), "leaked a private subject in {text}");
    }
}
