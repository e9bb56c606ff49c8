//! Proptest strategies and the deliberately naive oracles they are checked against.

use calendar_core::{
    DayOfWeekIndex, Occurrence, Pattern, Range, Recurrence, RelativeDay, Series, Weekday,
};
use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Modest case counts so the suite stays fast; `PROPTEST_CASES=5000` runs a heavier check.
pub(crate) fn config() -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 48;
    }
    config
}

/// Zones with the interesting transitions: US and EU DST, a midnight gap (São Paulo until
/// 2019), a 30-minute DST shift (Lord Howe), a half-hour offset without DST (Kolkata), a
/// southern-hemisphere zone, a skipped day (Apia 2011) and UTC.
pub(crate) const ZONES: &[Tz] = &[
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Sydney,
    chrono_tz::Pacific::Apia,
    chrono_tz::UTC,
];

pub(crate) fn zone() -> impl Strategy<Value = Tz> {
    proptest::sample::select(ZONES)
}

fn weekday() -> impl Strategy<Value = Weekday> {
    (0u8..7).prop_map(|n| Weekday::try_from(n).expect("0..7 is a weekday"))
}

fn relative_day() -> impl Strategy<Value = RelativeDay> {
    prop_oneof![
        4 => weekday().prop_map(RelativeDay::On),
        1 => Just(RelativeDay::Day),
        1 => Just(RelativeDay::Weekday),
        1 => Just(RelativeDay::WeekendDay),
    ]
}

fn day_index() -> impl Strategy<Value = DayOfWeekIndex> {
    proptest::sample::select(vec![
        DayOfWeekIndex::First,
        DayOfWeekIndex::Second,
        DayOfWeekIndex::Third,
        DayOfWeekIndex::Fourth,
        DayOfWeekIndex::Last,
    ])
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        (1u32..5).prop_map(|interval| Pattern::Daily { interval }),
        (
            1u32..4,
            proptest::collection::vec(weekday(), 1..5),
            weekday()
        )
            .prop_map(|(interval, days, first_day_of_week)| Pattern::Weekly {
                interval,
                days,
                first_day_of_week
            }),
        (1u32..4, prop_oneof![1u32..32, 28u32..32]).prop_map(|(interval, day_of_month)| {
            Pattern::AbsoluteMonthly {
                interval,
                day_of_month,
            }
        }),
        (1u32..4, relative_day(), day_index()).prop_map(|(interval, day, index)| {
            Pattern::RelativeMonthly {
                interval,
                day,
                index,
            }
        }),
        (1u32..13, prop_oneof![1u32..32, 28u32..32]).prop_map(|(month, day_of_month)| {
            Pattern::AbsoluteYearly {
                month,
                day_of_month,
            }
        }),
        (1u32..13, relative_day(), day_index())
            .prop_map(|(month, day, index)| Pattern::RelativeYearly { month, day, index }),
    ]
}

/// Dates from 2010 to 2030, so São Paulo's and Apia's transitions are in reach.
pub(crate) fn date() -> impl Strategy<Value = NaiveDate> {
    (0i64..365 * 20).prop_map(|d| NaiveDate::from_ymd_opt(2010, 1, 1).unwrap() + Duration::days(d))
}

/// Wall times biased towards the DST hours, with random seconds.
pub(crate) fn wall_minute() -> impl Strategy<Value = u32> {
    prop_oneof![0u32..24 * 60, 0u32..4 * 60, 22 * 60u32..24 * 60]
}

fn range(start: NaiveDate) -> impl Strategy<Value = Range> {
    prop_oneof![
        Just(Range::NoEnd { start }),
        (0i64..900).prop_map(move |d| Range::EndDate {
            start,
            end: start + Duration::days(d)
        }),
        (1u32..60).prop_map(move |count| Range::Numbered { start, count }),
    ]
}

pub(crate) fn series() -> impl Strategy<Value = Series> {
    (
        date(),
        wall_minute(),
        0u32..60,
        0i64..3 * 24 * 60,
        zone(),
        pattern(),
    )
        .prop_flat_map(|(start, minute, second, minutes, tz, pattern)| {
            range(start).prop_map(move |range| Series {
                start: start.and_hms_opt(minute / 60, minute % 60, second).unwrap(),
                duration: Duration::minutes(minutes),
                tz,
                recurrence: Recurrence {
                    pattern: pattern.clone(),
                    range,
                },
            })
        })
        // Series whose end date comes before any match are invalid; keep the valid ones.
        .prop_filter("valid series", |s| s.validate().is_ok())
}

// ---------------------------------------------------------------------------------------
// Recurrence oracle: test every day from the range start against the pattern's definition.
// ---------------------------------------------------------------------------------------

fn month_number(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

fn is_last_day_of_month(d: NaiveDate) -> bool {
    d.succ_opt().is_none_or(|next| next.month() != d.month())
}

/// Day `day_of_month`, or the month's last day when the month is shorter.
fn is_clamped_day(d: NaiveDate, day_of_month: u32) -> bool {
    d.day() == day_of_month || (day_of_month > d.day() && is_last_day_of_month(d))
}

fn in_class(day: RelativeDay, d: NaiveDate) -> bool {
    let weekend = d.weekday() == Weekday::Sat || d.weekday() == Weekday::Sun;
    match day {
        RelativeDay::On(w) => d.weekday() == w,
        RelativeDay::Day => true,
        RelativeDay::Weekday => !weekend,
        RelativeDay::WeekendDay => weekend,
    }
}

fn is_relative_day(d: NaiveDate, day: RelativeDay, index: DayOfWeekIndex) -> bool {
    if !in_class(day, d) {
        return false;
    }
    let same_month = |x: &NaiveDate| x.month() == d.month();
    let before = (1..d.day())
        .filter(|n| in_class(day, d.with_day(*n).unwrap()))
        .count();
    let after = d
        .iter_days()
        .skip(1)
        .take_while(same_month)
        .filter(|x| in_class(day, *x))
        .count();
    match index {
        DayOfWeekIndex::First => before == 0,
        DayOfWeekIndex::Second => before == 1,
        DayOfWeekIndex::Third => before == 2,
        DayOfWeekIndex::Fourth => before == 3,
        DayOfWeekIndex::Last => after == 0,
    }
}

fn is_pattern_date(pattern: &Pattern, start: NaiveDate, d: NaiveDate) -> bool {
    match pattern {
        Pattern::Daily { interval } => (d - start).num_days() % i64::from(*interval) == 0,
        Pattern::Weekly {
            interval,
            days,
            first_day_of_week,
        } => {
            let week_start = |x: NaiveDate| {
                x - Duration::days(i64::from(x.weekday().days_since(*first_day_of_week)))
            };
            let weeks = (week_start(d) - week_start(start)).num_days() / 7;
            days.contains(&d.weekday()) && weeks % i64::from(*interval) == 0
        }
        Pattern::AbsoluteMonthly {
            interval,
            day_of_month,
        } => {
            (month_number(d) - month_number(start)) % i64::from(*interval) == 0
                && is_clamped_day(d, *day_of_month)
        }
        Pattern::RelativeMonthly {
            interval,
            day,
            index,
        } => {
            (month_number(d) - month_number(start)) % i64::from(*interval) == 0
                && is_relative_day(d, *day, *index)
        }
        Pattern::AbsoluteYearly {
            month,
            day_of_month,
        } => d.month() == *month && is_clamped_day(d, *day_of_month),
        Pattern::RelativeYearly { month, day, index } => {
            d.month() == *month && is_relative_day(d, *day, *index)
        }
    }
}

/// The offsets in force a day and a half either side of `local`, in seconds.
fn nearby_offsets(tz: Tz, local: NaiveDateTime) -> [i32; 2] {
    let around = |hours: i64| {
        tz.offset_from_utc_datetime(&(local + Duration::hours(hours)))
            .fix()
            .local_minus_utc()
    };
    [around(-36), around(36)]
}

/// Local wall time to UTC, the oracle way: a gap takes the smaller (pre-gap) of the offsets
/// around it; an overlap takes the earlier instant.
pub(crate) fn naive_local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        chrono::LocalResult::None => {
            let before = nearby_offsets(tz, local).into_iter().min().unwrap();
            (local - Duration::seconds(i64::from(before))).and_utc()
        }
    }
}

/// Every occurrence on a local date up to `horizon`, found by testing each day.
pub(crate) fn naive_occurrences(series: &Series, horizon: NaiveDate) -> Vec<Occurrence> {
    let start = series.recurrence.range.start();
    let time = series.start.time();
    let minute = chrono::NaiveTime::from_hms_opt(time.hour(), time.minute(), 0).unwrap();
    let duration = Duration::minutes(series.duration.num_minutes());
    let mut out = Vec::new();
    for d in start.iter_days().take_while(|d| *d <= horizon) {
        match series.recurrence.range {
            Range::EndDate { end, .. } if d > end => break,
            Range::Numbered { count, .. } if out.len() as u32 >= count => break,
            _ => {}
        }
        if is_pattern_date(&series.recurrence.pattern, start, d) {
            let begin = naive_local_to_utc(series.tz, d.and_time(minute));
            out.push(Occurrence {
                index: out.len() as u32 + 1,
                start: begin,
                end: begin + duration,
            });
        }
    }
    out
}
