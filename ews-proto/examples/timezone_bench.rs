//! Run with: cargo run --release -p ews-proto --example timezone_bench
//!
//! Prints how long the time zone conversions take, so the mock's per-request costs
//! (a legacy block or an unknown definition to IANA, GetServerTimeZones) stay visible.
//! Numbers, not assertions: the machine is shared.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ews_proto::timezone::{
    LegacyTimeZone, SERVER_YEARS, TimeZoneDefinition, iana_to_windows, server_time_zones,
};

fn time<T>(label: &str, runs: u32, mut f: impl FnMut() -> T) -> T {
    let start = Instant::now();
    let mut last = None;
    for _ in 0..runs {
        last = Some(std::hint::black_box(f()));
    }
    let per_run = start.elapsed() / runs;
    println!("{label:<58} {:>10.3} ms", as_ms(per_run));
    match last {
        Some(value) => value,
        None => f(),
    }
}

fn as_ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let block = LegacyTimeZone::from_iana(chrono_tz::America::Los_Angeles, 2006);
    time(
        "legacy block -> IANA, first call (builds the rule cache)",
        1,
        || block.to_iana(),
    );
    time("legacy block -> IANA, later calls", 20, || block.to_iana());
    time("legacy block -> IANA in one year", 20, || {
        block.to_iana_in(2006)
    });
    let mut custom = TimeZoneDefinition::for_iana(chrono_tz::Europe::Berlin, SERVER_YEARS);
    custom.id = "Custom".into();
    time("definition without a known id -> IANA", 20, || {
        custom.to_iana()
    });
    time("IANA -> definition (Pacific, 2000-2037)", 50, || {
        TimeZoneDefinition::for_iana(chrono_tz::America::Los_Angeles, SERVER_YEARS)
    });
    let all = time("GetServerTimeZones, all 139 zones", 3, || {
        server_time_zones(None)
    });
    println!("  ({} definitions)", all.map(|d| d.len()).unwrap_or(0));
    time("IANA -> Windows via tzdb link (Asia/Kolkata)", 20, || {
        iana_to_windows(chrono_tz::Asia::Kolkata)
    });
    let local = NaiveDate::from_ymd_opt(2026, 3, 8).and_then(|d| d.and_hms_opt(2, 30, 0));
    if let Some(local) = local {
        let def = TimeZoneDefinition::for_iana(chrono_tz::America::Los_Angeles, SERVER_YEARS);
        let _ = time("definition: local time -> UTC (in a gap)", 1000, || {
            def.to_utc(local)
        });
    }
}
