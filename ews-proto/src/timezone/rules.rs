//! What a zone does in a year, found by probing its offsets: the common ground on which
//! chrono-tz zones, `TimeZoneDefinition`s and legacy blocks are compared and converted.
//!
//! A zone is seen as a function from a UTC instant (Unix seconds) to its UTC offset
//! (seconds, local - UTC). A year's behaviour is the offset at its first UTC instant plus
//! every change within it; two zones behave the same in a year exactly when these are
//! equal. Changes are found by sampling weekly and bisecting to the second, so a pair of
//! changes less than a week apart that cancel out is missed (tzdb has none since 1970
//! outside of a few Ramadan-suspended DST periods shorter than a week, which are not
//! rules Windows could express either).

use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Weekday};
use chrono_tz::Tz;

use super::windows::windows_zones;

/// Years compared when matching rules to a Windows zone (tzdb has rules for all of them;
/// 2037 is the last year of 32-bit zoneinfo, which Windows and Exchange data also cover).
pub(crate) const MATCH_YEARS: std::ops::RangeInclusive<i32> = 1970..=2037;

const WEEK: i64 = 7 * 86_400;

/// One offset change: at `at` (Unix seconds) the offset goes from `before` to `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    pub(crate) at: i64,
    pub(crate) before: i32,
    pub(crate) after: i32,
}

impl Change {
    /// The local wall time of the change, on the clock in effect before it.
    pub(crate) fn local_before(&self) -> NaiveDateTime {
        from_unix(self.at + i64::from(self.before))
    }
}

/// A zone's behaviour in one year: the offset at `year-01-01T00:00:00Z` and every change
/// in `[year-01-01T00:00:00Z, (year+1)-01-01T00:00:00Z)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YearData {
    pub(crate) start: i32,
    pub(crate) changes: Vec<Change>,
}

/// Unix seconds of `year-month-day T00:00:00Z` (clamped to chrono's range).
pub(crate) fn unix(year: i32, month: u32, day: u32) -> i64 {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp())
        .unwrap_or(if year < 1970 {
            i64::MIN / 4
        } else {
            i64::MAX / 4
        })
}

/// The naive date-time `seconds` after the Unix epoch (clamped to chrono's range).
pub(crate) fn from_unix(seconds: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|dt| dt.naive_utc())
        .unwrap_or(if seconds < 0 {
            NaiveDateTime::MIN
        } else {
            NaiveDateTime::MAX
        })
}

/// Probes one year of a zone given as an offset function.
pub(crate) fn probe_year(offset: &dyn Fn(i64) -> i32, year: i32) -> YearData {
    let start = unix(year, 1, 1);
    let end = unix(year.saturating_add(1), 1, 1);
    let first = offset(start);
    let mut changes = Vec::new();
    let mut a = start;
    let mut offset_a = first;
    while a < end {
        let b = (a + WEEK).min(end);
        let offset_b = offset(b);
        if offset_b == offset_a {
            a = b;
            continue;
        }
        // Bisect to the first second with a different offset.
        let (mut lo, mut hi) = (a, b);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset(mid) == offset_a {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        if hi >= end {
            break;
        }
        let after = offset(hi);
        changes.push(Change {
            at: hi,
            before: offset_a,
            after,
        });
        a = hi;
        offset_a = after;
    }
    YearData {
        start: first,
        changes,
    }
}

/// The offset function of a chrono-tz zone.
pub(crate) fn tz_offset(tz: Tz) -> impl Fn(i64) -> i32 {
    move |seconds| {
        tz.offset_from_utc_datetime(&from_unix(seconds))
            .fix()
            .local_minus_utc()
    }
}

/// Behaviour of every Windows zone's default IANA zone over [`MATCH_YEARS`], computed once
/// (in the order of [`windows_zones`]).
pub(crate) fn windows_zone_years() -> &'static [Vec<YearData>] {
    static CACHE: OnceLock<Vec<Vec<YearData>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        windows_zones()
            .iter()
            .map(|zone| {
                let offset = tz_offset(zone.default_iana);
                MATCH_YEARS.map(|year| probe_year(&offset, year)).collect()
            })
            .collect()
    })
}

/// A day rule as Windows writes it: the `occurrence`-th `weekday` of `month` (-1 = last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct DayRule {
    pub(crate) month: u32,
    pub(crate) occurrence: i32,
    pub(crate) weekday: Weekday,
    /// Local time of day on the clock before the change, in seconds.
    pub(crate) time: i64,
}

impl DayRule {
    /// The rule that yields this local date-time: the n-th weekday of its month, or the
    /// last one when it is in the month's last seven days (how "last Sunday" is written).
    pub(crate) fn of(local: NaiveDateTime) -> DayRule {
        let date = local.date();
        let day = date.day();
        let occurrence = if day + 7 > days_in_month(date.year(), date.month()) {
            -1
        } else {
            i32::try_from((day - 1) / 7 + 1).unwrap_or(1)
        };
        DayRule {
            month: date.month(),
            occurrence,
            weekday: date.weekday(),
            time: i64::from(local.time().num_seconds_from_midnight()),
        }
    }

    /// The local date-time of this rule in `year`, if the month exists.
    pub(crate) fn in_year(&self, year: i32) -> Option<NaiveDateTime> {
        let date = nth_weekday(year, self.month, self.weekday, self.occurrence)?;
        date.and_hms_opt(0, 0, 0)?
            .checked_add_signed(chrono::TimeDelta::try_seconds(self.time)?)
    }
}

use chrono::Timelike;

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    NaiveDate::from_ymd_opt(next_year, next_month, 1)
        .and_then(|d| d.pred_opt())
        .map(|d| d.day())
        .unwrap_or(31)
}

/// The `occurrence`-th `weekday` of a month; -1 or 5 is the last.
pub(crate) fn nth_weekday(
    year: i32,
    month: u32,
    weekday: Weekday,
    occurrence: i32,
) -> Option<NaiveDate> {
    if occurrence == -1 || occurrence >= 5 {
        let last = NaiveDate::from_ymd_opt(year, month, days_in_month(year, month))?;
        let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
        return last.checked_sub_days(chrono::Days::new(u64::from(back)));
    }
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let ahead = (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    let n = u64::try_from(occurrence.max(1) - 1).unwrap_or(0);
    let date = first.checked_add_days(chrono::Days::new(u64::from(ahead) + 7 * n))?;
    (date.month() == month).then_some(date)
}

/// A year's behaviour in the shapes a `TimeZoneDefinition` group can express.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Pattern {
    /// One offset all year.
    Fixed(i32),
    /// Standard and daylight time, switching on two day rules every year.
    Dst {
        standard: i32,
        daylight: i32,
        to_standard: DayRule,
        to_daylight: DayRule,
    },
    /// Anything else (a one-way change, several changes): written change by change.
    Irregular,
}

impl Pattern {
    /// The pattern of `data`, the behaviour of `year`. A change whose local date falls in
    /// another year (Bangladesh ended DST at 2009-12-31 24:00) makes the year irregular,
    /// since a yearly rule would put it at the wrong end of the year.
    pub(crate) fn of(data: &YearData, year: i32) -> Pattern {
        let in_year = |change: &Change| change.local_before().year() == year;
        match data.changes.as_slice() {
            [] => Pattern::Fixed(data.start),
            [first, second]
                if first.before == data.start
                    && first.after == second.before
                    && second.after == data.start
                    && first.before != first.after
                    && in_year(first)
                    && in_year(second) =>
            {
                // Windows calls the smaller offset standard time (also for Ireland and
                // Morocco, which tzdb models with negative DST).
                let (to_standard, to_daylight) = if first.after < first.before {
                    (first, second)
                } else {
                    (second, first)
                };
                Pattern::Dst {
                    standard: to_standard.after,
                    daylight: to_daylight.after,
                    to_standard: DayRule::of(to_standard.local_before()),
                    to_daylight: DayRule::of(to_daylight.local_before()),
                }
            }
            _ => Pattern::Irregular,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year_of(tz: Tz, year: i32) -> YearData {
        probe_year(&tz_offset(tz), year)
    }

    #[test]
    fn finds_both_european_changes_to_the_second() {
        let y = year_of(chrono_tz::Europe::Berlin, 2026);
        assert_eq!(y.start, 3600);
        assert_eq!(
            y.changes,
            vec![
                Change {
                    at: unix(2026, 3, 29) + 3600,
                    before: 3600,
                    after: 7200
                },
                Change {
                    at: unix(2026, 10, 25) + 3600,
                    before: 7200,
                    after: 3600
                },
            ]
        );
        assert_eq!(
            Pattern::of(&y, 2026),
            Pattern::Dst {
                standard: 3600,
                daylight: 7200,
                to_standard: DayRule {
                    month: 10,
                    occurrence: -1,
                    weekday: Weekday::Sun,
                    time: 3 * 3600
                },
                to_daylight: DayRule {
                    month: 3,
                    occurrence: -1,
                    weekday: Weekday::Sun,
                    time: 2 * 3600
                },
            }
        );
    }

    #[test]
    fn southern_hemisphere_years_start_in_daylight_time() {
        let y = year_of(chrono_tz::Australia::Sydney, 2026);
        assert_eq!(y.start, 11 * 3600);
        let Pattern::Dst {
            standard,
            daylight,
            to_standard,
            to_daylight,
        } = Pattern::of(&y, 2026)
        else {
            panic!("{y:?}")
        };
        assert_eq!((standard, daylight), (10 * 3600, 11 * 3600));
        assert_eq!(
            (to_standard.month, to_standard.occurrence, to_standard.time),
            (4, 1, 3 * 3600)
        );
        assert_eq!(
            (to_daylight.month, to_daylight.occurrence, to_daylight.time),
            (10, 1, 2 * 3600)
        );
    }

    #[test]
    fn a_zone_without_dst_has_a_fixed_pattern_and_one_way_changes_are_irregular() {
        assert_eq!(
            Pattern::of(&year_of(chrono_tz::Asia::Kolkata, 2026), 2026),
            Pattern::Fixed(19_800)
        );
        // Samoa skipped 2011-12-30, jumping from UTC-10 (its daylight time) to UTC+14.
        let samoa = year_of(chrono_tz::Pacific::Apia, 2011);
        assert_eq!(Pattern::of(&samoa, 2011), Pattern::Irregular);
        let dhaka = year_of(chrono_tz::Asia::Dhaka, 2009);
        assert_eq!(dhaka.changes.len(), 2);
        assert_eq!(Pattern::of(&dhaka, 2009), Pattern::Irregular);
        assert_eq!(
            samoa.changes.last().map(|c| (c.before, c.after)),
            Some((-10 * 3600, 14 * 3600))
        );
    }

    #[test]
    fn day_rules_prefer_last_in_the_final_week_of_a_month() {
        let at = |y, m, d| {
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(2, 0, 0)
                .unwrap()
        };
        assert_eq!(DayRule::of(at(2026, 3, 29)).occurrence, -1);
        assert_eq!(DayRule::of(at(2026, 3, 8)).occurrence, 2);
        assert_eq!(DayRule::of(at(2026, 11, 1)).occurrence, 1);
        assert_eq!(DayRule::of(at(2026, 2, 22)).occurrence, -1);
        assert_eq!(DayRule::of(at(2026, 3, 22)).occurrence, 4);
        for (y, m, d) in [(2026, 3, 29), (2026, 3, 8), (2027, 10, 31), (2024, 2, 25)] {
            assert_eq!(DayRule::of(at(y, m, d)).in_year(y), Some(at(y, m, d)));
        }
        assert_eq!(
            nth_weekday(2026, 2, Weekday::Sun, 5),
            nth_weekday(2026, 2, Weekday::Sun, -1)
        );
        assert_eq!(
            nth_weekday(2026, 2, Weekday::Mon, 4).map(|d| d.day()),
            Some(23)
        );
    }
}
