//! Time zones as EWS speaks them.
//!
//! Exchange names zones by Windows id (`W. Europe Standard Time`) and describes them in two
//! shapes: the full [`TimeZoneDefinition`] (GetServerTimeZones, `TimeZoneContext`,
//! `StartTimeZone`/`EndTimeZone`) and the one-year [`LegacyTimeZone`] block of
//! GetUserAvailability and `WorkingHours`. The rest of ews-kit speaks IANA (`chrono_tz::Tz`);
//! this module converts between the two:
//!
//! - [`windows_to_iana`] / [`iana_to_windows`]: the CLDR mapping (`windows_zones.txt`),
//!   with Windows display names for GetServerTimeZones.
//! - [`XsDuration`]: the `xs:duration` biases and offsets (`-PT60M`, `P0DT8H0M0.0S`).
//! - `from_xml` / `write` on [`TimeZoneDefinition`] (also for `StartTimeZone` and
//!   `EndTimeZone`), [`LegacyTimeZone`] and [`MeetingTimeZone`], on proto's element tree,
//!   in the element and attribute order Exchange writes.
//!
//! Everything here is pure: no I/O and no clock; a year or an instant is always an argument.

mod convert;
mod definition;
mod duration;
mod legacy;
mod rules;
mod windows;
mod wire;

pub use convert::{SERVER_YEARS, server_time_zones};
pub use definition::{
    AbsoluteDateTransition, Period, RecurringDateTransition, RecurringDayTransition,
    TimeZoneDefinition, Transition, TransitionTarget, TransitionsGroup,
};
pub use duration::XsDuration;
pub use legacy::{
    LegacyTimeZone, MeetingTimeChange, MeetingTimeChangeDate, MeetingTimeZone, TimeChange,
};
pub use windows::{WindowsZone, iana_to_windows, windows_to_iana, windows_zone, windows_zones};

use chrono::Weekday;

/// What can be wrong with a time zone value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeZoneError {
    /// An `xs:duration` that does not parse or has no exact value in seconds.
    #[error("invalid duration `{text}`: {reason}")]
    InvalidDuration { text: String, reason: &'static str },
    /// A day name that is not `Sunday`..`Saturday`.
    #[error("invalid day of week `{0}`: expected Sunday..Saturday")]
    InvalidDayOfWeek(String),
    /// A Windows zone id CLDR does not list.
    #[error("unknown Windows time zone `{0}`")]
    UnknownWindowsZone(String),
    /// A definition whose references or values cannot be evaluated.
    #[error("time zone definition `{id}`: {reason}")]
    InvalidDefinition { id: String, reason: String },
    /// A UTC offset of a day or more.
    #[error("UTC offset of {0} seconds is out of range")]
    OffsetOutOfRange(i32),
}

/// Parses an EWS day name (`Sunday`..`Saturday`).
pub fn parse_day_of_week(text: &str) -> Result<Weekday, TimeZoneError> {
    Ok(match text.trim() {
        "Sunday" => Weekday::Sun,
        "Monday" => Weekday::Mon,
        "Tuesday" => Weekday::Tue,
        "Wednesday" => Weekday::Wed,
        "Thursday" => Weekday::Thu,
        "Friday" => Weekday::Fri,
        "Saturday" => Weekday::Sat,
        _ => return Err(TimeZoneError::InvalidDayOfWeek(text.to_owned())),
    })
}

/// The EWS name of a day (`Sunday`..`Saturday`).
pub fn day_of_week_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Sun => "Sunday",
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_names_round_trip_and_reject_abbreviations() {
        for day in [
            Weekday::Sun,
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
            Weekday::Sat,
        ] {
            assert_eq!(parse_day_of_week(day_of_week_name(day)), Ok(day));
        }
        assert_eq!(
            parse_day_of_week("Sun").unwrap_err().to_string(),
            "invalid day of week `Sun`: expected Sunday..Saturday"
        );
    }
}
