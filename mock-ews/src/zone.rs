//! Zone names in world files and on the wire: IANA names, plus the Windows ids Exchange
//! uses, mapped with ews-proto's CLDR table.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono_tz::Tz;
use ews_proto::timezone::{iana_to_windows, windows_to_iana};

/// Parses an IANA or Windows zone name.
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    name.parse::<Tz>().ok().or_else(|| windows_to_iana(name))
}

/// The Windows id for an IANA zone (for `StartTimeZone` and availability); `UTC` when the
/// table has none.
///
/// Memoised: for a zone CLDR does not list (`UTC`, `Asia/Kolkata`) ews-proto compares UTC
/// offsets over decades against every Windows zone, which took ~50 ms per call in debug
/// builds, and every rendered item asks.
pub fn windows_id(tz: Tz) -> &'static str {
    static MEMO: OnceLock<Mutex<HashMap<Tz, &'static str>>> = OnceLock::new();
    let memo = MEMO.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(id) = memo.lock().unwrap_or_else(|e| e.into_inner()).get(&tz) {
        return id;
    }
    let id = iana_to_windows(tz).unwrap_or("UTC");
    memo.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tz, id);
    id
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
        assert_eq!(parse_zone("Mars/Olympus"), None);
    }
}
