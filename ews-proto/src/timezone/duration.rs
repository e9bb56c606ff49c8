//! `xs:duration` values as EWS uses them for biases and transition times.
//!
//! Exchange writes whole minutes (`-PT60M`, `PT180M`); the EWS Managed API writes
//! `P0DT8H0M0.0S`; hand-written requests use `PT1H30M`. All of them are offsets of at most
//! a few days, so a signed count of seconds holds them exactly. Year and month parts have
//! no fixed length and are rejected.

use std::fmt;
use std::str::FromStr;

use super::TimeZoneError;

/// Serialized as its `xs:duration` text (`"-PT60M"`), as `ews-kit decode` shows it.
///
/// A signed `xs:duration` in whole seconds (for example a period's `Bias` or a transition's
/// `TimeOffset`).
///
/// Parsing accepts every lexical form of `xs:duration` without year or month parts;
/// writing uses Exchange's own form: minutes only (`PT180M`, `-PT60M`, `PT0M`), with a
/// seconds part only when the value is not a whole number of minutes (`PT1M30S`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct XsDuration {
    seconds: i64,
}

impl XsDuration {
    /// The zero duration.
    pub const ZERO: XsDuration = XsDuration { seconds: 0 };

    /// A duration of `seconds` seconds (negative for a negative duration).
    pub const fn from_seconds(seconds: i64) -> Self {
        XsDuration { seconds }
    }

    /// A duration of `minutes` minutes.
    pub const fn from_minutes(minutes: i64) -> Self {
        XsDuration {
            seconds: minutes * 60,
        }
    }

    /// The duration in seconds.
    pub const fn seconds(self) -> i64 {
        self.seconds
    }

    /// The duration in minutes, rounded towards zero.
    pub const fn minutes(self) -> i64 {
        self.seconds / 60
    }

    /// The duration as a chrono `TimeDelta`.
    pub fn to_time_delta(self) -> chrono::TimeDelta {
        chrono::TimeDelta::seconds(self.seconds)
    }
}

impl fmt::Display for XsDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.seconds < 0 { "-" } else { "" };
        let abs = self.seconds.unsigned_abs();
        let (minutes, seconds) = (abs / 60, abs % 60);
        if seconds == 0 {
            write!(f, "{sign}PT{minutes}M")
        } else {
            write!(f, "{sign}PT{minutes}M{seconds}S")
        }
    }
}

impl serde::Serialize for XsDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for XsDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for XsDuration {
    type Err = TimeZoneError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map_err(|reason| TimeZoneError::InvalidDuration {
            text: text.to_owned(),
            reason,
        })
    }
}

/// Parses `-?P(nD)?(T(nH)?(nM)?(n(.n)?S)?)?` with at least one part, as XML Schema says.
fn parse(text: &str) -> Result<XsDuration, &'static str> {
    let trimmed = text.trim();
    let (negative, rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let rest = rest
        .strip_prefix('P')
        .ok_or("must start with `P` or `-P`")?;
    let (date_part, time_part) = match rest.split_once('T') {
        Some((date, time)) => {
            if time.is_empty() {
                return Err("`T` must be followed by hours, minutes or seconds");
            }
            (date, Some(time))
        }
        None => (rest, None),
    };
    let mut seconds: i64 = 0;
    let mut parts = 0;
    for (value, unit) in components(date_part)? {
        let per_unit = match unit {
            'D' => 86_400,
            'Y' | 'M' => return Err("years and months have no fixed length"),
            _ => return Err("unknown date designator"),
        };
        seconds = add(seconds, whole(value)?, per_unit)?;
        parts += 1;
    }
    let mut last_rank = 0;
    for (value, unit) in components(time_part.unwrap_or(""))? {
        let (rank, per_unit) = match unit {
            'H' => (1, 3_600),
            'M' => (2, 60),
            'S' => (3, 1),
            _ => return Err("unknown time designator"),
        };
        if rank <= last_rank {
            return Err("time parts must come in the order H, M, S, each once");
        }
        last_rank = rank;
        let count = if unit == 'S' {
            seconds_part(value)?
        } else {
            whole(value)?
        };
        seconds = add(seconds, count, per_unit)?;
        parts += 1;
    }
    if parts == 0 {
        return Err("has no parts");
    }
    Ok(XsDuration::from_seconds(if negative {
        -seconds
    } else {
        seconds
    }))
}

/// Splits `1D` / `8H0M0.0S` into (number, designator) pairs.
fn components(text: &str) -> Result<Vec<(&str, char)>, &'static str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, ch) in text.char_indices() {
        if ch.is_ascii_digit() || ch == '.' {
            continue;
        }
        if index == start {
            return Err("a designator without a number");
        }
        out.push((&text[start..index], ch));
        start = index + ch.len_utf8();
    }
    if start != text.len() {
        return Err("a number without a designator");
    }
    Ok(out)
}

fn whole(value: &str) -> Result<i64, &'static str> {
    value.parse().map_err(|_| "a part is not a whole number")
}

/// Seconds may carry a fraction; only a zero fraction is exact in whole seconds.
fn seconds_part(value: &str) -> Result<i64, &'static str> {
    match value.split_once('.') {
        Some((int, frac)) => {
            if frac.is_empty() || !frac.bytes().all(|b| b == b'0') {
                return Err("fractional seconds are not supported");
            }
            whole(int)
        }
        None => whole(value),
    }
}

fn add(total: i64, count: i64, per_unit: i64) -> Result<i64, &'static str> {
    count
        .checked_mul(per_unit)
        .and_then(|s| total.checked_add(s))
        .ok_or("too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(text: &str) -> i64 {
        let d: XsDuration = text.parse().unwrap();
        assert_eq!(d.seconds() % 60, 0, "{text}");
        d.minutes()
    }

    #[test]
    fn parses_exchange_and_managed_api_forms() {
        assert_eq!(minutes("-PT60M"), -60);
        assert_eq!(minutes("PT180M"), 180);
        assert_eq!(minutes("PT1H30M"), 90);
        assert_eq!(minutes("P0DT8H0M0.0S"), 480);
        assert_eq!(minutes("-P0DT5H30M0.0S"), -330);
        assert_eq!(minutes("P1D"), 1440);
        assert_eq!(minutes("PT0S"), 0);
        assert_eq!(minutes(" PT2H "), 120);
    }

    #[test]
    fn writes_whole_minutes_like_exchange() {
        assert_eq!(XsDuration::from_minutes(-60).to_string(), "-PT60M");
        assert_eq!(XsDuration::from_minutes(180).to_string(), "PT180M");
        assert_eq!(XsDuration::from_minutes(0).to_string(), "PT0M");
        assert_eq!(XsDuration::from_minutes(-345).to_string(), "-PT345M");
        assert_eq!(XsDuration::from_seconds(90).to_string(), "PT1M30S");
        assert_eq!(XsDuration::from_seconds(-90).to_string(), "-PT1M30S");
    }

    #[test]
    fn written_form_parses_back_to_the_same_value() {
        for seconds in [
            -50_400, -3_600, -90, -1, 0, 1, 59, 60, 5_400, 50_400, 86_400,
        ] {
            let d = XsDuration::from_seconds(seconds);
            assert_eq!(d.to_string().parse::<XsDuration>().unwrap(), d);
        }
    }

    #[test]
    fn serializes_as_its_text() {
        let d = XsDuration::from_minutes(-60);
        assert_eq!(serde_json::to_string(&d).unwrap(), r#""-PT60M""#);
        assert_eq!(
            serde_json::from_str::<XsDuration>(r#""P0DT8H0M0.0S""#).unwrap(),
            XsDuration::from_minutes(480)
        );
        assert!(serde_json::from_str::<XsDuration>(r#""P1Y""#).is_err());
    }

    #[test]
    fn rejects_malformed_durations_with_the_reason() {
        for (text, reason) in [
            ("", "must start"),
            ("60", "must start"),
            ("P", "no parts"),
            ("PT", "`T` must be followed"),
            ("P1Y", "no fixed length"),
            ("P1M", "no fixed length"),
            ("PT1X", "unknown time designator"),
            ("PTM", "designator without a number"),
            ("PT5", "number without a designator"),
            ("PT30M1H", "order"),
            ("PT1M1M", "order"),
            ("PT0.5S", "fractional"),
            ("PT1.5M", "whole number"),
            ("--PT1M", "must start"),
            ("PT99999999999999999H", "too large"),
        ] {
            let err = text.parse::<XsDuration>().unwrap_err().to_string();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
    }
}
