//! EWS recurrence expansion with Exchange semantics (not iCalendar's).
//!
//! A [`Series`] is what Exchange stores for a recurring master: the wall-clock start in its
//! creation zone, a duration and a [`Recurrence`] (pattern + range). Expansion works on local
//! dates and converts each occurrence to UTC on its own, so the wall time stays constant
//! across DST while the UTC time shifts (CALENDAR-SEMANTICS case 6).
//!
//! Exchange rules implemented here, and where they differ from RFC 5545:
//! - The first occurrence is the first pattern match on or after the range start date; the
//!   start itself need not match (case 8).
//! - Intervals count from the week (weekly) or month (monthly) that contains the range start:
//!   [MS-OXOCAL] 2.2.1.44.1.1 computes `FirstDateTime` from that week or month modulo the
//!   period, and a date is valid when it is congruent with it. Weeks begin on
//!   `first_day_of_week`, which changes which weeks are "every other" (case 12).
//! - Absolute monthly/yearly days past the month end clamp to the last day: day 31 gives
//!   Feb 28, Apr 30 (case 9); Feb 29 yearly gives Feb 28 in common years (case 10).
//!   RFC 5545 would skip those months instead.
//! - `First Monday` is the first Monday of the month (case 11); `Last` is the last one;
//!   `Day`/`Weekday`/`WeekendDay` pick the Nth such day of the month (case 13).
//! - `EndDate` ranges end with the last occurrence on or before the end date (a local date).
//! - Occurrences have minute resolution: the seconds of the master start are dropped (case 18).
//! - A wall time that does not exist on a given day (spring-forward gap) is read with the
//!   offset before the gap (02:30 → 03:30 EDT); an ambiguous one (fall-back) takes the first
//!   instant (cases 4 and 5). See [`local_to_utc`].
//!
//! Expansion never walks from the series start: every pattern is a grid of periods (days,
//! weeks or months) with a fixed number of dates per period, so the period that contains any
//! date, and the index of any occurrence, follow by arithmetic.
//!
//! # Serialized form (JSON; YAML scenario files use the same names)
//!
//! ```json
//! {
//!   "start": "2014-03-08T13:21:32.868",
//!   "durationMinutes": 60,
//!   "timeZone": "America/Los_Angeles",
//!   "recurrence": {
//!     "pattern": { "type": "weekly", "interval": 1, "days": ["Sat"], "firstDayOfWeek": "Sun" },
//!     "range": { "type": "numbered", "start": "2014-03-08", "count": 10 }
//!   }
//! }
//! ```
//!
//! - `pattern.type` is `daily`, `weekly`, `absoluteMonthly`, `relativeMonthly`,
//!   `absoluteYearly` or `relativeYearly`; fields are camelCase (`dayOfMonth`, `month` 1–12,
//!   `day`, `index`, `firstDayOfWeek`, which defaults to Sunday as in EWS).
//! - Weekdays are chrono's form: `"Mon"` is written, `"Monday"`/`"monday"` are accepted.
//! - `day` of a relative pattern is an EWS `DaysOfWeek` value: `"Monday"` … `"Sunday"`,
//!   `"Day"`, `"Weekday"` or `"WeekendDay"` (case-insensitive on input).
//! - `index` is `first`, `second`, `third`, `fourth` or `last` (EWS spelling `First` …
//!   accepted).
//! - `range.type` is `noEnd` (`start`), `endDate` (`start`, `end`) or `numbered` (`start`,
//!   `count`); dates are `YYYY-MM-DD` local dates in the series zone.
//! - An [`Occurrence`] is `{"index": 1, "start": "2014-03-08T21:21:00Z", "end": "…"}`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use chrono::Weekday;

use crate::time::{local_to_utc, serde_minutes, serde_tz};

/// Which of the matching days in a month a relative pattern picks (EWS `DayOfWeekIndex`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DayOfWeekIndex {
    #[serde(alias = "First")]
    First,
    #[serde(alias = "Second")]
    Second,
    #[serde(alias = "Third")]
    Third,
    #[serde(alias = "Fourth")]
    Fourth,
    #[serde(alias = "Last")]
    Last,
}

/// The `DaysOfWeek` value of a relative (monthly or yearly) pattern. EWS allows one value
/// here: a weekday, or one of the three day classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelativeDay {
    /// A specific weekday: "the second Tuesday".
    On(Weekday),
    /// Any day: "the last day" of the month.
    Day,
    /// Monday to Friday: "the first weekday".
    Weekday,
    /// Saturday or Sunday: "the first weekend day".
    WeekendDay,
}

impl RelativeDay {
    /// Whether a date falling on `weekday` belongs to this day class.
    pub fn matches(self, weekday: Weekday) -> bool {
        match self {
            RelativeDay::On(w) => w == weekday,
            RelativeDay::Day => true,
            RelativeDay::Weekday => !matches!(weekday, Weekday::Sat | Weekday::Sun),
            RelativeDay::WeekendDay => matches!(weekday, Weekday::Sat | Weekday::Sun),
        }
    }
}

impl fmt::Display for RelativeDay {
    /// The EWS spelling: `Monday` … `Sunday`, `Day`, `Weekday`, `WeekendDay`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            RelativeDay::On(Weekday::Mon) => "Monday",
            RelativeDay::On(Weekday::Tue) => "Tuesday",
            RelativeDay::On(Weekday::Wed) => "Wednesday",
            RelativeDay::On(Weekday::Thu) => "Thursday",
            RelativeDay::On(Weekday::Fri) => "Friday",
            RelativeDay::On(Weekday::Sat) => "Saturday",
            RelativeDay::On(Weekday::Sun) => "Sunday",
            RelativeDay::Day => "Day",
            RelativeDay::Weekday => "Weekday",
            RelativeDay::WeekendDay => "WeekendDay",
        };
        f.write_str(s)
    }
}

/// The error for a `DaysOfWeek` value that is not a weekday, `Day`, `Weekday` or `WeekendDay`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an EWS DaysOfWeek value (Monday…Sunday, Day, Weekday, WeekendDay)")]
pub struct ParseRelativeDayError(pub String);

impl FromStr for RelativeDay {
    type Err = ParseRelativeDayError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "day" => Ok(RelativeDay::Day),
            "weekday" => Ok(RelativeDay::Weekday),
            "weekendday" => Ok(RelativeDay::WeekendDay),
            other => other
                .parse::<Weekday>()
                .map(RelativeDay::On)
                .map_err(|_| ParseRelativeDayError(s.to_owned())),
        }
    }
}

impl Serialize for RelativeDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RelativeDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn sunday() -> Weekday {
    Weekday::Sun
}

/// An EWS recurrence pattern (exactly one of the six `*Recurrence` pattern elements).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Pattern {
    /// Every `interval` days.
    Daily { interval: u32 },
    /// On `days` of every `interval`-th week; weeks begin on `first_day_of_week`.
    Weekly {
        interval: u32,
        days: Vec<Weekday>,
        #[serde(default = "sunday")]
        first_day_of_week: Weekday,
    },
    /// On day `day_of_month` (clamped to the month end) of every `interval`-th month.
    AbsoluteMonthly { interval: u32, day_of_month: u32 },
    /// On the `index`-th `day` of every `interval`-th month.
    RelativeMonthly {
        interval: u32,
        day: RelativeDay,
        index: DayOfWeekIndex,
    },
    /// Every year on `month`/`day_of_month` (clamped to the month end).
    AbsoluteYearly { month: u32, day_of_month: u32 },
    /// Every year on the `index`-th `day` of `month`.
    RelativeYearly {
        month: u32,
        day: RelativeDay,
        index: DayOfWeekIndex,
    },
}

/// An EWS recurrence range. Dates are local dates in the series' zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Range {
    NoEnd {
        start: NaiveDate,
    },
    /// The last occurrence is the last one on or before `end`.
    EndDate {
        start: NaiveDate,
        end: NaiveDate,
    },
    Numbered {
        start: NaiveDate,
        count: u32,
    },
}

impl Range {
    /// The range's `StartDate`.
    pub fn start(&self) -> NaiveDate {
        match *self {
            Range::NoEnd { start }
            | Range::EndDate { start, .. }
            | Range::Numbered { start, .. } => start,
        }
    }
}

/// An EWS `Recurrence` element: a pattern and a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recurrence {
    pub pattern: Pattern,
    pub range: Range,
}

/// A series as Exchange stores it: the master's wall-clock start in its creation zone.
///
/// The time of day comes from `start` (seconds dropped); the dates come from the recurrence
/// range and pattern, so `start`'s date is informational (Exchange keeps it equal to the first
/// occurrence). `duration` is the master's `End - Start`, used in whole minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Series {
    pub start: NaiveDateTime,
    #[serde(rename = "durationMinutes", with = "serde_minutes")]
    pub duration: Duration,
    #[serde(rename = "timeZone", with = "serde_tz")]
    pub tz: Tz,
    pub recurrence: Recurrence,
}

/// One generated (pattern) occurrence; `index` is 1-based like EWS `InstanceIndex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Occurrence {
    pub index: u32,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An exception of a series (EWS `ModifiedOccurrences/Occurrence`): the occurrence the
/// pattern put at `original_start` now runs from `start` to `end`, possibly on another day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedOccurrence {
    pub original_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The exceptions of a series: modified occurrences and the original starts of deleted
/// ones (EWS `DeletedOccurrences/DeletedOccurrence/Start`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exceptions {
    #[serde(default)]
    pub modified: Vec<ModifiedOccurrence>,
    #[serde(default)]
    pub deleted: Vec<DateTime<Utc>>,
}

/// One instance of a series after its exceptions are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// The EWS `InstanceIndex`; `None` for an exception whose original start is not an
    /// occurrence of the pattern (Exchange never produces one; a hand-written scenario may).
    pub index: Option<u32>,
    pub original_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Whether this instance is an exception (`CalendarItemType` Exception).
    pub modified: bool,
}

/// Why a series is not a valid EWS recurrence. [`RecurrenceError::response_code`] gives the
/// EWS `ResponseCode` Exchange answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("{pattern} recurrence has interval 0; the interval must be at least 1")]
    ZeroInterval { pattern: &'static str },
    #[error("weekly recurrence lists no days of the week")]
    NoDaysOfWeek,
    #[error("{pattern} recurrence has day of month {day}; it must be 1..=31")]
    DayOfMonthOutOfRange { pattern: &'static str, day: u32 },
    #[error("{pattern} recurrence has month {month}; it must be 1..=12")]
    MonthOutOfRange { pattern: &'static str, month: u32 },
    #[error("recurrence end date {end} is before its start date {start}")]
    EndBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error("numbered recurrence has 0 occurrences; it must have at least 1")]
    ZeroCount,
    #[error("item duration is negative ({minutes} minutes)")]
    NegativeDuration { minutes: i64 },
    #[error("item duration of {minutes} minutes exceeds the five-year limit")]
    DurationTooLong { minutes: i64 },
    #[error("recurrence from {start} to {end} has no occurrence")]
    NoOccurrence { start: NaiveDate, end: NaiveDate },
}

impl RecurrenceError {
    /// The EWS `ResponseCode` for this error, e.g. `ErrorCalendarInvalidRecurrence`.
    pub fn response_code(&self) -> &'static str {
        match self {
            RecurrenceError::NoDaysOfWeek => "ErrorCalendarInvalidDayForWeeklyRecurrence",
            RecurrenceError::DurationTooLong { .. } => "ErrorCalendarDurationIsTooLong",
            RecurrenceError::NoOccurrence { .. } => "ErrorRecurrenceHasNoOccurrence",
            RecurrenceError::NegativeDuration { .. } => {
                "ErrorCalendarEndDateIsEarlierThanStartDate"
            }
            _ => "ErrorCalendarInvalidRecurrence",
        }
    }
}

/// Exchange's item duration limit (`ErrorCalendarDurationIsTooLong`): five years.
const MAX_DURATION_MINUTES: i64 = 5 * 366 * 24 * 60;

impl Series {
    /// Checks the series the way Exchange does before it stores one.
    pub fn validate(&self) -> Result<(), RecurrenceError> {
        let interval = |pattern: &'static str, n: u32| {
            if n == 0 {
                Err(RecurrenceError::ZeroInterval { pattern })
            } else {
                Ok(())
            }
        };
        let day_of_month = |pattern: &'static str, day: u32| {
            if (1..=31).contains(&day) {
                Ok(())
            } else {
                Err(RecurrenceError::DayOfMonthOutOfRange { pattern, day })
            }
        };
        let month = |pattern: &'static str, month: u32| {
            if (1..=12).contains(&month) {
                Ok(())
            } else {
                Err(RecurrenceError::MonthOutOfRange { pattern, month })
            }
        };
        match &self.recurrence.pattern {
            Pattern::Daily { interval: n } => interval("daily", *n)?,
            Pattern::Weekly {
                interval: n, days, ..
            } => {
                interval("weekly", *n)?;
                if days.is_empty() {
                    return Err(RecurrenceError::NoDaysOfWeek);
                }
            }
            Pattern::AbsoluteMonthly {
                interval: n,
                day_of_month: d,
            } => {
                interval("absolute monthly", *n)?;
                day_of_month("absolute monthly", *d)?;
            }
            Pattern::RelativeMonthly { interval: n, .. } => interval("relative monthly", *n)?,
            Pattern::AbsoluteYearly {
                month: m,
                day_of_month: d,
            } => {
                month("absolute yearly", *m)?;
                day_of_month("absolute yearly", *d)?;
            }
            Pattern::RelativeYearly { month: m, .. } => month("relative yearly", *m)?,
        }
        match self.recurrence.range {
            Range::EndDate { start, end } if end < start => {
                return Err(RecurrenceError::EndBeforeStart { start, end });
            }
            Range::Numbered { count: 0, .. } => return Err(RecurrenceError::ZeroCount),
            _ => {}
        }
        let minutes = self.duration.num_minutes();
        if minutes < 0 {
            return Err(RecurrenceError::NegativeDuration { minutes });
        }
        if minutes > MAX_DURATION_MINUTES {
            return Err(RecurrenceError::DurationTooLong { minutes });
        }
        if let Range::EndDate { start, end } = self.recurrence.range
            && self.first().is_none()
        {
            return Err(RecurrenceError::NoOccurrence { start, end });
        }
        Ok(())
    }

    /// Every occurrence with `start < to && end >= from`, in start order.
    ///
    /// This is a superset of half-open overlap (an occurrence ending exactly at `from` is
    /// included, as CalendarView's wording allows); callers filter stricter. An invalid series
    /// (see [`Series::validate`]) has no occurrences.
    ///
    /// The work is proportional to the occurrences in the window, wherever it lies. The window
    /// is the only bound, so a series without end over an unbounded window (as opposed to
    /// CalendarView's two-year maximum) would list occurrences up to chrono's year limit.
    pub fn occurrences(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Occurrence> {
        let mut out = Vec::new();
        let Some(grid) = Grid::new(self) else {
            return out;
        };
        // An occurrence must start before `to` and end at or after `from`, so it starts after
        // `from - duration`; an empty window has nothing to return.
        if from
            .checked_sub_signed(grid.duration)
            .is_some_and(|lo| to <= lo)
        {
            return out;
        }
        // Local dates that can hold a matching occurrence: offsets are within ±14 h and an
        // occurrence may start up to `duration` before `from`; two days of slack covers both.
        let slack = Duration::days(2);
        let lo = from
            .checked_sub_signed(grid.duration + slack)
            .map_or(NaiveDate::MIN, |t| t.date_naive());
        let hi = to
            .checked_add_signed(slack)
            .map_or(NaiveDate::MAX, |t| t.date_naive());
        let lo = lo.max(grid.start);
        if hi < lo {
            return out;
        }
        let limit = grid.max_index();
        let mut dates = Vec::with_capacity(7);
        let mut period = grid.period_of(lo).max(0);
        loop {
            if !grid.dates_in(period, &mut dates) {
                break;
            }
            let base = grid.count_before_period(period);
            let mut past_window = false;
            for (pos, &date) in dates.iter().enumerate() {
                if date < grid.start || date < lo {
                    continue;
                }
                if date > hi {
                    past_window = true;
                    break;
                }
                let index = if period == 0 {
                    grid.count_period0_through(date)
                } else {
                    base + pos as u64 + 1
                };
                if limit.is_some_and(|max| index > max) {
                    return out;
                }
                let Some(occ) = grid.occurrence_on(index, date) else {
                    return out;
                };
                if occ.start < to && occ.end >= from {
                    out.push(occ);
                }
            }
            if past_window {
                break;
            }
            period += 1;
        }
        out
    }

    /// The instances a calendar view shows between `from` and `to` (same superset filter as
    /// [`Series::occurrences`]), in start order.
    ///
    /// A deleted occurrence is gone (case 15). A modified occurrence leaves its original slot
    /// (which then blocks nothing) and appears at its new time, even when only the new time or
    /// only the original slot is inside the window (case 14).
    pub fn instances(
        &self,
        exceptions: &Exceptions,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Vec<Instance> {
        let replaced = |start: DateTime<Utc>| {
            exceptions.deleted.contains(&start)
                || exceptions
                    .modified
                    .iter()
                    .any(|m| m.original_start == start)
        };
        let mut out: Vec<Instance> = self
            .occurrences(from, to)
            .into_iter()
            .filter(|o| !replaced(o.start))
            .map(|o| Instance {
                index: Some(o.index),
                original_start: o.start,
                start: o.start,
                end: o.end,
                modified: false,
            })
            .collect();
        out.extend(
            exceptions
                .modified
                .iter()
                .filter(|m| m.start < to && m.end >= from)
                .filter(|m| !exceptions.deleted.contains(&m.original_start))
                .map(|m| Instance {
                    index: self.index_of(m.original_start),
                    original_start: m.original_start,
                    start: m.start,
                    end: m.end,
                    modified: true,
                }),
        );
        out.sort_by_key(|i| (i.start, i.original_start));
        out
    }

    /// The occurrence with 1-based `index`, or `None` if the index is outside the series
    /// (`ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange`).
    pub fn occurrence(&self, index: u32) -> Option<Occurrence> {
        let grid = Grid::new(self)?;
        let index = u64::from(index);
        if index == 0 || grid.max_index().is_some_and(|max| index > max) {
            return None;
        }
        let date = grid.nth_date(index)?;
        grid.occurrence_on(index, date)
    }

    /// The first occurrence (`FirstOccurrence`), if the series has any.
    pub fn first(&self) -> Option<Occurrence> {
        self.occurrence(1)
    }

    /// The last occurrence (`LastOccurrence`); `None` for a series without end.
    pub fn last(&self) -> Option<Occurrence> {
        let grid = Grid::new(self)?;
        let max = grid.max_index()?;
        self.occurrence(u32::try_from(max).ok()?)
    }

    /// The index of the occurrence that starts exactly at `original_start` (an
    /// `OriginalStart`), or `None` if no pattern occurrence starts at that instant.
    pub fn index_of(&self, original_start: DateTime<Utc>) -> Option<u32> {
        let grid = Grid::new(self)?;
        let local = original_start.with_timezone(&self.tz).date_naive();
        // A gap-adjusted occurrence moves later, never to an earlier date, so the pattern
        // date is the local date of the instant or the day before.
        [Some(local), local.pred_opt()]
            .into_iter()
            .flatten()
            .find_map(|date| {
                let index = grid.index_of_date(date)?;
                if grid.max_index().is_some_and(|max| index > max) {
                    return None;
                }
                let occ = grid.occurrence_on(index, date)?;
                (occ.start == original_start).then_some(occ.index)
            })
    }
}

/// Which dates a period holds.
#[derive(Debug)]
enum Select {
    /// The first day of the period (daily).
    FirstDay,
    /// Sorted day offsets (0..7) from the period's first day (weekly).
    WeekDays(Vec<u32>),
    /// A day of the period's first month, clamped to its end.
    MonthDay(u32),
    /// The `index`-th `day` of the period's first month.
    MonthRelative(RelativeDay, DayOfWeekIndex),
}

/// The period grid of a valid series: period `p` starts `p * len` units after the anchor
/// (days for daily/weekly, months for monthly/yearly) and holds `per_period` dates, except
/// period 0, whose dates before the range start do not count.
#[derive(Debug)]
struct Grid {
    start: NaiveDate,
    /// First day of period 0 (day grids).
    anchor_day: NaiveDate,
    /// Month number (`year * 12 + month0`) of period 0 (month grids).
    anchor_month: i64,
    in_months: bool,
    len: i64,
    select: Select,
    per_period: u64,
    /// Number of counted dates in period 0.
    period0: u64,
    range: Range,
    time: NaiveTime,
    duration: Duration,
    tz: Tz,
}

impl Grid {
    fn new(series: &Series) -> Option<Grid> {
        let range = series.recurrence.range;
        let start = range.start();
        match range {
            Range::EndDate { end, .. } if end < start => return None,
            Range::Numbered { count: 0, .. } => return None,
            _ => {}
        }
        let minutes = series.duration.num_minutes();
        if !(0..=MAX_DURATION_MINUTES).contains(&minutes) {
            return None;
        }
        let start_month = i64::from(start.year()) * 12 + i64::from(start.month0());
        let (anchor_day, anchor_month, in_months, len, select) = match &series.recurrence.pattern {
            Pattern::Daily { interval } if *interval > 0 => {
                (start, 0, false, i64::from(*interval), Select::FirstDay)
            }
            Pattern::Weekly {
                interval,
                days,
                first_day_of_week,
            } if *interval > 0 && !days.is_empty() => {
                let mut offsets: Vec<u32> = days
                    .iter()
                    .map(|d| d.days_since(*first_day_of_week))
                    .collect();
                offsets.sort_unstable();
                offsets.dedup();
                let back = start.weekday().days_since(*first_day_of_week);
                let anchor = start.checked_sub_days(chrono::Days::new(u64::from(back)))?;
                (
                    anchor,
                    0,
                    false,
                    7 * i64::from(*interval),
                    Select::WeekDays(offsets),
                )
            }
            Pattern::AbsoluteMonthly {
                interval,
                day_of_month,
            } if *interval > 0 && (1..=31).contains(day_of_month) => (
                start,
                start_month,
                true,
                i64::from(*interval),
                Select::MonthDay(*day_of_month),
            ),
            Pattern::RelativeMonthly {
                interval,
                day,
                index,
            } if *interval > 0 => (
                start,
                start_month,
                true,
                i64::from(*interval),
                Select::MonthRelative(*day, *index),
            ),
            Pattern::AbsoluteYearly {
                month,
                day_of_month,
            } if (1..=12).contains(month) && (1..=31).contains(day_of_month) => (
                start,
                i64::from(start.year()) * 12 + i64::from(*month) - 1,
                true,
                12,
                Select::MonthDay(*day_of_month),
            ),
            Pattern::RelativeYearly { month, day, index } if (1..=12).contains(month) => (
                start,
                i64::from(start.year()) * 12 + i64::from(*month) - 1,
                true,
                12,
                Select::MonthRelative(*day, *index),
            ),
            _ => return None,
        };
        let per_period = match &select {
            Select::WeekDays(offsets) => offsets.len() as u64,
            _ => 1,
        };
        let start_time = series.start.time();
        let time = NaiveTime::from_hms_opt(start_time.hour(), start_time.minute(), 0)?;
        let mut grid = Grid {
            start,
            anchor_day,
            anchor_month,
            in_months,
            len,
            select,
            per_period,
            period0: 0,
            range,
            time,
            duration: Duration::minutes(minutes),
            tz: series.tz,
        };
        let mut dates = Vec::with_capacity(7);
        if grid.dates_in(0, &mut dates) {
            grid.period0 = dates.iter().filter(|d| **d >= start).count() as u64;
        }
        Some(grid)
    }

    /// The period that contains `date` (negative before the anchor).
    fn period_of(&self, date: NaiveDate) -> i64 {
        if self.in_months {
            let month = i64::from(date.year()) * 12 + i64::from(date.month0());
            (month - self.anchor_month).div_euclid(self.len)
        } else {
            (date - self.anchor_day).num_days().div_euclid(self.len)
        }
    }

    /// Fills `out` with the dates of period `p` in order (including, for period 0, dates
    /// before the range start). Returns false when the period is outside chrono's range.
    fn dates_in(&self, p: i64, out: &mut Vec<NaiveDate>) -> bool {
        out.clear();
        let filled = if self.in_months {
            self.month_date(p).map(|date| out.push(date)).is_some()
        } else {
            self.day_dates(p, out).is_some()
        };
        filled && !out.is_empty()
    }

    fn day_dates(&self, p: i64, out: &mut Vec<NaiveDate>) -> Option<()> {
        let first = self
            .anchor_day
            .checked_add_signed(Duration::try_days(p.checked_mul(self.len)?)?)?;
        match &self.select {
            Select::WeekDays(offsets) => {
                for &off in offsets {
                    out.push(first.checked_add_days(chrono::Days::new(u64::from(off)))?);
                }
            }
            _ => out.push(first),
        }
        Some(())
    }

    fn month_date(&self, p: i64) -> Option<NaiveDate> {
        let month = self.anchor_month.checked_add(p.checked_mul(self.len)?)?;
        let year = i32::try_from(month.div_euclid(12)).ok()?;
        let month = u32::try_from(month.rem_euclid(12)).ok()? + 1;
        match self.select {
            Select::MonthDay(day) => {
                NaiveDate::from_ymd_opt(year, month, day.min(days_in_month(year, month)?))
            }
            Select::MonthRelative(day, index) => nth_in_month(year, month, day, index),
            _ => None,
        }
    }

    /// Number of occurrences before period `p` (`p >= 1`; 0 for period 0).
    fn count_before_period(&self, p: i64) -> u64 {
        if p <= 0 {
            return 0;
        }
        self.period0 + (p as u64 - 1) * self.per_period
    }

    /// 1-based index of `date` (a counted date of period 0).
    fn count_period0_through(&self, date: NaiveDate) -> u64 {
        let mut dates = Vec::with_capacity(7);
        self.dates_in(0, &mut dates);
        dates
            .iter()
            .filter(|d| **d >= self.start && **d <= date)
            .count() as u64
    }

    /// Number of occurrences on or before `date` (ignoring the range's end).
    fn count_through(&self, date: NaiveDate) -> u64 {
        if date < self.start {
            return 0;
        }
        // Yearly grids anchor on the pattern month of the start year, so dates of the start
        // year before that month fall in period -1, which holds no counted date.
        let p = self.period_of(date);
        if p < 0 {
            return 0;
        }
        if p == 0 {
            return self.count_period0_through(date);
        }
        let mut dates = Vec::with_capacity(7);
        self.dates_in(p, &mut dates);
        self.count_before_period(p) + dates.iter().filter(|d| **d <= date).count() as u64
    }

    /// The 1-based index of `date` if it is a pattern date (ignoring the range's end).
    fn index_of_date(&self, date: NaiveDate) -> Option<u64> {
        if date < self.start {
            return None;
        }
        let mut dates = Vec::with_capacity(7);
        if !self.dates_in(self.period_of(date), &mut dates) || !dates.contains(&date) {
            return None;
        }
        Some(self.count_through(date))
    }

    /// The date of the occurrence with 1-based `index` (ignoring the range's end).
    fn nth_date(&self, index: u64) -> Option<NaiveDate> {
        let mut dates = Vec::with_capacity(7);
        if index <= self.period0 {
            self.dates_in(0, &mut dates);
            let counted = dates.iter().filter(|d| **d >= self.start);
            return counted.copied().nth(usize::try_from(index - 1).ok()?);
        }
        let k = index - self.period0 - 1;
        let p = i64::try_from(k / self.per_period + 1).ok()?;
        if !self.dates_in(p, &mut dates) {
            return None;
        }
        dates
            .get(usize::try_from(k % self.per_period).ok()?)
            .copied()
    }

    /// The highest index the range allows; `None` without end.
    fn max_index(&self) -> Option<u64> {
        match self.range {
            Range::NoEnd { .. } => None,
            Range::EndDate { end, .. } => Some(self.count_through(end)),
            Range::Numbered { count, .. } => Some(u64::from(count)),
        }
    }

    fn occurrence_on(&self, index: u64, date: NaiveDate) -> Option<Occurrence> {
        let start = local_to_utc(self.tz, date.and_time(self.time))?;
        let end = start.checked_add_signed(self.duration)?;
        Some(Occurrence {
            index: u32::try_from(index).ok()?,
            start,
            end,
        })
    }
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let (next_year, next_month) = if month == 12 {
        (year.checked_add(1)?, 1)
    } else {
        (year, month + 1)
    };
    let next = NaiveDate::from_ymd_opt(next_year, next_month, 1)?;
    Some(next.pred_opt()?.day())
}

/// The `index`-th day of `month` that matches `day` ("the last weekday of May 2026").
fn nth_in_month(
    year: i32,
    month: u32,
    day: RelativeDay,
    index: DayOfWeekIndex,
) -> Option<NaiveDate> {
    let len = days_in_month(year, month)?;
    let matching = |d: &NaiveDate| day.matches(d.weekday());
    let mut days = (1..=len).filter_map(|d| NaiveDate::from_ymd_opt(year, month, d));
    match index {
        DayOfWeekIndex::Last => days.rev().find(matching),
        DayOfWeekIndex::First => days.find(matching),
        DayOfWeekIndex::Second => days.filter(matching).nth(1),
        DayOfWeekIndex::Third => days.filter(matching).nth(2),
        DayOfWeekIndex::Fourth => days.filter(matching).nth(3),
    }
}
