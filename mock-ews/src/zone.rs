//! Zone names in world files and on the wire: IANA names, plus the Windows ids Exchange
//! uses, mapped with ews-proto's CLDR table.

use chrono_tz::Tz;
use ews_proto::timezone::{iana_to_windows, windows_to_iana};

/// Parses an IANA or Windows zone name.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    name.parse::<Tz>().ok().or_else(|| windows_to_iana(name))
}

/// The Windows id for an IANA zone (for `StartTimeZone` and availability); `UTC` when the
/// table has none. ews-proto answers common aliases (`UTC`, `Asia/Kolkata`) from its table
/// and caches its slow path itself, so this needs no cache of its own.
pub fn windows_id(tz: Tz) -> &'static str {
    iana_to_windows(tz).unwrap_or("UTC")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_and_windows_names() {
        assert_eq!(parse_zone("Europe/Berlin"), Some(chrono_tz::Europe::Berlin));
        assert_eq!(
            parse_zone("W. Europe Standard Time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            parse_zone("w. europe standard time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            windows_id(chrono_tz::Europe::Berlin),
            "W. Europe Standard Time"
        );
        assert_eq!(
            windows_id(chrono_tz::America::New_York),
            "Eastern Standard Time"
        );
        assert_eq!(windows_id(chrono_tz::UTC), "UTC");
        assert_eq!(windows_id(chrono_tz::Etc::UTC), "UTC");
        assert_eq!(windows_id(chrono_tz::Asia::Kolkata), "India Standard Time");
        assert_eq!(parse_zone("Mars/Olympus"), None);
    }
}
