//! Zone names in world files: IANA names, plus the Windows names people copy from Exchange.
//!
//! The full Windows<->IANA table belongs to `ews_proto::timezone`; until the mock switches to
//! it, this module knows the Windows zones the example worlds and tests use, and anything
//! else must be written as an IANA name.

use chrono_tz::Tz;

/// Windows zone id -> IANA zone (CLDR `windowsZones.xml`, territory 001).
const WINDOWS: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
];

/// Parses an IANA or (known) Windows zone name.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    WINDOWS
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| iana.parse().ok())
}

/// The Windows id for an IANA zone, if the table has one (used for `StartTimeZone` ids).
pub fn windows_id(tz: Tz) -> Option<&'static str> {
    let name = tz.name();
    WINDOWS
        .iter()
        .find(|(_, iana)| *iana == name)
        .map(|(w, _)| *w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_and_windows_names() {
        assert_eq!(parse_zone("Europe/Berlin"), Some(chrono_tz::Europe::Berlin));
        assert_eq!(
            parse_zone("w. europe standard time"),
            Some(chrono_tz::Europe::Berlin)
        );
        assert_eq!(
            windows_id(chrono_tz::Europe::Berlin),
            Some("W. Europe Standard Time")
        );
        assert_eq!(parse_zone("Mars/Olympus"), None);
    }

    #[test]
    fn every_table_entry_is_a_valid_iana_zone() {
        for (w, iana) in WINDOWS {
            assert!(iana.parse::<Tz>().is_ok(), "{w} -> {iana}");
        }
    }
}
