//! The legacy `t:TimeZone` block (`SerializableTimeZone`) of GetUserAvailability and
//! `WorkingHours`, and the Exchange 2007 `t:MeetingTimeZone` of calendar items.
//!
//! ```xml
//! <t:TimeZone>
//!   <t:Bias>480</t:Bias>                    <!-- UTC = local + Bias, in minutes -->
//!   <t:StandardTime><t:Bias>0</t:Bias><t:Time>02:00:00</t:Time><t:DayOrder>5</t:DayOrder>
//!     <t:Month>10</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek></t:StandardTime>
//!   <t:DaylightTime><t:Bias>-60</t:Bias>...</t:DaylightTime>
//! </t:TimeZone>
//! ```
//!
//! It describes a single year's rules: a base bias, the extra bias of standard and daylight
//! time, and when each starts (the `DayOrder`-th `DayOfWeek` of `Month`, 5 = last, at
//! `Time` local). `Month` 0 means the zone has no daylight time.

use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

/// A `t:TimeZone` (`SerializableTimeZone`) block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyTimeZone {
    /// Base bias in minutes: UTC = local + bias (Pacific: 480).
    pub bias_minutes: i32,
    /// When standard time starts and its extra bias (usually 0).
    pub standard: TimeChange,
    /// When daylight time starts and its extra bias (usually -60).
    pub daylight: TimeChange,
}

/// `t:StandardTime` / `t:DaylightTime` (`SerializableTimeZoneTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeChange {
    /// Added to the base bias while this time is in effect, in minutes.
    pub bias_minutes: i32,
    /// Local time of day of the change, in the time in effect before it.
    pub time: NaiveTime,
    /// 1..=4 for the n-th `day_of_week` of the month, 5 for the last; 0 when `month` is 0.
    pub day_order: u8,
    /// 1..=12, or 0 when the zone has no daylight time.
    pub month: u8,
    pub day_of_week: Weekday,
    /// The optional `Year`: the rules apply to this year only.
    pub year: Option<i32>,
}

impl TimeChange {
    /// The change of a zone without daylight time: `Month` and `DayOrder` 0, as clients send.
    pub fn none() -> Self {
        TimeChange {
            bias_minutes: 0,
            time: NaiveTime::MIN,
            day_order: 0,
            month: 0,
            day_of_week: Weekday::Sun,
            year: None,
        }
    }

    /// Whether this change happens at all (`Month` is not 0).
    pub fn happens(&self) -> bool {
        self.month != 0
    }
}

impl LegacyTimeZone {
    /// Whether the block describes daylight saving time: both changes have a month and the
    /// daylight bias differs from the standard one.
    pub fn has_daylight(&self) -> bool {
        self.standard.happens()
            && self.daylight.happens()
            && self.standard.bias_minutes != self.daylight.bias_minutes
    }
}

/// The Exchange 2007 `t:MeetingTimeZone` of a calendar item (`TimeZoneType`).
///
/// Clients usually send only the name (`<t:MeetingTimeZone TimeZoneName="Pacific Standard
/// Time"/>`); the full form adds `BaseOffset` and `Standard`/`Daylight` changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingTimeZone {
    /// The `TimeZoneName` attribute: a Windows zone id.
    pub time_zone_name: Option<String>,
    /// `BaseOffset`: UTC = local + base offset.
    pub base_offset: Option<super::XsDuration>,
    /// `Standard` and `Daylight`, present together or not at all.
    pub changes: Option<(MeetingTimeChange, MeetingTimeChange)>,
}

/// `t:Standard` / `t:Daylight` of a `MeetingTimeZone` (`TimeChangeType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingTimeChange {
    /// `TimeZoneName` attribute, if any.
    pub time_zone_name: Option<String>,
    /// `Offset`: added to the base offset while this time is in effect.
    pub offset: super::XsDuration,
    /// When the change happens.
    pub when: MeetingTimeChangeDate,
    /// `Time`: local time of day of the change.
    pub time: NaiveTime,
}

/// The date part of a `TimeChangeType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeetingTimeChangeDate {
    /// `RelativeYearlyRecurrence`: the n-th (`First`..`Fourth`, `Last`) weekday of a month.
    Relative {
        day_of_week: Weekday,
        /// 1..=4, or 5 for `Last`.
        index: u8,
        /// 1..=12.
        month: u32,
    },
    /// `AbsoluteDate`: a fixed date.
    Absolute(chrono::NaiveDate),
}
