//! Free slots: the CALENDAR-SEMANTICS slot cases (1–3, 5, 14, 15, 19–27, 29, 30, 33–35,
//! 37–39) as named tests, and a property test against a minute-by-minute scan.

use calendar_core::{BusyItem, NoSlotReason, SlotReport, free_slots};
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::strategies::{self, oracle_slots};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn reason_text(reason: &NoSlotReason) -> String {
    match reason {
        NoSlotReason::Closed { why } => format!("closed: {}", serde_json::to_string(why).unwrap()),
        NoSlotReason::FullyBooked => "fully booked".to_owned(),
        NoSlotReason::Vacation { item } => format!(
            "vacation: {}",
            item.subject
                .clone()
                .or_else(|| item.id.clone())
                .unwrap_or_else(|| "(private)".to_owned())
        ),
        NoSlotReason::OutsideHorizon { last_bookable_date } => {
            format!("outside horizon (last {last_bookable_date})")
        }
        NoSlotReason::MinimumNotice { earliest_start } => {
            format!(
                "minimum notice (earliest {})",
                earliest_start.format("%m-%d %H:%MZ")
            )
        }
    }
}

fn render(report: &SlotReport, capacity: u32) -> String {
    let mut lines = Vec::new();
    for day in &report.days {
        let head = format!("{} {}:", day.date, day.date.format("%a"));
        if let Some(reason) = &day.reason {
            lines.push(format!("{head} — {}", reason_text(reason)));
            continue;
        }
        let offsets_differ = day
            .slots
            .iter()
            .any(|s| s.local_start.offset() != day.slots[0].local_start.offset());
        let labels: Vec<String> = day
            .slots
            .iter()
            .map(|s| {
                let mut label = if offsets_differ {
                    s.local_start.format("%H:%M%:z").to_string()
                } else {
                    s.local_start.format("%H:%M").to_string()
                };
                if s.available < capacity {
                    label.push_str(&format!("({})", s.available));
                }
                label
            })
            .collect();
        let (first, last) = (day.slots[0], day.slots[day.slots.len() - 1]);
        lines.push(format!(
            "{head} {} [{}–{}]",
            labels.join(" "),
            first.start.format("%H:%MZ"),
            last.end.format("%H:%MZ")
        ));
    }
    if let Some(reason) = &report.reason {
        lines.push(format!("range — {}", reason_text(reason)));
    }
    lines.join("\n")
}

/// The one helper the named tests go through. The counter defaults to UTC, open every day
/// 09:00–17:00, hourly slots; the fixture's `counter` object overrides any of that.
fn slots_for(value: Value) -> String {
    let mut counter = json!({
        "mailbox": "desk@contoso.test", "timeZone": "UTC", "slotMinutes": 60, "stepMinutes": 60,
        "openingHours": [ { "days": ["Mon","Tue","Wed","Thu","Fri","Sat","Sun"], "ranges": ["09:00-17:00"] } ]
    });
    if let Some(fields) = value.get("counter").and_then(Value::as_object) {
        for (k, v) in fields {
            counter[k] = v.clone();
        }
    }
    let counter: calendar_core::Counter = serde_json::from_value(counter).unwrap();
    let items: Vec<BusyItem> =
        serde_json::from_value(value.get("items").cloned().unwrap_or(json!([]))).unwrap();
    let date = |k: &str| value[k].as_str().unwrap().parse::<NaiveDate>().unwrap();
    let now = value
        .get("now")
        .and_then(Value::as_str)
        .map_or(utc("2000-01-01T00:00:00Z"), utc);
    let report = free_slots(&counter, &items, date("from"), date("to"), now).unwrap();
    render(&report, counter.capacity)
}

#[test]
fn case_1_afternoon_hours_stay_local_on_the_spring_forward_day() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "America/New_York", "openingHours": [ { "days": ["Sat", "Sun"], "ranges": ["13:00-18:00"] } ] },
        "from": "2026-03-07", "to": "2026-03-08"
    })), @r"
    2026-03-07 Sat: 13:00 14:00 15:00 16:00 17:00 [18:00Z–23:00Z]
    2026-03-08 Sun: 13:00 14:00 15:00 16:00 17:00 [17:00Z–22:00Z]
    ");
}

#[test]
fn case_2_morning_hours_stay_local_after_the_fall_back() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "America/New_York", "openingHours": [ { "days": ["Sat", "Sun", "Mon"], "ranges": ["09:00-11:00"] } ] },
        "from": "2026-10-31", "to": "2026-11-02"
    })), @r"
    2026-10-31 Sat: 09:00 10:00 [13:00Z–15:00Z]
    2026-11-01 Sun: 09:00 10:00 [14:00Z–16:00Z]
    2026-11-02 Mon: 09:00 10:00 [14:00Z–16:00Z]
    ");
}

#[test]
fn case_3_minimum_notice_on_a_dst_day_only_shifts_by_the_notice() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "America/New_York", "minimumNoticeMinutes": 90,
                     "openingHours": [ { "days": ["Sat", "Sun", "Mon"], "ranges": ["13:00-18:00"] } ] },
        "from": "2026-03-07", "to": "2026-03-09", "now": "2026-03-08T16:00:00Z"
    })), @r"
    2026-03-07 Sat: — minimum notice (earliest 03-08 17:30Z)
    2026-03-08 Sun: 14:00 15:00 16:00 17:00 [18:00Z–22:00Z]
    2026-03-09 Mon: 13:00 14:00 15:00 16:00 17:00 [17:00Z–22:00Z]
    ");
}

#[test]
fn case_5_repeated_hour_is_bookable_twice_and_the_missing_hour_not_at_all() {
    let night = |date: &str| {
        slots_for(json!({
            "counter": { "timeZone": "America/New_York", "slotMinutes": 30, "stepMinutes": 30,
                         "openingHours": [ { "days": ["Sun"], "ranges": ["00:00-04:00"] } ] },
            "from": date, "to": date
        }))
    };
    insta::assert_snapshot!(night("2026-11-01"), @"2026-11-01 Sun: 00:00-04:00 00:30-04:00 01:00-04:00 01:30-04:00 01:00-05:00 01:30-05:00 02:00-05:00 02:30-05:00 03:00-05:00 03:30-05:00 [04:00Z–09:00Z]");
    insta::assert_snapshot!(night("2026-03-08"), @"2026-03-08 Sun: 00:00-05:00 00:30-05:00 01:00-05:00 01:30-05:00 03:00-04:00 03:30-04:00 [05:00Z–08:00Z]");
}

#[test]
fn case_4_opening_time_inside_the_spring_gap_opens_when_the_clock_jumps() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "America/New_York", "openingHours": [ { "days": ["Sun"], "ranges": ["02:30-05:00"] } ] },
        "from": "2026-03-08", "to": "2026-03-08"
    })), @"2026-03-08 Sun: 03:00 04:00 [07:00Z–09:00Z]");
}

#[test]
fn case_19_20_21_all_day_items_block_their_own_dates_and_free_ones_block_nothing() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "Europe/Berlin" },
        "items": [
            // Created in Honolulu for June 9: 10:00Z to 10:00Z, which would reach into
            // Berlin's June 10 if read as instants.
            { "subject": "Offsite", "allDay": true, "timeZone": "Pacific/Honolulu",
              "start": "2026-06-09T10:00:00Z", "end": "2026-06-10T10:00:00Z", "status": "busy" },
            // Entered with times: rounded out to all of June 11 in Berlin.
            { "subject": "Training", "allDay": true, "timeZone": "Europe/Berlin",
              "start": "2026-06-11T13:00:00Z", "end": "2026-06-11T15:00:00Z", "status": "busy" },
            { "subject": "Birthday", "allDay": true, "start": "2026-06-11T22:00:00Z", "end": "2026-06-12T22:00:00Z", "status": "free" }
        ],
        "from": "2026-06-09", "to": "2026-06-12"
    })), @r"
    2026-06-09 Tue: — vacation: Offsite
    2026-06-10 Wed: 09:00 10:00 11:00 12:00 13:00 14:00 15:00 16:00 [07:00Z–15:00Z]
    2026-06-11 Thu: — vacation: Training
    2026-06-12 Fri: 09:00 10:00 11:00 12:00 13:00 14:00 15:00 16:00 [07:00Z–15:00Z]
    ");
}

#[test]
fn case_22_and_24_overnight_range_and_items_crossing_midnight_and_the_window_edge() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "Europe/Berlin", "openingHours": [ { "days": ["Fri"], "ranges": ["20:00-03:00"] } ] },
        "items": [
            // Starts the day before the requested range and ends inside it.
            { "subject": "Long", "start": "2026-06-11T20:00:00Z", "end": "2026-06-12T18:30:00Z", "status": "busy" },
            // Crosses midnight: Friday 23:30 to Saturday 01:00 in Berlin.
            { "subject": "Late", "start": "2026-06-12T21:30:00Z", "end": "2026-06-12T23:00:00Z", "status": "busy" }
        ],
        "from": "2026-06-12", "to": "2026-06-13"
    })), @r"
    2026-06-12 Fri: 21:00 22:00 [19:00Z–21:00Z]
    2026-06-13 Sat: 01:00 02:00 [23:00Z–01:00Z]
    ");
}

#[test]
fn case_25_an_end_of_23_59_means_midnight() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "openingHours": [ { "days": ["Fri"], "ranges": ["18:00-23:59"] } ] },
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 18:00 19:00 20:00 21:00 22:00 23:00 [18:00Z–00:00Z]");
}

#[test]
fn case_26_and_27_back_to_back_items_leave_edges_free_and_zero_length_items_block_nothing() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "slotMinutes": 30, "stepMinutes": 30, "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-12:00"] } ] },
        "items": [
            { "start": "2026-06-12T09:30:00Z", "end": "2026-06-12T10:00:00Z", "status": "busy" },
            { "start": "2026-06-12T10:00:00Z", "end": "2026-06-12T10:30:00Z", "status": "busy" },
            { "start": "2026-06-12T11:00:00Z", "end": "2026-06-12T11:00:00Z", "status": "busy" }
        ],
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 09:00 10:30 11:00 11:30 [09:00Z–12:00Z]");
}

fn status_mix(tentative_blocks: bool) -> String {
    slots_for(json!({
        "counter": { "tentativeBlocks": tentative_blocks, "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-13:00"] } ] },
        "items": [
            { "start": "2026-06-12T09:00:00Z", "end": "2026-06-12T10:00:00Z", "status": "tentative" },
            { "start": "2026-06-12T10:00:00Z", "end": "2026-06-12T11:00:00Z", "status": "workingElsewhere" },
            { "start": "2026-06-12T11:00:00Z", "end": "2026-06-12T12:00:00Z", "status": "busy", "cancelled": true },
            { "start": "2026-06-12T12:00:00Z", "end": "2026-06-12T13:00:00Z", "status": "free" }
        ],
        "from": "2026-06-12", "to": "2026-06-12"
    }))
}

#[test]
fn case_29_30_34_tentative_blocks_by_configuration_and_working_elsewhere_and_cancelled_never() {
    insta::assert_snapshot!(status_mix(true), @"2026-06-12 Fri: 10:00 11:00 12:00 [10:00Z–13:00Z]");
    insta::assert_snapshot!(status_mix(false), @"2026-06-12 Fri: 09:00 10:00 11:00 12:00 [09:00Z–13:00Z]");
}

#[test]
fn case_33_private_vacation_blocks_and_is_reported_without_its_subject() {
    let counter: calendar_core::Counter = serde_json::from_value(json!({
        "mailbox": "desk@contoso.test", "timeZone": "UTC", "slotMinutes": 60, "stepMinutes": 60,
        "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-12:00"] } ]
    }))
    .unwrap();
    let items: Vec<BusyItem> = serde_json::from_value(json!([
        { "id": "AAMk-7", "subject": "Surgery", "private": true, "allDay": true,
          "start": "2026-06-12T00:00:00Z", "end": "2026-06-13T00:00:00Z", "status": "oof" }
    ]))
    .unwrap();
    let day = NaiveDate::from_ymd_opt(2026, 6, 12).unwrap();
    let report = free_slots(&counter, &items, day, day, utc("2026-06-01T00:00:00Z")).unwrap();
    insta::assert_snapshot!(render(&report, 1), @r"
    2026-06-12 Fri: — vacation: AAMk-7
    range — vacation: AAMk-7
    ");
    assert!(!serde_json::to_string(&report).unwrap().contains("Surgery"));
}

#[test]
fn case_35_slots_are_computed_in_the_counter_zone_whatever_the_item_zone() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "Asia/Tokyo", "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-11:00"] } ] },
        "items": [ { "timeZone": "America/Los_Angeles", "start": "2026-06-12T00:00:00Z", "end": "2026-06-12T01:00:00Z", "status": "busy" } ],
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 10:00 [01:00Z–02:00Z]");
}

#[test]
fn case_37_slots_align_to_local_time_at_half_hour_offsets() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "Asia/Kolkata", "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-12:00"] } ] },
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 09:00 10:00 11:00 [03:30Z–06:30Z]");
}

#[test]
fn case_38_last_slot_ends_by_closing_and_the_first_is_rounded_up_to_the_grid() {
    let ragged = |now: &str| {
        slots_for(json!({
            "counter": { "slotMinutes": 45, "stepMinutes": 30, "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-11:50"] } ] },
            "from": "2026-06-12", "to": "2026-06-12", "now": now
        }))
    };
    insta::assert_snapshot!(ragged("2026-06-12T00:00:00Z"), @"2026-06-12 Fri: 09:00 09:30 10:00 10:30 11:00 [09:00Z–11:45Z]");
    insta::assert_snapshot!(ragged("2026-06-12T09:59:00Z"), @"2026-06-12 Fri: 10:00 10:30 11:00 [10:00Z–11:45Z]");
}

#[test]
fn case_39_buffers_apply_around_busy_time_only_and_stack_with_the_new_booking() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "slotMinutes": 30, "stepMinutes": 15, "bufferBeforeMinutes": 15, "bufferAfterMinutes": 15,
                     "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-13:00"] } ] },
        "items": [ { "start": "2026-06-12T11:00:00Z", "end": "2026-06-12T11:30:00Z", "status": "busy" } ],
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 09:00 09:15 09:30 09:45 10:00 12:00 12:15 12:30 [09:00Z–13:00Z]");
}

#[test]
fn capacity_counts_parallel_bookings() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "capacity": 2, "openingHours": [ { "days": ["Fri"], "ranges": ["09:00-12:00"] } ] },
        "items": [
            { "start": "2026-06-12T09:00:00Z", "end": "2026-06-12T10:00:00Z", "status": "busy" },
            { "start": "2026-06-12T10:00:00Z", "end": "2026-06-12T11:00:00Z", "status": "busy" },
            { "start": "2026-06-12T10:00:00Z", "end": "2026-06-12T11:00:00Z", "status": "oof" }
        ],
        "from": "2026-06-12", "to": "2026-06-12"
    })), @"2026-06-12 Fri: 09:00(1) 11:00 [09:00Z–12:00Z]");
}

#[test]
fn case_14_and_15_moved_and_deleted_occurrences_free_their_original_slots() {
    let series: calendar_core::Series = serde_json::from_value(json!({
        "start": "2026-06-01T10:00:00", "durationMinutes": 60, "timeZone": "UTC",
        "recurrence": { "pattern": { "type": "daily", "interval": 1 },
                        "range": { "type": "numbered", "start": "2026-06-01", "count": 5 } }
    }))
    .unwrap();
    let exceptions: calendar_core::Exceptions = serde_json::from_value(json!({
        "modified": [ { "originalStart": "2026-06-02T10:00:00Z", "start": "2026-06-03T15:00:00Z", "end": "2026-06-03T16:00:00Z" } ],
        "deleted": [ "2026-06-04T10:00:00Z" ]
    }))
    .unwrap();
    let items: Vec<Value> = series
        .instances(
            &exceptions,
            utc("2026-06-01T00:00:00Z"),
            utc("2026-06-06T00:00:00Z"),
        )
        .iter()
        .map(|i| json!({ "start": i.start, "end": i.end, "status": "busy" }))
        .collect();
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "openingHours": [ { "days": ["Mon","Tue","Wed","Thu","Fri"], "ranges": ["10:00-11:00", "15:00-16:00"] } ] },
        "items": items,
        "from": "2026-06-01", "to": "2026-06-05"
    })), @r"
    2026-06-01 Mon: 15:00 [15:00Z–16:00Z]
    2026-06-02 Tue: 10:00 15:00 [10:00Z–16:00Z]
    2026-06-03 Wed: — fully booked
    2026-06-04 Thu: 10:00 15:00 [10:00Z–16:00Z]
    2026-06-05 Fri: 15:00 [15:00Z–16:00Z]
    ");
}

#[test]
fn case_23_long_vacation_blocks_every_day_it_covers_across_the_window_edge_and_dst() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": { "timeZone": "Europe/Berlin" },
        "items": [ { "subject": "Vacation", "start": "2026-03-27T11:00:00Z", "end": "2026-03-31T10:00:00Z", "status": "oof" } ],
        "from": "2026-03-27", "to": "2026-03-31"
    })), @r"
    2026-03-27 Fri: 09:00 10:00 11:00 [08:00Z–11:00Z]
    2026-03-28 Sat: — vacation: Vacation
    2026-03-29 Sun: — vacation: Vacation
    2026-03-30 Mon: — vacation: Vacation
    2026-03-31 Tue: 12:00 13:00 14:00 15:00 16:00 [10:00Z–15:00Z]
    ");
}

#[test]
fn every_date_without_a_slot_says_why() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": {
            "openingHours": [ { "days": ["Mon","Tue","Wed","Thu","Fri"], "ranges": ["09:00-10:00"] } ],
            "holidays": [ { "date": "2026-06-03", "name": "Local holiday" } ],
            "closures": [ { "from": "2026-06-04", "to": "2026-06-05", "reason": "Inventory" } ],
            "dateOverrides": [ { "date": "2026-06-08", "ranges": [] }, { "date": "2026-06-10", "ranges": ["14:00-16:00"] } ],
            "horizonDays": 10
        },
        "items": [ { "start": "2026-06-02T09:00:00Z", "end": "2026-06-02T10:00:00Z", "status": "busy" } ],
        "from": "2026-06-01", "to": "2026-06-13", "now": "2026-06-01T09:30:00Z"
    })), @r#"
    2026-06-01 Mon: — minimum notice (earliest 06-01 09:30Z)
    2026-06-02 Tue: — fully booked
    2026-06-03 Wed: — closed: {"kind":"holiday","name":"Local holiday"}
    2026-06-04 Thu: — closed: {"kind":"closure","reason":"Inventory"}
    2026-06-05 Fri: — closed: {"kind":"closure","reason":"Inventory"}
    2026-06-06 Sat: — closed: {"kind":"noOpeningHours"}
    2026-06-07 Sun: — closed: {"kind":"noOpeningHours"}
    2026-06-08 Mon: — closed: {"kind":"dateOverride"}
    2026-06-09 Tue: 09:00 [09:00Z–10:00Z]
    2026-06-10 Wed: 14:00 15:00 [14:00Z–16:00Z]
    2026-06-11 Thu: 09:00 [09:00Z–10:00Z]
    2026-06-12 Fri: — outside horizon (last 2026-06-11)
    2026-06-13 Sat: — outside horizon (last 2026-06-11)
    "#);
}

#[test]
fn a_range_without_any_slot_reports_the_most_actionable_reason() {
    insta::assert_snapshot!(slots_for(json!({
        "counter": {
            "openingHours": [ { "days": ["Mon","Tue"], "ranges": ["09:00-10:00"] } ],
            "holidays": [ { "date": "2026-06-01" } ]
        },
        "items": [ { "start": "2026-06-02T09:00:00Z", "end": "2026-06-02T10:00:00Z", "status": "busy" } ],
        "from": "2026-06-01", "to": "2026-06-03"
    })), @r#"
    2026-06-01 Mon: — closed: {"kind":"holiday","name":null}
    2026-06-02 Tue: — fully booked
    2026-06-03 Wed: — closed: {"kind":"noOpeningHours"}
    range — fully booked
    "#);
}

#[test]
fn invalid_counters_and_ranges_are_errors_with_the_mailbox() {
    let counter = |extra: Value| -> calendar_core::Counter {
        let mut c = json!({
            "mailbox": "desk@contoso.test", "timeZone": "UTC", "slotMinutes": 60, "stepMinutes": 60,
            "openingHours": []
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        serde_json::from_value(c).unwrap()
    };
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 6, d).unwrap();
    let now = utc("2026-06-01T00:00:00Z");
    let err = |c: calendar_core::Counter, from, to| {
        free_slots(&c, &[], from, to, now).unwrap_err().to_string()
    };
    insta::assert_snapshot!([
        err(counter(json!({ "slotMinutes": 0 })), day(1), day(1)),
        err(counter(json!({ "stepMinutes": 0 })), day(1), day(1)),
        err(counter(json!({ "capacity": 0 })), day(1), day(1)),
        err(counter(json!({ "closures": [ { "from": "2026-06-05", "to": "2026-06-04" } ] })), day(1), day(1)),
        err(counter(json!({})), day(2), day(1)),
        err(counter(json!({})), day(1), NaiveDate::from_ymd_opt(2030, 1, 1).unwrap()),
    ].join("\n"), @r"
    counter `desk@contoso.test`: slot length must be at least one minute
    counter `desk@contoso.test`: step must be at least one minute
    counter `desk@contoso.test`: capacity must be at least 1
    counter `desk@contoso.test`: closure ends 2026-06-04, before it starts 2026-06-05
    counter `desk@contoso.test`: date range ends 2026-06-01, before it starts 2026-06-02
    counter `desk@contoso.test`: date range of 1311 days exceeds the limit of 731
    ");
    let bad_range = serde_json::from_value::<calendar_core::Counter>(json!({
        "mailbox": "x", "timeZone": "UTC", "slotMinutes": 60, "stepMinutes": 60,
        "openingHours": [ { "days": ["Mon"], "ranges": ["9-17"] } ]
    }))
    .unwrap_err();
    assert!(
        bad_range
            .to_string()
            .contains("`9-17` is not an opening-hours range"),
        "{bad_range}"
    );
}

#[test]
fn time_ranges_print_as_they_are_read() {
    let ranges: Vec<calendar_core::TimeRange> = serde_json::from_value(json!([
        "09:00-17:00",
        "20:00-03:00",
        "00:00-24:00",
        "18:00-23:59",
        "09:00-09:00"
    ]))
    .unwrap();
    insta::assert_snapshot!(serde_json::to_string(&ranges).unwrap(),
        @r#"["09:00-17:00","20:00-03:00","00:00-24:00","18:00-24:00","09:00-09:00"]"#);
    assert_eq!(ranges[4].end_minute() - ranges[4].start_minute(), 24 * 60);
}

proptest! {
    #![proptest_config(strategies::config())]

    #[test]
    fn slots_match_a_minute_by_minute_scan((counter, items, from, to, now) in strategies::slot_case()) {
        let got = free_slots(&counter, &items, from, to, now).unwrap();
        let expected = oracle_slots(&counter, &items, from, to, now);
        prop_assert_eq!(got.days.len(), expected.len());
        for (day, want) in got.days.iter().zip(&expected) {
            prop_assert_eq!(&day.slots, &want.slots, "slots of {}", day.date);
            prop_assert_eq!(&day.reason, &want.reason, "reason of {}", day.date);
        }
    }
}
