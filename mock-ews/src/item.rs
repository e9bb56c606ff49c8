//! Calendar items as the store keeps them, their conversion from and to [`ItemSpec`], and
//! calendar-view expansion.
//!
//! Times are kept as UTC instants plus the item's creation zone; a series keeps the master's
//! wall-clock start in that zone and is expanded with `calendar_core` in that zone, so its
//! wall time stays constant across DST.

use calendar_core::{
    Exceptions, FreeBusyStatus, ModifiedOccurrence, Pattern, Range, Recurrence, Series,
};
use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::error::ItemError;
use crate::spec::{ItemSpec, ModifiedSpec, MonthlySpec, RecurrenceSpec, Span, When, YearlySpec};
use crate::world::Sensitivity;
use crate::zone::parse_zone;

/// A calendar item (single item or recurring master).
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarItem {
    /// Unique within the world; part of the ItemId.
    pub key: u64,
    /// Bumped on every change; part of ItemId and ChangeKey.
    pub revision: u32,
    pub subject: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The creation zone (EWS `StartTimeZone`).
    pub tz: Tz,
    pub all_day: bool,
    pub status: FreeBusyStatus,
    pub sensitivity: Sensitivity,
    pub cancelled: bool,
    pub organizer: String,
    pub attendees: Vec<String>,
    pub location: String,
    pub body: String,
    pub uid: String,
    pub recurrence: Option<Recurrence>,
    pub modified: Vec<OccurrenceOverride>,
    pub deleted: Vec<DateTime<Utc>>,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
}

/// A modified occurrence: new times and optionally other fields.
#[derive(Debug, Clone, PartialEq)]
pub struct OccurrenceOverride {
    pub original_start: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub subject: Option<String>,
    pub location: Option<String>,
    pub status: Option<FreeBusyStatus>,
}

/// One entry of a calendar view: a single item, or one instance of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewEntry<'a> {
    pub item: &'a CalendarItem,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// For an instance of a series: 1-based index (if a pattern slot), original start, and the
    /// override when it is an exception.
    pub occurrence: Option<OccurrenceInfo<'a>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OccurrenceInfo<'a> {
    pub index: Option<u32>,
    pub original_start: DateTime<Utc>,
    pub exception: Option<&'a OccurrenceOverride>,
}

impl ViewEntry<'_> {
    pub fn subject(&self) -> &str {
        self.occurrence
            .and_then(|o| o.exception)
            .and_then(|e| e.subject.as_deref())
            .unwrap_or(&self.item.subject)
    }

    pub fn location(&self) -> &str {
        self.occurrence
            .and_then(|o| o.exception)
            .and_then(|e| e.location.as_deref())
            .unwrap_or(&self.item.location)
    }

    pub fn status(&self) -> FreeBusyStatus {
        self.occurrence
            .and_then(|o| o.exception)
            .and_then(|e| e.status)
            .unwrap_or(self.item.status)
    }
}

impl CalendarItem {
    /// The series as calendar-core expands it, for a recurring master.
    pub fn series(&self) -> Option<Series> {
        let recurrence = self.recurrence.clone()?;
        Some(Series {
            start: self.start.with_timezone(&self.tz).naive_local(),
            duration: self.end - self.start,
            tz: self.tz,
            recurrence,
        })
    }

    pub fn exceptions(&self) -> Exceptions {
        Exceptions {
            modified: self
                .modified
                .iter()
                .map(|m| ModifiedOccurrence {
                    original_start: m.original_start,
                    start: m.start,
                    end: m.end,
                })
                .collect(),
            deleted: self.deleted.clone(),
        }
    }

    /// What a CalendarView between `from` and `to` shows of this item: EWS's documented test
    /// `Start < EndDate && End >= StartDate` (EWS.md §3.1), so an item ending exactly at the
    /// window start is included, one starting exactly at its end is not.
    pub fn view(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<ViewEntry<'_>> {
        let mut out = Vec::new();
        self.view_into(from, to, &mut out);
        out
    }

    /// [`CalendarItem::view`], appending to `out` (a view over many items builds one list).
    pub fn view_into<'a>(
        &'a self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        out: &mut Vec<ViewEntry<'a>>,
    ) {
        let overlaps = |s: DateTime<Utc>, e: DateTime<Utc>| s < to && e >= from;
        match self.series() {
            None => {
                if overlaps(self.start, self.end) {
                    out.push(ViewEntry {
                        item: self,
                        start: self.start,
                        end: self.end,
                        occurrence: None,
                    });
                }
            }
            Some(series) => out.extend(
                series
                    .instances(&self.exceptions(), from, to)
                    .into_iter()
                    .filter(|i| overlaps(i.start, i.end))
                    .map(|i| ViewEntry {
                        item: self,
                        start: i.start,
                        end: i.end,
                        occurrence: Some(OccurrenceInfo {
                            index: i.index,
                            original_start: i.original_start,
                            exception: self
                                .modified
                                .iter()
                                .find(|m| m.original_start == i.original_start),
                        }),
                    }),
            ),
        }
    }

    /// The instance with this original start, if the series has one that is not deleted.
    pub fn instance_at(&self, original_start: DateTime<Utc>) -> Option<ViewEntry<'_>> {
        let series = self.series()?;
        if self.deleted.contains(&original_start) {
            return None;
        }
        if let Some(m) = self
            .modified
            .iter()
            .find(|m| m.original_start == original_start)
        {
            return Some(ViewEntry {
                item: self,
                start: m.start,
                end: m.end,
                occurrence: Some(OccurrenceInfo {
                    index: series.index_of(original_start),
                    original_start,
                    exception: Some(m),
                }),
            });
        }
        let index = series.index_of(original_start)?;
        let occ = series.occurrence(index)?;
        Some(ViewEntry {
            item: self,
            start: occ.start,
            end: occ.end,
            occurrence: Some(OccurrenceInfo {
                index: Some(index),
                original_start,
                exception: None,
            }),
        })
    }

    /// The instance with 1-based EWS `InstanceIndex`.
    pub fn instance_by_index(&self, index: u32) -> Option<ViewEntry<'_>> {
        let occ = self.series()?.occurrence(index)?;
        self.instance_at(occ.start)
    }

    /// Builds an item from its spec. `default_tz` is the mailbox zone, `owner` its address.
    pub fn from_spec(
        spec: &ItemSpec,
        key: u64,
        owner: &str,
        default_tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Self, ItemError> {
        let tz = match &spec.zone {
            Some(name) => parse_zone(name).ok_or_else(|| ItemError::UnknownZone(name.clone()))?,
            None => default_tz,
        };
        let all_day = spec.all_day.unwrap_or(matches!(spec.start, When::Date(_)));
        let (start, end) = times(tz, all_day, spec.start, spec.end, spec.duration)?;
        let recurrence = spec
            .recurrence
            .as_ref()
            .map(|r| recurrence(r, spec.start.to_local(tz).date()))
            .transpose()?;
        let mut item = CalendarItem {
            key,
            revision: 1,
            subject: spec.subject.clone(),
            start,
            end,
            tz,
            all_day,
            status: spec.status.unwrap_or(FreeBusyStatus::Busy),
            sensitivity: spec.sensitivity.unwrap_or_default(),
            cancelled: spec.cancelled.unwrap_or(false),
            organizer: spec.organizer.clone().unwrap_or_else(|| owner.to_owned()),
            attendees: spec.attendees.clone().unwrap_or_default(),
            location: spec.location.clone().unwrap_or_default(),
            body: spec.body.clone().unwrap_or_default(),
            uid: spec.uid.clone().unwrap_or_else(|| generated_uid(key)),
            recurrence,
            modified: Vec::new(),
            deleted: Vec::new(),
            created: now,
            last_modified: now,
        };
        if let Some(series) = item.series() {
            series.validate().map_err(ItemError::Recurrence)?;
            if series.first().is_none() {
                return Err(ItemError::NoOccurrence);
            }
        } else if !spec.modified.is_empty() || !spec.deleted.is_empty() {
            return Err(ItemError::ExceptionsWithoutRecurrence);
        }
        for d in &spec.deleted {
            let original = item.original_start_of(*d)?;
            if !item.deleted.contains(&original) {
                item.deleted.push(original);
            }
        }
        for m in &spec.modified {
            item.apply_modified(m)?;
        }
        Ok(item)
    }

    /// Resolves an occurrence reference (a local start, an instant or a date) to the original
    /// start of a pattern occurrence.
    fn original_start_of(&self, when: When) -> Result<DateTime<Utc>, ItemError> {
        let series = self
            .series()
            .ok_or(ItemError::ExceptionsWithoutRecurrence)?;
        let found = match when {
            When::Date(d) => {
                let day_start = calendar_core::local_to_utc(self.tz, d.and_time(NaiveTime::MIN));
                let next = d
                    .succ_opt()
                    .and_then(|n| calendar_core::local_to_utc(self.tz, n.and_time(NaiveTime::MIN)));
                match (day_start, next) {
                    (Some(a), Some(b)) => series
                        .occurrences(a, b)
                        .into_iter()
                        .find(|o| o.start >= a && o.start < b)
                        .map(|o| o.start),
                    _ => None,
                }
            }
            other => other
                .to_utc(self.tz)
                .filter(|t| series.index_of(*t).is_some()),
        };
        found.ok_or_else(|| ItemError::NotAnOccurrence(when.to_string()))
    }

    /// Adds or replaces a modified occurrence from its spec.
    pub fn apply_modified(&mut self, m: &ModifiedSpec) -> Result<(), ItemError> {
        let original = self.original_start_of(m.original)?;
        let series = self
            .series()
            .ok_or(ItemError::ExceptionsWithoutRecurrence)?;
        let default_len = series.duration;
        let start = match m.start {
            Some(w) => w.to_utc(self.tz).ok_or(ItemError::NonexistentLocalTime)?,
            None => original,
        };
        let end = match (m.end, m.duration) {
            (Some(w), _) => w.to_utc(self.tz).ok_or(ItemError::NonexistentLocalTime)?,
            (None, Some(Span(d))) => start + d,
            (None, None) => start + default_len,
        };
        if end < start {
            return Err(ItemError::EndBeforeStart);
        }
        self.deleted.retain(|d| *d != original);
        self.modified.retain(|x| x.original_start != original);
        self.modified.push(OccurrenceOverride {
            original_start: original,
            start,
            end,
            subject: m.subject.clone(),
            location: m.location.clone(),
            status: m.status,
        });
        self.modified.sort_by_key(|x| x.original_start);
        Ok(())
    }

    /// The spec that rebuilds this item (used for control-API reads and partial updates).
    pub fn to_spec(&self) -> ItemSpec {
        let local = |t: DateTime<Utc>| When::Local(t.with_timezone(&self.tz).naive_local());
        let (start, end) = if self.all_day {
            (
                When::Date(self.start.with_timezone(&self.tz).date_naive()),
                When::Date(self.end.with_timezone(&self.tz).date_naive()),
            )
        } else {
            (local(self.start), local(self.end))
        };
        ItemSpec {
            subject: self.subject.clone(),
            start,
            end: Some(end),
            duration: None,
            zone: Some(self.tz.name().to_owned()),
            all_day: Some(self.all_day),
            status: Some(self.status),
            sensitivity: Some(self.sensitivity),
            cancelled: Some(self.cancelled),
            organizer: Some(self.organizer.clone()),
            attendees: Some(self.attendees.clone()),
            location: Some(self.location.clone()),
            body: Some(self.body.clone()),
            uid: Some(self.uid.clone()),
            recurrence: self.recurrence.as_ref().map(recurrence_spec),
            modified: self
                .modified
                .iter()
                .map(|m| ModifiedSpec {
                    original: When::Instant(m.original_start),
                    start: Some(When::Instant(m.start)),
                    end: Some(When::Instant(m.end)),
                    duration: None,
                    subject: m.subject.clone(),
                    location: m.location.clone(),
                    status: m.status,
                })
                .collect(),
            deleted: self.deleted.iter().map(|d| When::Instant(*d)).collect(),
        }
    }
}

/// A deterministic, Exchange-shaped UID (the `040000008200E000…` global object id prefix).
fn generated_uid(key: u64) -> String {
    format!("040000008200E00074C5B7101A82E00800000000{key:016X}")
}

fn times(
    tz: Tz,
    all_day: bool,
    start: When,
    end: Option<When>,
    duration: Option<Span>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), ItemError> {
    if all_day {
        // Midnight to midnight in the item's zone, End exclusive.
        let first = start.to_local(tz).date();
        let last_exclusive = match (end, duration) {
            (Some(e), _) => e.to_local(tz).date(),
            (None, Some(Span(d))) => first + Duration::days(d.num_days().max(1)),
            (None, None) => first + Duration::days(1),
        };
        if last_exclusive <= first {
            return Err(ItemError::EndBeforeStart);
        }
        let s = calendar_core::first_instant_at_or_after(tz, first.and_time(NaiveTime::MIN))
            .ok_or(ItemError::NonexistentLocalTime)?;
        let e =
            calendar_core::first_instant_at_or_after(tz, last_exclusive.and_time(NaiveTime::MIN))
                .ok_or(ItemError::NonexistentLocalTime)?;
        return Ok((s, e));
    }
    let s = start.to_utc(tz).ok_or(ItemError::NonexistentLocalTime)?;
    let e = match (end, duration) {
        (Some(_), Some(_)) => return Err(ItemError::EndAndDuration),
        (Some(w), None) => w.to_utc(tz).ok_or(ItemError::NonexistentLocalTime)?,
        (None, Some(Span(d))) => s + d,
        (None, None) => return Err(ItemError::NoEnd),
    };
    if e < s {
        return Err(ItemError::EndBeforeStart);
    }
    Ok((s, e))
}

fn recurrence(
    spec: &RecurrenceSpec,
    start_date: chrono::NaiveDate,
) -> Result<Recurrence, ItemError> {
    let interval = spec.every.unwrap_or(1);
    let mut patterns = Vec::new();
    if spec.daily == Some(true) {
        patterns.push(Pattern::Daily { interval });
    }
    if let Some(days) = &spec.weekly {
        patterns.push(Pattern::Weekly {
            interval,
            days: days.clone(),
            first_day_of_week: spec
                .first_day_of_week
                .unwrap_or(calendar_core::Weekday::Sun),
        });
    }
    if let Some(m) = &spec.monthly {
        patterns.push(match *m {
            MonthlySpec::Day(day_of_month) => Pattern::AbsoluteMonthly {
                interval,
                day_of_month,
            },
            MonthlySpec::Relative { index, day } => Pattern::RelativeMonthly {
                interval,
                day,
                index,
            },
        });
    }
    if let Some(y) = &spec.yearly {
        patterns.push(match *y {
            YearlySpec::Absolute { month, day } => Pattern::AbsoluteYearly {
                month,
                day_of_month: day,
            },
            YearlySpec::Relative { month, index, day } => {
                Pattern::RelativeYearly { month, day, index }
            }
        });
    }
    let pattern = match patterns.len() {
        1 => patterns.remove(0),
        n => return Err(ItemError::PatternCount(n)),
    };
    let start = spec.from.unwrap_or(start_date);
    let range = match (spec.until, spec.count) {
        (Some(_), Some(_)) => return Err(ItemError::UntilAndCount),
        (Some(end), None) => Range::EndDate { start, end },
        (None, Some(count)) => Range::Numbered { start, count },
        (None, None) => Range::NoEnd { start },
    };
    Ok(Recurrence { pattern, range })
}

fn recurrence_spec(r: &Recurrence) -> RecurrenceSpec {
    let mut spec = RecurrenceSpec::default();
    match &r.pattern {
        Pattern::Daily { interval } => {
            spec.daily = Some(true);
            spec.every = Some(*interval);
        }
        Pattern::Weekly {
            interval,
            days,
            first_day_of_week,
        } => {
            spec.weekly = Some(days.clone());
            spec.every = Some(*interval);
            spec.first_day_of_week = Some(*first_day_of_week);
        }
        Pattern::AbsoluteMonthly {
            interval,
            day_of_month,
        } => {
            spec.monthly = Some(MonthlySpec::Day(*day_of_month));
            spec.every = Some(*interval);
        }
        Pattern::RelativeMonthly {
            interval,
            day,
            index,
        } => {
            spec.monthly = Some(MonthlySpec::Relative {
                index: *index,
                day: *day,
            });
            spec.every = Some(*interval);
        }
        Pattern::AbsoluteYearly {
            month,
            day_of_month,
        } => {
            spec.yearly = Some(YearlySpec::Absolute {
                month: *month,
                day: *day_of_month,
            });
        }
        Pattern::RelativeYearly { month, day, index } => {
            spec.yearly = Some(YearlySpec::Relative {
                month: *month,
                index: *index,
                day: *day,
            });
        }
    }
    spec.from = Some(r.range.start());
    match r.range {
        Range::NoEnd { .. } => {}
        Range::EndDate { end, .. } => spec.until = Some(end),
        Range::Numbered { count, .. } => spec.count = Some(count),
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn spec(yaml: &str) -> ItemSpec {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn weekly_series_keeps_wall_time_across_dst() {
        let s = spec(
            "subject: Standup\nstart: 2026-03-23 09:00\nduration: 15m\nzone: Europe/Berlin\nrecurrence: { weekly: [Mon], count: 3 }\n",
        );
        let item =
            CalendarItem::from_spec(&s, 1, "a@x", chrono_tz::UTC, utc(2026, 1, 1, 0, 0)).unwrap();
        let view = item.view(utc(2026, 3, 1, 0, 0), utc(2026, 5, 1, 0, 0));
        let starts: Vec<_> = view.iter().map(|v| v.start).collect();
        // 23 Mar CET (UTC+1), 30 Mar and 6 Apr CEST (UTC+2): 09:00 local each time.
        assert_eq!(
            starts,
            vec![
                utc(2026, 3, 23, 8, 0),
                utc(2026, 3, 30, 7, 0),
                utc(2026, 4, 6, 7, 0)
            ]
        );
        assert_eq!(view[1].end - view[1].start, Duration::minutes(15));
    }

    #[test]
    fn modified_and_deleted_occurrences() {
        let s = spec(
            "subject: Sync\nstart: 2026-03-09 10:00\nend: 2026-03-09 11:00\nzone: Europe/Berlin\nrecurrence: { daily: true, count: 5 }\nmodified:\n  - { original: 2026-03-10, start: 2026-03-10 15:00, subject: Moved }\ndeleted: [2026-03-11 10:00]\n",
        );
        let item =
            CalendarItem::from_spec(&s, 1, "a@x", chrono_tz::UTC, utc(2026, 1, 1, 0, 0)).unwrap();
        let view = item.view(utc(2026, 3, 9, 0, 0), utc(2026, 3, 20, 0, 0));
        assert_eq!(view.len(), 4);
        let moved = view[1];
        assert_eq!(moved.start, utc(2026, 3, 10, 14, 0));
        assert_eq!(moved.end, utc(2026, 3, 10, 15, 0));
        assert_eq!(moved.subject(), "Moved");
        assert_eq!(moved.occurrence.unwrap().index, Some(2));
        assert_eq!(view[2].occurrence.unwrap().index, Some(4));
        assert!(item.instance_by_index(3).is_none(), "deleted");
        assert_eq!(item.instance_by_index(2).unwrap().subject(), "Moved");
    }

    #[test]
    fn all_day_is_midnight_to_midnight_in_item_zone() {
        let s = spec("subject: Holiday\nstart: 2026-03-09\nend: 2026-03-11\nzone: Europe/Berlin\n");
        let item =
            CalendarItem::from_spec(&s, 1, "a@x", chrono_tz::UTC, utc(2026, 1, 1, 0, 0)).unwrap();
        assert!(item.all_day);
        assert_eq!(item.start, utc(2026, 3, 8, 23, 0));
        assert_eq!(item.end, utc(2026, 3, 10, 23, 0));
    }

    #[test]
    fn spec_round_trip_rebuilds_the_same_item() {
        let s = spec(
            "subject: Sync\nstart: 2026-03-09 10:00\nduration: 1h\nzone: Europe/Berlin\nsensitivity: private\nstatus: tentative\nrecurrence: { weekly: [Mon, Wed], every: 2, until: 2026-06-30 }\nmodified:\n  - { original: 2026-03-11, start: 2026-03-11 15:00 }\ndeleted: [2026-03-23]\n",
        );
        let now = utc(2026, 1, 1, 0, 0);
        let item = CalendarItem::from_spec(&s, 9, "a@x", chrono_tz::UTC, now).unwrap();
        let again =
            CalendarItem::from_spec(&item.to_spec(), 9, "a@x", chrono_tz::UTC, now).unwrap();
        assert_eq!(item, again);
    }

    #[test]
    fn bad_items_are_rejected_with_reasons() {
        let now = utc(2026, 1, 1, 0, 0);
        let cases = [
            ("start: 2026-03-09 10:00\n", "end"),
            ("start: 2026-03-09 10:00\nend: 2026-03-09 09:00\n", "before"),
            (
                "start: 2026-03-09 10:00\nduration: 1h\nzone: Mars/Base\n",
                "Mars/Base",
            ),
            (
                "start: 2026-03-09 10:00\nduration: 1h\nrecurrence: { weekly: [], count: 2 }\n",
                "days",
            ),
            (
                "start: 2026-03-09 10:00\nduration: 1h\nrecurrence: { count: 2 }\n",
                "pattern",
            ),
            (
                "start: 2026-03-09 10:00\nduration: 1h\nrecurrence: { daily: true, count: 2 }\ndeleted: [2026-04-01]\n",
                "2026-04-01",
            ),
            (
                "start: 2026-03-09 10:00\nduration: 1h\ndeleted: [2026-03-09]\n",
                "recurrence",
            ),
        ];
        for (yaml, needle) in cases {
            let err =
                CalendarItem::from_spec(&spec(yaml), 1, "a@x", chrono_tz::UTC, now).unwrap_err();
            assert!(err.to_string().contains(needle), "{yaml}: {err}");
        }
    }
}
