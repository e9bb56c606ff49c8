//! `xs:dateTime` on the wire: reading request values (with `Z`, an offset, or no zone, which
//! is read in the request's zone) and writing UTC values with `Z`.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;

/// Parses an `xs:dateTime`; a value without zone is local to `tz`.
pub(crate) fn parse_datetime(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(dt) = DateTime::<FixedOffset>::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    let local = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()?;
    calendar_core::local_to_utc(tz, local)
}

/// `2026-03-09T08:00:00Z`
pub(crate) fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn zone_forms() {
        let want = Utc.with_ymd_and_hms(2026, 3, 9, 8, 0, 0).unwrap();
        assert_eq!(
            parse_datetime("2026-03-09T08:00:00Z", chrono_tz::UTC),
            Some(want)
        );
        assert_eq!(
            parse_datetime("2026-03-09T09:00:00+01:00", chrono_tz::UTC),
            Some(want)
        );
        assert_eq!(
            parse_datetime("2026-03-09T09:00:00", chrono_tz::Europe::Berlin),
            Some(want)
        );
        assert_eq!(
            parse_datetime("2026-03-09T09:00:00.000", chrono_tz::Europe::Berlin),
            Some(want)
        );
        assert_eq!(parse_datetime("2026-13-09T09:00:00", chrono_tz::UTC), None);
        assert_eq!(parse_datetime("yesterday", chrono_tz::UTC), None);
        assert_eq!(format_utc(want), "2026-03-09T08:00:00Z");
    }
}
