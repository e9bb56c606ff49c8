//! `t:Recurrence`: six patterns and three ranges (EWS.md §3.8), and the master's read-only
//! occurrence summaries.

use serde::{Deserialize, Serialize};

use crate::item::ItemId;
use crate::value::{EwsDate, EwsDateTime, opt, str_enum};
use crate::xml::{Element, Ns, ParseError, Writer};

str_enum! {
    /// `t:DayOfWeekType`: a weekday, or one of the relative-pattern groups.
    DayOfWeek {
        /// Sunday
        Sunday = "Sunday",
        /// Monday
        Monday = "Monday",
        /// Tuesday
        Tuesday = "Tuesday",
        /// Wednesday
        Wednesday = "Wednesday",
        /// Thursday
        Thursday = "Thursday",
        /// Friday
        Friday = "Friday",
        /// Saturday
        Saturday = "Saturday",
        /// Any day (relative patterns).
        Day = "Day",
        /// Monday to Friday (relative patterns).
        Weekday = "Weekday",
        /// Saturday or Sunday (relative patterns).
        WeekendDay = "WeekendDay",
    }
}

str_enum! {
    /// `t:DayOfWeekIndexType`.
    DayOfWeekIndex {
        /// First
        First = "First",
        /// Second
        Second = "Second",
        /// Third
        Third = "Third",
        /// Fourth
        Fourth = "Fourth",
        /// Last
        Last = "Last",
    }
}

str_enum! {
    /// `t:MonthNamesType`.
    Month {
        /// January
        January = "January",
        /// February
        February = "February",
        /// March
        March = "March",
        /// April
        April = "April",
        /// May
        May = "May",
        /// June
        June = "June",
        /// July
        July = "July",
        /// August
        August = "August",
        /// September
        September = "September",
        /// October
        October = "October",
        /// November
        November = "November",
        /// December
        December = "December",
    }
}

/// The recurrence pattern (exactly one per `t:Recurrence`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrencePattern {
    /// `RelativeYearlyRecurrence`: e.g. the last Sunday of October.
    RelativeYearly {
        /// `DaysOfWeek`
        days_of_week: Vec<DayOfWeek>,
        /// `DayOfWeekIndex`
        day_of_week_index: DayOfWeekIndex,
        /// `Month`
        month: Month,
    },
    /// `AbsoluteYearlyRecurrence`: e.g. every 14 February.
    AbsoluteYearly {
        /// `DayOfMonth`
        day_of_month: u32,
        /// `Month`
        month: Month,
    },
    /// `RelativeMonthlyRecurrence`: e.g. the second Tuesday every month.
    RelativeMonthly {
        /// `Interval`
        interval: u32,
        /// `DaysOfWeek`
        days_of_week: Vec<DayOfWeek>,
        /// `DayOfWeekIndex`
        day_of_week_index: DayOfWeekIndex,
    },
    /// `AbsoluteMonthlyRecurrence`: e.g. the 15th every month.
    AbsoluteMonthly {
        /// `Interval`
        interval: u32,
        /// `DayOfMonth`
        day_of_month: u32,
    },
    /// `WeeklyRecurrence`.
    Weekly {
        /// `Interval`
        interval: u32,
        /// `DaysOfWeek` (space-separated on the wire)
        days_of_week: Vec<DayOfWeek>,
        /// `FirstDayOfWeek` (2010+)
        first_day_of_week: Option<DayOfWeek>,
    },
    /// `DailyRecurrence`.
    Daily {
        /// `Interval`
        interval: u32,
    },
}

/// The recurrence range (exactly one per `t:Recurrence`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrenceRange {
    /// `NoEndRecurrence`
    NoEnd {
        /// `StartDate`
        start_date: EwsDate,
    },
    /// `EndDateRecurrence`: the last occurrence is on or before `end_date`.
    EndDate {
        /// `StartDate`
        start_date: EwsDate,
        /// `EndDate`
        end_date: EwsDate,
    },
    /// `NumberedRecurrence`
    Numbered {
        /// `StartDate`
        start_date: EwsDate,
        /// `NumberOfOccurrences`
        number_of_occurrences: u32,
    },
}

/// `t:Recurrence`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// The pattern.
    pub pattern: RecurrencePattern,
    /// The range.
    pub range: RecurrenceRange,
}

fn days(e: &Element) -> Result<Vec<DayOfWeek>, ParseError> {
    let el = e.required_child(&Ns::Types, "DaysOfWeek")?;
    let text = el.trimmed_text();
    let days = text
        .split_whitespace()
        .map(|d| {
            d.parse::<DayOfWeek>()
                .map_err(|err| el.invalid(d, err.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if days.is_empty() {
        return Err(el.invalid(text, "at least one day is required"));
    }
    Ok(days)
}

fn join_days(days: &[DayOfWeek]) -> String {
    days.iter()
        .map(DayOfWeek::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Recurrence {
    /// Reads `t:Recurrence`.
    pub fn from_xml(e: &Element) -> Result<Recurrence, ParseError> {
        let t = Ns::Types;
        let mut pattern = None;
        let mut range = None;
        for c in &e.children {
            if c.ns != t {
                continue;
            }
            match c.name.as_str() {
                "RelativeYearlyRecurrence" => {
                    pattern = Some(RecurrencePattern::RelativeYearly {
                        days_of_week: days(c)?,
                        day_of_week_index: c.parse_required_child(&t, "DayOfWeekIndex")?,
                        month: c.parse_required_child(&t, "Month")?,
                    })
                }
                "AbsoluteYearlyRecurrence" => {
                    pattern = Some(RecurrencePattern::AbsoluteYearly {
                        day_of_month: c.parse_required_child(&t, "DayOfMonth")?,
                        month: c.parse_required_child(&t, "Month")?,
                    })
                }
                "RelativeMonthlyRecurrence" => {
                    pattern = Some(RecurrencePattern::RelativeMonthly {
                        interval: c.parse_required_child(&t, "Interval")?,
                        days_of_week: days(c)?,
                        day_of_week_index: c.parse_required_child(&t, "DayOfWeekIndex")?,
                    })
                }
                "AbsoluteMonthlyRecurrence" => {
                    pattern = Some(RecurrencePattern::AbsoluteMonthly {
                        interval: c.parse_required_child(&t, "Interval")?,
                        day_of_month: c.parse_required_child(&t, "DayOfMonth")?,
                    })
                }
                "WeeklyRecurrence" => {
                    pattern = Some(RecurrencePattern::Weekly {
                        interval: c.parse_required_child(&t, "Interval")?,
                        days_of_week: days(c)?,
                        first_day_of_week: c.parse_child(&t, "FirstDayOfWeek")?,
                    })
                }
                "DailyRecurrence" => {
                    pattern = Some(RecurrencePattern::Daily {
                        interval: c.parse_required_child(&t, "Interval")?,
                    })
                }
                "NoEndRecurrence" => {
                    range = Some(RecurrenceRange::NoEnd {
                        start_date: c.parse_required_child(&t, "StartDate")?,
                    })
                }
                "EndDateRecurrence" => {
                    range = Some(RecurrenceRange::EndDate {
                        start_date: c.parse_required_child(&t, "StartDate")?,
                        end_date: c.parse_required_child(&t, "EndDate")?,
                    })
                }
                "NumberedRecurrence" => {
                    range = Some(RecurrenceRange::Numbered {
                        start_date: c.parse_required_child(&t, "StartDate")?,
                        number_of_occurrences: c.parse_required_child(&t, "NumberOfOccurrences")?,
                    })
                }
                _ => return Err(c.unexpected("a recurrence pattern or range")),
            }
        }
        let missing = |what: &str| ParseError::MissingElement {
            parent: e.qname(),
            expected: what.to_owned(),
            line: e.line,
            column: e.column,
        };
        Ok(Recurrence {
            pattern: pattern
                .ok_or_else(|| missing("a recurrence pattern (e.g. t:WeeklyRecurrence)"))?,
            range: range
                .ok_or_else(|| missing("a recurrence range (e.g. t:NumberedRecurrence)"))?,
        })
    }

    /// Writes `t:Recurrence` (pattern, then range, children in schema order).
    pub fn write(&self, w: &mut Writer) {
        let t = Ns::Types;
        w.start(&t, "Recurrence", &[]);
        match &self.pattern {
            RecurrencePattern::RelativeYearly {
                days_of_week,
                day_of_week_index,
                month,
            } => {
                w.start(&t, "RelativeYearlyRecurrence", &[]);
                w.leaf(&t, "DaysOfWeek", &join_days(days_of_week));
                w.leaf(&t, "DayOfWeekIndex", day_of_week_index.as_str());
                w.leaf(&t, "Month", month.as_str());
            }
            RecurrencePattern::AbsoluteYearly {
                day_of_month,
                month,
            } => {
                w.start(&t, "AbsoluteYearlyRecurrence", &[]);
                w.leaf(&t, "DayOfMonth", &day_of_month.to_string());
                w.leaf(&t, "Month", month.as_str());
            }
            RecurrencePattern::RelativeMonthly {
                interval,
                days_of_week,
                day_of_week_index,
            } => {
                w.start(&t, "RelativeMonthlyRecurrence", &[]);
                w.leaf(&t, "Interval", &interval.to_string());
                w.leaf(&t, "DaysOfWeek", &join_days(days_of_week));
                w.leaf(&t, "DayOfWeekIndex", day_of_week_index.as_str());
            }
            RecurrencePattern::AbsoluteMonthly {
                interval,
                day_of_month,
            } => {
                w.start(&t, "AbsoluteMonthlyRecurrence", &[]);
                w.leaf(&t, "Interval", &interval.to_string());
                w.leaf(&t, "DayOfMonth", &day_of_month.to_string());
            }
            RecurrencePattern::Weekly {
                interval,
                days_of_week,
                first_day_of_week,
            } => {
                w.start(&t, "WeeklyRecurrence", &[]);
                w.leaf(&t, "Interval", &interval.to_string());
                w.leaf(&t, "DaysOfWeek", &join_days(days_of_week));
                opt(w, &t, "FirstDayOfWeek", first_day_of_week);
            }
            RecurrencePattern::Daily { interval } => {
                w.start(&t, "DailyRecurrence", &[]);
                w.leaf(&t, "Interval", &interval.to_string());
            }
        }
        w.end();
        match &self.range {
            RecurrenceRange::NoEnd { start_date } => {
                w.start(&t, "NoEndRecurrence", &[]);
                w.leaf(&t, "StartDate", &start_date.to_string());
            }
            RecurrenceRange::EndDate {
                start_date,
                end_date,
            } => {
                w.start(&t, "EndDateRecurrence", &[]);
                w.leaf(&t, "StartDate", &start_date.to_string());
                w.leaf(&t, "EndDate", &end_date.to_string());
            }
            RecurrenceRange::Numbered {
                start_date,
                number_of_occurrences,
            } => {
                w.start(&t, "NumberedRecurrence", &[]);
                w.leaf(&t, "StartDate", &start_date.to_string());
                w.leaf(
                    &t,
                    "NumberOfOccurrences",
                    &number_of_occurrences.to_string(),
                );
            }
        }
        w.end();
        w.end();
    }
}

/// `FirstOccurrence`, `LastOccurrence` and each `ModifiedOccurrences/Occurrence` of a
/// recurring master: `ItemId`, `Start`, `End`, `OriginalStart`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrenceInfo {
    /// The occurrence's own id.
    pub item_id: ItemId,
    /// `Start`
    pub start: EwsDateTime,
    /// `End`
    pub end: EwsDateTime,
    /// `OriginalStart`: the slot in the pattern.
    pub original_start: Option<EwsDateTime>,
}

impl OccurrenceInfo {
    /// Reads one occurrence summary.
    pub fn from_xml(e: &Element) -> Result<OccurrenceInfo, ParseError> {
        let t = Ns::Types;
        Ok(OccurrenceInfo {
            item_id: ItemId::from_xml(e.required_child(&t, "ItemId")?)?,
            start: e.parse_required_child(&t, "Start")?,
            end: e.parse_required_child(&t, "End")?,
            original_start: e.parse_child(&t, "OriginalStart")?,
        })
    }

    /// Writes it under `t:{tag}`.
    pub fn write(&self, w: &mut Writer, tag: &str) {
        let t = Ns::Types;
        w.start(&t, tag, &[]);
        self.item_id.write(w, "ItemId");
        w.leaf(&t, "Start", &self.start.to_string());
        w.leaf(&t, "End", &self.end.to_string());
        opt(w, &t, "OriginalStart", &self.original_start);
        w.end();
    }
}
