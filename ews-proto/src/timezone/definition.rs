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

use super::XsDuration;

/// A `t:TimeZoneDefinition`.
///
/// A definition may carry only its id (`<t:TimeZoneDefinition Id="Pacific Standard Time"/>`
/// in a `TimeZoneContext`); then the three lists are empty and the id alone names the zone.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// UTC = local + bias, so UTC+01:00 has bias `-PT60M`.
    pub bias: XsDuration,
    /// `Standard` or `Daylight` in Exchange's output; free text on the wire.
    pub name: String,
    /// The id transitions refer to (`std`, `dlt`, `Dlt/2007`, ...).
    pub id: String,
}

/// A `t:TransitionsGroup`: the rules of one era of the zone (a year's DST rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionsGroup {
    /// The id `To Kind="Group"` refers to.
    pub id: String,
    /// The group's transitions, in document order.
    pub transitions: Vec<Transition>,
}

/// The target of a transition: `<t:To Kind="Period">std</t:To>` or `Kind="Group"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbsoluteDateTransition {
    pub to: TransitionTarget,
    /// The date-time as written, without its zone suffix.
    pub date_time: NaiveDateTime,
    /// The zone suffix: `None` for a local wall time, `Some(+00:00)` for `Z`.
    pub offset: Option<FixedOffset>,
}

/// `t:RecurringDayTransition`: `To`, `TimeOffset`, `Month`, `DayOfWeek`, `Occurrence`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringDateTransition {
    pub to: TransitionTarget,
    /// Local time of day of the switch, in the period in effect before it.
    pub time_offset: XsDuration,
    /// 1..=12.
    pub month: u32,
    /// 1..=31.
    pub day: u32,
}
