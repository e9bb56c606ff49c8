//! Windows time zone ids <-> IANA zones, from CLDR's `windowsZones.xml`.
//!
//! Exchange only understands Windows ids (`W. Europe Standard Time`); everything else in
//! ews-kit speaks IANA (`chrono_tz::Tz`). The table is CLDR's, trimmed to one line per
//! Windows zone (see `windows_zones.txt` for its source and how to regenerate it), embedded
//! with `include_str!` and parsed once on first use.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

const TABLE: &str = include_str!("windows_zones.txt");

/// tzdb links CLDR does not list, with the listed zone each is a link to (tzdb's `backward`
/// file): the UTC and GMT spellings, zones renamed after CLDR fixed its ids (`Asia/Kolkata`,
/// `Europe/Kyiv`), and the legacy country names clients still send (`US/Eastern`).
///
/// Without this a lookup of, say, `UTC` fell back to comparing UTC offsets over 70 years
/// against every listed zone (~50 ms in a debug build, once per zone before caching); these
/// are the names that actually arrive, so they are plain table hits. It is also more
/// precise: the comparison takes the first Windows zone with equal offsets, which for
/// `Africa/Asmara` is `Arab Standard Time` rather than its target's `E. Africa Standard Time`.
/// The tests check each entry is a real link (same offsets as its target).
const LINKS: &[(&str, &str)] = &[
    ("UTC", "Etc/UTC"),
    ("Etc/UCT", "Etc/UTC"),
    ("UCT", "Etc/UTC"),
    ("Etc/Universal", "Etc/UTC"),
    ("Universal", "Etc/UTC"),
    ("Etc/Zulu", "Etc/UTC"),
    ("Zulu", "Etc/UTC"),
    ("GMT", "Etc/GMT"),
    ("Etc/GMT+0", "Etc/GMT"),
    ("Etc/GMT-0", "Etc/GMT"),
    ("Etc/GMT0", "Etc/GMT"),
    ("GMT+0", "Etc/GMT"),
    ("GMT-0", "Etc/GMT"),
    ("GMT0", "Etc/GMT"),
    ("Etc/Greenwich", "Etc/GMT"),
    ("Greenwich", "Etc/GMT"),
    ("Asia/Kolkata", "Asia/Calcutta"),
    ("Europe/Kyiv", "Europe/Kiev"),
    ("Asia/Kathmandu", "Asia/Katmandu"),
    ("Asia/Yangon", "Asia/Rangoon"),
    ("Asia/Ho_Chi_Minh", "Asia/Saigon"),
    ("America/Nuuk", "America/Godthab"),
    ("Pacific/Kanton", "Pacific/Enderbury"),
    ("Atlantic/Faroe", "Atlantic/Faeroe"),
    ("Africa/Asmara", "Africa/Asmera"),
    ("Pacific/Chuuk", "Pacific/Truk"),
    ("Pacific/Pohnpei", "Pacific/Ponape"),
    ("America/Atikokan", "America/Coral_Harbour"),
    ("America/Argentina/Buenos_Aires", "America/Buenos_Aires"),
    ("America/Indiana/Indianapolis", "America/Indianapolis"),
    ("America/Kentucky/Louisville", "America/Louisville"),
    ("US/Eastern", "America/New_York"),
    ("US/Central", "America/Chicago"),
    ("US/Mountain", "America/Denver"),
    ("US/Pacific", "America/Los_Angeles"),
    ("US/Alaska", "America/Anchorage"),
    ("US/Hawaii", "Pacific/Honolulu"),
    ("US/Arizona", "America/Phoenix"),
    ("Canada/Eastern", "America/Toronto"),
    ("Canada/Pacific", "America/Vancouver"),
    ("GB", "Europe/London"),
    ("Portugal", "Europe/Lisbon"),
    ("Poland", "Europe/Warsaw"),
    ("Turkey", "Europe/Istanbul"),
    ("Israel", "Asia/Jerusalem"),
    ("Egypt", "Africa/Cairo"),
    ("Iran", "Asia/Tehran"),
    ("Japan", "Asia/Tokyo"),
    ("ROK", "Asia/Seoul"),
    ("PRC", "Asia/Shanghai"),
    ("Hongkong", "Asia/Hong_Kong"),
    ("Singapore", "Asia/Singapore"),
    ("NZ", "Pacific/Auckland"),
    ("Australia/ACT", "Australia/Sydney"),
    ("Australia/NSW", "Australia/Sydney"),
];

/// One Windows time zone as CLDR describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsZone {
    /// The Windows id, e.g. `Pacific Standard Time`.
    pub id: &'static str,
    /// Windows' display name, e.g. `(UTC-08:00) Pacific Time (US & Canada)`; this is the
    /// `Name` GetServerTimeZones returns.
    pub display_name: &'static str,
    /// The default IANA zone (CLDR territory `001`).
    pub default_iana: Tz,
    /// Every IANA zone CLDR maps to this Windows zone, per territory, in CLDR order
    /// (the `001` default first). Ids chrono-tz does not know are left out.
    pub iana: Vec<(&'static str, Tz)>,
}

struct Tables {
    zones: Vec<WindowsZone>,
    /// IANA name -> index into `zones`; the first Windows zone CLDR lists it under wins.
    by_iana: HashMap<&'static str, usize>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| parse_table(TABLE))
}

/// Parses the embedded table. Lines that do not parse are skipped rather than panicking;
/// the tests check that every line and every IANA id of the embedded file is used.
fn parse_table(table: &'static str) -> Tables {
    let mut zones = Vec::new();
    let mut by_iana = HashMap::new();
    for line in table.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = line.split('|');
        let (Some(id), Some(display_name)) = (fields.next(), fields.next()) else {
            continue;
        };
        let mut default_iana = None;
        let mut iana = Vec::new();
        for field in fields {
            let Some((territory, ids)) = field.split_once('=') else {
                continue;
            };
            for name in ids.split_whitespace() {
                let Ok(tz) = name.parse::<Tz>() else {
                    continue;
                };
                if territory == "001" && default_iana.is_none() {
                    default_iana = Some(tz);
                }
                iana.push((territory, tz));
            }
        }
        let Some(default_iana) = default_iana else {
            continue;
        };
        let index = zones.len();
        for (_, tz) in &iana {
            by_iana.entry(tz.name()).or_insert(index);
        }
        zones.push(WindowsZone {
            id,
            display_name,
            default_iana,
            iana,
        });
    }
    for (link, target) in LINKS {
        if let Some(&index) = by_iana.get(target) {
            by_iana.entry(link).or_insert(index);
        }
    }
    Tables { zones, by_iana }
}

/// Every Windows zone in CLDR, in CLDR order (by UTC offset, then display name).
pub fn windows_zones() -> &'static [WindowsZone] {
    &tables().zones
}

/// The Windows zone with this id. Exact match first; Exchange treats ids case-insensitively,
/// so an ASCII case-insensitive match is accepted too.
pub fn windows_zone(id: &str) -> Option<&'static WindowsZone> {
    let zones = &tables().zones;
    let id = id.trim();
    zones
        .iter()
        .find(|zone| zone.id == id)
        .or_else(|| zones.iter().find(|zone| zone.id.eq_ignore_ascii_case(id)))
}

/// The IANA zone for a Windows zone id: CLDR's default (territory `001`) mapping.
///
/// `windows_to_iana("W. Europe Standard Time")` is `Europe/Berlin`.
pub fn windows_to_iana(id: &str) -> Option<Tz> {
    windows_zone(id).map(|zone| zone.default_iana)
}

/// The Windows zone id for an IANA zone.
///
/// Every IANA id CLDR lists for any territory maps to its Windows zone (`Europe/Vienna` ->
/// `W. Europe Standard Time`, `Etc/UTC` -> `UTC`). CLDR lists the old names of renamed
/// zones (`Asia/Calcutta`, `Europe/Kiev`); a zone it does not list (`Asia/Kolkata`,
/// `Europe/Kyiv`, `UTC`, `Etc/Universal`) maps to the first Windows zone with a listed IANA
/// zone whose UTC offsets are identical at every instant from 1970 to 2040, which is what
/// a tzdb link is. `None` if there is none.
pub fn iana_to_windows(tz: Tz) -> Option<&'static str> {
    let tables = tables();
    if let Some(&index) = tables.by_iana.get(tz.name()) {
        return Some(tables.zones[index].id);
    }
    // The comparison takes milliseconds (tens in a debug build); remember its answer per
    // zone, so callers need no cache of their own.
    static BY_OFFSETS: OnceLock<Mutex<HashMap<Tz, Option<&'static str>>>> = OnceLock::new();
    let memo = BY_OFFSETS.get_or_init(Mutex::default);
    if let Some(known) = memo.lock().ok().and_then(|map| map.get(&tz).copied()) {
        return known;
    }
    let found = by_offsets(tables, tz);
    if let Ok(mut map) = memo.lock() {
        map.insert(tz, found);
    }
    found
}

/// The first Windows zone listing an IANA zone with the same offsets as `tz` (the slow path).
fn by_offsets(tables: &Tables, tz: Tz) -> Option<&'static str> {
    tables
        .zones
        .iter()
        .find(|zone| {
            zone.iana
                .iter()
                .any(|(_, listed)| same_offsets(*listed, tz))
        })
        .map(|zone| zone.id)
}

/// Whether two zones have the same UTC offset at every instant from 1970 to 2040.
///
/// Sampled every 6 hours: a tzdb link is identical everywhere, and two distinct zones that
/// differ for less than 6 hours at a time in 70 years do not exist in tzdb.
fn same_offsets(a: Tz, b: Tz) -> bool {
    let offset = |tz: Tz, at: DateTime<Utc>| tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    let start = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
    let step = TimeDelta::hours(6);
    // Cheap rejection first: most candidates already differ in one of these.
    let probes = [
        0_i64,
        1_000_000_000,
        1_500_000_000,
        1_700_000_000,
        1_720_000_000,
    ];
    if probes.iter().any(|&secs| {
        let at = DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
        offset(a, at) != offset(b, at)
    }) {
        return false;
    }
    let steps = (70 * 366 * 24) / 6;
    (0..steps).all(|i| {
        let at = start + step * i;
        offset(a, at) == offset(b, at)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_and_every_iana_id_of_the_table_is_used() {
        let lines: Vec<&str> = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        assert_eq!(windows_zones().len(), lines.len());
        assert_eq!(lines.len(), 139, "CLDR lists 139 Windows zones");
        for (line, zone) in lines.iter().zip(windows_zones()) {
            let listed: usize = line
                .split('|')
                .skip(2)
                .map(|f| f.split_once('=').unwrap().1.split_whitespace().count())
                .sum();
            assert_eq!(
                zone.iana.len(),
                listed,
                "an IANA id of {} is unknown to chrono-tz",
                zone.id
            );
        }
    }

    #[test]
    fn windows_ids_map_to_cldr_defaults() {
        for (windows, iana) in [
            ("W. Europe Standard Time", "Europe/Berlin"),
            ("Pacific Standard Time", "America/Los_Angeles"),
            ("AUS Eastern Standard Time", "Australia/Sydney"),
            ("India Standard Time", "Asia/Calcutta"),
            ("Samoa Standard Time", "Pacific/Apia"),
            ("UTC", "Etc/UTC"),
            ("Dateline Standard Time", "Etc/GMT+12"),
            ("Pacific Standard Time (Mexico)", "America/Tijuana"),
            ("pacific standard time", "America/Los_Angeles"),
        ] {
            assert_eq!(
                windows_to_iana(windows).map(|tz| tz.name()),
                Some(iana),
                "{windows}"
            );
        }
        assert_eq!(windows_to_iana("Mars Standard Time"), None);
        assert_eq!(windows_to_iana(""), None);
    }

    #[test]
    fn every_windows_zone_round_trips_through_its_default_iana_zone() {
        for zone in windows_zones() {
            let tz = windows_to_iana(zone.id).unwrap();
            assert_eq!(
                iana_to_windows(tz),
                Some(zone.id),
                "{} via {}",
                zone.id,
                tz.name()
            );
        }
    }

    #[test]
    fn every_listed_iana_zone_maps_to_the_first_windows_zone_listing_it() {
        for zone in windows_zones() {
            for (territory, tz) in &zone.iana {
                let first = windows_zones()
                    .iter()
                    .find(|z| z.iana.iter().any(|(_, t)| t == tz))
                    .unwrap();
                assert_eq!(
                    iana_to_windows(*tz),
                    Some(first.id),
                    "{territory} {}",
                    tz.name()
                );
            }
        }
    }

    #[test]
    fn territory_aliases_and_tzdb_links_map_to_their_windows_zone() {
        for (iana, windows) in [
            ("Europe/Vienna", "W. Europe Standard Time"),
            ("America/Vancouver", "Pacific Standard Time"),
            ("Etc/UTC", "UTC"),
            ("Etc/GMT", "UTC"),
            ("UTC", "UTC"),
            ("Etc/Universal", "UTC"),
            ("Asia/Kolkata", "India Standard Time"),
            ("Europe/Kyiv", "FLE Standard Time"),
            ("America/Nuuk", "Greenland Standard Time"),
            ("Asia/Ho_Chi_Minh", "SE Asia Standard Time"),
            ("US/Pacific", "Pacific Standard Time"),
            ("Australia/Melbourne", "AUS Eastern Standard Time"),
        ] {
            let tz: Tz = iana.parse().unwrap();
            assert_eq!(iana_to_windows(tz), Some(windows), "{iana}");
        }
    }

    #[test]
    fn every_link_is_a_table_hit_mapping_like_its_target() {
        let tables = tables();
        for (link, target) in LINKS {
            let tz: Tz = link
                .parse()
                .unwrap_or_else(|_| panic!("{link} unknown to chrono-tz"));
            let target: Tz = target.parse().unwrap();
            assert!(
                tables.by_iana.contains_key(target.name()),
                "{target} is not listed by CLDR"
            );
            assert!(
                !windows_zones()
                    .iter()
                    .any(|z| z.iana.iter().any(|(_, t)| t.name() == *link)),
                "{link} is listed by CLDR itself"
            );
            let hit = tables.by_iana.get(tz.name()).map(|&i| tables.zones[i].id);
            assert!(hit.is_some(), "{link} is not a table hit");
            // A link has its target's offsets; the offset comparison alone can pick an
            // earlier Windows zone that merely shares them (`Africa/Asmara` would become
            // `Arab Standard Time` instead of CLDR's `E. Africa Standard Time`).
            assert!(same_offsets(tz, target), "{link} is not a link to {target}");
            assert_eq!(hit, iana_to_windows(target), "{link} -> {target}");
        }
    }

    #[test]
    fn display_names_come_from_cldr() {
        let zone = windows_zone("W. Europe Standard Time").unwrap();
        assert_eq!(
            zone.display_name,
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"
        );
        assert_eq!(
            windows_zone("Pacific Standard Time").unwrap().display_name,
            "(UTC-08:00) Pacific Time (US & Canada)"
        );
    }
}
