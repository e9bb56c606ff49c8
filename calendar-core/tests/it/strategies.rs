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

// ---------------------------------------------------------------------------------------
// Presence: random users and a direct rule table.
// ---------------------------------------------------------------------------------------

use calendar_core::{
    BusyItem, ClosedBecause, Counter, DaySlots, FreeBusyStatus, NoSlotReason, OofSettings,
    OofState, OofWindow, OpeningHours, Presence, PresenceInput, PresenceOverride, PresenceReason,
    PresenceRules, PresenceState, ReplyAudience, Slot, TimeRange, html_to_text,
};

fn base() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-30T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn status() -> impl Strategy<Value = FreeBusyStatus> {
    proptest::sample::select(vec![
        FreeBusyStatus::Free,
        FreeBusyStatus::Tentative,
        FreeBusyStatus::Busy,
        FreeBusyStatus::Oof,
        FreeBusyStatus::WorkingElsewhere,
        FreeBusyStatus::NoData,
    ])
}

fn presence_item() -> impl Strategy<Value = BusyItem> {
    (
        0i64..2880,
        prop_oneof![Just(0i64), 1i64..240],
        status(),
        proptest::bool::weighted(0.2),
        proptest::bool::weighted(0.3),
        0u8..5,
    )
        .prop_map(|(start, len, status, cancelled, private, n)| {
            let start = base() + Duration::minutes(start);
            let mut item = BusyItem::new(start, start + Duration::minutes(len), status);
            item.cancelled = cancelled;
            item.private = private;
            item.id = Some(format!("id-{n}"));
            let kind = if private { "Private" } else { "Public" };
            item.subject = Some(format!("{kind} subject {n}"));
            item
        })
}

fn reply() -> impl Strategy<Value = String> {
    proptest::sample::select(vec![
        String::new(),
        "<p>On leave</p>".to_owned(),
        "Gone &amp; back".to_owned(),
    ])
}

fn oof() -> impl Strategy<Value = OofSettings> {
    (
        proptest::sample::select(vec![
            OofState::Disabled,
            OofState::Enabled,
            OofState::Scheduled,
        ]),
        proptest::option::of((0i64..2880, 1i64..1440)),
        reply(),
        reply(),
    )
        .prop_map(
            |(state, window, internal_reply, external_reply)| OofSettings {
                state,
                window: window.map(|(s, len)| OofWindow {
                    start: base() + Duration::minutes(s),
                    end: base() + Duration::minutes(s + len),
                }),
                internal_reply,
                external_reply,
            },
        )
}

fn manual() -> impl Strategy<Value = Option<PresenceOverride>> {
    proptest::option::of((
        proptest::sample::select(vec![
            PresenceState::Available,
            PresenceState::Meeting,
            PresenceState::Absent,
        ]),
        0i64..2880,
        proptest::option::of(1i64..1440),
        proptest::option::of(Just("Back soon".to_owned())),
    ))
    .prop_map(|o| {
        o.map(|(state, set_at, expires, message)| PresenceOverride {
            state,
            set_at: base() + Duration::minutes(set_at),
            expires: expires.map(|e| base() + Duration::minutes(set_at + e)),
            message,
        })
    })
}

fn rules() -> impl Strategy<Value = PresenceRules> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(t, w, external, o)| {
        PresenceRules {
            tentative_is_meeting: t,
            working_elsewhere_is_meeting: w,
            reply: if external {
                ReplyAudience::External
            } else {
                ReplyAudience::Internal
            },
            override_ends_at_scheduled_oof: o,
        }
    })
}

pub(crate) fn presence_case() -> impl Strategy<Value = (PresenceInput, PresenceRules, DateTime<Utc>)>
{
    (
        proptest::collection::vec(presence_item(), 0..7),
        oof(),
        manual(),
        rules(),
        0i64..2880,
        0i64..60,
    )
        .prop_map(|(items, oof, manual, rules, now, sec)| {
            let input = PresenceInput {
                items,
                oof,
                manual,
                time_zone: None,
            };
            (
                input,
                rules,
                base() + Duration::minutes(now) + Duration::seconds(sec),
            )
        })
}

/// The rules of CALENDAR-SEMANTICS §2 written as a table, evaluated at one instant.
fn rule_table(
    input: &PresenceInput,
    rules: &PresenceRules,
    t: DateTime<Utc>,
) -> (PresenceState, Option<String>, PresenceReason) {
    let counts = |i: &BusyItem| {
        !i.cancelled
            && i.start < i.end
            && match i.status {
                FreeBusyStatus::Oof | FreeBusyStatus::Busy => true,
                FreeBusyStatus::Tentative => rules.tentative_is_meeting,
                FreeBusyStatus::WorkingElsewhere => rules.working_elsewhere_is_meeting,
                FreeBusyStatus::Free | FreeBusyStatus::NoData => false,
            }
    };
    let oof = &input.oof;
    let override_until = input.manual.as_ref().map(|m| {
        let next_item = input
            .items
            .iter()
            .filter(|i| counts(i) && i.start > m.set_at)
            .map(|i| i.start)
            .min();
        let oof_start = match (rules.override_ends_at_scheduled_oof, oof.state, oof.window) {
            (true, OofState::Scheduled, Some(w)) if w.start > m.set_at => Some(w.start),
            _ => None,
        };
        [m.expires, next_item, oof_start]
            .into_iter()
            .flatten()
            .min()
    });
    let override_on = match (&input.manual, override_until) {
        (Some(m), Some(until)) => m.set_at <= t && until.is_none_or(|u| t < u),
        _ => false,
    };
    let oof_on = match (oof.state, oof.window) {
        (OofState::Enabled, _) => true,
        (OofState::Scheduled, Some(w)) => w.start <= t && t < w.end,
        _ => false,
    };
    let order = |s: FreeBusyStatus| match s {
        FreeBusyStatus::Oof => 0,
        FreeBusyStatus::Busy => 1,
        FreeBusyStatus::Tentative => 2,
        _ => 3,
    };
    let mut running: Vec<(usize, &BusyItem)> = input
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| counts(i) && i.start <= t && t < i.end)
        .collect();
    running.sort_by_key(|(n, i)| (order(i.status), i.start, std::cmp::Reverse(i.end), *n));
    let top = running.first().map(|(_, i)| *i);
    let text = match rules.reply {
        ReplyAudience::Internal => html_to_text(&oof.internal_reply),
        ReplyAudience::External => html_to_text(&oof.external_reply),
    };
    let reply = (!text.is_empty()).then_some(text);
    match (override_on, oof_on, top.map(|i| i.status)) {
        (true, _, _) => {
            let m = input.manual.as_ref().unwrap();
            let until = override_until.flatten();
            (
                m.state,
                m.message.clone(),
                PresenceReason::Override {
                    set_at: m.set_at,
                    until,
                },
            )
        }
        (false, true, _) => {
            let until = if oof.state == OofState::Scheduled {
                oof.window.map(|w| w.end)
            } else {
                None
            };
            (
                PresenceState::Absent,
                reply,
                PresenceReason::OofSettings {
                    state: oof.state,
                    until,
                },
            )
        }
        (false, false, Some(FreeBusyStatus::Oof)) => (
            PresenceState::Absent,
            reply,
            PresenceReason::OofItem {
                item: top.unwrap().to_ref(),
            },
        ),
        (false, false, Some(_)) => (
            PresenceState::Meeting,
            None,
            PresenceReason::Meeting {
                item: top.unwrap().to_ref(),
            },
        ),
        (false, false, None) => (
            PresenceState::Available,
            None,
            PresenceReason::NoBlockingItem,
        ),
    }
}

/// Presence by the rule table, with the next change found by trying every minute.
pub(crate) fn oracle_presence(
    input: &PresenceInput,
    rules: &PresenceRules,
    now: DateTime<Utc>,
) -> Presence {
    let current = rule_table(input, rules, now);
    let first_minute = now.with_second(0).unwrap() + Duration::minutes(1);
    // Every boundary in the strategy lies within four days of the base.
    let horizon = base() + Duration::days(4);
    let next_change =
        std::iter::successors(Some(first_minute), |m| Some(*m + Duration::minutes(1)))
            .take_while(|m| *m <= horizon)
            .find(|m| rule_table(input, rules, *m) != current);
    let (state, message, reason) = current;
    Presence {
        state,
        message,
        reason,
        next_change,
    }
}

// ---------------------------------------------------------------------------------------
// Slots: random counters near DST transitions and a minute-by-minute scan.
// ---------------------------------------------------------------------------------------

fn time_range() -> impl Strategy<Value = TimeRange> {
    (
        0u32..96,
        prop_oneof![0u32..97, Just(1439u32 / 15)],
        any::<bool>(),
    )
        .prop_map(|(s, e, late)| {
            let end = if late && e == 95 { 1439 } else { e * 15 };
            TimeRange::from_minutes(s * 15, end.min(1440)).unwrap()
        })
}

fn ranges() -> impl Strategy<Value = Vec<TimeRange>> {
    prop_oneof![
        1 => Just(Vec::new()),
        4 => proptest::collection::vec(time_range(), 1..3),
    ]
}

/// A zone and a date next to one of its transitions (or a plain date for zones without DST).
fn zone_and_anchor() -> impl Strategy<Value = (Tz, NaiveDate)> {
    let cases: Vec<(Tz, (i32, u32, u32))> = vec![
        (chrono_tz::America::New_York, (2026, 3, 8)),
        (chrono_tz::America::New_York, (2026, 11, 1)),
        (chrono_tz::Europe::Berlin, (2026, 3, 29)),
        (chrono_tz::Europe::Berlin, (2026, 10, 25)),
        (chrono_tz::America::Sao_Paulo, (2018, 11, 4)),
        (chrono_tz::America::Sao_Paulo, (2018, 2, 18)),
        (chrono_tz::Australia::Lord_Howe, (2026, 4, 5)),
        (chrono_tz::Australia::Lord_Howe, (2026, 10, 4)),
        (chrono_tz::Australia::Sydney, (2026, 4, 5)),
        (chrono_tz::Pacific::Apia, (2011, 12, 30)),
        (chrono_tz::Pacific::Apia, (2011, 9, 24)),
        (chrono_tz::Asia::Kolkata, (2026, 6, 15)),
        (chrono_tz::UTC, (2026, 6, 15)),
    ];
    proptest::sample::select(cases)
        .prop_map(|(tz, (y, m, d))| (tz, NaiveDate::from_ymd_opt(y, m, d).unwrap()))
}

fn slot_item(window_start: DateTime<Utc>, days: i64) -> impl Strategy<Value = BusyItem> {
    (
        -1440i64..(days + 1) * 1440,
        proptest::sample::select(vec![0i64, 15, 30, 60, 120, 600, 1440, 2880]),
        status(),
        proptest::bool::weighted(0.15),
        proptest::bool::weighted(0.15),
        proptest::option::of(zone()),
    )
        .prop_map(move |(start, len, status, cancelled, all_day, tz)| {
            let start = window_start + Duration::minutes(start);
            let mut item = BusyItem::new(start, start + Duration::minutes(len), status);
            item.cancelled = cancelled;
            item.all_day = all_day;
            item.time_zone = tz;
            item
        })
}

pub(crate) fn slot_case()
-> impl Strategy<Value = (Counter, Vec<BusyItem>, NaiveDate, NaiveDate, DateTime<Utc>)> {
    (
        zone_and_anchor(),
        0i64..3,
        0i64..4,
        proptest::collection::vec(ranges(), 7),
    )
        .prop_flat_map(|((tz, anchor), back, len, weekly)| {
            let from = anchor - Duration::days(back);
            let to = from + Duration::days(len);
            let window_start = from.and_hms_opt(0, 0, 0).unwrap().and_utc();
            let date_in_window = (0..=len).prop_map(move |n| from + Duration::days(n));
            let counter = (
                proptest::option::of((date_in_window.clone(), ranges())),
                proptest::option::of((date_in_window.clone(), 0i64..3)),
                proptest::option::of(date_in_window),
                proptest::sample::select(vec![15u32, 30, 45, 60, 90]),
                proptest::sample::select(vec![10u32, 15, 20, 30, 45, 60]),
                proptest::sample::select(vec![0u32, 5, 15]),
                proptest::sample::select(vec![0u32, 5, 15]),
                proptest::sample::select(vec![0u32, 0, 60, 600, 3000]),
                proptest::sample::select(vec![None, None, Some(0u32), Some(2), Some(30)]),
                1u32..4,
                any::<bool>(),
            )
                .prop_map(
                    move |(
                        over,
                        closure,
                        holiday,
                        slot,
                        step,
                        before,
                        after,
                        notice,
                        horizon,
                        capacity,
                        tentative,
                    )| {
                        let days = [
                            Weekday::Mon,
                            Weekday::Tue,
                            Weekday::Wed,
                            Weekday::Thu,
                            Weekday::Fri,
                            Weekday::Sat,
                            Weekday::Sun,
                        ];
                        Counter {
                            mailbox: "desk@contoso.test".to_owned(),
                            time_zone: tz,
                            opening_hours: days
                                .iter()
                                .zip(&weekly)
                                .map(|(day, ranges)| OpeningHours {
                                    days: vec![*day],
                                    ranges: ranges.clone(),
                                })
                                .collect(),
                            date_overrides: over
                                .map(|(date, ranges)| calendar_core::DateOverride { date, ranges })
                                .into_iter()
                                .collect(),
                            closures: closure
                                .map(|(from, n)| calendar_core::Closure {
                                    from,
                                    to: from + Duration::days(n),
                                    reason: None,
                                })
                                .into_iter()
                                .collect(),
                            holidays: holiday
                                .map(|date| calendar_core::Holiday {
                                    date,
                                    name: Some("Holiday".to_owned()),
                                })
                                .into_iter()
                                .collect(),
                            slot_minutes: slot,
                            step_minutes: step,
                            buffer_before_minutes: before,
                            buffer_after_minutes: after,
                            minimum_notice_minutes: notice,
                            horizon_days: horizon,
                            capacity,
                            tentative_blocks: tentative,
                        }
                    },
                );
            (
                counter,
                proptest::collection::vec(slot_item(window_start, len + 1), 0..12),
                Just(from),
                Just(to),
                prop_oneof![
                    3 => -2880i64..0,
                    1 => 0..(len + 2) * 1440,
                ]
                .prop_map(move |n| window_start + Duration::minutes(n)),
            )
        })
}

enum OracleHours {
    Open(Vec<TimeRange>),
    Closed(ClosedBecause),
}

fn oracle_hours(counter: &Counter, date: NaiveDate) -> OracleHours {
    if let Some(o) = counter.date_overrides.iter().find(|o| o.date == date) {
        return if o.ranges.is_empty() {
            OracleHours::Closed(ClosedBecause::DateOverride)
        } else {
            OracleHours::Open(o.ranges.clone())
        };
    }
    if let Some(c) = counter
        .closures
        .iter()
        .find(|c| c.from <= date && date <= c.to)
    {
        return OracleHours::Closed(ClosedBecause::Closure {
            reason: c.reason.clone(),
        });
    }
    if let Some(h) = counter.holidays.iter().find(|h| h.date == date) {
        return OracleHours::Closed(ClosedBecause::Holiday {
            name: h.name.clone(),
        });
    }
    let ranges: Vec<TimeRange> = counter
        .opening_hours
        .iter()
        .filter(|o| o.days.contains(&date.weekday()))
        .flat_map(|o| o.ranges.iter().copied())
        .collect();
    if ranges.is_empty() {
        OracleHours::Closed(ClosedBecause::NoOpeningHours)
    } else {
        OracleHours::Open(ranges)
    }
}

/// Slots by brute force: every UTC minute around the range is looked at on its own.
pub(crate) fn oracle_slots(
    counter: &Counter,
    items: &[BusyItem],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<DaySlots> {
    let tz = counter.time_zone;
    let minute = Duration::minutes(1);
    // Wide enough for every window, item (up to two days long, rounded out to whole days)
    // and zone offset the strategy makes; a bound outside it panics instead of being dropped.
    let scan_start = (from - Duration::days(4))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let scan_end = (to + Duration::days(7))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let minutes: Vec<DateTime<Utc>> =
        std::iter::successors(Some(scan_start), |m| Some(*m + minute))
            .take_while(|m| *m < scan_end)
            .collect();
    let local: Vec<NaiveDateTime> = minutes
        .iter()
        .map(|m| m.with_timezone(&tz).naive_local())
        .collect();
    // The first minute whose wall time is at or after `target`.
    let first_at_or_after = |target: NaiveDateTime| -> DateTime<Utc> {
        let i = local.iter().position(|l| *l >= target);
        minutes[i.unwrap_or_else(|| panic!("{target} is beyond the oracle's scan"))]
    };
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap();

    // Which minutes are open.
    let mut open = vec![false; minutes.len()];
    for date in (from - Duration::days(1))
        .iter_days()
        .take_while(|d| *d <= to)
    {
        if let OracleHours::Open(ranges) = oracle_hours(counter, date) {
            for r in ranges {
                let a = first_at_or_after(
                    midnight(date) + Duration::minutes(i64::from(r.start_minute())),
                );
                let b = first_at_or_after(
                    midnight(date) + Duration::minutes(i64::from(r.end_minute())),
                );
                for (i, m) in minutes.iter().enumerate() {
                    if a <= *m && *m < b {
                        open[i] = true;
                    }
                }
            }
        }
    }

    // Blocking items as padded minute intervals.
    let blocking: Vec<(usize, DateTime<Utc>, DateTime<Utc>)> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| {
            !i.cancelled
                && match i.status {
                    FreeBusyStatus::Busy | FreeBusyStatus::Oof => true,
                    FreeBusyStatus::Tentative => counter.tentative_blocks,
                    _ => false,
                }
        })
        .filter_map(|(n, i)| {
            if i.start >= i.end {
                return None;
            }
            if !i.all_day {
                return Some((n, i.start, i.end));
            }
            let zone = i.time_zone.unwrap_or(tz);
            let d0 = i.start.with_timezone(&zone).date_naive();
            let end = i.end.with_timezone(&zone);
            let d1 = if end.time() == chrono::NaiveTime::MIN {
                end.date_naive()
            } else {
                end.date_naive() + Duration::days(1)
            };
            let (a, b) = (
                first_at_or_after(midnight(d0)),
                first_at_or_after(midnight(d1)),
            );
            (a < b).then_some((n, a, b))
        })
        .collect();
    let before = Duration::minutes(i64::from(counter.buffer_before_minutes));
    let after = Duration::minutes(i64::from(counter.buffer_after_minutes));
    let slot = Duration::minutes(i64::from(counter.slot_minutes));
    let step = Duration::minutes(i64::from(counter.step_minutes));
    let earliest = now + Duration::minutes(i64::from(counter.minimum_notice_minutes));
    let today = now.with_timezone(&tz).date_naive();
    let last_bookable = counter
        .horizon_days
        .map(|h| today + Duration::days(i64::from(h)));

    struct Day {
        raw: u32,
        after_notice: u32,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
        slots: Vec<Slot>,
    }
    let n_days = (to - from).num_days() as usize + 1;
    let mut days: Vec<Day> = (0..n_days)
        .map(|_| Day {
            raw: 0,
            after_notice: 0,
            first: None,
            last: None,
            slots: Vec::new(),
        })
        .collect();

    // Maximal runs of open minutes; candidates step from the start of each run.
    let mut i = 0;
    while i < minutes.len() {
        if !open[i] {
            i += 1;
            continue;
        }
        let run_start = minutes[i];
        while i < minutes.len() && open[i] {
            i += 1;
        }
        let run_end = minutes[i - 1] + minute;
        let mut s = run_start;
        while s + slot <= run_end {
            let date = s.with_timezone(&tz).date_naive();
            if from <= date && date <= to {
                let day = &mut days[(date - from).num_days() as usize];
                day.raw += 1;
                if last_bookable.is_none_or(|last| date <= last) && s >= earliest {
                    day.after_notice += 1;
                    day.first.get_or_insert(s);
                    day.last = Some(s + slot);
                    let (lo, hi) = (s - before, s + slot + after);
                    let overlapping = blocking
                        .iter()
                        .filter(|(_, a, b)| {
                            let (a, b) = (*a - before, *b + after);
                            std::iter::successors(Some(lo), |x| Some(*x + minute))
                                .take_while(|x| *x < hi)
                                .any(|x| a <= x && x < b)
                        })
                        .count() as u32;
                    if overlapping < counter.capacity {
                        day.slots.push(Slot {
                            start: s,
                            end: s + slot,
                            local_start: s.with_timezone(&tz).fixed_offset(),
                            available: counter.capacity - overlapping,
                        });
                    }
                }
            }
            s += step;
        }
    }

    days.into_iter()
        .enumerate()
        .map(|(n, day)| {
            let date = from + Duration::days(n as i64);
            let reason = if !day.slots.is_empty() {
                None
            } else if let Some(last) = last_bookable.filter(|last| date > *last) {
                Some(NoSlotReason::OutsideHorizon {
                    last_bookable_date: last,
                })
            } else if day.raw == 0 {
                Some(NoSlotReason::Closed {
                    why: match oracle_hours(counter, date) {
                        OracleHours::Closed(why) => why,
                        OracleHours::Open(_) => ClosedBecause::OpeningTooShort,
                    },
                })
            } else if day.after_notice == 0 {
                Some(NoSlotReason::MinimumNotice {
                    earliest_start: earliest,
                })
            } else {
                let (first, last) = (day.first.unwrap(), day.last.unwrap());
                let vacation = blocking.iter().find(|(n, a, b)| {
                    let item = &items[*n];
                    let long = item.all_day || item.end - item.start >= Duration::days(1);
                    *a <= first && last <= *b && (long || item.status == FreeBusyStatus::Oof)
                });
                Some(match vacation {
                    Some((n, _, _)) => NoSlotReason::Vacation {
                        item: items[*n].to_ref(),
                    },
                    None => NoSlotReason::FullyBooked,
                })
            };
            DaySlots {
                date,
                slots: day.slots,
                reason,
            }
        })
        .collect()
}
