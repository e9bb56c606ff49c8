//! Bookable free slots of a service counter, from its opening hours and its calendar.
//!
//! How a counter's day is built (CALENDAR-SEMANTICS cases 1–3, 5, 19–27, 35–39):
//! - Opening hours are local wall time in the counter's IANA zone, rebuilt for every date, so
//!   13:00–18:00 stays 13:00–18:00 on DST days (cases 1, 2). A bound is the first instant
//!   whose wall time is at or after it, so a range that opens inside a spring-forward gap
//!   opens when the clock jumps (see [`first_instant_at_or_after`]).
//! - A range whose end is not after its start runs overnight (20:00–03:00 is one range owned
//!   by the day it starts); `23:59` as an end means midnight (cases 24, 25).
//! - Overlapping or touching ranges merge. Slot starts step by `step_minutes` of elapsed time
//!   from the opening of each merged range, so the labels stay aligned in local time (also
//!   at half-hour offsets, case 37), the repeated hour of a fall-back night is bookable in
//!   both passes with distinct instants, and no label falls in a spring-forward gap (case 5).
//!   The last slot must end by the closing time (case 38).
//! - Which hours apply to a date: a date override (most specific; no ranges = closed), then a
//!   closure, then a holiday, then the weekly hours.
//! - Busy time: Busy and OOF items block, Tentative by configuration (default yes); Free,
//!   WorkingElsewhere, NoData and cancelled items never do (cases 21, 29, 30, 34). All-day
//!   items block whole local days of the counter, on the dates of their creation zone
//!   (cases 19, 20). Zero-length items block nothing (case 26).
//! - Every booking occupies its time plus `buffer_before` and `buffer_after`; a slot is
//!   bookable while fewer than `capacity` occupied intervals overlap its own occupied interval.
//!   So the buffers of an existing item and of the new booking stack (case 39), buffers never
//!   apply against opening or closing time, and intervals are half-open: a slot that starts
//!   exactly when a buffered item ends is free (case 27).
//! - Minimum notice: a slot must start at or after `now + minimum_notice`. Horizon: slots are
//!   offered up to and including the local date `today + horizon_days`.
//! - Slots are grouped by the local date of their start. A date without slots gets a reason;
//!   see [`NoSlotReason`] for the order in which reasons are chosen.
//!
//! # Serialized form of a counter
//!
//! ```json
//! { "mailbox": "desk@contoso.test", "timeZone": "Europe/Berlin",
//!   "openingHours": [ { "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
//!                       "ranges": ["08:00-12:00", "13:00-17:00"] },
//!                     { "days": ["Sat"], "ranges": ["20:00-03:00"] } ],
//!   "dateOverrides": [ { "date": "2026-12-24", "ranges": ["08:00-12:00"] } ],
//!   "closures": [ { "from": "2026-08-03", "to": "2026-08-14", "reason": "Renovation" } ],
//!   "holidays": [ { "date": "2026-12-25", "name": "Christmas Day" } ],
//!   "slotMinutes": 30, "stepMinutes": 15, "bufferBeforeMinutes": 5, "bufferAfterMinutes": 10,
//!   "minimumNoticeMinutes": 120, "horizonDays": 60, "capacity": 2, "tentativeBlocks": true }
//! ```
//!
//! Everything after `openingHours` is optional except `slotMinutes` and `stepMinutes`
//! (defaults: no buffers, no notice, no horizon, capacity 1, tentative blocks).

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::busy::{BusyItem, FreeBusyStatus, ItemRef};
use crate::time::{first_instant_at_or_after, serde_tz};

const DAY_MINUTES: u32 = 24 * 60;

/// The longest date range one call computes (as CalendarView's two-year limit).
pub const MAX_RANGE_DAYS: i64 = 731;

/// A range of local wall time, in minutes after the midnight of the day it starts:
/// `end` is in `start + 1 ..= start + 1440`, so an overnight range has `end > 1440`.
///
/// Written as `"HH:MM-HH:MM"`: `"09:00-17:00"`, `"20:00-03:00"` (overnight), `"00:00-24:00"`
/// (the whole day). An end of `23:59` means midnight, and an end equal to the start means
/// 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    start: u32,
    end: u32,
}

impl TimeRange {
    /// The range from `start` to `end` minutes after midnight (`end` may be up to 1440, and
    /// not after `start` for an overnight range). `end` 1439 (23:59) means midnight.
    pub fn from_minutes(start: u32, end: u32) -> Result<TimeRange, ParseTimeRangeError> {
        if start >= DAY_MINUTES || end > DAY_MINUTES {
            return Err(ParseTimeRangeError(format!("{start}-{end} minutes")));
        }
        let end = if end == DAY_MINUTES - 1 {
            DAY_MINUTES
        } else {
            end
        };
        let end = if end <= start { end + DAY_MINUTES } else { end };
        Ok(TimeRange { start, end })
    }

    /// Minutes after midnight of the opening.
    pub fn start_minute(self) -> u32 {
        self.start
    }

    /// Minutes after midnight of the start day at which the range closes (over 1440 when it
    /// closes the next day).
    pub fn end_minute(self) -> u32 {
        self.end
    }
}

/// The error for a malformed opening-hours range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an opening-hours range like 09:00-17:00")]
pub struct ParseTimeRangeError(pub String);

impl FromStr for TimeRange {
    type Err = ParseTimeRangeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseTimeRangeError(s.to_owned());
        let (a, b) = s.split_once('-').ok_or_else(err)?;
        let minute = |t: &str| -> Option<u32> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
        };
        let (start, end) = (minute(a).ok_or_else(err)?, minute(b).ok_or_else(err)?);
        TimeRange::from_minutes(start, end).map_err(|_| err())
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == DAY_MINUTES {
            DAY_MINUTES
        } else {
            self.end % DAY_MINUTES
        };
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            end / 60,
            end % 60
        )
    }
}

impl Serialize for TimeRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TimeRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Weekly opening hours: these ranges on these weekdays (like an EWS `WorkingPeriod`, but with
/// several ranges per day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpeningHours {
    pub days: Vec<Weekday>,
    pub ranges: Vec<TimeRange>,
}

/// Special hours for one date; no ranges means closed that day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DateOverride {
    pub date: NaiveDate,
    #[serde(default)]
    pub ranges: Vec<TimeRange>,
}

/// Closed from `from` to `to`, both inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Closure {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A public holiday: closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Holiday {
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

/// A service counter: whose calendar, where, when open, and how it books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counter {
    pub mailbox: String,
    #[serde(with = "serde_tz")]
    pub time_zone: Tz,
    pub opening_hours: Vec<OpeningHours>,
    #[serde(default)]
    pub date_overrides: Vec<DateOverride>,
    #[serde(default)]
    pub closures: Vec<Closure>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Length of a booking.
    pub slot_minutes: u32,
    /// Distance between slot starts (independent of the length).
    pub step_minutes: u32,
    #[serde(default)]
    pub buffer_before_minutes: u32,
    #[serde(default)]
    pub buffer_after_minutes: u32,
    #[serde(default)]
    pub minimum_notice_minutes: u32,
    /// Slots are offered up to the local date `today + horizon_days`; `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_days: Option<u32>,
    /// Parallel bookings.
    #[serde(default = "one")]
    pub capacity: u32,
    /// Whether Tentative items block (case 29).
    #[serde(default = "yes")]
    pub tentative_blocks: bool,
}

/// Why a counter is closed on a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ClosedBecause {
    Holiday {
        name: Option<String>,
    },
    Closure {
        reason: Option<String>,
    },
    /// A date override without ranges.
    DateOverride,
    /// No opening hours on this weekday.
    NoOpeningHours,
    /// Open, but no range is long enough for one slot.
    OpeningTooShort,
}

/// Why a date (or a whole range) has no slot. For a date, the first that applies:
/// outside the horizon, closed, minimum notice (every slot of the day starts too soon),
/// vacation (one long or OOF item covers all the day's remaining opening time), fully booked.
/// For a range without any slot, the most actionable day reason: fully booked, then vacation,
/// minimum notice, closed, outside horizon.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum NoSlotReason {
    Closed { why: ClosedBecause },
    FullyBooked,
    Vacation { item: ItemRef },
    OutsideHorizon { last_bookable_date: NaiveDate },
    MinimumNotice { earliest_start: DateTime<Utc> },
}

impl NoSlotReason {
    /// Precedence when summarizing a range (lower is reported first).
    fn summary_rank(&self) -> u8 {
        match self {
            NoSlotReason::FullyBooked => 0,
            NoSlotReason::Vacation { .. } => 1,
            NoSlotReason::MinimumNotice { .. } => 2,
            NoSlotReason::Closed { .. } => 3,
            NoSlotReason::OutsideHorizon { .. } => 4,
        }
    }
}

/// A bookable slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The start as the counter's wall clock shows it, with the offset, so the two passes of a
    /// repeated hour are told apart (`01:30-04:00` vs `01:30-05:00`).
    pub local_start: DateTime<FixedOffset>,
    /// Bookings still possible in this slot (`capacity` minus overlapping busy items).
    pub available: u32,
}

/// The slots of one local date, or the reason there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaySlots {
    pub date: NaiveDate,
    pub slots: Vec<Slot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<NoSlotReason>,
}

/// The slots of a counter over a date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotReport {
    pub mailbox: String,
    pub days: Vec<DaySlots>,
    /// Set when the whole range has no slot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<NoSlotReason>,
}

/// Why slots cannot be computed for a counter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    #[error("counter `{mailbox}`: slot length must be at least one minute")]
    ZeroSlotLength { mailbox: String },
    #[error("counter `{mailbox}`: step must be at least one minute")]
    ZeroStep { mailbox: String },
    #[error("counter `{mailbox}`: capacity must be at least 1")]
    ZeroCapacity { mailbox: String },
    #[error("counter `{mailbox}`: closure ends {to}, before it starts {from}")]
    ClosureEndsBeforeStart {
        mailbox: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("counter `{mailbox}`: date range ends {to}, before it starts {from}")]
    RangeEndsBeforeStart {
        mailbox: String,
        from: NaiveDate,
        to: NaiveDate,
    },
    #[error("counter `{mailbox}`: date range of {days} days exceeds the limit of {MAX_RANGE_DAYS}")]
    RangeTooLong { mailbox: String, days: i64 },
}

impl Counter {
    /// Checks the counter's own settings.
    pub fn validate(&self) -> Result<(), SlotError> {
        let mailbox = || self.mailbox.clone();
        if self.slot_minutes == 0 {
            return Err(SlotError::ZeroSlotLength { mailbox: mailbox() });
        }
        if self.step_minutes == 0 {
            return Err(SlotError::ZeroStep { mailbox: mailbox() });
        }
        if self.capacity == 0 {
            return Err(SlotError::ZeroCapacity { mailbox: mailbox() });
        }
        if let Some(c) = self.closures.iter().find(|c| c.to < c.from) {
            return Err(SlotError::ClosureEndsBeforeStart {
                mailbox: mailbox(),
                from: c.from,
                to: c.to,
            });
        }
        Ok(())
    }

    /// Whether an item takes time from this counter.
    fn blocks(&self, item: &BusyItem) -> bool {
        !item.cancelled
            && match item.status {
                FreeBusyStatus::Busy | FreeBusyStatus::Oof => true,
                FreeBusyStatus::Tentative => self.tentative_blocks,
                FreeBusyStatus::Free
                | FreeBusyStatus::WorkingElsewhere
                | FreeBusyStatus::NoData => false,
            }
    }
}

/// The hours that apply to one date and where they come from.
enum Hours<'a> {
    Ranges(&'a [TimeRange]),
    Closed(ClosedBecause),
}

struct Schedule<'a> {
    counter: &'a Counter,
    weekly: [Vec<TimeRange>; 7],
}

impl<'a> Schedule<'a> {
    fn new(counter: &'a Counter) -> Schedule<'a> {
        let mut weekly: [Vec<TimeRange>; 7] = Default::default();
        for hours in &counter.opening_hours {
            for day in &hours.days {
                weekly[day.num_days_from_monday() as usize].extend(hours.ranges.iter().copied());
            }
        }
        Schedule { counter, weekly }
    }

    fn hours(&self, date: NaiveDate) -> Hours<'_> {
        let c = self.counter;
        if let Some(o) = c.date_overrides.iter().find(|o| o.date == date) {
            return if o.ranges.is_empty() {
                Hours::Closed(ClosedBecause::DateOverride)
            } else {
                Hours::Ranges(&o.ranges)
            };
        }
        if let Some(cl) = c
            .closures
            .iter()
            .find(|cl| cl.from <= date && date <= cl.to)
        {
            return Hours::Closed(ClosedBecause::Closure {
                reason: cl.reason.clone(),
            });
        }
        if let Some(h) = c.holidays.iter().find(|h| h.date == date) {
            return Hours::Closed(ClosedBecause::Holiday {
                name: h.name.clone(),
            });
        }
        let ranges = &self.weekly[date.weekday().num_days_from_monday() as usize];
        if ranges.is_empty() {
            Hours::Closed(ClosedBecause::NoOpeningHours)
        } else {
            Hours::Ranges(ranges)
        }
    }
}

/// A blocking item's span, unpadded, with its index in the input.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    item: usize,
}

/// Per-date tallies while candidates are generated.
#[derive(Debug, Default)]
struct Tally {
    /// Candidate starts on this date, before notice, horizon and busy time.
    raw: u32,
    /// Candidates at or after the minimum notice (and inside the horizon).
    after_notice: u32,
    /// Span of those candidates, for the vacation check.
    first_start: Option<DateTime<Utc>>,
    last_end: Option<DateTime<Utc>>,
    slots: Vec<Slot>,
}

/// The bookable slots of `counter` on the local dates `from..=to`, given the items on its
/// calendar (expanded occurrences included) and the current instant.
pub fn free_slots(
    counter: &Counter,
    items: &[BusyItem],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<SlotReport, SlotError> {
    counter.validate()?;
    if to < from {
        return Err(SlotError::RangeEndsBeforeStart {
            mailbox: counter.mailbox.clone(),
            from,
            to,
        });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(SlotError::RangeTooLong {
            mailbox: counter.mailbox.clone(),
            days,
        });
    }
    let tz = counter.time_zone;
    let slot_len = Duration::minutes(i64::from(counter.slot_minutes));
    let step = Duration::minutes(i64::from(counter.step_minutes));
    let before = Duration::minutes(i64::from(counter.buffer_before_minutes));
    let after = Duration::minutes(i64::from(counter.buffer_after_minutes));
    let earliest = now + Duration::minutes(i64::from(counter.minimum_notice_minutes));
    let today = now.with_timezone(&tz).date_naive();
    let last_bookable = counter
        .horizon_days
        .and_then(|h| today.checked_add_days(chrono::Days::new(u64::from(h))));
    let capacity = counter.capacity as usize;

    // Busy time: spans of blocking items, then their padded starts and ends, each sorted, so
    // the number of padded items overlapping any interval is a difference of two counts.
    let blocks: Vec<Block> = items
        .iter()
        .enumerate()
        .filter(|(_, item)| counter.blocks(item))
        .filter_map(|(i, item)| {
            let (start, end) = item.span(tz)?;
            Some(Block {
                start,
                end,
                item: i,
            })
        })
        .collect();
    let mut padded_starts: Vec<DateTime<Utc>> = blocks.iter().map(|b| b.start - before).collect();
    let mut padded_ends: Vec<DateTime<Utc>> = blocks.iter().map(|b| b.end + after).collect();
    padded_starts.sort_unstable();
    padded_ends.sort_unstable();

    // Day boundaries of the counter zone for from ..= to + 1.
    let day_start = |d: NaiveDate| first_instant_at_or_after(tz, d.and_time(NaiveTime::MIN));
    let boundaries: Option<Vec<DateTime<Utc>>> = from
        .iter_days()
        .take(days as usize + 1)
        .map(day_start)
        .collect();
    // Only dates at the ends of chrono's range have no representable midnight.
    let Some(boundaries) = boundaries.filter(|b| b.len() == days as usize + 1) else {
        return Ok(empty_report(counter, from, days));
    };
    let (range_start, range_end) = (boundaries[0], boundaries[days as usize]);

    // Opening windows of the day before (overnight ranges reach into `from`) through `to`.
    let schedule = Schedule::new(counter);
    let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for date in from
        .pred_opt()
        .unwrap_or(from)
        .iter_days()
        .take_while(|d| *d <= to)
    {
        if let Hours::Ranges(ranges) = schedule.hours(date) {
            for r in ranges {
                let at = |minute: u32| {
                    let day =
                        date.checked_add_days(chrono::Days::new(u64::from(minute / DAY_MINUTES)))?;
                    let time =
                        NaiveTime::from_hms_opt((minute % DAY_MINUTES) / 60, minute % 60, 0)?;
                    first_instant_at_or_after(tz, day.and_time(time))
                };
                if let (Some(open), Some(close)) = (at(r.start), at(r.end))
                    && open < close
                {
                    windows.push((open, close));
                }
            }
        }
    }
    windows.sort_unstable();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::with_capacity(windows.len());
    for (open, close) in windows {
        match merged.last_mut() {
            Some(last) if open <= last.1 => last.1 = last.1.max(close),
            _ => merged.push((open, close)),
        }
    }

    let mut tallies: Vec<Tally> = (0..days).map(|_| Tally::default()).collect();
    let (mut n_started, mut n_ended) = (0usize, 0usize);
    let mut day = 0usize;
    'windows: for (open, close) in merged {
        if close <= range_start {
            continue;
        }
        // The offset is the same for the whole window unless a transition falls inside it.
        let open_offset = tz.offset_from_utc_datetime(&open.naive_utc()).fix();
        let close_offset = tz.offset_from_utc_datetime(&close.naive_utc()).fix();
        let mut start = open;
        while start + slot_len <= close {
            let this = start;
            start += step;
            if this < range_start {
                continue;
            }
            if this >= range_end {
                break 'windows;
            }
            while boundaries[day + 1] <= this {
                day += 1;
            }
            let date = from + Duration::days(day as i64);
            let tally = &mut tallies[day];
            tally.raw += 1;
            if last_bookable.is_some_and(|last| date > last) || this < earliest {
                continue;
            }
            let end = this + slot_len;
            tally.after_notice += 1;
            tally.first_start.get_or_insert(this);
            tally.last_end = Some(end);
            let (lo, hi) = (this - before, end + after);
            while n_started < padded_starts.len() && padded_starts[n_started] < hi {
                n_started += 1;
            }
            while n_ended < padded_ends.len() && padded_ends[n_ended] <= lo {
                n_ended += 1;
            }
            let overlapping = n_started - n_ended;
            if overlapping < capacity {
                let local_start = if open_offset == close_offset {
                    this.with_timezone(&open_offset)
                } else {
                    this.with_timezone(&tz).fixed_offset()
                };
                tally.slots.push(Slot {
                    start: this,
                    end,
                    local_start,
                    available: (capacity - overlapping) as u32,
                });
            }
        }
    }

    let days_out: Vec<DaySlots> = tallies
        .into_iter()
        .enumerate()
        .map(|(i, tally)| {
            let date = from + Duration::days(i as i64);
            let reason = if tally.slots.is_empty() {
                Some(day_reason(
                    &schedule,
                    items,
                    &blocks,
                    date,
                    &tally,
                    last_bookable,
                    earliest,
                ))
            } else {
                None
            };
            DaySlots {
                date,
                slots: tally.slots,
                reason,
            }
        })
        .collect();
    let reason = if days_out.iter().any(|d| !d.slots.is_empty()) {
        None
    } else {
        days_out
            .iter()
            .filter_map(|d| d.reason.as_ref())
            .min_by_key(|r| r.summary_rank())
            .cloned()
    };
    Ok(SlotReport {
        mailbox: counter.mailbox.clone(),
        days: days_out,
        reason,
    })
}

fn empty_report(counter: &Counter, from: NaiveDate, days: i64) -> SlotReport {
    SlotReport {
        mailbox: counter.mailbox.clone(),
        days: (0..days)
            .map(|i| DaySlots {
                date: from + Duration::days(i),
                slots: Vec::new(),
                reason: Some(NoSlotReason::Closed {
                    why: ClosedBecause::NoOpeningHours,
                }),
            })
            .collect(),
        reason: Some(NoSlotReason::Closed {
            why: ClosedBecause::NoOpeningHours,
        }),
    }
}

fn day_reason(
    schedule: &Schedule<'_>,
    items: &[BusyItem],
    blocks: &[Block],
    date: NaiveDate,
    tally: &Tally,
    last_bookable: Option<NaiveDate>,
    earliest: DateTime<Utc>,
) -> NoSlotReason {
    if let Some(last) = last_bookable.filter(|last| date > *last) {
        return NoSlotReason::OutsideHorizon {
            last_bookable_date: last,
        };
    }
    if tally.raw == 0 {
        let why = match schedule.hours(date) {
            Hours::Closed(why) => why,
            Hours::Ranges(_) => ClosedBecause::OpeningTooShort,
        };
        return NoSlotReason::Closed { why };
    }
    if tally.after_notice == 0 {
        return NoSlotReason::MinimumNotice {
            earliest_start: earliest,
        };
    }
    if let (Some(first), Some(last)) = (tally.first_start, tally.last_end) {
        let vacation = blocks.iter().find(|b| {
            let item = &items[b.item];
            b.start <= first
                && last <= b.end
                && (item.is_long() || item.status == FreeBusyStatus::Oof)
        });
        if let Some(b) = vacation {
            return NoSlotReason::Vacation {
                item: items[b.item].to_ref(),
            };
        }
    }
    NoSlotReason::FullyBooked
}
