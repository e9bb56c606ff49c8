//! Calendar items as presence and slots see them: an interval with a free/busy status.
//!
//! # Serialized form
//!
//! ```json
//! { "id": "AAMkAD…", "start": "2026-03-30T07:00:00Z", "end": "2026-03-30T07:30:00Z",
//!   "status": "busy", "cancelled": false, "private": false, "subject": "Standup",
//!   "allDay": false, "timeZone": "Europe/Berlin" }
//! ```
//!
//! Only `start`, `end` and `status` are required. `status` is `free`, `tentative`, `busy`,
//! `oof`, `workingElsewhere` or `noData`; the EWS spellings (`Busy`, `OOF`, …) are accepted.
//! `timeZone` is the item's creation zone (EWS `StartTimeZone`), which fixes the days of an
//! all-day item.

use std::fmt;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::time::{first_instant_at_or_after, serde_tz_opt};

/// EWS `LegacyFreeBusyStatus` ("Show as").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FreeBusyStatus {
    #[serde(alias = "Free")]
    Free,
    #[serde(alias = "Tentative")]
    Tentative,
    #[serde(alias = "Busy")]
    Busy,
    #[serde(alias = "OOF", alias = "Oof")]
    Oof,
    #[serde(alias = "WorkingElsewhere")]
    WorkingElsewhere,
    #[serde(alias = "NoData")]
    NoData,
}

impl FreeBusyStatus {
    /// The `MergedFreeBusy` digit, with the EWS Managed API's mapping (the schema's enum
    /// order, which Exchange 2013+ follows): 0 Free, 1 Tentative, 2 Busy, 3 OOF,
    /// 4 WorkingElsewhere, 5 NoData.
    pub fn merged_digit(self) -> char {
        match self {
            FreeBusyStatus::Free => '0',
            FreeBusyStatus::Tentative => '1',
            FreeBusyStatus::Busy => '2',
            FreeBusyStatus::Oof => '3',
            FreeBusyStatus::WorkingElsewhere => '4',
            FreeBusyStatus::NoData => '5',
        }
    }

    /// Merge order for overlapping items (case 28): OOF > Busy > Tentative > Free, with
    /// WorkingElsewhere counted as free; NoData (no information) sorts below everything.
    pub fn merge_rank(self) -> u8 {
        match self {
            FreeBusyStatus::NoData => 0,
            FreeBusyStatus::Free | FreeBusyStatus::WorkingElsewhere => 1,
            FreeBusyStatus::Tentative => 2,
            FreeBusyStatus::Busy => 3,
            FreeBusyStatus::Oof => 4,
        }
    }
}

/// One calendar item (a single item or one expanded occurrence) with the fields presence and
/// slots need. Its `Debug` output leaves out the subject of a private item.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusyItem {
    /// The EWS ItemId (or any caller key), reported back in reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: FreeBusyStatus,
    /// EWS `IsCancelled`: a cancelled meeting left on the calendar never counts (case 34).
    #[serde(default)]
    pub cancelled: bool,
    /// Sensitivity Private (or Confidential): blocks time, never shows its subject (case 33).
    #[serde(default)]
    pub private: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// EWS `IsAllDayEvent`: the item covers whole days of its creation zone (case 19, 20).
    #[serde(default)]
    pub all_day: bool,
    /// The creation zone (EWS `StartTimeZone`); decides which days an all-day item covers.
    #[serde(
        default,
        with = "serde_tz_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub time_zone: Option<Tz>,
}

impl fmt::Debug for BusyItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusyItem")
            .field("id", &self.id)
            .field("start", &self.start)
            .field("end", &self.end)
            .field("status", &self.status)
            .field("cancelled", &self.cancelled)
            .field("private", &self.private)
            .field("subject", &self.public_subject())
            .field("all_day", &self.all_day)
            .field("time_zone", &self.time_zone)
            .finish()
    }
}

impl BusyItem {
    /// A plain item: not cancelled, not private, no subject, not all-day.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>, status: FreeBusyStatus) -> BusyItem {
        BusyItem {
            id: None,
            start,
            end,
            status,
            cancelled: false,
            private: false,
            subject: None,
            all_day: false,
            time_zone: None,
        }
    }

    /// The subject, unless the item is private.
    pub fn public_subject(&self) -> Option<&str> {
        if self.private {
            None
        } else {
            self.subject.as_deref()
        }
    }

    /// The time the item occupies, as a half-open interval; `None` if it occupies nothing
    /// (zero length, case 26).
    ///
    /// An all-day item covers whole days: its start is rounded down and its end up to
    /// midnight in its creation zone (case 20), and those *dates* are then laid on the local
    /// days of `day_zone` (the mailbox or counter zone), so an all-day item created in New York
    /// blocks the same date in Berlin and does not bleed into the next day there (case 19).
    /// An item without `time_zone` takes its days from `day_zone`.
    pub fn span(&self, day_zone: Tz) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.start >= self.end {
            return None;
        }
        if !self.all_day {
            return Some((self.start, self.end));
        }
        let zone = self.time_zone.unwrap_or(day_zone);
        let first = self.start.with_timezone(&zone).date_naive();
        let end_local = self.end.with_timezone(&zone);
        let mut after = end_local.date_naive();
        if end_local.time() != NaiveTime::MIN {
            after = after.succ_opt()?;
        }
        let start = first_instant_at_or_after(day_zone, first.and_time(NaiveTime::MIN))?;
        let end = first_instant_at_or_after(day_zone, after.and_time(NaiveTime::MIN))?;
        (start < end).then_some((start, end))
    }

    /// What a reason may say about this item: never the subject of a private one.
    pub fn to_ref(&self) -> ItemRef {
        ItemRef {
            id: self.id.clone(),
            subject: self.public_subject().map(str::to_owned),
            start: self.start,
            end: self.end,
            status: self.status,
            private: self.private,
        }
    }

    /// Whether the item lasts a day or more (a vacation entered with start and end).
    pub(crate) fn is_long(&self) -> bool {
        self.all_day || self.end - self.start >= Duration::days(1)
    }
}

/// The item a presence or slot reason points at; `subject` is `None` for private items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: FreeBusyStatus,
    pub private: bool,
}
