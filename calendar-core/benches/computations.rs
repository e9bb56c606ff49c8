//! Prints how long the computations take at production scale. Not a test: nothing here
//! asserts a duration.
//!
//! Run with: cargo bench -p calendar-core
//!
//! - Slots: 1,000 counters x 90 days at a 15-minute step with 100,000 busy items (100 per
//!   counter), across the March DST transitions; once on one thread, once split over two.
//! - Presence: 10,000 users (10 items each, some OOF settings with HTML replies, some
//!   overrides) at one instant.

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use calendar_core::{
    BusyItem, Counter, FreeBusyStatus, OofSettings, OofState, OofWindow, OpeningHours,
    PresenceInput, PresenceOverride, PresenceRules, PresenceState, SlotReport, TimeRange, Weekday,
    free_slots, presence,
};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

const COUNTERS: usize = 1_000;
const DAYS: i64 = 90;
const ITEMS_PER_COUNTER: usize = 100;
const USERS: usize = 10_000;
const ITEMS_PER_USER: usize = 10;
const RUNS: usize = 7;

/// A small deterministic generator (64-bit LCG), so every run measures the same inputs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn range(s: &str) -> TimeRange {
    s.parse().expect("bench ranges are well-formed")
}

fn status(rng: &mut Lcg) -> FreeBusyStatus {
    match rng.next(10) {
        0 => FreeBusyStatus::Tentative,
        1 => FreeBusyStatus::Free,
        2 => FreeBusyStatus::Oof,
        _ => FreeBusyStatus::Busy,
    }
}

fn counters(rng: &mut Lcg, from: DateTime<Utc>) -> Vec<(Counter, Vec<BusyItem>)> {
    let zones: [Tz; 5] = [
        chrono_tz::Europe::Berlin,
        chrono_tz::America::New_York,
        chrono_tz::Asia::Kolkata,
        chrono_tz::Australia::Sydney,
        chrono_tz::UTC,
    ];
    let weekdays = vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
    ];
    (0..COUNTERS)
        .map(|n| {
            let counter = Counter {
                mailbox: format!("counter{n}@contoso.test"),
                time_zone: zones[n % zones.len()],
                opening_hours: vec![
                    OpeningHours {
                        days: weekdays.clone(),
                        ranges: vec![range("08:00-12:00"), range("13:00-18:00")],
                    },
                    OpeningHours {
                        days: vec![Weekday::Sat],
                        ranges: vec![range("09:00-13:00")],
                    },
                ],
                date_overrides: Vec::new(),
                closures: Vec::new(),
                holidays: Vec::new(),
                slot_minutes: 30,
                step_minutes: 15,
                buffer_before_minutes: 5,
                buffer_after_minutes: 5,
                minimum_notice_minutes: 120,
                horizon_days: Some(90),
                capacity: 1 + (n % 2) as u32,
                tentative_blocks: true,
            };
            let items = (0..ITEMS_PER_COUNTER)
                .map(|_| {
                    let start = from + Duration::minutes(rng.next(DAYS as u64 * 1440) as i64);
                    let minutes = [15, 30, 60, 90, 120, 240][rng.next(6) as usize];
                    let mut item =
                        BusyItem::new(start, start + Duration::minutes(minutes), status(rng));
                    if rng.next(50) == 0 {
                        item.all_day = true;
                        item.end = start + Duration::days(1 + rng.next(3) as i64);
                    }
                    item.cancelled = rng.next(30) == 0;
                    item
                })
                .collect();
            (counter, items)
        })
        .collect()
}

fn users(rng: &mut Lcg, now: DateTime<Utc>) -> Vec<PresenceInput> {
    (0..USERS)
        .map(|n| {
            let items = (0..ITEMS_PER_USER)
                .map(|_| {
                    let start = now + Duration::minutes(rng.next(2 * 1440) as i64 - 1440);
                    let minutes = [15, 30, 60, 90][rng.next(4) as usize];
                    let mut item = BusyItem::new(start, start + Duration::minutes(minutes), status(rng));
                    item.private = rng.next(5) == 0;
                    item.subject = Some(format!("Meeting {n}"));
                    item.id = Some(format!("AAMk{n}"));
                    item
                })
                .collect();
            let oof = if n % 10 == 0 {
                OofSettings {
                    state: if n % 20 == 0 { OofState::Enabled } else { OofState::Scheduled },
                    window: Some(OofWindow { start: now - Duration::hours(2), end: now + Duration::days(3) }),
                    internal_reply: "<html><body><p>I&#39;m out of the office until <b>Monday</b>.</p><p>Please call the desk&nbsp;&amp; ask for Eva.</p></body></html>".to_owned(),
                    external_reply: String::new(),
                }
            } else {
                OofSettings::default()
            };
            let manual = (n % 20 == 1).then(|| PresenceOverride {
                state: PresenceState::Available,
                set_at: now - Duration::minutes(30),
                expires: None,
                message: None,
            });
            PresenceInput { items, oof, manual, time_zone: None }
        })
        .collect()
}

fn best_and_median(mut times: Vec<StdDuration>) -> (StdDuration, StdDuration) {
    times.sort();
    (times[0], times[times.len() / 2])
}

fn ms(d: StdDuration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn run_slots(
    set: &[(Counter, Vec<BusyItem>)],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> usize {
    set.iter()
        .map(|(counter, items)| {
            let report: SlotReport =
                free_slots(counter, items, from, to, now).expect("bench counters are valid");
            report.days.iter().map(|d| d.slots.len()).sum::<usize>()
        })
        .sum()
}

fn main() {
    let mut rng = Lcg(0x5eed);
    let from = NaiveDate::from_ymd_opt(2026, 3, 2).expect("valid date");
    let to = from + Duration::days(DAYS - 1);
    let start = from.and_hms_opt(0, 0, 0).expect("valid time").and_utc();
    let now = start - Duration::days(1);
    let set = counters(&mut rng, start);

    let mut single = Vec::new();
    let mut dual = Vec::new();
    let mut slots = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        slots = black_box(run_slots(&set, from, to, now));
        single.push(t.elapsed());

        let t = Instant::now();
        let (a, b) = set.split_at(set.len() / 2);
        let total = std::thread::scope(|s| {
            let h = s.spawn(|| run_slots(a, from, to, now));
            let here = run_slots(b, from, to, now);
            here + h.join().expect("bench thread does not panic")
        });
        black_box(total);
        dual.push(t.elapsed());
    }
    let (s_best, s_median) = best_and_median(single);
    let (d_best, d_median) = best_and_median(dual);
    println!(
        "slots: {COUNTERS} counters x {DAYS} days, 15-min step, {} busy items -> {slots} slots",
        COUNTERS * ITEMS_PER_COUNTER
    );
    println!(
        "  1 thread : best {}, median {} ({RUNS} runs)",
        ms(s_best),
        ms(s_median)
    );
    println!(
        "  2 threads: best {}, median {} ({RUNS} runs; target < 200 ms)",
        ms(d_best),
        ms(d_median)
    );

    let instant = DateTime::parse_from_rfc3339("2026-03-30T09:10:00Z")
        .expect("valid instant")
        .with_timezone(&Utc);
    let people = users(&mut rng, instant);
    let rules = PresenceRules::default();
    let mut times = Vec::new();
    let mut absent = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        absent = people
            .iter()
            .map(|u| presence(u, &rules, instant))
            .filter(|p| p.state == PresenceState::Absent)
            .count();
        times.push(t.elapsed());
        black_box(absent);
    }
    let (p_best, p_median) = best_and_median(times);
    println!("presence: {USERS} users x {ITEMS_PER_USER} items at one instant -> {absent} absent");
    println!(
        "  1 thread : best {}, median {} ({RUNS} runs; target < 10 ms)",
        ms(p_best),
        ms(p_median)
    );
}
