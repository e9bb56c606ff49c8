//! Time zones through the public API: samples as the mock and the engine meet them.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use ews_proto::timezone::{
    LegacyTimeZone, SERVER_YEARS, TimeZoneDefinition, iana_to_windows, server_time_zones,
    windows_to_iana, windows_zones,
};
use ews_proto::{Element, Envelope, Limits, Ns, Writer, parse};

use crate::samples::sample_dir;

fn envelope(name: &str) -> Envelope {
    let bytes = std::fs::read(sample_dir().join(name)).unwrap();
    Envelope::parse(&bytes, &Limits::default()).unwrap()
}

fn first<'a>(el: &'a Element, name: &str) -> Option<&'a Element> {
    if el.is(&Ns::Types, name) {
        return Some(el);
    }
    el.children.iter().find_map(|c| first(c, name))
}

fn local(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    local(y, m, d, h).and_utc()
}

#[test]
fn the_mock_reads_a_zone_less_window_in_the_time_zone_context() {
    // The Managed API's full Pacific definition in the header.
    let env = envelope("getuseravailability-timezonecontext-request.xml");
    let def = env
        .header
        .time_zone_context
        .unwrap()
        .to_definition()
        .unwrap();
    assert_eq!(def.to_iana(), Some(chrono_tz::America::Los_Angeles));
    assert_eq!(
        def.to_utc(local(2014, 2, 13, 0)).unwrap(),
        utc(2014, 2, 13, 8)
    );
    // exchangelib and the 2007 samples send only the id.
    let env = envelope("createitem-allday-event-request.xml");
    let def = env
        .header
        .time_zone_context
        .unwrap()
        .to_definition()
        .unwrap();
    assert!(!def.has_rules());
    // All-day event: local midnight in Eastern summer time is 04:00Z, as the sample says.
    assert_eq!(
        def.to_utc(local(2014, 6, 9, 0)).unwrap(),
        utc(2014, 6, 9, 4)
    );
}

#[test]
fn the_mock_reads_a_legacy_availability_block() {
    let env = envelope("getuseravailability-legacy-timezone-request.xml");
    let block = LegacyTimeZone::from_xml(first(&env.body, "TimeZone").unwrap()).unwrap();
    assert_eq!(block.to_iana(), Some(chrono_tz::America::Los_Angeles));
    // The request's window starts at local midnight of 2006-10-16, still daylight time then.
    assert_eq!(
        block.to_utc(local(2006, 10, 16, 0)).unwrap(),
        utc(2006, 10, 16, 7)
    );
}

#[test]
fn the_mock_serves_get_server_time_zones_like_exchange() {
    let env = envelope("getservertimezones-response.xml");
    let sample =
        TimeZoneDefinition::from_xml(first(&env.body, "TimeZoneDefinition").unwrap()).unwrap();
    let served = server_time_zones(Some(&["W. Europe Standard Time".to_owned()])).unwrap();
    assert_eq!(served, vec![sample]);
    let all = server_time_zones(None).unwrap();
    assert_eq!(all.len(), windows_zones().len());
}

#[test]
fn the_engine_writes_what_the_mock_reads() {
    let def = TimeZoneDefinition::for_iana(chrono_tz::Australia::Sydney, SERVER_YEARS);
    let block = LegacyTimeZone::from_iana(chrono_tz::Australia::Sydney, 2026);
    let mut w = Writer::fragment();
    w.start_declaring(&Ns::Messages, "Probe", &[], &[Ns::Types]);
    def.write(&mut w, &Ns::Types, "StartTimeZone");
    block.write(&mut w, &Ns::Types, "TimeZone");
    w.end();
    let root = parse(w.into_string().as_bytes(), &Limits::default()).unwrap();
    let read_def = TimeZoneDefinition::from_xml(first(&root, "StartTimeZone").unwrap()).unwrap();
    let read_block = LegacyTimeZone::from_xml(first(&root, "TimeZone").unwrap()).unwrap();
    assert_eq!((&read_def, &read_block), (&def, &block));
    assert_eq!(read_def.to_iana(), Some(chrono_tz::Australia::Sydney));
    assert_eq!(read_block.to_iana(), Some(chrono_tz::Australia::Sydney));
}

/// A legacy block of 2026 gives the zone's offsets all through 2026, for every Windows zone
/// whose 2026 has rules a block can hold.
#[test]
fn legacy_blocks_of_every_windows_zone_follow_tzdb_for_their_year() {
    let mut checked = 0;
    for zone in windows_zones() {
        let tz: Tz = zone.default_iana;
        let block = LegacyTimeZone::from_iana(tz, 2026);
        let start = utc(2026, 1, 1, 0).timestamp();
        let agrees = (0..73 * 24).all(|i| {
            let at = DateTime::from_timestamp(start + i * 5 * 3600, 0).unwrap();
            let expected = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
            block.offset_at(at).unwrap() == expected
        });
        assert!(agrees, "{} ({}): {block:?}", zone.id, tz.name());
        checked += 1;
    }
    assert_eq!(checked, 139);
}

#[test]
fn ids_round_trip_for_every_windows_zone() {
    for zone in windows_zones() {
        let tz = windows_to_iana(zone.id).unwrap();
        assert_eq!(iana_to_windows(tz), Some(zone.id));
        assert_eq!(TimeZoneDefinition::id_only(zone.id).to_iana(), Some(tz));
    }
}
