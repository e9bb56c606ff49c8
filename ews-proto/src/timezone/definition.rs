//! `t:TimeZoneDefinition`: the full zone description of Exchange 2010 and later.
//!
//! It is what GetServerTimeZones returns, what `TimeZoneContext` carries, and the content of
//! a calendar item's `StartTimeZone` / `EndTimeZone`. The types model the wire shape exactly
//! (see `getservertimezones-response.xml` in the shared samples):
//!
//! ```text
//! TimeZoneDefinition @Id @Name
//!   Periods/Period @Bias @Name @Id                       (Bias: UTC = local + Bias)
//!   TransitionsGroups/TransitionsGroup @Id
//!     (RecurringDayTransition | RecurringDateTransition | AbsoluteDateTransition | Transition)*
//!   Transitions
//!     (Transition | AbsoluteDateTransition | ...)*       (To Kind="Group": which rules apply when)
//! ```

use chrono::{FixedOffset, NaiveDateTime, Weekday};
use serde::{Deserialize, Serialize};

use super::XsDuration;

/// A `t:TimeZoneDefinition`.
///
/// A definition may carry only its id (`<t:TimeZoneDefinition Id="Pacific Standard Time"/>`
/// in a `TimeZoneContext`); then the three lists are empty and the id alone names the zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeZoneDefinition {
    /// The Windows zone id (`Id` attribute).
    pub id: String,
    /// The display name (`Name` attribute), e.g. `(UTC+01:00) Amsterdam, Berlin, ...`.
    pub name: Option<String>,
    /// The offsets the zone uses (`Periods`).
    pub periods: Vec<Period>,
    /// The sets of rules the zone used over time (`TransitionsGroups`).
    pub transitions_groups: Vec<TransitionsGroup>,
    /// Which group (or period) applies from when (`Transitions`).
    pub transitions: Vec<Transition>,
}

impl TimeZoneDefinition {
    /// A definition naming only a zone id, as clients send in `TimeZoneContext`.
    pub fn id_only(id: impl Into<String>) -> Self {
        TimeZoneDefinition {
            id: id.into(),
            name: None,
            periods: Vec::new(),
            transitions_groups: Vec::new(),
            transitions: Vec::new(),
        }
    }

    /// Whether this definition carries rules, rather than only an id.
    pub fn has_rules(&self) -> bool {
        !self.periods.is_empty()
    }

    /// The period with this id.
    pub fn period(&self, id: &str) -> Option<&Period> {
        self.periods.iter().find(|period| period.id == id)
    }

    /// The transitions group with this id.
    pub fn group(&self, id: &str) -> Option<&TransitionsGroup> {
        self.transitions_groups.iter().find(|group| group.id == id)
    }
}

/// A `t:Period`: one offset the zone uses, e.g. `Bias="-PT60M" Name="Standard" Id="std"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// UTC = local + bias, so UTC+01:00 has bias `-PT60M`.
    pub bias: XsDuration,
    /// `Standard` or `Daylight` in Exchange's output; free text on the wire.
    pub name: String,
    /// The id transitions refer to (`std`, `dlt`, `Dlt/2007`, ...).
    pub id: String,
}

/// A `t:TransitionsGroup`: the rules of one era of the zone (a year's DST rules).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransitionsGroup {
    /// The id `To Kind="Group"` refers to.
    pub id: String,
    /// The group's transitions, in document order.
    pub transitions: Vec<Transition>,
}

/// The target of a transition: `<t:To Kind="Period">std</t:To>` or `Kind="Group"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TransitionTarget {
    /// Switch to the period with this id.
    Period(String),
    /// Switch to the transitions group with this id.
    Group(String),
}

impl TransitionTarget {
    /// The `Kind` attribute value.
    pub fn kind(&self) -> &'static str {
        match self {
            TransitionTarget::Period(_) => "Period",
            TransitionTarget::Group(_) => "Group",
        }
    }

    /// The referenced id (the element text).
    pub fn id(&self) -> &str {
        match self {
            TransitionTarget::Period(id) | TransitionTarget::Group(id) => id,
        }
    }
}

/// One element of `Transitions` or of a `TransitionsGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transition {
    /// `t:Transition`: applies from the start (the first entry of `Transitions`).
    Always(TransitionTarget),
    /// `t:AbsoluteDateTransition`: applies from a date and time.
    AbsoluteDate(AbsoluteDateTransition),
    /// `t:RecurringDayTransition`: every year on the n-th (or last) weekday of a month.
    RecurringDay(RecurringDayTransition),
    /// `t:RecurringDateTransition`: every year on a fixed day of a month.
    RecurringDate(RecurringDateTransition),
}

impl Transition {
    /// Where the transition leads.
    pub fn to(&self) -> &TransitionTarget {
        match self {
            Transition::Always(to) => to,
            Transition::AbsoluteDate(t) => &t.to,
            Transition::RecurringDay(t) => &t.to,
            Transition::RecurringDate(t) => &t.to,
        }
    }

    /// The element's local name.
    pub fn element_name(&self) -> &'static str {
        match self {
            Transition::Always(_) => "Transition",
            Transition::AbsoluteDate(_) => "AbsoluteDateTransition",
            Transition::RecurringDay(_) => "RecurringDayTransition",
            Transition::RecurringDate(_) => "RecurringDateTransition",
        }
    }
}

/// `t:AbsoluteDateTransition`: `To` and `DateTime`.
///
/// Exchange writes the date-time without a zone (`2007-01-01T00:00:00`: local wall time,
/// in the period in effect before the transition); the EWS Managed API converts it to UTC
/// (`2007-01-01T08:00:00.000Z` for Pacific). Both are kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbsoluteDateTransition {
    pub to: TransitionTarget,
    /// The date-time as written, without its zone suffix.
    pub date_time: NaiveDateTime,
    /// The zone suffix: `None` for a local wall time, `Some(+00:00)` for `Z`.
    #[serde(with = "offset_text")]
    pub offset: Option<FixedOffset>,
}

/// `t:RecurringDayTransition`: `To`, `TimeOffset`, `Month`, `DayOfWeek`, `Occurrence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringDayTransition {
    pub to: TransitionTarget,
    /// Local time of day of the switch, in the period in effect before it (`PT120M` = 02:00).
    pub time_offset: XsDuration,
    /// 1..=12.
    pub month: u32,
    pub day_of_week: Weekday,
    /// 1..=4 for the n-th such weekday of the month, -1 for the last one.
    pub occurrence: i32,
}

/// `t:RecurringDateTransition`: `To`, `TimeOffset`, `Month`, `Day`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecurringDateTransition {
    pub to: TransitionTarget,
    /// Local time of day of the switch, in the period in effect before it.
    pub time_offset: XsDuration,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
}

/// `Option<FixedOffset>` as `"+01:00"` text (chrono gives `FixedOffset` no serde form).
mod offset_text {
    use chrono::FixedOffset;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        offset: &Option<FixedOffset>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match offset {
            Some(offset) => s.collect_str(offset),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<FixedOffset>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| text.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_to_json_and_back() {
        let def = TimeZoneDefinition {
            id: "X".into(),
            name: None,
            periods: vec![Period {
                bias: XsDuration::from_minutes(-60),
                name: "Standard".into(),
                id: "std".into(),
            }],
            transitions_groups: Vec::new(),
            transitions: vec![Transition::AbsoluteDate(AbsoluteDateTransition {
                to: TransitionTarget::Period("std".into()),
                date_time: chrono::NaiveDate::from_ymd_opt(2007, 1, 1)
                    .unwrap()
                    .and_hms_opt(8, 0, 0)
                    .unwrap(),
                offset: FixedOffset::east_opt(0),
            })],
        };
        let json = serde_json::to_string(&def).unwrap();
        assert!(
            json.contains(r#""bias":"-PT60M""#) && json.contains(r#""offset":"+00:00""#),
            "{json}"
        );
        assert_eq!(
            serde_json::from_str::<TimeZoneDefinition>(&json).unwrap(),
            def
        );
    }
}
