//! Recurrence expansion: the CALENDAR-SEMANTICS recurrence cases (4–13, 18, 45), the serde
//! form, and a property test against a day-by-day oracle.

use calendar_core::{Occurrence, Series};
use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::strategies::{self, naive_occurrences};

fn series(value: serde_json::Value) -> Series {
    serde_json::from_value(value).expect("test series is valid JSON for Series")
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant is RFC 3339")
        .with_timezone(&Utc)
}

/// Formats occurrences one per line: index, UTC start–end, and the local wall time.
fn list(series: &Series, occurrences: &[Occurrence]) -> String {
    occurrences
        .iter()
        .map(|o| {
            let local = o.start.with_timezone(&series.tz);
            format!(
                "#{} {}–{} ({})",
                o.index,
                o.start.format("%Y-%m-%d %H:%MZ"),
                o.end.format("%H:%MZ"),
                local.format("%a %H:%M %Z")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The one helper every named test goes through: all occurrences of a finite series.
fn expand(value: serde_json::Value) -> String {
    let s = series(value);
    s.validate().expect("test series validates");
    let all = s.occurrences(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    list(&s, &all)
}

fn ews_01() -> Series {
    // shared/ews-samples/getitem-recurringmaster-response.xml: created 13:21:32.868 Pacific.
    series(json!({
        "start": "2014-03-08T13:21:32.868",
        "durationMinutes": 60,
        "timeZone": "America/Los_Angeles",
        "recurrence": {
            "pattern": { "type": "weekly", "interval": 1, "days": ["Saturday"] },
            "range": { "type": "numbered", "start": "2014-03-08", "count": 10 }
        }
    }))
}

#[test]
fn case_6_and_18_weekly_series_keeps_wall_time_across_dst_at_minute_resolution() {
    let s = ews_01();
    let all = s.occurrences(utc("2014-01-01T00:00:00Z"), utc("2015-01-01T00:00:00Z"));
    insta::assert_snapshot!(list(&s, &all), @r"
    #1 2014-03-08 21:21Z–22:21Z (Sat 13:21 PST)
    #2 2014-03-15 20:21Z–21:21Z (Sat 13:21 PDT)
    #3 2014-03-22 20:21Z–21:21Z (Sat 13:21 PDT)
    #4 2014-03-29 20:21Z–21:21Z (Sat 13:21 PDT)
    #5 2014-04-05 20:21Z–21:21Z (Sat 13:21 PDT)
    #6 2014-04-12 20:21Z–21:21Z (Sat 13:21 PDT)
    #7 2014-04-19 20:21Z–21:21Z (Sat 13:21 PDT)
    #8 2014-04-26 20:21Z–21:21Z (Sat 13:21 PDT)
    #9 2014-05-03 20:21Z–21:21Z (Sat 13:21 PDT)
    #10 2014-05-10 20:21Z–21:21Z (Sat 13:21 PDT)
    ");
    // FirstOccurrence and LastOccurrence exactly as Exchange reported them.
    assert_eq!(s.first().unwrap().start, utc("2014-03-08T21:21:00Z"));
    assert_eq!(s.last().unwrap().start, utc("2014-05-10T20:21:00Z"));
    assert_eq!(s.last().unwrap().end, utc("2014-05-10T21:21:00Z"));
}

#[test]
fn case_8_series_starting_off_pattern_begins_at_the_next_match() {
    insta::assert_snapshot!(expand(json!({
        "start": "2026-08-20T10:00:00", "durationMinutes": 30, "timeZone": "Europe/Berlin",
        "recurrence": {
            "pattern": { "type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15 },
            "range": { "type": "numbered", "start": "2026-08-20", "count": 2 }
        }
    })), @r"
    #1 2026-09-15 08:00Z–08:30Z (Tue 10:00 CEST)
    #2 2026-10-15 08:00Z–08:30Z (Thu 10:00 CEST)
    ");
}

#[test]
fn case_9_monthly_day_31_clamps_to_the_month_end() {
    insta::assert_snapshot!(expand(json!({
        "start": "2026-01-31T09:00:00", "durationMinutes": 60, "timeZone": "UTC",
        "recurrence": {
            "pattern": { "type": "absoluteMonthly", "interval": 1, "dayOfMonth": 31 },
            "range": { "type": "numbered", "start": "2026-01-31", "count": 6 }
        }
    })), @r"
    #1 2026-01-31 09:00Z–10:00Z (Sat 09:00 UTC)
    #2 2026-02-28 09:00Z–10:00Z (Sat 09:00 UTC)
    #3 2026-03-31 09:00Z–10:00Z (Tue 09:00 UTC)
    #4 2026-04-30 09:00Z–10:00Z (Thu 09:00 UTC)
    #5 2026-05-31 09:00Z–10:00Z (Sun 09:00 UTC)
    #6 2026-06-30 09:00Z–10:00Z (Tue 09:00 UTC)
    ");
}

#[test]
fn case_10_yearly_feb_29_falls_on_feb_28_in_common_years() {
    insta::assert_snapshot!(expand(json!({
        "start": "2024-02-29T12:00:00", "durationMinutes": 60, "timeZone": "Europe/London",
        "recurrence": {
            "pattern": { "type": "absoluteYearly", "month": 2, "dayOfMonth": 29 },
            "range": { "type": "numbered", "start": "2024-02-29", "count": 5 }
        }
    })), @r"
    #1 2024-02-29 12:00Z–13:00Z (Thu 12:00 GMT)
    #2 2025-02-28 12:00Z–13:00Z (Fri 12:00 GMT)
    #3 2026-02-28 12:00Z–13:00Z (Sat 12:00 GMT)
    #4 2027-02-28 12:00Z–13:00Z (Sun 12:00 GMT)
    #5 2028-02-29 12:00Z–13:00Z (Tue 12:00 GMT)
    ");
}

#[test]
fn case_11_first_monday_of_a_month_starting_on_friday_is_the_4th() {
    // May 2026 begins on a Friday; the Monday of its first calendar week is April 27.
    insta::assert_snapshot!(expand(json!({
        "start": "2026-05-01T09:00:00", "durationMinutes": 60, "timeZone": "Europe/Berlin",
        "recurrence": {
            "pattern": { "type": "relativeMonthly", "interval": 1, "day": "Monday", "index": "First" },
            "range": { "type": "numbered", "start": "2026-05-01", "count": 2 }
        }
    })), @r"
    #1 2026-05-04 07:00Z–08:00Z (Mon 09:00 CEST)
    #2 2026-06-01 07:00Z–08:00Z (Mon 09:00 CEST)
    ");
}

fn biweekly_tuesday_sunday(first_day_of_week: &str) -> serde_json::Value {
    // RFC 5545 examples 37/38: DTSTART 1997-08-05 (a Tuesday), every 2 weeks on TU,SU, COUNT=4.
    json!({
        "start": "1997-08-05T09:00:00", "durationMinutes": 60, "timeZone": "America/New_York",
        "recurrence": {
            "pattern": { "type": "weekly", "interval": 2, "days": ["Tuesday", "Sunday"],
                         "firstDayOfWeek": first_day_of_week },
            "range": { "type": "numbered", "start": "1997-08-05", "count": 4 }
        }
    })
}

#[test]
fn case_12_biweekly_grouping_depends_on_the_first_day_of_the_week() {
    insta::assert_snapshot!(expand(biweekly_tuesday_sunday("Monday")), @r"
    #1 1997-08-05 13:00Z–14:00Z (Tue 09:00 EDT)
    #2 1997-08-10 13:00Z–14:00Z (Sun 09:00 EDT)
    #3 1997-08-19 13:00Z–14:00Z (Tue 09:00 EDT)
    #4 1997-08-24 13:00Z–14:00Z (Sun 09:00 EDT)
    ");
    insta::assert_snapshot!(expand(biweekly_tuesday_sunday("Sunday")), @r"
    #1 1997-08-05 13:00Z–14:00Z (Tue 09:00 EDT)
    #2 1997-08-17 13:00Z–14:00Z (Sun 09:00 EDT)
    #3 1997-08-19 13:00Z–14:00Z (Tue 09:00 EDT)
    #4 1997-08-31 13:00Z–14:00Z (Sun 09:00 EDT)
    ");
}

#[test]
fn case_13_relative_day_classes_pick_the_nth_such_day() {
    let monthly = |day: &str, index: &str| {
        expand(json!({
            "start": "2026-05-01T08:00:00", "durationMinutes": 15, "timeZone": "UTC",
            "recurrence": {
                "pattern": { "type": "relativeMonthly", "interval": 1, "day": day, "index": index },
                "range": { "type": "numbered", "start": "2026-05-01", "count": 2 }
            }
        }))
    };
    // May 2026: Fri 1, Sat 2, Sun 3 … June 2026 begins on a Monday.
    insta::assert_snapshot!(monthly("WeekendDay", "Third"), @r"
    #1 2026-05-09 08:00Z–08:15Z (Sat 08:00 UTC)
    #2 2026-06-13 08:00Z–08:15Z (Sat 08:00 UTC)
    ");
    insta::assert_snapshot!(monthly("Weekday", "Second"), @r"
    #1 2026-05-04 08:00Z–08:15Z (Mon 08:00 UTC)
    #2 2026-06-02 08:00Z–08:15Z (Tue 08:00 UTC)
    ");
    insta::assert_snapshot!(monthly("Day", "Last"), @r"
    #1 2026-05-31 08:00Z–08:15Z (Sun 08:00 UTC)
    #2 2026-06-30 08:00Z–08:15Z (Tue 08:00 UTC)
    ");
    insta::assert_snapshot!(monthly("Friday", "Last"), @r"
    #1 2026-05-29 08:00Z–08:15Z (Fri 08:00 UTC)
    #2 2026-06-26 08:00Z–08:15Z (Fri 08:00 UTC)
    ");
}

#[test]
fn case_4_daily_start_in_the_spring_gap_uses_the_offset_before_the_gap() {
    insta::assert_snapshot!(expand(json!({
        "start": "2026-03-07T02:30:00", "durationMinutes": 30, "timeZone": "America/New_York",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 1 },
            "range": { "type": "numbered", "start": "2026-03-07", "count": 3 }
        }
    })), @r"
    #1 2026-03-07 07:30Z–08:00Z (Sat 02:30 EST)
    #2 2026-03-08 07:30Z–08:00Z (Sun 03:30 EDT)
    #3 2026-03-09 06:30Z–07:00Z (Mon 02:30 EDT)
    ");
}

#[test]
fn case_5_daily_start_in_the_repeated_hour_takes_the_first_instant() {
    insta::assert_snapshot!(expand(json!({
        "start": "2026-10-31T01:30:00", "durationMinutes": 30, "timeZone": "America/New_York",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 1 },
            "range": { "type": "numbered", "start": "2026-10-31", "count": 3 }
        }
    })), @r"
    #1 2026-10-31 05:30Z–06:00Z (Sat 01:30 EDT)
    #2 2026-11-01 05:30Z–06:00Z (Sun 01:30 EDT)
    #3 2026-11-02 06:30Z–07:00Z (Mon 01:30 EST)
    ");
}

#[test]
fn end_date_range_ends_with_the_last_occurrence_on_or_before_the_end_date() {
    let value = json!({
        "start": "2026-06-01T17:00:00", "durationMinutes": 60, "timeZone": "Asia/Kolkata",
        "recurrence": {
            "pattern": { "type": "weekly", "interval": 1, "days": ["Mon", "Wed", "Fri"] },
            "range": { "type": "endDate", "start": "2026-06-01", "end": "2026-06-10" }
        }
    });
    insta::assert_snapshot!(expand(value.clone()), @r"
    #1 2026-06-01 11:30Z–12:30Z (Mon 17:00 IST)
    #2 2026-06-03 11:30Z–12:30Z (Wed 17:00 IST)
    #3 2026-06-05 11:30Z–12:30Z (Fri 17:00 IST)
    #4 2026-06-08 11:30Z–12:30Z (Mon 17:00 IST)
    #5 2026-06-10 11:30Z–12:30Z (Wed 17:00 IST)
    ");
    assert_eq!(series(value).last().map(|o| o.index), Some(5));
}

#[test]
fn case_45_occurrence_index_outside_the_series_is_none() {
    let s = ews_01();
    assert_eq!(s.occurrence(0), None);
    assert_eq!(s.occurrence(11), None);
    assert_eq!(s.occurrence(u32::MAX), None);
    assert_eq!(
        s.occurrence(10).map(|o| o.start),
        Some(utc("2014-05-10T20:21:00Z"))
    );
}

#[test]
fn index_of_matches_only_the_exact_original_start() {
    let s = ews_01();
    assert_eq!(s.index_of(utc("2014-04-12T20:21:00Z")), Some(6));
    // One hour off, as exchangelib #291 observed with a wrong zone, is not an occurrence.
    assert_eq!(s.index_of(utc("2014-04-12T21:21:00Z")), None);
    // The seconds of the master start are not part of any occurrence.
    assert_eq!(s.index_of(utc("2014-03-08T21:21:32Z")), None);
    // After the last occurrence.
    assert_eq!(s.index_of(utc("2014-05-17T20:21:00Z")), None);
}

#[test]
fn index_of_finds_an_occurrence_moved_out_of_the_spring_gap() {
    let s = series(json!({
        "start": "2026-03-07T02:30:00", "durationMinutes": 30, "timeZone": "America/New_York",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 1 },
            "range": { "type": "noEnd", "start": "2026-03-07" }
        }
    }));
    assert_eq!(s.index_of(utc("2026-03-08T07:30:00Z")), Some(2));
}

#[test]
fn window_decades_after_the_start_is_computed_by_arithmetic() {
    let s = series(json!({
        "start": "2000-01-01T09:00:00", "durationMinutes": 60, "timeZone": "Europe/Paris",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 3 },
            "range": { "type": "noEnd", "start": "2000-01-01" }
        }
    }));
    let found = s.occurrences(utc("2090-06-01T00:00:00Z"), utc("2090-06-08T00:00:00Z"));
    let start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let window_days = NaiveDate::from_ymd_opt(2090, 6, 1)
        .unwrap()
        .iter_days()
        .take(7);
    let expected = window_days
        .filter(|d| (*d - start).num_days() % 3 == 0)
        .count();
    assert_eq!(found.len(), expected, "{found:?}");
    for occ in found {
        let days = (occ.start.with_timezone(&s.tz).date_naive() - start).num_days();
        assert_eq!(days % 3, 0);
        assert_eq!(i64::from(occ.index), days / 3 + 1);
        assert_eq!(
            occ.start.with_timezone(&s.tz).format("%H:%M").to_string(),
            "09:00"
        );
        assert_eq!(s.occurrence(occ.index), Some(occ));
        assert_eq!(s.index_of(occ.start), Some(occ.index));
    }
    assert_eq!(
        s.last(),
        None,
        "a series without end has no last occurrence"
    );
}

#[test]
fn window_includes_an_occurrence_ending_at_its_start_and_excludes_one_starting_at_its_end() {
    let s = ews_01();
    // #2 is 20:21–21:21Z on 2014-03-15.
    let at_end = s.occurrences(utc("2014-03-15T21:21:00Z"), utc("2014-03-15T22:00:00Z"));
    assert_eq!(at_end.iter().map(|o| o.index).collect::<Vec<_>>(), [2]);
    let at_start = s.occurrences(utc("2014-03-15T19:00:00Z"), utc("2014-03-15T20:21:00Z"));
    assert!(at_start.is_empty(), "{at_start:?}");
}

#[test]
fn validate_reports_each_invalid_recurrence_with_its_ews_response_code() {
    let check = |pattern: serde_json::Value, range: serde_json::Value, minutes: i64| {
        let s = series(json!({
            "start": "2026-01-01T09:00:00", "durationMinutes": minutes, "timeZone": "UTC",
            "recurrence": { "pattern": pattern, "range": range }
        }));
        match s.validate() {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("{}: {e}", e.response_code()),
        }
    };
    let noend = json!({ "type": "noEnd", "start": "2026-01-01" });
    let daily = json!({ "type": "daily", "interval": 1 });
    let lines = [
        check(json!({ "type": "daily", "interval": 0 }), noend.clone(), 30),
        check(
            json!({ "type": "weekly", "interval": 1, "days": [] }),
            noend.clone(),
            30,
        ),
        check(
            json!({ "type": "absoluteMonthly", "interval": 1, "dayOfMonth": 0 }),
            noend.clone(),
            30,
        ),
        check(
            json!({ "type": "absoluteMonthly", "interval": 1, "dayOfMonth": 32 }),
            noend.clone(),
            30,
        ),
        check(
            json!({ "type": "absoluteYearly", "month": 13, "dayOfMonth": 1 }),
            noend.clone(),
            30,
        ),
        check(
            daily.clone(),
            json!({ "type": "endDate", "start": "2026-01-01", "end": "2025-12-31" }),
            30,
        ),
        check(
            daily.clone(),
            json!({ "type": "numbered", "start": "2026-01-01", "count": 0 }),
            30,
        ),
        check(daily.clone(), noend.clone(), -5),
        check(daily.clone(), noend.clone(), 6 * 366 * 24 * 60),
        check(
            json!({ "type": "absoluteYearly", "month": 12, "dayOfMonth": 25 }),
            json!({ "type": "endDate", "start": "2026-01-01", "end": "2026-06-30" }),
            30,
        ),
        check(daily, noend, 30),
    ];
    insta::assert_snapshot!(lines.join("\n"), @r"
    ErrorCalendarInvalidRecurrence: daily recurrence has interval 0; the interval must be at least 1
    ErrorCalendarInvalidDayForWeeklyRecurrence: weekly recurrence lists no days of the week
    ErrorCalendarInvalidRecurrence: absolute monthly recurrence has day of month 0; it must be 1..=31
    ErrorCalendarInvalidRecurrence: absolute monthly recurrence has day of month 32; it must be 1..=31
    ErrorCalendarInvalidRecurrence: absolute yearly recurrence has month 13; it must be 1..=12
    ErrorCalendarInvalidRecurrence: recurrence end date 2025-12-31 is before its start date 2026-01-01
    ErrorCalendarInvalidRecurrence: numbered recurrence has 0 occurrences; it must have at least 1
    ErrorCalendarEndDateIsEarlierThanStartDate: item duration is negative (-5 minutes)
    ErrorCalendarDurationIsTooLong: item duration of 3162240 minutes exceeds the five-year limit
    ErrorRecurrenceHasNoOccurrence: recurrence from 2026-01-01 to 2026-06-30 has no occurrence
    ok
    ");
}

#[test]
fn invalid_series_expands_to_nothing_instead_of_panicking() {
    let s = series(json!({
        "start": "2026-01-01T09:00:00", "durationMinutes": 30, "timeZone": "UTC",
        "recurrence": {
            "pattern": { "type": "weekly", "interval": 0, "days": [] },
            "range": { "type": "noEnd", "start": "2026-01-01" }
        }
    }));
    assert!(
        s.occurrences(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
            .is_empty()
    );
    assert_eq!(s.first(), None);
    assert_eq!(s.index_of(utc("2026-01-01T09:00:00Z")), None);
}

#[test]
fn serialized_form_is_readable_and_round_trips() {
    let s = ews_01();
    let text = serde_json::to_string(&s).unwrap();
    insta::assert_snapshot!(text, @r#"{"start":"2014-03-08T13:21:32.868","durationMinutes":60,"timeZone":"America/Los_Angeles","recurrence":{"pattern":{"type":"weekly","interval":1,"days":["Sat"],"firstDayOfWeek":"Sun"},"range":{"type":"numbered","start":"2014-03-08","count":10}}}"#);
    assert_eq!(serde_json::from_str::<Series>(&text).unwrap(), s);
    let occ = serde_json::to_string(&s.first().unwrap()).unwrap();
    insta::assert_snapshot!(occ, @r#"{"index":1,"start":"2014-03-08T21:21:00Z","end":"2014-03-08T22:21:00Z"}"#);
}

#[test]
fn deserializing_rejects_unknown_zones_and_day_values_with_a_reason() {
    let bad_zone = serde_json::from_value::<Series>(json!({
        "start": "2026-01-01T09:00:00", "durationMinutes": 30, "timeZone": "Pacific Standard Time",
        "recurrence": { "pattern": { "type": "daily", "interval": 1 },
                        "range": { "type": "noEnd", "start": "2026-01-01" } }
    }))
    .unwrap_err();
    assert!(
        bad_zone
            .to_string()
            .contains("unknown IANA time zone `Pacific Standard Time`")
    );
    let bad_day = serde_json::from_value::<Series>(json!({
        "start": "2026-01-01T09:00:00", "durationMinutes": 30, "timeZone": "UTC",
        "recurrence": { "pattern": { "type": "relativeMonthly", "interval": 1, "day": "Weekend", "index": "first" },
                        "range": { "type": "noEnd", "start": "2026-01-01" } }
    }))
    .unwrap_err();
    assert!(
        bad_day
            .to_string()
            .contains("`Weekend` is not an EWS DaysOfWeek value"),
        "{bad_day}"
    );
}

proptest! {
    #![proptest_config(strategies::config())]

    #[test]
    fn expansion_matches_a_day_by_day_oracle(
        s in strategies::series(),
        from_days in -40i64..1200,
        len_hours in 0i64..24 * 120,
    ) {
        let origin = s.recurrence.range.start().and_hms_opt(0, 0, 0).unwrap().and_utc();
        let from = origin + chrono::Duration::days(from_days);
        let to = from + chrono::Duration::hours(len_hours);
        let horizon = to.date_naive() + chrono::Duration::days(3);
        let oracle = naive_occurrences(&s, horizon);

        let expected: Vec<Occurrence> =
            oracle.iter().copied().filter(|o| o.start < to && o.end >= from).collect();
        prop_assert_eq!(s.occurrences(from, to), expected);

        for o in oracle.iter().take(25) {
            prop_assert_eq!(s.occurrence(o.index), Some(*o));
            prop_assert_eq!(s.index_of(o.start), Some(o.index));
        }
        match oracle.first() {
            Some(first) => prop_assert_eq!(s.first(), Some(*first)),
            None => {
                let beyond = s.first().is_none_or(|f| f.start.date_naive() >= horizon - chrono::Duration::days(2));
                prop_assert!(beyond, "the oracle saw no occurrence up to {}, yet first() is {:?}", horizon, s.first());
            }
        }
        if let Some(last) = s.last() {
            // The oracle only walks to the horizon; compare when the series ends before it.
            if last.start.date_naive() < horizon - chrono::Duration::days(2) {
                prop_assert_eq!(Some(last), oracle.last().copied());
            }
        } else {
            let no_end = matches!(s.recurrence.range, calendar_core::Range::NoEnd { .. });
            prop_assert!(no_end, "only a series without end lacks a last occurrence");
        }
    }
}

fn daily_standup() -> Series {
    series(json!({
        "start": "2026-06-01T10:00:00", "durationMinutes": 60, "timeZone": "Europe/London",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 1 },
            "range": { "type": "numbered", "start": "2026-06-01", "count": 5 }
        }
    }))
}

fn list_instances(instances: &[calendar_core::Instance]) -> String {
    instances
        .iter()
        .map(|i| {
            format!(
                "#{} {}–{}{}",
                i.index.map_or("?".to_owned(), |n| n.to_string()),
                i.start.format("%m-%d %H:%MZ"),
                i.end.format("%H:%MZ"),
                if i.modified {
                    format!(" (moved from {})", i.original_start.format("%m-%d %H:%MZ"))
                } else {
                    String::new()
                }
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn case_14_and_15_moved_occurrence_leaves_its_slot_and_deleted_one_is_gone() {
    let s = daily_standup();
    let exceptions: calendar_core::Exceptions = serde_json::from_value(json!({
        "modified": [ { "originalStart": "2026-06-02T09:00:00Z",
                        "start": "2026-06-03T14:00:00Z", "end": "2026-06-03T15:00:00Z" } ],
        "deleted": [ "2026-06-04T09:00:00Z" ]
    }))
    .unwrap();
    let all = s.instances(
        &exceptions,
        utc("2026-06-01T00:00:00Z"),
        utc("2026-06-06T00:00:00Z"),
    );
    insta::assert_snapshot!(list_instances(&all), @r"
    #1 06-01 09:00Z–10:00Z
    #3 06-03 09:00Z–10:00Z
    #2 06-03 14:00Z–15:00Z (moved from 06-02 09:00Z)
    #5 06-05 09:00Z–10:00Z
    ");
    // A window holding only the original slot of the moved occurrence shows nothing there;
    // one holding only its new time shows it.
    let original_day = s.instances(
        &exceptions,
        utc("2026-06-02T00:00:00Z"),
        utc("2026-06-03T00:00:00Z"),
    );
    assert!(original_day.is_empty(), "{original_day:?}");
    let new_time = s.instances(
        &exceptions,
        utc("2026-06-03T13:00:00Z"),
        utc("2026-06-03T16:00:00Z"),
    );
    insta::assert_snapshot!(list_instances(&new_time), @"#2 06-03 14:00Z–15:00Z (moved from 06-02 09:00Z)");
}

#[test]
fn end_date_is_a_local_date_in_the_series_zone() {
    // 20:00 in Los Angeles on the end date is already the next day in UTC; it still counts.
    let s = series(json!({
        "start": "2026-06-01T20:00:00", "durationMinutes": 30, "timeZone": "America/Los_Angeles",
        "recurrence": {
            "pattern": { "type": "daily", "interval": 1 },
            "range": { "type": "endDate", "start": "2026-06-01", "end": "2026-06-03" }
        }
    }));
    insta::assert_snapshot!(list(&s, &s.occurrences(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)), @r"
    #1 2026-06-02 03:00Z–03:30Z (Mon 20:00 PDT)
    #2 2026-06-03 03:00Z–03:30Z (Tue 20:00 PDT)
    #3 2026-06-04 03:00Z–03:30Z (Wed 20:00 PDT)
    ");
}
